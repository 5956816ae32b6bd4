import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { exampleConfigToml } from '../../src/config/example.ts';
import { buildConfig } from '../../src/config/load.ts';

test('the example config is every key at its default, and loads to the defaults', () => {
  const ctx = { homeDir: '/home/u', hostname: 'box' };
  assert.deepEqual(buildConfig({ file: { path: 'example.toml', text: exampleConfigToml() }, context: ctx }), buildConfig({ context: ctx }));
});

test("README's config example is the generated one", async () => {
  const readme = await readFile(resolve(import.meta.dirname, '../../README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Running a node'));
  const block = /```toml\n([^]*?)```/.exec(section);
  assert.ok(block, 'a toml block under "## Running a node"');
  assert.equal(block[1], exampleConfigToml(), 'regenerate the README block from exampleConfigToml()');
});
