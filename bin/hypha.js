#!/usr/bin/env node
// The `hypha` command. Node ≥ 22.18 runs the TypeScript sources directly (type stripping); older 22.x
// needs the flag, so re-launch with it rather than fail with a syntax error.
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 12)) {
  console.error(`hypha needs Node.js ≥ 22.12 (this is ${process.versions.node}); run it through npm (npm start) to use the pinned Node 24.`);
  process.exit(1);
}
if (major === 22 && minor < 18 && !process.execArgv.includes('--experimental-strip-types')) {
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync(process.execPath, ['--experimental-strip-types', '--no-warnings', ...process.argv.slice(1)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}
await import('../src/cli/main.ts');
