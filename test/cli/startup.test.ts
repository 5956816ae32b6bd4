// Commands that need no node must not load it: `hypha inspect KEY`, `--help` and the client commands start
// in a fraction of the time `hypha run` needs to import fastify, lmdb, ssh2, pino and the overlay.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { cleanEnv, HYPHA_BIN } from './helpers.ts';
import { LOADS_MARKER } from '../helpers/record-loads.ts';

const RECORDER = resolve(import.meta.dirname, '../helpers/record-loads.ts');
/** Packages and modules only the node itself needs. */
const NODE_ONLY = [/\/node_modules\/(fastify|lmdb|ssh2|pino|pino-pretty|prom-client)\//, /\/src\/(node|router|dataplane|overlay|gossip|store|peers)\//];

function loadsOf(args: string[]): Promise<{ code: number | null; modules: string[] }> {
  return new Promise((done, fail) => {
    const child = spawn(process.execPath, ['--import', RECORDER, HYPHA_BIN, ...args], { env: cleanEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => {
      const at = stderr.indexOf(LOADS_MARKER);
      assert.ok(at >= 0, `no module list in stderr:\n${stderr}`);
      done({ code, modules: stderr.slice(at + LOADS_MARKER.length).split('\n').filter((l) => l !== '') });
    });
  });
}

test('inspect KEY, --help and the client commands load none of the node', async () => {
  const key = '4e7d3a4c1b0e5d9f8a7c6b5a4f3e2d1c0b9a8f7e6d5c4b3a2f1e0d9c8b7a6f5e';
  const commands = [['inspect', key], ['--help'], ['peers', 'list', '--api-addr', '127.0.0.1:1'], ['state', 'get', 'x', '--api-addr', '127.0.0.1:1']];
  await Promise.all(commands.map(async (args) => {
    const { modules } = await loadsOf(args);
    assert.ok(modules.some((m) => m.endsWith('/src/cli/program.ts')), `${args.join(' ')}: the recorder saw the CLI load`);
    const heavy = modules.filter((m) => NODE_ONLY.some((re) => re.test(m)));
    assert.deepEqual(heavy, [], `hypha ${args.join(' ')} loads node modules`);
  }));
});
