// `hypha state get|set|del|list|watch` against two nodes in this process, linked natively: the texts people
// read (the partyline's), --json for programs, exit codes, and watch streaming until Ctrl-C.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ClientArgs } from '../../src/cli/admin.ts';
import type { CliIo } from '../../src/cli/program.ts';
import { stateWatch } from '../../src/cli/state.ts';
import type { StatePart } from '../../src/node/parts.ts';
import { call, startPair } from '../api/hypha-helpers.ts';
import { tempBase } from '../helpers/hypha-nodes.ts';
import { waitFor } from '../helpers/poll.ts';
import { cleanEnv, HYPHA_BIN, hyphaInProcess } from './helpers.ts';

test('state set, get, list and del print what the partyline prints; --json prints the API\'s JSON; errors exit 1', async (t) => {
  const base = await tempBase(t, 'hypha-cli-state-');
  const [a, b] = await startPair(t, base);
  const onA = ['--api-addr', a.apiAddr];
  const onB = ['--api-addr', b.apiAddr];
  const idA = a.nodeId.slice(0, 12);

  const set = await hyphaInProcess(['state', 'set', 'color', 'dark blue', ...onA]);
  assert.equal(set.code, 0, set.stderr);
  assert.match(set.stdout, new RegExp(`^Set ${idA}/color = dark blue \\(ts=\\d+\\)\\n$`));

  // Visible on B under the full key, and under the short one.
  await waitFor(() => b.node.part<StatePart>('state')!.state.get(`${a.nodeId}/color`) !== undefined, 'B has the key', 30_000);
  const got = await hyphaInProcess(['state', 'get', `${a.nodeId}/color`, ...onB]);
  assert.equal(got.code, 0, got.stderr);
  assert.match(got.stdout, new RegExp(`^${idA}/color = dark blue {2}\\(ts=\\d+ node=${idA} at \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z\\)\\n$`));
  assert.equal((await hyphaInProcess(['state', 'get', `${idA}/color`, '--value', ...onB])).stdout, 'dark blue\n');
  const json = await hyphaInProcess(['state', 'get', 'color', '--json', ...onA]);
  assert.deepEqual((JSON.parse(json.stdout) as { key: string; value: string }).value, 'dark blue');

  // Bytes from a file.
  await writeFile(join(base, 'blob'), Buffer.from([0xde, 0xad, 0xbe, 0xef]));
  const bin = await hyphaInProcess(['state', 'set', 'blob', '--file', join(base, 'blob'), ...onA]);
  assert.match(bin.stdout, new RegExp(`^Set ${idA}/blob = 0xdeadbeef \\(ts=\\d+\\)\\n$`));
  const binJson = JSON.parse((await hyphaInProcess(['state', 'get', 'blob', '--json', ...onA])).stdout) as { value: string | null; valueB64: string };
  assert.deepEqual([binJson.value, binJson.valueB64], [null, '3q2+7w==']);
  const notText = await hyphaInProcess(['state', 'get', 'blob', '--value', ...onA]);
  assert.equal(notText.code, 1);
  assert.match(notText.stderr, /holds 4 bytes that are not UTF-8 text; use --json/);

  // list: all, by subkey prefix (as /state), own keys only, a page limit, JSON.
  await waitFor(() => a.node.part<StatePart>('state')!.state.get(`${b.nodeId}/_tags`) !== undefined, 'A has B\'s tags', 30_000);
  const all = await hyphaInProcess(['state', 'list', ...onA]);
  assert.equal(all.code, 0, all.stderr);
  assert.match(all.stdout, /^State \(\d+ entries from 2 nodes\):\nKey\s+Value\s+Written\n-+/);
  assert.match(all.stdout, new RegExp(`\\n${idA}/color\\s+dark blue\\s+\\d{4}-`));
  const colors = await hyphaInProcess(['state', 'list', 'col', ...onA]);
  assert.match(colors.stdout, /^State \(1 entry from 1 node\):\n/);
  const own = await hyphaInProcess(['state', 'list', '--own', '--json', ...onA]);
  assert.deepEqual((JSON.parse(own.stdout) as { subkey: string }[]).map((i) => i.subkey), ['_tags', 'blob', 'color']);
  const limited = JSON.parse((await hyphaInProcess(['state', 'list', '--limit', '1', '--json', ...onA])).stdout) as unknown[];
  assert.equal(limited.length, 1);
  assert.equal((await hyphaInProcess(['state', 'list', 'nothing-like-this', ...onA])).stdout, 'State: nothing under nothing-like-this\n');
  assert.equal((await hyphaInProcess(['state', 'list', '--limit', 'x', ...onA])).code, 2);

  // del, then not found (exit 1), the tombstone with --deleted.
  const del = await hyphaInProcess(['state', 'del', 'color', ...onA]);
  assert.match(del.stdout, new RegExp(`^Deleted ${idA}/color \\(ts=\\d+\\)\\n$`));
  const gone = await hyphaInProcess(['state', 'get', 'color', ...onA]);
  assert.equal(gone.code, 1);
  assert.match(gone.stderr, /^color: not found \(.*color was deleted/);
  assert.match((await hyphaInProcess(['state', 'get', 'color', '--deleted', ...onA])).stdout, new RegExp(`^${idA}/color: deleted \\(ts=`));
  assert.equal((await hyphaInProcess(['state', 'del', 'color', ...onA])).code, 1);

  // Refusals from the node are printed and exit 1; usage errors exit 2.
  const foreign = await hyphaInProcess(['state', 'set', `${b.nodeId}/x`, '1', ...onA]);
  assert.equal(foreign.code, 1);
  assert.match(foreign.stderr, new RegExp(`^hypha state set: key ${b.nodeId}/x belongs to node ${b.nodeId.slice(0, 12)}; a node writes only its own keys`));
  const big = await hyphaInProcess(['state', 'set', 'big', 'x'.repeat(5000), ...onA]);
  assert.match(big.stderr, /^hypha state set: value is 5000 bytes; \[state\] max_value_bytes is 4096\n$/);
  assert.equal((await hyphaInProcess(['state', 'set', 'x', ...onA])).code, 2);
  const down = await hyphaInProcess(['state', 'get', 'x', '--api-addr', '127.0.0.1:1']);
  assert.equal(down.code, 1);
  assert.match(down.stderr, /^hypha state get: cannot reach the Hypha API at http:\/\/127\.0\.0\.1:1: .* is the node running\?/);
});

test('state watch prints changes as they happen and stops cleanly on Ctrl-C', async (t) => {
  const base = await tempBase(t, 'hypha-cli-watch-');
  const [a, b] = await startPair(t, base);
  const idA = a.nodeId.slice(0, 12);

  // In this process: text lines, then JSON lines, each stopped by its signal.
  let out = '';
  let err = '';
  const io: CliIo = { stdout: (s) => (out += s), stderr: (s) => (err += s), env: {} };
  const args = (json: boolean): ClientArgs => ({ apiAddr: b.apiAddr, json, io });
  const stop = new AbortController();
  const watching = stateWatch(args(false), `${a.nodeId}/`, stop.signal);
  await waitFor(() => err.includes('watching keys under'), 'the watch is open');
  await call(a, 'PUT', '/hypha/state/mood', { value: 'calm' });
  await call(a, 'DELETE', '/hypha/state/mood');
  // (Other changes may arrive too: the anti-entropy of the fresh link brings A's tags.)
  const moods = () => out.trim().split('\n').filter((l) => l.includes('/mood'));
  await waitFor(() => moods().length >= 2, 'two changes printed', 30_000);
  stop.abort();
  assert.equal(await watching, 0);
  const lines = moods();
  assert.match(lines[0], new RegExp(`^\\d{4}-[\\d-]+T[\\d:.]+Z {2}${idA}/mood = calm {2}\\(from ${idA}\\)$`));
  assert.match(lines[1], new RegExp(`^\\S+ {2}deleted ${idA}/mood {2}\\(from ${idA}\\)$`));

  out = '';
  const stopJson = new AbortController();
  const jsonWatch = stateWatch(args(true), 'mo', stopJson.signal);
  await new Promise((r) => setTimeout(r, 300));
  await call(b, 'PUT', '/hypha/state/other', { value: '1' });
  await call(b, 'PUT', '/hypha/state/mood', { value: 'bright' });
  await waitFor(() => out.includes('bright'), 'the JSON change', 30_000);
  stopJson.abort();
  assert.equal(await jsonWatch, 0);
  const changes = out.trim().split('\n').map((l) => JSON.parse(l) as { source: string; item: { subkey: string; value: string } });
  assert.deepEqual(changes.map((c) => [c.source, c.item.subkey, c.item.value]), [['local', 'mood', 'bright']], 'filtered by subkey prefix');

  // As a process: Ctrl-C (SIGINT) ends it with exit code 0.
  const child = spawn(process.execPath, [HYPHA_BIN, 'state', 'watch', '--api-addr', a.apiAddr], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  let cout = '';
  let cerr = '';
  child.stdout.on('data', (d: Buffer) => (cout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (cerr += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  t.after(() => child.kill('SIGKILL'));
  await waitFor(() => cerr.includes('watching the state (Ctrl-C to stop)'), 'the child watches', 30_000);
  await call(a, 'PUT', '/hypha/state/seen', { value: 'by the child' });
  await waitFor(() => cout.includes('seen = by the child  (here)'), `the child printed the change: ${cout} ${cerr}`, 30_000);
  child.kill('SIGINT');
  assert.equal(await exited, 0, cerr);
});
