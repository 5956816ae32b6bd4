// Periodic peer exchanges carry only what changed: a stable neighbour hears nothing more after the
// full list it gets on connect; new peers and new addresses still reach it at the next exchange; it
// gets the full list again every fullExchangeIntervalMs and whenever it reconnects. Observed from a
// Micelio-like neighbour (it records every envelope) on memory links with a VirtualClock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import { VirtualClock, unixSeconds } from '../../src/base/clock.ts';
import { captureLogger } from '../../src/base/log.ts';
import { identityFromSeed, type NodeIdentity } from '../../src/identity/identity.ts';
import { PeerManager, MemoryPeerStore, type PeerManagerOptions } from '../../src/peers/index.ts';
import { PX_RESEND_LAST_SEEN_ADVANCE_S } from '../../src/peers/manager.ts';
import { newEnvelope } from '../../src/crypto/envelope.ts';
import { PeerExchangeSchema, PeerInfoSchema, type PeerInfo } from '../../src/wire/gen/micelio_pb.ts';
import { decodeMessage, encodeMessage } from '../../src/wire/micelio/codec.ts';
import { MsgType, encodeEnvelope } from '../../src/wire/micelio/envelope.ts';
import { MemoryNetwork } from '../helpers/memory-links.ts';
import { MicelioPeer } from '../helpers/micelio-peer.ts';

const INTERVAL_MS = 30_000;
const FULL_MS = 10 * 60_000;

function mkNode(net: MemoryNetwork, clock: VirtualClock, opts: Partial<PeerManagerOptions> & { name: string }) {
  const id = identityFromSeed(randomBytes(32));
  const pm = new PeerManager({
    identity: id,
    clock,
    logger: captureLogger('info').logger,
    version: '0.1.0',
    links: net.factory(opts.name, id.x25519Public),
    store: new MemoryPeerStore(),
    random: () => 0.5,
    listen: '127.0.0.1:0',
    exchangeIntervalMs: INTERVAL_MS,
    fullExchangeIntervalMs: FULL_MS,
    // No dialling of learned peers: the topology stays the one each test builds.
    discoveryIntervalMs: 24 * 3600_000,
    ...opts,
  });
  return { pm, id };
}

/** The peer lists in the PeerExchanges `m` received from index `from` on. */
function exchanges(m: MicelioPeer, from = 0): PeerInfo[][] {
  return m.received.slice(from).filter((e) => e.msgType === MsgType.PeerExchange).map((e) => {
    const px = decodeMessage(PeerExchangeSchema, e.payload);
    assert.ok(px.ok);
    return px.value.peers;
  });
}

/** `src` (a Micelio-like neighbour of the node) tells it about `who` at `addr`, seen now. */
function announce(src: MicelioPeer, clock: VirtualClock, who: NodeIdentity, addr: string): void {
  const info = create(PeerInfoSchema, { nodeId: who.nodeId, addr, reachable: true, ed25519Pubkey: who.ed25519Public, lastSeen: BigInt(unixSeconds(clock)) });
  const payload = encodeMessage(PeerExchangeSchema, create(PeerExchangeSchema, { peers: [info] }));
  src.send(encodeEnvelope(newEnvelope({ msgType: MsgType.PeerExchange, payload, senderId: src.id.nodeId, signingKey: src.id.signingKey })));
}

async function setup() {
  const clock = new VirtualClock();
  const net = new MemoryNetwork(clock);
  const a = mkNode(net, clock, { name: 'a' });
  await a.pm.start();
  const b = mkNode(net, clock, { name: 'b', bootstrap: [a.pm.listenAddress!] });
  await b.pm.start();
  assert.ok((await clock.runUntil(() => a.pm.connectedCount === 1, 5_000)) >= 0);
  const m = await MicelioPeer.connect(net, clock, a.pm.listenAddress!, randomBytes(32), 'm');
  assert.ok((await clock.runUntil(() => exchanges(m).length === 1, 5_000)) >= 0, 'the full list on connect');
  return { clock, net, a, b, m, stop: async () => Promise.all([a.pm.stop(), b.pm.stop()]) };
}

test('a stable neighbour gets the full list on connect, then nothing: no empty exchanges, the keepalive keeps the link', async () => {
  const { clock, a, b, m, stop } = await setup();
  const first = exchanges(m)[0].map((p) => p.nodeId);
  assert.deepEqual(first, [a.id.nodeId, b.id.nodeId], 'self first, then the other neighbour');
  const sent0 = a.pm.stats().peerExchangeEntriesSent;
  const n0 = m.received.length;
  await clock.advance(5 * 60_000); // ten exchange intervals
  assert.deepEqual(exchanges(m, n0), [], 'no peer exchange at all while nothing changed');
  assert.ok(m.received.slice(n0).some((e) => e.msgType === MsgType.Keepalive), 'keepalives instead');
  assert.ok(m.connected);
  // b is connected to a, so a's last_seen for it moves every interval; the same holds for b's
  // exchanges to a (a's self entry): none of that is re-sent until it has moved an hour.
  assert.equal(a.pm.stats().peerExchangeEntriesSent - sent0, 0);
  assert.equal(b.pm.stats().peerExchangesSent, 1, 'b sent a its list once, on connect');
  await stop();
});

test('a peer joining elsewhere and a changed address reach the neighbour at the next exchange, alone', async () => {
  const { clock, net, a, b, m, stop } = await setup();
  // A real node c joins at b (not at a): b's next exchange tells a, a's next tells m.
  const c = mkNode(net, clock, { name: 'c', bootstrap: [b.pm.listenAddress!] });
  await c.pm.start();
  let n0 = m.received.length;
  const took = await clock.runUntil(() => exchanges(m, n0).some((l) => l.some((p) => p.nodeId === c.id.nodeId)), 2 * INTERVAL_MS + 1_000);
  assert.ok(took >= 0 && took <= 2 * INTERVAL_MS + 1_000, `c reached m within two exchanges (b → a → m): ${took} ms`);
  assert.deepEqual(exchanges(m, n0).flat().map((p) => p.nodeId), [c.id.nodeId], 'only the new entry');

  // A Micelio neighbour s tells a about z; 30 s later about z at a new address.
  const s = await MicelioPeer.connect(net, clock, a.pm.listenAddress!, randomBytes(32), 's');
  await clock.runUntil(() => a.pm.connectedCount === 3, 5_000);
  const z = identityFromSeed(randomBytes(32));
  n0 = m.received.length;
  announce(s, clock, z, '10.9.0.1:4000');
  await clock.advance(INTERVAL_MS);
  assert.deepEqual(exchanges(m, n0).flat().map((p) => [p.nodeId, p.addr]), [[z.nodeId, '10.9.0.1:4000']], 'z at the next exchange');
  await clock.advance(1_000);
  n0 = m.received.length;
  announce(s, clock, z, '10.9.0.2:4000');
  await clock.advance(INTERVAL_MS);
  assert.deepEqual(exchanges(m, n0).flat().map((p) => [p.nodeId, p.addr]), [[z.nodeId, '10.9.0.2:4000']], 'the new address, though last_seen moved by seconds');
  await c.pm.stop();
  await stop();
});

test('last_seen alone is re-sent once it has moved an hour; the full list comes back every fullExchangeIntervalMs', async () => {
  const clock = new VirtualClock();
  const net = new MemoryNetwork(clock);
  const a = mkNode(net, clock, { name: 'a', fullExchangeIntervalMs: 24 * 3600_000 });
  await a.pm.start();
  const b = mkNode(net, clock, { name: 'b', bootstrap: [a.pm.listenAddress!] });
  await b.pm.start();
  await clock.runUntil(() => a.pm.connectedCount === 1, 5_000);
  const m = await MicelioPeer.connect(net, clock, a.pm.listenAddress!, randomBytes(32), 'm');
  await clock.runUntil(() => exchanges(m).length === 1, 5_000);
  const t0 = clock.now();
  await clock.runUntil(() => exchanges(m).length === 2, 2 * 3600_000, INTERVAL_MS);
  const waited = clock.now() - t0;
  assert.ok(waited >= PX_RESEND_LAST_SEEN_ADVANCE_S * 1000 && waited <= PX_RESEND_LAST_SEEN_ADVANCE_S * 1000 + 2 * INTERVAL_MS, `refreshed after ${waited} ms`);
  assert.deepEqual(exchanges(m)[1].map((p) => p.nodeId), [a.id.nodeId, b.id.nodeId], 'self and b, whose last_seen moved');
  await a.pm.stop();
  await b.pm.stop();

  // The full refresh (10 min here) re-sends entries that did not change at all, such as z.
  const { clock: clock2, net: net2, a: a2, m: m2, stop } = await setup();
  const s = await MicelioPeer.connect(net2, clock2, a2.pm.listenAddress!, randomBytes(32), 's');
  await clock2.runUntil(() => a2.pm.connectedCount === 3, 5_000);
  const z = identityFromSeed(randomBytes(32));
  announce(s, clock2, z, '10.9.0.1:4000');
  await clock2.advance(INTERVAL_MS);
  const n0 = m2.received.length;
  const start = clock2.now();
  const full = await clock2.runUntil(() => exchanges(m2, n0).length > 0, FULL_MS + INTERVAL_MS, 1_000);
  assert.ok(full >= 0, 'a full exchange came');
  const since = clock2.now() - start;
  assert.ok(since > FULL_MS - 3 * INTERVAL_MS, `not before its period: ${since} ms`);
  const ids = exchanges(m2, n0)[0].map((p) => p.nodeId);
  assert.equal(ids[0], a2.id.nodeId);
  assert.ok(ids.includes(z.nodeId), 'the unchanged entry is in it');
  assert.equal(ids.length, 3, 'self, b and z');
  await stop();
});

test('a neighbour that reconnects gets the full list again', async () => {
  const { clock, net, a, b, m, stop } = await setup();
  await clock.advance(3 * INTERVAL_MS);
  m.close();
  await clock.runUntil(() => a.pm.connectedCount === 1, 5_000);
  const seed = randomBytes(32);
  const m2 = await MicelioPeer.connect(net, clock, a.pm.listenAddress!, seed, 'm2');
  assert.ok((await clock.runUntil(() => exchanges(m2).length === 1, 5_000)) >= 0);
  assert.deepEqual(exchanges(m2)[0].map((p) => p.nodeId), [a.id.nodeId, b.id.nodeId]);
  m2.close();
  await clock.runUntil(() => a.pm.connectedCount === 1, 5_000);
  // The same node again (same identity, new link): a fresh full list, not "already sent".
  const m3 = await MicelioPeer.connect(net, clock, a.pm.listenAddress!, seed, 'm3');
  assert.ok((await clock.runUntil(() => exchanges(m3).length === 1, 5_000)) >= 0);
  assert.deepEqual(exchanges(m3)[0].map((p) => p.nodeId), [a.id.nodeId, b.id.nodeId]);
  m3.close();
  await stop();
});
