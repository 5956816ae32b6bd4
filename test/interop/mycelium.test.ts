// Interoperability with the real Rust Mycelium (v0.7.x). Runs when MYCELIUM_BIN points at a
// `mycelium` binary (and MYCELIUM_PRIVATE_BIN at `mycelium-private` for the private-network case);
// skips loudly otherwise. Everything stays on 127.0.0.1; the Rust node runs with --no-tun and
// without discovery or QUIC.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { blake3 } from '@noble/hashes/blake3.js';
import { SystemClock } from '../../src/base/clock.ts';
import { createLogger, silentLogger } from '../../src/base/log.ts';
import { toHex } from '../../src/base/bytes.ts';
import { generateX25519 } from '../../src/crypto/x25519.ts';
import { MemoryDevice } from '../../src/dataplane/memory-device.ts';
import { Overlay } from '../../src/dataplane/overlay.ts';
import { privateNetwork } from '../../src/link/mycelium-transport.ts';
import { MyceliumPeerManager } from '../../src/peers/mycelium-peers.ts';
import { PeerManager } from '../../src/peers/manager.ts';
import { NativeOverlayBridge } from '../../src/dataplane/native-bridge.ts';
import { identityFromSeed } from '../../src/identity/identity.ts';
import { formatIpv6, parseIpv6 } from '../../src/wire/ipv6.ts';
import { decodeMessagePacket, encodeMessagePacket, MSG_FLAG_ACK, MSG_FLAG_CHUNK, MSG_FLAG_DONE, MSG_FLAG_INIT, type MessagePacket } from '../../src/wire/mycelium/message.ts';
import { waitFor } from '../helpers/poll.ts';

const BIN = process.env.MYCELIUM_BIN;
const PRIVATE_BIN = process.env.MYCELIUM_PRIVATE_BIN;
const clock = new SystemClock();
const log = process.env.INTEROP_DEBUG ? createLogger({ level: 'debug' }) : silentLogger();

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

interface RustNode {
  proc: ChildProcess;
  api: string;
  dir: string;
  tcpPort: number;
  output: string[];
}

async function startRust(bin: string, extra: string[], peers: string[]): Promise<RustNode> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hypha-interop-'));
  const [tcpPort, apiPort, rpcPort] = [await freePort(), await freePort(), await freePort()];
  const args = [
    '--key-file', path.join(dir, 'priv_key.bin'),
    '--no-tun', '--disable-peer-discovery', '--disable-quic',
    '--tcp-listen-port', String(tcpPort),
    '--api-addr', `127.0.0.1:${apiPort}`,
    '--jsonrpc-addr', `127.0.0.1:${rpcPort}`,
    ...extra,
    ...(peers.length ? ['--peers', ...peers] : []),
  ];
  const proc = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RUST_LOG: 'info' } });
  const output: string[] = [];
  proc.stdout?.on('data', (d: Buffer) => output.push(d.toString()));
  proc.stderr?.on('data', (d: Buffer) => output.push(d.toString()));
  const api = `http://127.0.0.1:${apiPort}/api/v1`;
  await waitFor(() => proc.exitCode === null && output.join('').length > 0, 'mycelium to start', 20_000);
  // The API answers once the node is up.
  const end = Date.now() + 20_000;
  for (;;) {
    try {
      const r = await fetch(`${api}/admin`);
      if (r.ok) break;
    } catch {
      // not yet
    }
    if (Date.now() > end || proc.exitCode !== null) throw new Error(`mycelium did not come up: ${output.join('')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { proc, api, dir, tcpPort, output };
}

async function stopRust(n: RustNode): Promise<void> {
  if (n.proc.exitCode === null) {
    n.proc.kill('SIGTERM');
    await new Promise((r) => n.proc.once('exit', r));
  }
  rmSync(n.dir, { recursive: true, force: true });
}

async function getJson<T>(url: string): Promise<T> {
  const r = await fetch(url);
  return (await r.json()) as T;
}

function hyphaNode(opts: { pn?: ReturnType<typeof privateNetwork>; peers?: string[] } = {}) {
  const kp = generateX25519();
  const messages: MessagePacket[] = [];
  const overlay = new Overlay({
    clock,
    logger: log,
    x25519Private: kp.privateKey,
    x25519Public: kp.publicKey,
    device: new MemoryDevice(),
    onMessage: (payload) => {
      const m = decodeMessagePacket(payload);
      if (m.ok) messages.push(m.value);
    },
  });
  const pn = opts.pn !== undefined && opts.pn.ok ? opts.pn.value : undefined;
  const peers = new MyceliumPeerManager({
    clock,
    logger: log,
    listen: { host: '127.0.0.1', port: 0 },
    peers: opts.peers,
    privateNetwork: pn,
    discovery: false,
    onLink: (link) => overlay.attachLink(link),
  });
  return { kp, overlay, peers, messages };
}

test('Rust Mycelium peers with Hypha over tcp://: Hello/IHU, Updates both ways, and E2E-encrypted messages', { timeout: 120_000 }, async (t) => {
  if (!BIN) {
    t.skip('MYCELIUM_BIN is not set: build threefoldtech/mycelium (myceliumd) and point MYCELIUM_BIN at the binary to run this interop test');
    return;
  }
  const h = hyphaNode();
  await h.peers.start();
  const rust = await startRust(BIN, [], [`tcp://127.0.0.1:${h.peers.listenPort}`]);
  try {
    const info = await getJson<{ nodeSubnet: string; nodeIp: string; nodePubkey: string }>(`${rust.api}/admin`);
    const rustIp = parseIpv6(info.nodeIp)!;
    // Their Update for their /64 reached our router (ownership filter passed).
    await waitFor(() => h.overlay.router.lookup(rustIp).kind === 'selected', 'route to the Rust node', 20_000);
    assert.equal(toHex(h.overlay.router.publicKeyFor(rustIp)!), info.nodePubkey);
    // Our Hello got an IHU: the smoothed RTT left its start value.
    await waitFor(() => h.overlay.router.neighbourInfo()[0]?.smoothedRttMs < 1000, 'IHU answering our Hello', 20_000);
    // Our Update reached theirs.
    const ourSubnet = `${formatIpv6(h.overlay.router.subnet.address)}/64`;
    let selected: { subnet: string; metric: number | string }[] = [];
    await (async () => {
      const end = Date.now() + 20_000;
      while (Date.now() < end) {
        selected = await getJson(`${rust.api}/admin/routes/selected`);
        if (selected.some((r) => r.subnet === ourSubnet)) return;
        await new Promise((r) => setTimeout(r, 200));
      }
    })();
    assert.ok(selected.some((r) => r.subnet === ourSubnet), `Rust node has no route to ${ourSubnet}: ${JSON.stringify(selected)}`);
    const peers = await getJson<{ connectionState: string; txBytes: number; rxBytes: number }[]>(`${rust.api}/admin/peers`);
    assert.equal(peers[0]?.connectionState, 'alive');

    // A message from Hypha to Rust, packet by packet: INIT, CHUNK, DONE, each ACKed by the Rust node.
    const id = randomBytes(8);
    const data = new TextEncoder().encode('hello from hypha');
    const topic = new TextEncoder().encode('hypha.interop');
    const send = (p: MessagePacket) => assert.ok(h.overlay.dataplane.sendMessage(rustIp, encodeMessagePacket(p)));
    const acked = (flag: number) => h.messages.some((m) => (m.flags & MSG_FLAG_ACK) !== 0 && (m.flags & flag) !== 0 && toHex(m.id) === toHex(id));
    send({ kind: 'init', id, flags: MSG_FLAG_INIT, length: data.length, topic, topicLength: topic.length });
    await waitFor(() => acked(MSG_FLAG_INIT), 'INIT-ACK from Rust', 20_000);
    send({ kind: 'chunk', id, flags: MSG_FLAG_CHUNK, index: 0, offset: 0, size: data.length, data });
    await waitFor(() => acked(MSG_FLAG_CHUNK), 'CHUNK-ACK from Rust', 20_000);
    send({ kind: 'done', id, flags: MSG_FLAG_DONE, chunkCount: 1, checksum: blake3(data) });
    await waitFor(() => acked(MSG_FLAG_DONE), 'DONE-ACK from Rust', 20_000);
    const inbound = await getJson<{ id: string; srcIp: string; srcPk: string; payload: string; topic?: string }>(`${rust.api}/messages?timeout=5`);
    assert.equal(inbound.id, toHex(id));
    assert.equal(inbound.srcIp, formatIpv6(h.overlay.router.address));
    assert.equal(inbound.srcPk, toHex(h.kp.publicKey));
    assert.equal(Buffer.from(inbound.payload, 'base64').toString(), 'hello from hypha');
    assert.equal(Buffer.from(inbound.topic ?? '', 'base64').toString(), 'hypha.interop');

    // And a message from Rust to Hypha arrives as an INIT we can open.
    const pushed = await fetch(`${rust.api}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dst: { ip: formatIpv6(h.overlay.router.address) }, payload: Buffer.from('hello from rust').toString('base64') }),
    });
    assert.equal(pushed.status, 201);
    const { id: rid } = (await pushed.json()) as { id: string };
    await waitFor(() => h.messages.some((m) => m.kind === 'init' && toHex(m.id) === rid && (m.flags & MSG_FLAG_ACK) === 0), 'INIT from Rust', 20_000);
    const init = h.messages.find((m) => m.kind === 'init' && toHex(m.id) === rid);
    assert.ok(init && init.kind === 'init' && init.length === 'hello from rust'.length);
  } finally {
    if (process.env.INTEROP_DEBUG) console.log(rust.output.join(''));
    await stopRust(rust);
    await h.peers.stop();
    h.overlay.stop();
  }
});

test('Hypha dials Rust Mycelium and answers its Hellos: the link outlives Mycelium\'s 43 s IHU deadline', { timeout: 180_000 }, async (t) => {
  if (!BIN) {
    t.skip('MYCELIUM_BIN is not set: build threefoldtech/mycelium (myceliumd) and point MYCELIUM_BIN at the binary to run this interop test');
    return;
  }
  const rust = await startRust(BIN, [], []);
  const h = hyphaNode({ peers: [`tcp://127.0.0.1:${rust.tcpPort}`] });
  await h.peers.start();
  try {
    const info = await getJson<{ nodeIp: string }>(`${rust.api}/admin`);
    const rustIp = parseIpv6(info.nodeIp)!;
    await waitFor(() => h.overlay.router.lookup(rustIp).kind === 'selected', 'route to the Rust node', 20_000);
    // Mycelium sends a Hello every 20 s and drops a peer whose IHUs stop for 43 s (checked every
    // 10 s): still alive after 55 s means our IHUs arrive and decode.
    await new Promise((r) => setTimeout(r, 55_000));
    assert.equal(h.peers.peers()[0].connectionState, 'alive');
    assert.equal(h.overlay.router.lookup(rustIp).kind, 'selected');
    const peers = await getJson<{ connectionState: string }[]>(`${rust.api}/admin/peers`);
    assert.equal(peers[0]?.connectionState, 'alive');
  } finally {
    await stopRust(rust);
    await h.peers.stop();
    h.overlay.stop();
  }
});

test('two Rust nodes talk through a Hypha node in the middle: route requests and data are forwarded', { timeout: 120_000 }, async (t) => {
  if (!BIN) {
    t.skip('MYCELIUM_BIN is not set: build threefoldtech/mycelium (myceliumd) and point MYCELIUM_BIN at the binary to run this interop test');
    return;
  }
  const h = hyphaNode();
  await h.peers.start();
  const a = await startRust(BIN, [], [`tcp://127.0.0.1:${h.peers.listenPort}`]);
  const b = await startRust(BIN, [], [`tcp://127.0.0.1:${h.peers.listenPort}`]);
  try {
    const bInfo = await getJson<{ nodeIp: string }>(`${b.api}/admin`);
    const aInfo = await getJson<{ nodeIp: string }>(`${a.api}/admin`);
    await waitFor(() => h.overlay.router.lookup(parseIpv6(bInfo.nodeIp)!).kind === 'selected' && h.overlay.router.lookup(parseIpv6(aInfo.nodeIp)!).kind === 'selected', 'Hypha knows both', 20_000);
    const pushed = await fetch(`${a.api}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dst: { ip: bInfo.nodeIp }, payload: Buffer.from('via hypha').toString('base64') }),
    });
    assert.equal(pushed.status, 201);
    const got = await getJson<{ srcIp: string; payload: string }>(`${b.api}/messages?timeout=30`);
    assert.equal(got.srcIp, aInfo.nodeIp);
    assert.equal(Buffer.from(got.payload, 'base64').toString(), 'via hypha');
    assert.ok(h.overlay.dataplane.counters.forwarded > 0);
  } finally {
    await stopRust(a);
    await stopRust(b);
    await h.peers.stop();
    h.overlay.stop();
  }
});

test('Rust mycelium-private and Hypha form a private network over TLS 1.3 PSK; another key is refused', { timeout: 120_000 }, async (t) => {
  if (!PRIVATE_BIN) {
    t.skip('MYCELIUM_PRIVATE_BIN is not set: build myceliumd-private and point MYCELIUM_PRIVATE_BIN at mycelium-private to run this interop test');
    return;
  }
  const key = randomBytes(32);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'hypha-psk-'));
  const keyFile = path.join(dir, 'network.key');
  writeFileSync(keyFile, key);
  const rust = await startRust(PRIVATE_BIN, ['--network-name', 'hyphatest', '--network-key-file', keyFile], []);
  const good = hyphaNode({ pn: privateNetwork('hyphatest', key), peers: [`tcp://127.0.0.1:${rust.tcpPort}`] });
  const bad = hyphaNode({ pn: privateNetwork('hyphatest', randomBytes(32)), peers: [`tls://127.0.0.1:${rust.tcpPort}`] });
  await good.peers.start();
  await bad.peers.start();
  try {
    const info = await getJson<{ nodeIp: string }>(`${rust.api}/admin`);
    const rustIp = parseIpv6(info.nodeIp)!;
    await waitFor(() => good.overlay.router.lookup(rustIp).kind === 'selected', 'route over TLS-PSK', 20_000);
    assert.equal(good.peers.peers()[0].connectionState, 'alive');
    await new Promise((r) => setTimeout(r, 2_000));
    assert.notEqual(bad.peers.peers()[0].connectionState, 'alive');
    assert.equal(bad.overlay.router.lookup(rustIp).kind === 'selected', false);
  } finally {
    await stopRust(rust);
    rmSync(dir, { recursive: true, force: true });
    for (const n of [good, bad]) {
      await n.peers.stop();
      n.overlay.stop();
    }
  }
});

test('one network: a Rust Mycelium node and a Hypha node reach each other across a native Hypha link', { timeout: 120_000 }, async (t) => {
  if (!BIN) {
    t.skip('MYCELIUM_BIN is not set: build threefoldtech/mycelium (myceliumd) and point MYCELIUM_BIN at the binary to run this interop test');
    return;
  }
  // A: Hypha with native links only. C: Hypha with both kinds. R: Rust, peered with C over tcp://.
  //   A ══ native (Noise) ══ C ── tcp:// ── R
  const native = (bootstrap: string[]) => {
    const id = identityFromSeed(randomBytes(32));
    const messages: MessagePacket[] = [];
    const overlay = new Overlay({
      clock,
      logger: log,
      x25519Private: id.x25519PrivateKey,
      x25519Public: id.x25519Public,
      device: new MemoryDevice(),
      onMessage: (payload) => {
        const m = decodeMessagePacket(payload);
        if (m.ok) messages.push(m.value);
      },
    });
    const pm = new PeerManager({ identity: id, clock, logger: log, version: 'interop', listen: '127.0.0.1:0', bootstrap });
    const bridge = new NativeOverlayBridge({ peers: pm, overlay, clock, logger: log });
    return { id, overlay, pm, bridge, messages };
  };
  const c = native([]);
  const cMycelium = new MyceliumPeerManager({ clock, logger: log, listen: { host: '127.0.0.1', port: 0 }, discovery: false, onLink: (link) => c.overlay.attachLink(link) });
  await c.pm.start();
  c.bridge.start();
  await cMycelium.start();
  const a = native([c.pm.listenAddress!]);
  await a.pm.start();
  a.bridge.start();
  const rust = await startRust(BIN, [], [`tcp://127.0.0.1:${cMycelium.listenPort}`]);
  try {
    const info = await getJson<{ nodeIp: string }>(`${rust.api}/admin`);
    const rustIp = parseIpv6(info.nodeIp)!;
    const aIp = formatIpv6(a.overlay.router.address);
    // Rust → A: the route request crosses C onto the native link, the answer comes back, then the data.
    const pushed = await fetch(`${rust.api}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ dst: { ip: aIp }, payload: Buffer.from('from rust over a native link').toString('base64') }),
    });
    assert.equal(pushed.status, 201);
    const { id: mid } = (await pushed.json()) as { id: string };
    await waitFor(() => a.messages.some((m) => m.kind === 'init' && toHex(m.id) === mid), 'INIT from Rust at A', 30_000);
    // Rust's route to A: via its link to C, at a metric that includes the native hop C–A.
    const selected = await getJson<{ subnet: string; nextHop: string; metric: number | string }[]>(`${rust.api}/admin/routes/selected`);
    const toA = selected.find((r) => r.subnet === `${formatIpv6(a.overlay.router.subnet.address)}/64`);
    assert.ok(toA, `Rust has no route to A: ${JSON.stringify(selected)}`);
    assert.ok(toA.nextHop.includes(`:${cMycelium.listenPort}`), `next hop ${toA.nextHop}`);
    assert.ok(typeof toA.metric === 'number' && toA.metric >= 15, `metric ${toA.metric}`);
    // A → Rust: a message INIT answered with an ACK, across the native link and C.
    const id = randomBytes(8);
    const topic = new TextEncoder().encode('hypha.onenet');
    assert.ok(a.overlay.dataplane.sendMessage(rustIp, encodeMessagePacket({ kind: 'init', id, flags: MSG_FLAG_INIT, length: 1, topic, topicLength: topic.length })));
    await waitFor(() => a.messages.some((m) => (m.flags & MSG_FLAG_ACK) !== 0 && toHex(m.id) === toHex(id)), 'INIT-ACK from Rust at A', 30_000);
    assert.equal(a.overlay.router.neighbourInfo()[0].kind, 'native');
    assert.ok(c.overlay.dataplane.counters.forwarded > 0, 'C forwarded between the two kinds of link');
  } finally {
    if (process.env.INTEROP_DEBUG) console.log(rust.output.join(''));
    await stopRust(rust);
    for (const n of [a, c]) {
      n.bridge.stop();
      await n.pm.stop();
      n.overlay.stop();
    }
    await cMycelium.stop();
  }
});
