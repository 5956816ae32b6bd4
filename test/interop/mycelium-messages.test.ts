// The message bus against the real Rust Mycelium (v0.7.x): messages sent by Hypha's bus are read from the
// Rust node's HTTP API, messages pushed there are popped from Hypha's bus, replies go both ways, and
// statuses follow. Runs when MYCELIUM_BIN points at a `mycelium` binary; skips loudly otherwise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { SystemClock } from '../../src/base/clock.ts';
import { createLogger, silentLogger } from '../../src/base/log.ts';
import { toHex } from '../../src/base/bytes.ts';
import { generateX25519 } from '../../src/crypto/x25519.ts';
import { Overlay } from '../../src/dataplane/overlay.ts';
import { MessageBus } from '../../src/messages/bus.ts';
import { MyceliumPeerManager } from '../../src/peers/mycelium-peers.ts';
import { MemoryStore } from '../../src/store/memory.ts';
import { formatIpv6, parseIpv6 } from '../../src/wire/ipv6.ts';
import { waitFor } from '../helpers/poll.ts';
import { bytes, subnet64Of } from '../messages/helpers.ts';

const BIN = process.env.MYCELIUM_BIN;
const SKIP = 'MYCELIUM_BIN is not set: build threefoldtech/mycelium (myceliumd) and point MYCELIUM_BIN at the binary to run the message-bus interop test';
const clock = new SystemClock();
const log = process.env.INTEROP_DEBUG ? createLogger({ level: 'debug' }) : silentLogger();

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

interface Rust {
  proc: ChildProcess;
  api: string;
  dir: string;
  output: string[];
}

async function startRust(peer: string): Promise<Rust> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hypha-msg-interop-'));
  const [tcp, apiPort, rpcPort] = [await freePort(), await freePort(), await freePort()];
  const proc = spawn(
    BIN!,
    ['--key-file', path.join(dir, 'priv_key.bin'), '--no-tun', '--disable-peer-discovery', '--disable-quic', '--tcp-listen-port', String(tcp),
      '--api-addr', `127.0.0.1:${apiPort}`, '--jsonrpc-addr', `127.0.0.1:${rpcPort}`, '--peers', peer],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RUST_LOG: process.env.INTEROP_DEBUG ? 'debug' : 'info' } },
  );
  const output: string[] = [];
  proc.stdout?.on('data', (d: Buffer) => output.push(d.toString()));
  proc.stderr?.on('data', (d: Buffer) => output.push(d.toString()));
  const api = `http://127.0.0.1:${apiPort}/api/v1`;
  const end = Date.now() + 20_000;
  for (;;) {
    try {
      if ((await fetch(`${api}/admin`)).ok) break;
    } catch {
      // not up yet
    }
    if (Date.now() > end || proc.exitCode !== null) throw new Error(`mycelium did not come up: ${output.join('')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { proc, api, dir, output };
}

async function stopRust(r: Rust): Promise<void> {
  if (r.proc.exitCode === null) {
    r.proc.kill('SIGTERM');
    await new Promise((res) => r.proc.once('exit', res));
  }
  rmSync(r.dir, { recursive: true, force: true });
}

const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const unb64 = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'base64'));

interface RustInbound {
  id: string;
  srcIp: string;
  srcPk: string;
  dstIp: string;
  dstPk: string;
  topic?: string;
  payload: string;
}

async function rustPop(api: string, timeoutS: number): Promise<RustInbound | undefined> {
  const r = await fetch(`${api}/messages?timeout=${timeoutS}`);
  if (r.status === 204) return undefined;
  assert.equal(r.status, 200);
  return (await r.json()) as RustInbound;
}

async function rustStatus(api: string, id: string): Promise<unknown> {
  const r = await fetch(`${api}/messages/status/${id}`);
  return r.status === 200 ? ((await r.json()) as { state: unknown }).state : `HTTP ${r.status}`;
}

async function pollRust(what: string, f: () => Promise<boolean>, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await f())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

test('message bus ↔ Rust Mycelium: both directions, sizes around the chunk edges, replies, statuses', { timeout: 240_000 }, async (t) => {
  if (!BIN) {
    t.skip(SKIP);
    return;
  }
  const kp = generateX25519();
  const overlay = new Overlay({ clock, logger: log, x25519Private: kp.privateKey, x25519Public: kp.publicKey });
  const bus = new MessageBus({ clock, logger: log, store: new MemoryStore(), overlay });
  await bus.start();
  const peers = new MyceliumPeerManager({ clock, logger: log, listen: { host: '127.0.0.1', port: 0 }, discovery: false, onLink: (l) => overlay.attachLink(l) });
  await peers.start();
  const rust = await startRust(`tcp://127.0.0.1:${peers.listenPort}`);
  try {
    const info = (await (await fetch(`${rust.api}/admin`)).json()) as { nodeIp: string; nodePubkey: string };
    const rustIp = parseIpv6(info.nodeIp)!;
    const ourIp = formatIpv6(overlay.router.address);
    await waitFor(() => overlay.router.lookup(rustIp).kind === 'selected', 'route to the Rust node', 30_000);
    await pollRust('Rust route to Hypha', async () => {
      const sel = (await (await fetch(`${rust.api}/admin/routes/selected`)).json()) as { subnet: string }[];
      return sel.some((r) => r.subnet === subnet64Of(ourIp));
    });

    // Hypha → Rust. 1,400 bytes is the size Mycelium cannot send to itself (1,300 + 100).
    for (const size of [5, 1_300, 1_400, 2_700, 300_000, 1024 * 1024]) {
      const payload = bytes(size, size);
      const topic = new TextEncoder().encode(`hypha.${size}`);
      const r = await bus.push({ dst: { ip: info.nodeIp }, topic, payload, deadlineMs: 60_000 });
      assert.ok(r.ok);
      const got = await rustPop(rust.api, 60);
      assert.ok(got, `Rust received the ${size}-byte message`);
      assert.equal(got.id, r.value.id);
      assert.equal(got.srcIp, ourIp);
      assert.equal(got.srcPk, toHex(kp.publicKey));
      assert.equal(got.dstPk, info.nodePubkey);
      assert.deepEqual(unb64(got.topic ?? ''), topic);
      assert.deepEqual(unb64(got.payload), payload, `${size} bytes intact`);
      // Rust popped it, so it sent READ: our status follows.
      await waitFor(() => { const s = bus.status(r.value.id); return s.ok && s.value.state === 'read'; }, `status read for ${size}`, 30_000);
    }

    // Rust → Hypha, including the Rust sender's 1,300 + 100 split, which Hypha's receiver accepts.
    for (const size of [5, 1_400, 2_700, 1024 * 1024]) {
      const payload = bytes(size, size + 1);
      const res = await fetch(`${rust.api}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ dst: { ip: ourIp }, topic: b64(new TextEncoder().encode('from.rust')), payload: b64(payload) }),
      });
      assert.equal(res.status, 201);
      const { id } = (await res.json()) as { id: string };
      const popped = await bus.pop({ timeoutMs: 60_000, topic: new TextEncoder().encode('from.rust') });
      assert.ok(popped.ok && popped.value, `Hypha received the ${size}-byte message from Rust`);
      assert.equal(popped.value.id, id);
      assert.equal(popped.value.srcIp, info.nodeIp);
      assert.equal(popped.value.srcPk, info.nodePubkey);
      assert.deepEqual(popped.value.payload, payload);
      await pollRust(`Rust status read for ${size}`, async () => (await rustStatus(rust.api, id)) === 'read');
    }

    // Hypha asks, Rust answers.
    const ask = bus.push({ dst: { pk: info.nodePubkey }, payload: new TextEncoder().encode('question from hypha'), replyTimeoutMs: 60_000 });
    const q = await rustPop(rust.api, 60);
    assert.ok(q);
    const replied = await fetch(`${rust.api}/messages/reply/${q.id}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dst: { ip: q.srcIp }, payload: b64(new TextEncoder().encode('answer from rust')) }),
    });
    assert.equal(replied.status, 204);
    const answer = await ask;
    assert.ok(answer.ok && answer.value.kind === 'reply');
    assert.equal(new TextDecoder().decode(answer.value.reply.payload), 'answer from rust');

    // Rust asks (and waits), Hypha answers.
    const rustAsk = fetch(`${rust.api}/messages?reply_timeout=60`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dst: { ip: ourIp }, payload: b64(new TextEncoder().encode('question from rust')) }),
    });
    const rq = await bus.pop({ timeoutMs: 60_000 });
    assert.ok(rq.ok && rq.value);
    assert.ok((await bus.reply(rq.value.id, { ip: rq.value.srcIp }, new TextEncoder().encode('answer from hypha'))).ok);
    const rres = await rustAsk;
    assert.equal(rres.status, 200);
    const rbody = (await rres.json()) as RustInbound;
    assert.equal(Buffer.from(rbody.payload, 'base64').toString(), 'answer from hypha');
    assert.equal(rbody.srcIp, ourIp);
  } finally {
    if (process.env.INTEROP_DEBUG) console.log(rust.output.join(''));
    await stopRust(rust);
    await peers.stop();
    await bus.stop();
    overlay.stop();
  }
});
