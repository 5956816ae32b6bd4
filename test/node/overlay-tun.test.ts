// `hypha run` without the privilege to create its TUN device: one ERROR that says how to fix it, then the
// node runs as with --no-tun (routing and the API work) and stops cleanly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadTunAddon } from '../../src/dataplane/tun.ts';
import { NetnsLab, netnsSkipReason, type NetnsProcess } from '../helpers/netns.ts';
import { spawnHypha } from '../cli/helpers.ts';

const HYPHA = resolve(import.meta.dirname, '../../bin/hypha.js');

test('without CAP_NET_ADMIN: one ERROR with the fix, then the node runs without TUN and stops cleanly', async (t) => {
  if (!loadTunAddon().ok) return t.skip('TUN addon not built (npm run build:native)');
  const base = await mkdtemp(join(tmpdir(), 'hypha-notun-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const args = ['run', '--data-dir', join(base, 'n'), '--listen', '', '--ssh-listen', '', '--log-format', 'json', '-t', '0', '--disable-peer-discovery', '--api-addr', '127.0.0.1:0', '--jsonrpc-addr', ''];
  let output: () => string;
  let stop: () => Promise<number | null>;
  let waitRunning: () => Promise<unknown>;
  if (process.getuid?.() === 0) {
    // Root: drop the capability, as in a container or service without it, inside a namespace of our own.
    const why = await netnsSkipReason(['setpriv']);
    if (why !== undefined) return t.skip(why);
    const lab = await NetnsLab.create(1, t);
    const p: NetnsProcess = lab.ns(0).spawn('setpriv', ['--bounding-set', '-net_admin', '--inh-caps', '-net_admin', process.execPath, HYPHA, ...args]);
    output = () => p.stderr;
    waitRunning = () => p.waitForOutput('"msg":"node running"', 30_000);
    stop = async () => (await p.stop(5_000)).code;
  } else {
    const p = spawnHypha(args);
    t.after(() => p.child.kill('SIGKILL'));
    output = p.stderr;
    waitRunning = () => p.waitFor('"msg":"node running"', 30_000);
    stop = async () => {
      p.child.kill('SIGTERM');
      return (await p.exited).code;
    };
  }
  await waitRunning();
  const lines = output().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as { level: number; msg: string; tun?: string; api?: string });
  const errors = lines.filter((l) => l.level >= 50);
  assert.equal(errors.length, 1, output());
  assert.match(errors[0].msg, /^TUN unavailable: .*CAP_NET_ADMIN.*To fix: run as root, or grant CAP_NET_ADMIN.* Continuing without TUN \(as with --no-tun\)/);
  const running = lines.find((l) => l.msg === 'node running');
  assert.equal(running?.tun, 'off');
  // It is a working node all the same: its API is up.
  const api = running?.api;
  assert.match(String(api), /^http:\/\/127\.0\.0\.1:\d+\/api\/v1$/);
  assert.equal(await stop(), 0, output());
});
