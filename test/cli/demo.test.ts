// `hypha demo` as a newcomer runs it: a child process that starts three nodes, reports the message, the chat
// line and the state entry crossing the mesh, leaves node 1's API up (it answers), and on Ctrl-C stops, removes
// its temporary data and exits 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { waitFor } from '../helpers/poll.ts';
import { cleanEnv, HYPHA_BIN, hyphaInProcess } from './helpers.ts';

test('hypha demo --nodes 3 shows a message, a chat line and state crossing the mesh, serves node 1\'s API, and exits 0 on SIGINT', { timeout: 180_000 }, async (t) => {
  const child = spawn(process.execPath, [HYPHA_BIN, 'demo', '--nodes', '3'], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
  t.after(() => child.kill('SIGKILL'));
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  let gone = false;
  void exited.then(() => (gone = true));
  await waitFor(() => out.includes('leaving node 1 up') || gone, 'the demo to be ready', 150_000);
  assert.ok(!gone, `the demo exited early:\n${out}\n${err}`);

  assert.match(out, /^Hypha demo: 3 nodes on loopback, in this process \(data in (\S+), removed at exit\)\n/);
  const dataDir = /\(data in (\S+), removed at exit\)/.exec(out)![1];
  assert.ok(existsSync(dataDir));
  assert.match(out, /\n {2}node-1 +id [0-9a-f]{12} {2}overlay [0-9a-f:]+ +native link 127\.0\.0\.1:\d+\n {2}node-2 .*\n {2}node-3 /);
  assert.match(out, /\nConnected in a line over native \(Noise\) links: node-1 — node-2 — node-3\n/);
  assert.match(out, /\nRoute from node-1 to node-3 \([0-9a-f:]+\): node-1 → (node-2 → )?node-3 \(\d hops?\)\n/);
  assert.match(out, /\nMessage: node-1 sent "hello from node-1" \(17 bytes\) to node-3; node-3 received "hello from node-1" from [0-9a-f:]+ after \d+ ms\n/);
  assert.match(out, /\nChat: node-1 said "hello mesh" as demo; node-3's partyline shows \[demo@node-1\] hello mesh\n/);
  assert.match(out, /\nState: node-1 set [0-9a-f]{12}\/greeting = "hi from node-1"; node-3 reads the same value\n/);
  const url = /Node 1's HTTP API: (http:\/\/127\.0\.0\.1:\d+\/api\/v1) — leaving node 1 up/.exec(out)?.[1];
  assert.ok(url, out);
  assert.match(out, /\n {2}npx hypha state list --api-addr 127\.0\.0\.1:\d+\n/);

  // Node 1's API is up and has what the demo did.
  const chat = await (await fetch(`${url}/hypha/chat`)).json() as { lines: { nick: string; text: string }[] };
  assert.ok(chat.lines.some((l) => l.nick === 'demo' && l.text === 'hello mesh'), JSON.stringify(chat));
  const greeting = await hyphaInProcess(['state', 'get', 'greeting', '--value', '--api-addr', new URL(url).host]);
  assert.equal(greeting.stdout, 'hi from node-1\n');

  child.kill('SIGINT');
  assert.equal(await exited, 0, err);
  assert.match(out, /Stopping…\n$/);
  assert.equal(existsSync(dataDir), false, 'the temporary data is removed');
});

test('hypha demo refuses a node count it cannot run', async () => {
  const one = await hyphaInProcess(['demo', '--nodes', '1']);
  assert.equal(one.code, 2);
  assert.equal(one.stderr, 'hypha demo: --nodes must be a whole number from 2 to 20, got "1"\n');
  const lots = await hyphaInProcess(['demo', '--nodes', 'lots']);
  assert.deepEqual([lots.code, lots.stderr], [2, 'hypha demo: --nodes must be a whole number from 2 to 20, got "lots"\n']);
  assert.equal((await hyphaInProcess(['demo', '--log-level', 'loud'])).code, 2);
});
