import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'src/wire/gen/', 'native/build/', 'bench/out/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-constant-condition': ['error', { checkLoops: false }],
      // Time is injected (DESIGN.md): only src/base/clock.ts may touch the real timers.
      'no-restricted-globals': ['error',
        { name: 'setTimeout', message: 'use the injected Clock' },
        { name: 'setInterval', message: 'use the injected Clock' }],
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'use the injected Clock' }],
    },
  },
  {
    files: ['bin/**/*.js', 'native/**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    files: ['src/base/clock.ts', 'test/**', 'bench/**', 'scripts/**', 'src/cli/**', 'bin/**'],
    rules: { 'no-restricted-globals': 'off', 'no-restricted-properties': 'off' },
  },
);
