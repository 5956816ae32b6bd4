// Message-bus throughput between two Hypha nodes on loopback: both nodes live in this one process, joined
// by a real Mycelium TCP link on 127.0.0.1, each with its message bus on its own LMDB store (so every
// accepted message is fsynced before it is acknowledged, as in a running node). One JSON line per figure:
//   - MB/s of one 16 MiB message, push → popped intact at the other node (best of 3);
//   - MB/s of 1 MiB messages, the same way (best of 5);
//   - messages/s of 2,000 messages of 1 KiB pushed at once, until all are popped at the other node.
// When MYCELIUM_BIN points at the Rust binary, the 1 MiB and 1 KiB figures are also measured between two
// Rust nodes through their HTTP API (base64 JSON included) and given as the reference. (Mycelium's HTTP
// API refuses bodies over 2 MB, so it cannot take a 16 MiB message at all.)
// Run: node bench/messages.ts
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { SystemClock } from '../src/base/clock.ts';
import { silentLogger } from '../src/base/log.ts';
import { generateX25519 } from '../src/crypto/x25519.ts';
import { Overlay } from '../src/dataplane/overlay.ts';
import { MessageBus } from '../src/messages/bus.ts';
import { MyceliumPeerManager } from '../src/peers/mycelium-peers.ts';
import { LmdbStore } from '../src/store/lmdb.ts';
import { formatIpv6 } from '../src/wire/ipv6.ts';
import { emit } from './lib/emit.ts';

const BIG_BYTES = 16 * 1024 * 1024;
const MID_BYTES = 1024 * 1024;
const SMALL_BYTES = 1024;
const SMALL_COUNT = 2_000;
const clock = new SystemClock();
const log = silentLogger();

async function waitFor(cond: () => boolean, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function payloadOf(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

async function hyphaPair() {
  const dirs: string[] = [];
  const node = async (peers: string[]) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'hypha-bench-msg-'));
    dirs.push(dir);
    const kp = generateX25519();
    const overlay = new Overlay({ clock, logger: log, x25519Private: kp.privateKey, x25519Public: kp.publicKey });
    const store = new LmdbStore(path.join(dir, 'hypha.lmdb'));
    const bus = new MessageBus({ clock, logger: log, store, overlay });
    await bus.start();
    const mgr = new MyceliumPeerManager({ clock, logger: log, listen: { host: '127.0.0.1', port: 0 }, peers, discovery: false, onLink: (l) => overlay.attachLink(l) });
    await mgr.start();
    return { overlay, store, bus, mgr, ip: formatIpv6(overlay.router.address) };
  };
  const b = await node([]);
  const a = await node([`tcp://127.0.0.1:${b.mgr.listenPort}`]);
  await waitFor(() => a.overlay.router.lookup(b.overlay.router.address).kind === 'selected' && b.overlay.router.lookup(a.overlay.router.address).kind === 'selected', 'routes');
  const stop = async () => {
    for (const n of [a, b]) {
      await n.mgr.stop();
      await n.bus.stop();
      n.overlay.stop();
      await n.store.close();
    }
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  };
  return { a, b, stop };
}

async function hyphaBulk(size: number, rounds: number): Promise<number> {
  const { a, b, stop } = await hyphaPair();
  let best = 0;
  try {
    for (let round = 0; round < rounds; round++) {
      const payload = payloadOf(size, round);
      const t = performance.now();
      const r = await a.bus.push({ dst: { ip: b.ip }, payload });
      if (!r.ok) throw new Error(r.error.message);
      const got = await b.bus.pop({ timeoutMs: 120_000 });
      const s = (performance.now() - t) / 1000;
      if (!got.ok || !got.value || got.value.payload.length !== size) throw new Error(`${size}-byte message did not arrive`);
      best = Math.max(best, size / 1e6 / s);
    }
  } finally {
    await stop();
  }
  return best;
}

async function hyphaSmall(): Promise<number> {
  const { a, b, stop } = await hyphaPair();
  try {
    const t = performance.now();
    const pushes: Promise<unknown>[] = [];
    for (let i = 0; i < SMALL_COUNT; i++) pushes.push(a.bus.push({ dst: { ip: b.ip }, payload: payloadOf(SMALL_BYTES, i) }));
    await Promise.all(pushes);
    for (let i = 0; i < SMALL_COUNT; i++) {
      const got = await b.bus.pop({ timeoutMs: 60_000 });
      if (!got.ok || !got.value) throw new Error(`message ${i} did not arrive`);
    }
    return SMALL_COUNT / ((performance.now() - t) / 1000);
  } finally {
    await stop();
  }
}

// --- The Rust reference ------------------------------------------------------------------------------

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

async function rustNode(bin: string, peers: string[]): Promise<{ proc: ChildProcess; api: string; tcp: number; dir: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hypha-bench-rust-'));
  const [tcp, api, rpc] = [await freePort(), await freePort(), await freePort()];
  const proc = spawn(bin, ['--key-file', path.join(dir, 'k'), '--no-tun', '--disable-peer-discovery', '--disable-quic', '--tcp-listen-port', String(tcp),
    '--api-addr', `127.0.0.1:${api}`, '--jsonrpc-addr', `127.0.0.1:${rpc}`, ...(peers.length ? ['--peers', ...peers] : [])], { stdio: 'ignore' });
  const url = `http://127.0.0.1:${api}/api/v1`;
  const end = Date.now() + 20_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/admin`)).ok) break;
    } catch {
      // starting
    }
    if (Date.now() > end) throw new Error('mycelium did not start');
    await new Promise((r) => setTimeout(r, 100));
  }
  return { proc, api: url, tcp, dir };
}

async function rustReference(bin: string): Promise<{ mbps: number; mps: number }> {
  const b = await rustNode(bin, []);
  const a = await rustNode(bin, [`tcp://127.0.0.1:${b.tcp}`]);
  try {
    const bIp = ((await (await fetch(`${b.api}/admin`)).json()) as { nodeIp: string }).nodeIp;
    const push = (payload: Uint8Array) =>
      fetch(`${a.api}/messages`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ dst: { ip: bIp }, payload: Buffer.from(payload).toString('base64') }) });
    // Wait for a route: a first message must get through.
    const end = Date.now() + 30_000;
    for (;;) {
      await push(new Uint8Array(1));
      const r = await fetch(`${b.api}/messages?timeout=2`);
      if (r.status === 200) break;
      if (Date.now() > end) throw new Error('no route between the Rust nodes');
    }
    let mbps = 0;
    for (let round = 0; round < 5; round++) {
      const t = performance.now();
      const p = await push(payloadOf(MID_BYTES, round));
      if (p.status !== 201) throw new Error(`Rust push of 1 MiB: HTTP ${p.status}`);
      const r = await fetch(`${b.api}/messages?timeout=120`);
      const body = (await r.json()) as { payload: string };
      if (Buffer.from(body.payload, 'base64').length !== MID_BYTES) throw new Error('Rust 1 MiB message did not arrive');
      mbps = Math.max(mbps, MID_BYTES / 1e6 / ((performance.now() - t) / 1000));
    }
    const t = performance.now();
    await Promise.all(Array.from({ length: SMALL_COUNT }, (_, i) => push(payloadOf(SMALL_BYTES, i))));
    for (let i = 0; i < SMALL_COUNT; i++) {
      const r = await fetch(`${b.api}/messages?timeout=60`);
      if (r.status !== 200) throw new Error(`Rust message ${i} did not arrive`);
      await r.arrayBuffer();
    }
    const mps = SMALL_COUNT / ((performance.now() - t) / 1000);
    return { mbps, mps };
  } finally {
    for (const n of [a, b]) {
      n.proc.kill('SIGTERM');
      rmSync(n.dir, { recursive: true, force: true });
    }
  }
}

const mbps = await hyphaBulk(BIG_BYTES, 3);
const mbpsMid = await hyphaBulk(MID_BYTES, 5);
const mps = await hyphaSmall();
const bin = process.env.MYCELIUM_BIN;
let ref: { mbps: number; mps: number } | undefined;
if (bin) {
  try {
    ref = await rustReference(bin);
  } catch (e) {
    process.stderr.write(`Rust reference failed: ${(e as Error).message}\n`);
  }
}
const where = 'two Hypha nodes in one process over a real Mycelium TCP link on 127.0.0.1, LMDB stores (accepted messages fsynced before their DONE-ACK)';
emit({
  bench: 'messages',
  figure: 'mb_per_s',
  value: mbps,
  unit: 'MB/s',
  what: `one 16 MiB message, push until popped intact at the other node (best of 3); ${where}`,
});
emit({
  bench: 'messages',
  figure: 'mb_per_s_1mib',
  value: mbpsMid,
  unit: 'MB/s',
  what: `one 1 MiB message, push until popped intact at the other node (best of 5); ${where}`,
  reference: ref ? { name: 'mycelium (Rust→Rust, HTTP API)', value: ref.mbps } : undefined,
});
emit({
  bench: 'messages',
  figure: 'messages_per_s',
  value: mps,
  unit: 'msg/s',
  what: `${SMALL_COUNT} messages of ${SMALL_BYTES} B pushed at once, until all popped at the other node; ${where}`,
  reference: ref ? { name: 'mycelium (Rust→Rust, HTTP API)', value: ref.mps } : undefined,
});
process.exit(0);
