import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, connect, type Socket } from 'node:net';
import { SystemClock } from '../../src/base/clock.ts';
import { captureLogger, silentLogger } from '../../src/base/log.ts';
import { fromHex, toHex } from '../../src/base/bytes.ts';
import { identityFromSeed, type NodeIdentity } from '../../src/identity/identity.ts';
import { NoiseXXHandshake } from '../../src/crypto/noise.ts';
import { NativeTcpTransport, type NativeListener, type NativeTcpOptions } from '../../src/link/native-tcp.ts';
import type { Link } from '../../src/link/link.ts';
import { closedPromise, connectRaw, rawNoiseClient, waitFor } from '../helpers/noise-client.ts';
import vectors from '../fixtures/micelio-vectors.json' with { type: 'json' };

const clock = new SystemClock();
const A = identityFromSeed(fromHex(vectors.nodeA.ed25519Seed)!);
const B = identityFromSeed(fromHex(vectors.nodeB.ed25519Seed)!);

function transport(id: NodeIdentity, extra: Partial<NativeTcpOptions> = {}): NativeTcpTransport {
  return new NativeTcpTransport({
    clock,
    logger: extra.logger ?? silentLogger(),
    staticKey: { privateKey: id.x25519PrivateKey, publicKey: id.x25519Public },
    ...extra,
  });
}

interface Collected {
  msgs: Uint8Array[];
  closed: string[];
}

function collect(link: Link): Collected {
  const c: Collected = { msgs: [], closed: [] };
  link.attach({ onMessage: (m) => c.msgs.push(m), onClose: (r) => c.closed.push(r) });
  return c;
}

async function listen(t: NativeTcpTransport, onLink: (l: Link) => void = () => {}, preCheck?: (r: string) => string | undefined): Promise<NativeListener> {
  const l = await t.listen('127.0.0.1:0', { onLink, preCheck });
  assert.ok(l.ok, l.ok ? '' : l.error.message);
  return l.value;
}

async function connectedPair(optsA: Partial<NativeTcpOptions> = {}, optsB: Partial<NativeTcpOptions> = {}) {
  const ta = transport(A, optsA);
  const tb = transport(B, optsB);
  const inbound: Link[] = [];
  const listener = await listen(tb, (l) => inbound.push(l));
  const out = await ta.dial(listener.address);
  assert.ok(out.ok, out.ok ? '' : out.error.message);
  await waitFor(() => inbound.length === 1, 'inbound link');
  return { ta, tb, listener, a: out.value, b: inbound[0], cleanup: async () => { out.value.close('test done'); inbound[0].close('test done'); await listener.close(); await ta.close(); await tb.close(); } };
}

test('dial + listen: both ends learn the other\'s static key and exchange messages, including > 64 KiB', async () => {
  const p = await connectedPair();
  assert.equal(p.a.protocol, 'native');
  assert.equal(p.a.transport, 'tcp');
  assert.equal(p.a.direction, 'outbound');
  assert.equal(p.b.direction, 'inbound');
  assert.deepEqual(p.a.remoteStatic, B.x25519Public);
  assert.deepEqual(p.b.remoteStatic, A.x25519Public);
  const ra = collect(p.a);
  const rb = collect(p.b);
  const big = new Uint8Array(1_048_576).map((_, i) => (i * 7) & 0xff);
  const sizes = [0, 1, 65_535, 65_536, 300_000];
  for (const n of sizes) assert.ok(p.a.send(big.subarray(0, n)));
  assert.ok(p.b.send(big));
  await waitFor(() => rb.msgs.length === sizes.length && ra.msgs.length === 1, 'messages');
  assert.deepEqual(rb.msgs.map((m) => m.length), sizes);
  assert.deepEqual(rb.msgs[4], big.subarray(0, 300_000));
  assert.deepEqual(ra.msgs[0], big);
  assert.equal(p.a.stats().txMessages, sizes.length);
  assert.equal(p.b.stats().rxMessages, sizes.length);
  assert.equal(p.a.send(new Uint8Array(1_048_577)), false, 'a payload above 1 MiB is refused');
  p.a.close('bye');
  await waitFor(() => rb.closed.length === 1, 'remote close');
  assert.deepEqual(ra.closed, ['bye']);
  await p.cleanup();
});

test('over real sockets with the fixed ephemerals the bytes on the wire are the §8 transcript', async () => {
  const ta = transport(A);
  const tb = transport(B);
  ta.ephemeralForTests = () => fromHex(vectors.noise.initiatorEphemeralPriv);
  tb.ephemeralForTests = () => fromHex(vectors.noise.responderEphemeralPriv);
  const inbound: Link[] = [];
  const listener = await listen(tb, (l) => inbound.push(l));
  // A recording proxy between the two.
  const aToB: Buffer[] = [];
  const bToA: Buffer[] = [];
  const sockets: Socket[] = [];
  const proxy = createServer((c) => {
    const up = connect({ host: listener.host, port: listener.port });
    sockets.push(c, up);
    c.on('data', (d) => { aToB.push(d); up.write(d); });
    up.on('data', (d) => { bToA.push(d); c.write(d); });
    c.on('error', () => {});
    up.on('error', () => {});
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
  const port = (proxy.address() as { port: number }).port;
  const out = await ta.dial(`127.0.0.1:${port}`);
  assert.ok(out.ok);
  await waitFor(() => inbound.length === 1, 'inbound');
  const rb = collect(inbound[0]);
  const ra = collect(out.value);
  out.value.send(fromHex(vectors.hello.envelope)!);
  await waitFor(() => rb.msgs.length === 1, 'hello');
  inbound[0].send(fromHex(vectors.helloAck.envelope)!);
  await waitFor(() => ra.msgs.length === 1, 'ack');
  out.value.send(fromHex(vectors.keepalive.envelope)!);
  await waitFor(() => rb.msgs.length === 2, 'keepalive');
  const n = vectors.noise;
  assert.equal(toHex(Buffer.concat(aToB)), n.msg1Wire + n.msg3Wire + n.transportAtoB0 + n.transportAtoB1);
  assert.equal(toHex(Buffer.concat(bToA)), n.msg2Wire + n.transportBtoA0);
  out.value.close('done');
  inbound[0].close('done');
  for (const s of sockets) s.destroy();
  proxy.close();
  await listener.close();
});

test('garbage instead of a handshake closes that socket only, with a WARN naming the reason', async () => {
  const cap = captureLogger();
  const tb = transport(B, { logger: cap.logger });
  const listener = await listen(tb);
  const s = await connectRaw(listener.address);
  s.on('error', () => {});
  s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await closedPromise(s);
  assert.ok(cap.has('warn', 'noise handshake message too large'), JSON.stringify(cap.records));
  // 32 bytes that look like msg1, followed by garbage in place of msg3
  const s2 = await connectRaw(listener.address);
  s2.on('error', () => {});
  s2.write(Buffer.concat([Buffer.from('0020', 'hex'), Buffer.alloc(32, 9)]));
  s2.write(Buffer.concat([Buffer.from('0040', 'hex'), Buffer.alloc(64, 1)]));
  await closedPromise(s2);
  assert.ok(cap.has('warn', 'cannot decrypt the initiator\'s static key'));
  // The listener still serves a real peer.
  const ta = transport(A);
  const ok = await ta.dial(listener.address);
  assert.ok(ok.ok);
  ok.value.close('done');
  await listener.close();
});

test('a truncated handshake closes the socket with a WARN', async () => {
  const cap = captureLogger();
  const tb = transport(B, { logger: cap.logger });
  const listener = await listen(tb);
  const s = await connectRaw(listener.address);
  s.on('error', () => {});
  s.end(Buffer.from('0020' + '11'.repeat(10), 'hex'));
  await closedPromise(s);
  await waitFor(() => cap.has('warn', 'truncated handshake'), 'warn');
  await listener.close();
});

test('a client that never finishes the handshake is cut at the handshake timeout', async () => {
  const cap = captureLogger();
  const tb = transport(B, { logger: cap.logger, handshakeTimeoutMs: 300 });
  const listener = await listen(tb);
  const s = await connectRaw(listener.address);
  s.on('error', () => {});
  s.write(Buffer.from('00', 'hex')); // half a length prefix, then silence
  await closedPromise(s);
  assert.ok(cap.has('warn', 'noise handshake timeout'));
  // A valid first message, then nothing: cut at the timeout as well.
  const hs = new NoiseXXHandshake({ initiator: true, staticKey: { privateKey: A.x25519Private, publicKey: A.x25519Public } });
  const m1 = hs.writeMessage();
  assert.ok(m1.ok);
  const s2 = await connectRaw(listener.address);
  s2.on('error', () => {});
  s2.write(Uint8Array.of(0, 32, ...m1.value));
  await closedPromise(s2);
  assert.equal(cap.records.filter((r) => String(r.reason).includes('noise handshake timeout')).length, 2);
  assert.equal(tb.stats().pendingHandshakes, 0);
  await listener.close();
});

test('the pending-handshake cap and the pre-check refuse before any crypto', async () => {
  const cap = captureLogger();
  const tb = transport(B, { logger: cap.logger, maxPendingHandshakes: 2, handshakeTimeoutMs: 5_000 });
  let refuse = false;
  const listener = await listen(tb, () => {}, () => (refuse ? 'max peers reached' : undefined));
  const silent = [await connectRaw(listener.address), await connectRaw(listener.address)];
  await waitFor(() => tb.stats().pendingHandshakes === 2, 'two pending');
  const third = await connectRaw(listener.address);
  third.on('error', () => {});
  await closedPromise(third);
  assert.ok(cap.has('warn', 'too many pending handshakes'));
  for (const s of silent) s.destroy();
  await waitFor(() => tb.stats().pendingHandshakes === 0, 'pending drained');
  refuse = true;
  const fourth = await connectRaw(listener.address);
  fourth.on('error', () => {});
  await closedPromise(fourth);
  assert.equal(tb.stats().refusedByPreCheck, 1);
  assert.ok(cap.has('info', 'max peers reached'));
  await listener.close();
});

test('frames with bad magic, bad version or oversize length close the link with that reason', async () => {
  const cases: [string, string][] = [
    ['4d4a000100000000', 'invalid frame magic 0x4D4A'],
    ['4d49000200000000', 'unsupported frame version 2'],
    ['4d49000100100001', 'frame payload length 1048577 exceeds 1048576'],
  ];
  const tb = transport(B);
  const links: Collected[] = [];
  const listener = await listen(tb, (l) => links.push(collect(l)));
  for (const [i, [hex, reason]] of cases.entries()) {
    const c = await rawNoiseClient(listener.address, A);
    c.sendPlain(fromHex(hex)!);
    await c.closed;
    await waitFor(() => links[i]?.closed.length === 1, 'link closed');
    assert.match(links[i].closed[0], new RegExp(reason));
  }
  // A transport message longer than 1,048,600 bytes is refused from its length alone.
  const c = await rawNoiseClient(listener.address, A);
  c.socket.write(Buffer.from('00100019', 'hex'));
  await c.closed;
  await waitFor(() => links[3]?.closed.length === 1, 'closed');
  assert.match(links[3].closed[0], /noise message too large \(1048601 bytes/);
  await listener.close();
});

test('plaintext is a stream: a frame split over two Noise messages, two frames in one', async () => {
  const tb = transport(B);
  const links: Collected[] = [];
  const listener = await listen(tb, (l) => links.push(collect(l)));
  const c = await rawNoiseClient(listener.address, A);
  const f1 = fromHex(vectors.hello.frame)!;
  const f2 = fromHex(vectors.keepalive.frame)!;
  c.sendPlain(f1.subarray(0, 5));
  c.sendPlain(f1.subarray(5));
  c.sendPlain(Uint8Array.of(...f2, ...f2));
  await waitFor(() => links[0]?.msgs.length === 3, 'three messages');
  assert.equal(toHex(links[0].msgs[0]), vectors.hello.envelope);
  assert.equal(toHex(links[0].msgs[2]), vectors.keepalive.envelope);
  c.socket.destroy();
  await listener.close();
});

test('a peer that stops reading: the send queue drops when full and the write deadline closes the link', async () => {
  const tb = transport(B, { writeTimeoutMs: 300, sendQueueMessages: 4 });
  const links: Link[] = [];
  const listener = await listen(tb, (l) => links.push(l));
  const c = await rawNoiseClient(listener.address, A);
  c.socket.pause();
  await waitFor(() => links.length === 1, 'link');
  const got = collect(links[0]);
  const big = new Uint8Array(1_000_000);
  let refused = 0;
  for (let i = 0; i < 64; i++) if (!links[0].send(big)) refused++;
  assert.ok(refused > 0, 'some sends refused');
  assert.equal(links[0].stats().dropped, refused);
  await waitFor(() => got.closed.length === 1, 'write timeout');
  assert.match(got.closed[0], /write timeout/);
  c.socket.destroy();
  await listener.close();
});

test('setIdleTimeout closes a silent link; traffic keeps it open', async () => {
  const p = await connectedPair();
  const rb = collect(p.b);
  collect(p.a);
  p.b.setIdleTimeout(1_500);
  for (let i = 0; i < 6; i++) {
    await new Promise((r) => setTimeout(r, 100));
    p.a.send(Uint8Array.of(0x28, 0x05));
  }
  assert.equal(rb.closed.length, 0);
  await waitFor(() => rb.closed.length === 1, 'idle close');
  assert.match(rb.closed[0], /idle timeout/);
  await p.cleanup();
});

test('dial errors are results: refused port, bad address, handshake timeout', async () => {
  const ta = transport(A, { handshakeTimeoutMs: 300 });
  const bad = await ta.dial('no-port-here');
  assert.equal(bad.ok, false);
  // a port nobody listens on
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  const refused = await ta.dial(`127.0.0.1:${port}`);
  assert.equal(refused.ok, false);
  assert.equal(refused.ok ? '' : refused.error.code, 'dial-failed');
  // a server that accepts and says nothing
  const mute = createServer(() => {});
  await new Promise<void>((r) => mute.listen(0, '127.0.0.1', () => r()));
  const r = await ta.dial(`127.0.0.1:${(mute.address() as { port: number }).port}`);
  assert.equal(r.ok, false);
  assert.match(r.ok ? '' : r.error.message, /noise handshake timeout/);
  mute.close();
});
