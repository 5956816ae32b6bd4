// Mycelium's own CLI (the Rust `mycelium message send|receive`) against Hypha nodes' HTTP API, unchanged:
// it reads Hypha's JSON with its serde types and builds its URLs its own way (the topic unencoded in the
// query, a one-year wait when no timeout is given). Runs when MYCELIUM_BIN points at a `mycelium` binary;
// skips loudly otherwise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startOverlayNode, type OverlayNode } from '../helpers/overlay-nodes.ts';
import { waitFor } from '../helpers/poll.ts';

const BIN = process.env.MYCELIUM_BIN;

interface Done {
  code: number | null;
  stdout: string;
  stderr: string;
}

function rustCli(api: string, args: string[], home: string): Promise<Done> {
  return new Promise((resolve, reject) => {
    // HOME and the working directory in a temp dir: the Rust CLI may create its key file there.
    const p = spawn(BIN!, ['--api-addr', api, ...args], { cwd: home, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOME: home, RUST_LOG: 'error' } });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
    p.on('error', reject);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

const b64 = (s: string | Uint8Array) => Buffer.from(s).toString('base64');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

async function post(n: OverlayNode, path: string, body: unknown): Promise<{ status: number; json: unknown }> {
  const r = await fetch(`${n.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const text = await r.text();
  return { status: r.status, json: text === '' ? undefined : JSON.parse(text) };
}

test("Mycelium's Rust `message send` and `message receive` work against Hypha nodes", async (t) => {
  if (BIN === undefined) return t.skip('MYCELIUM_BIN is not set: point it at a mycelium binary (e.g. MYCELIUM_BIN=/work/ref/bin/mycelium) to run this interop test');
  const base = await mkdtemp(join(tmpdir(), 'hypha-rust-msg-cli-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const a = await startOverlayNode(t, base, 'a');
  const b = await startOverlayNode(t, base, 'b', { peers: [a.endpoint] });
  await waitFor(() => b.overlay.router.lookup(a.node.identity.address).kind === 'selected'
    && a.overlay.router.lookup(b.node.identity.address).kind === 'selected', 'A and B route to each other', 30_000);
  const aIp = a.node.identity.addressText;
  const bIp = b.node.identity.addressText;
  const onA = (...args: string[]) => rustCli(a.apiAddr, args, base);
  const onB = (...args: string[]) => rustCli(b.apiAddr, args, base);

  // send (to an IP, with a topic): Rust prints {"id"}; the message arrives at A.
  const sent = await onB('message', 'send', '--topic', 'greetings', aIp, 'hello from rust');
  assert.equal(sent.code, 0, sent.stderr);
  const { id } = JSON.parse(sent.stdout) as { id: string };
  const popped = a.bus.pop({ timeoutMs: 20_000, topic: Buffer.from('greetings') });
  const m = await popped;
  assert.ok(m.ok && m.value !== null);
  assert.equal(m.value.id, id);
  assert.equal(Buffer.from(m.value.payload).toString(), 'hello from rust');

  // send to a public key, the body from a file.
  const file = join(base, 'body.bin');
  await writeFile(file, Buffer.from([0, 1, 2, 250, 251]));
  const byPk = await onB('message', 'send', '--msg-path', file, hex(a.node.identity.x25519Public));
  assert.equal(byPk.code, 0, byPk.stderr);
  const m2 = await a.bus.pop({ timeoutMs: 20_000 });
  assert.ok(m2.ok && m2.value !== null);
  assert.deepEqual([...m2.value.payload], [0, 1, 2, 250, 251]);

  // receive: Rust parses Hypha's InboundMessage and prints its CliMessage (text payload, or base64 if not UTF-8).
  assert.equal((await post(b, '/messages', { dst: { ip: aIp }, topic: b64('news'), payload: b64('extra!') })).status, 201);
  const got = await onA('message', 'receive', '--timeout', '20');
  assert.equal(got.code, 0, got.stderr);
  const cm = JSON.parse(got.stdout) as Record<string, string>;
  assert.deepEqual([cm.srcIp, cm.srcPk, cm.dstIp, cm.dstPk, cm.topic, cm.payload], [bIp, hex(b.node.identity.x25519Public), aIp, hex(a.node.identity.x25519Public), 'news', 'extra!']);

  // A topic whose base64 has a "+": Rust puts it in the URL unencoded (a space once decoded); Hypha reads it.
  const plusTopic = '~~~'; // base64 "fn5+"
  assert.equal((await post(b, '/messages', { dst: { ip: aIp }, topic: b64('other'), payload: b64('not this one') })).status, 201);
  assert.equal((await post(b, '/messages', { dst: { ip: aIp }, topic: b64(plusTopic), payload: b64('this one') })).status, 201);
  await waitFor(() => a.bus.inboxCount === 2, 'both arrived');
  const filtered = await onA('message', 'receive', '--timeout', '20', '--topic', plusTopic, '--raw');
  assert.equal(filtered.code, 0, filtered.stderr);
  assert.equal(filtered.stdout, 'this one\n');
  const out = join(base, 'out.bin');
  const toFile = await onA('message', 'receive', '--timeout', '20', '--msg-path', out);
  assert.equal(toFile.code, 0, toFile.stderr);
  assert.equal((await readFile(out)).toString(), 'not this one');

  // Nothing there: Rust gets 204 and prints nothing.
  const none = await onA('message', 'receive', '--timeout', '1');
  assert.equal(none.code, 0, none.stderr);
  assert.equal(none.stdout, '');

  // No --timeout: Rust asks for a one-year wait; Hypha waits (24 h at most) and answers when a message comes.
  const forever = onA('message', 'receive');
  await new Promise((r) => setTimeout(r, 500));
  assert.equal((await post(b, '/messages', { dst: { ip: aIp }, payload: b64('worth the wait') })).status, 201);
  const late = await forever;
  assert.equal(late.code, 0, late.stderr);
  assert.equal((JSON.parse(late.stdout) as { payload: string }).payload, 'worth the wait');

  // send --wait: a Hypha node replies over HTTP and Rust prints the reply.
  const asking = onB('message', 'send', '--wait', '--timeout', '30', aIp, 'ping?');
  const q = await a.bus.pop({ timeoutMs: 20_000 });
  assert.ok(q.ok && q.value !== null);
  assert.equal((await post(a, `/messages/reply/${q.value.id}`, { dst: { ip: q.value.srcIp }, payload: b64('pong!') })).status, 204);
  const answer = await asking;
  assert.equal(answer.code, 0, answer.stderr);
  const reply = JSON.parse(answer.stdout) as Record<string, string>;
  assert.deepEqual([reply.id, reply.srcIp, reply.payload], [q.value.id, aIp, 'pong!']);
  // --wait with no reply in time: Hypha's 408 {"id"} is what Rust expects (it prints the id).
  const unanswered = await onB('message', 'send', '--wait', '--timeout', '1', aIp, 'anyone?');
  assert.equal(unanswered.code, 0, unanswered.stderr);
  assert.match((JSON.parse(unanswered.stdout) as { id: string }).id, /^[0-9a-f]{16}$/);

  // --reply-to: Rust answers a Hypha push that waits for its reply.
  const waiting = post(b, '/messages?reply_timeout=30', { dst: { ip: aIp }, topic: b64('q'), payload: b64('what is 6 x 7?') });
  const qq = await a.bus.pop({ timeoutMs: 20_000, topic: Buffer.from('q') });
  assert.ok(qq.ok && qq.value !== null);
  const replied = await onA('message', 'send', '--reply-to', qq.value.id, bIp, '42');
  assert.equal(replied.code, 0, replied.stderr);
  assert.equal(replied.stdout, '', 'Rust prints nothing for a 204');
  const w = await waiting;
  assert.equal(w.status, 200);
  assert.equal(Buffer.from((w.json as { payload: string }).payload, 'base64').toString(), '42');
});
