// Connection-health and redial timing on a VirtualClock over memory links: deterministic, and
// minutes of network time in milliseconds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { VirtualClock } from '../../src/base/clock.ts';
import { captureLogger } from '../../src/base/log.ts';
import { identityFromSeed } from '../../src/identity/identity.ts';
import { PeerManager, MemoryPeerStore, type PeerManagerOptions } from '../../src/peers/index.ts';
import { MemoryNetwork } from '../helpers/memory-links.ts';
import { newEnvelope } from '../../src/crypto/envelope.ts';

function mkNode(net: MemoryNetwork, clock: VirtualClock, opts: Partial<PeerManagerOptions> & { name: string }) {
  const id = identityFromSeed(randomBytes(32));
  const log = captureLogger('info');
  const pm = new PeerManager({
    identity: id,
    clock,
    logger: log.logger,
    version: '0.1.0',
    links: net.factory(opts.name, id.x25519Public),
    store: new MemoryPeerStore(),
    random: () => 0.5,
    listen: '127.0.0.1:0',
    ...opts,
  });
  return { pm, id, log, name: opts.name };
}

test('keepalive every 20 s keeps an idle link up; real sends postpone it; silence is cut at 60 s', async () => {
  const clock = new VirtualClock();
  const net = new MemoryNetwork(clock);
  const quiet = { exchangeIntervalMs: 3_600_000, discoveryIntervalMs: 3_600_000 };
  const a = mkNode(net, clock, { name: 'a', ...quiet });
  await a.pm.start();
  const b = mkNode(net, clock, { name: 'b', ...quiet, bootstrap: [a.pm.listenAddress!] });
  await b.pm.start();
  assert.ok(await clock.runUntil(() => a.pm.connectedCount === 1 && b.pm.connectedCount === 1, 5_000) >= 0);
  const pb = b.pm.peers()[0];
  const tx0 = pb.stats().txMessages; // hello + initial peer exchange
  await clock.advance(110_000);
  assert.equal(b.pm.connectedCount, 1, 'idle link kept up by keepalives');
  assert.equal(pb.stats().txMessages - tx0, 5, 'one keepalive per 20 s');
  // Real traffic every 10 s: no keepalive needed.
  const tx1 = pb.stats().txMessages;
  for (let i = 0; i < 10; i++) {
    b.pm.send(a.id.nodeId, newEnvelope({ msgType: 3, payload: Uint8Array.of(i), senderId: b.id.nodeId, signingKey: b.id.signingKey }));
    await clock.advance(10_000);
  }
  assert.equal(pb.stats().txMessages - tx1, 10, 'keepalive timer reset by every real send');
  // Now b falls silent (the wire is cut right after its last message): a evicts it at the idle
  // timeout, not before. (b then redials through its bootstrap loop, on a new link.)
  b.pm.send(a.id.nodeId, newEnvelope({ msgType: 3, payload: Uint8Array.of(99), senderId: b.id.nodeId, signingKey: b.id.signingKey }));
  await clock.advance(1);
  const pa = a.pm.peers()[0];
  net.wireBetween('b', a.pm.listenAddress!)!.cut = true;
  await clock.advance(59_000);
  assert.equal(pa.connected, true);
  await clock.advance(1_100);
  assert.equal(pa.connected, false);
  assert.ok(a.log.has('warn', 'idle timeout'));
  await a.pm.stop();
  await b.pm.stop();
});

test('bootstrap: backoff 1, 2, 4 … 30 s while the address refuses; at least redialDelayMs after a drop', async () => {
  const clock = new VirtualClock();
  const net = new MemoryNetwork(clock);
  // random() = 0 → no jitter, so the schedule is exact.
  const n = mkNode(net, clock, { name: 'n', bootstrap: ['10.9.9.9:4000'], random: () => 0, redialDelayMs: 5_000 });
  const t0 = clock.now();
  await n.pm.start();
  await clock.advance(100_000);
  const times = net.dials.filter((d) => d.to === '10.9.9.9:4000').map((d) => (d.atMs - t0) / 1000);
  assert.deepEqual(times, [0, 1, 3, 7, 15, 31, 61, 91]);
  await n.pm.stop();

  // A bootstrap peer that accepts, then drops us after 60 s (a stable connection): redial after 5 s, not at once.
  const clock2 = new VirtualClock();
  const net2 = new MemoryNetwork(clock2);
  const a = mkNode(net2, clock2, { name: 'a' });
  await a.pm.start();
  const m = mkNode(net2, clock2, { name: 'm', bootstrap: [a.pm.listenAddress!], random: () => 0, redialDelayMs: 5_000 });
  await m.pm.start();
  await clock2.runUntil(() => m.pm.connectedCount === 1, 5_000);
  await clock2.advance(60_000);
  a.pm.disconnect(m.id.nodeId, 'test drop');
  const dropAt = clock2.now();
  await clock2.runUntil(() => m.pm.connectedCount === 1, 20_000, 50);
  const redials = net2.dials.filter((d) => d.from === 'm' && d.atMs >= dropAt);
  assert.equal(redials.length, 1);
  assert.equal(redials[0].atMs - dropAt, 5_000);
  await a.pm.stop();
  await m.pm.stop();
});

test('a bootstrap node that already dialled us is not dialled again (no duplicate loop)', async () => {
  const clock = new VirtualClock();
  const net = new MemoryNetwork(clock);
  const a = mkNode(net, clock, { name: 'a', listen: '10.0.0.1:4000', bootstrap: ['10.0.0.2:4000'], random: () => 0 });
  await a.pm.start(); // b is not up yet: the first dial fails, retry in 1 s
  await clock.advance(500);
  const b = mkNode(net, clock, { name: 'b', listen: '10.0.0.2:4000', bootstrap: ['10.0.0.1:4000'], random: () => 0 });
  await b.pm.start();
  await clock.runUntil(() => a.pm.connectedCount === 1, 5_000);
  await clock.advance(300_000);
  assert.equal(net.dials.filter((d) => d.from === 'a').length, 1, 'a never dialled b again while b was connected');
  assert.equal(a.pm.stats().rejectedDuplicate + b.pm.stats().rejectedDuplicate, 0);
  assert.equal(a.pm.connectedCount, 1);
  for (const x of [a, b]) await x.pm.stop();
});

test('discovery: at most 3 dials per tick, per-peer exponential backoff on failure', async () => {
  const clock = new VirtualClock();
  const net = new MemoryNetwork(clock);
  const store = new MemoryPeerStore();
  const now = Math.floor(clock.now() / 1000);
  // Five dead peers the node remembers.
  for (let i = 0; i < 5; i++) {
    const id = identityFromSeed(randomBytes(32));
    store.put({ nodeId: id.nodeId, addr: `10.8.0.${i}:4000`, reachable: true, publicKey: Buffer.from(id.ed25519Public).toString('hex'), lastSeen: now, failCount: 0, lastFail: 0 });
  }
  const n = mkNode(net, clock, { name: 'n', store, discoveryIntervalMs: 10_000, dialJitterMs: 2_000, random: () => 0.1 });
  await n.pm.start();
  await clock.advance(1_000);
  assert.equal(net.dials.length, 3, 'the first tick dials three');
  await clock.advance(10_000);
  // Tick 2: the two not yet tried (the three failed ones back off 1 s, so they're eligible again too, but max 3).
  assert.equal(net.dials.length, 6);
  await clock.advance(600_000);
  const failures = n.pm.knownPeers().map((r) => r.failCount);
  // With 3 dials per 10 s tick and backoff capped at 30 s, each peer failed several times, none unbounded.
  for (const f of failures) assert.ok(f >= 5 && f <= 40, `failCount ${f}`);
  await n.pm.stop();
});

test('peer exchange from a connected peer is deduplicated by message id for 5 minutes', async () => {
  const clock = new VirtualClock();
  const net = new MemoryNetwork(clock);
  const a = mkNode(net, clock, { name: 'a', exchangeIntervalMs: 3_600_000 });
  await a.pm.start();
  const b = mkNode(net, clock, { name: 'b', exchangeIntervalMs: 3_600_000, bootstrap: [a.pm.listenAddress!] });
  await b.pm.start();
  await clock.runUntil(() => a.pm.connectedCount === 1, 5_000);
  const before = a.pm.stats();
  // Replay the same PX envelope three times.
  const { create } = await import('@bufbuild/protobuf');
  const { PeerExchangeSchema } = await import('../../src/wire/gen/micelio_pb.ts');
  const { encodeMessage } = await import('../../src/wire/micelio/codec.ts');
  const env = newEnvelope({ msgType: 4, payload: encodeMessage(PeerExchangeSchema, create(PeerExchangeSchema, {})), senderId: b.id.nodeId, signingKey: b.id.signingKey });
  for (let i = 0; i < 3; i++) b.pm.send(a.id.nodeId, env);
  await clock.advance(100);
  assert.equal(a.pm.stats().peerExchangesReceived - before.peerExchangesReceived, 1);
  assert.equal(a.pm.stats().peerExchangesDeduped - before.peerExchangesDeduped, 2);
  await clock.advance(6 * 60_000);
  b.pm.send(a.id.nodeId, env);
  await clock.advance(100);
  assert.equal(a.pm.stats().peerExchangesReceived - before.peerExchangesReceived, 2, 'accepted again after the TTL');
  await a.pm.stop();
  await b.pm.stop();
});

test('two Hypha nodes dialling each other at the same instant keep exactly one link', async () => {
  const clock = new VirtualClock();
  const net = new MemoryNetwork(clock);
  // random() = 0: no jitter at all, the worst case for lock-step redials.
  const a = mkNode(net, clock, { name: 'a', listen: '10.0.0.1:4000', bootstrap: ['10.0.0.2:4000'], random: () => 0 });
  const b = mkNode(net, clock, { name: 'b', listen: '10.0.0.2:4000', bootstrap: ['10.0.0.1:4000'], random: () => 0 });
  await Promise.all([a.pm.start(), b.pm.start()]);
  let flaps = 0;
  a.pm.on('disconnected', () => flaps++);
  await clock.advance(120_000);
  assert.equal(a.pm.connectedCount, 1);
  assert.equal(b.pm.connectedCount, 1);
  assert.equal(a.pm.peers()[0].linkId === b.pm.peers()[0].linkId, false, 'two ends of one wire');
  assert.equal(net.wires.filter((w) => !w.a.closed).length, 1, 'one live link');
  assert.ok(flaps <= 1);
  for (const x of [a, b]) await x.pm.stop();
});
