// One network: the overlay over native (Noise) links between Hypha nodes, Mycelium links in the same
// router, and a node bridging the two — whole nodes in one process on a VirtualClock (OneNet).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { formatIpv6 } from '../../src/wire/ipv6.ts';
import { MsgType, OVERLAY_CONTROL_MSG_TYPE, OVERLAY_DATA_MSG_TYPE, type OverlayMsgType } from '../../src/wire/micelio/index.ts';
import { encodeControlFrame, encodeDataFrame } from '../../src/wire/mycelium/packet.ts';
import { subnetToPrefix, makeSubnet } from '../../src/router/subnet.ts';
import { routerIdText } from '../../src/wire/mycelium/router-id.ts';
import { METRIC_INFINITE } from '../../src/router/metric.ts';
import type { UpdateTlv } from '../../src/wire/mycelium/babel.ts';
import { NativeOverlayBridge, overlayLinkKinds } from '../../src/dataplane/native-bridge.ts';
import { OneNet, type OneNetNode } from '../helpers/onenet.ts';
import { measureReroute, nextHop } from '../helpers/reroute.ts';

function routeTo(from: OneNetNode, to: OneNetNode) {
  const subnet = `${formatIpv6(makeSubnet(to.address, 64).address)}/64`;
  return from.overlay.router.selectedRoutes().find((r) => r.subnet === subnet);
}

function noListenerErrors(n: OneNetNode): void {
  assert.equal(n.log.has('error', 'event listener threw'), false, `${n.name}: an event listener threw`);
}

test('A–B–C over native links, D on a Mycelium link to C only: A and D ping each other; D routes to A via C', async () => {
  const net = new OneNet();
  const [A, B, C] = [await net.add('A'), await net.add('B'), await net.add('C')];
  // D: a Hypha node configured for Mycelium links only (no overlay on native links, no native peers).
  const D = await net.add('D', { native: false });
  await net.native('A', 'B');
  await net.native('B', 'C');
  net.mycelium('C', 'D');
  await net.clock.advance(30_000);
  // C sits in one router with both kinds of neighbour.
  assert.deepEqual(C.overlay.router.neighbourInfo().map((n) => n.kind).sort(), ['mycelium', 'native']);

  assert.ok(await net.pingUntil('A', 'D', () => A.pongs.size > 0, 30_000), 'A reaches D and hears back');
  const got = D.device.written.find((p) => formatIpv6(p.subarray(8, 24)) === formatIpv6(A.address));
  assert.ok(got, 'the IPv6 packet from A came out of D\'s device');
  assert.equal(got[7], 64 - 4, 'hop limit counted down at A, B, C and D');
  assert.ok(await net.pingUntil('D', 'A', () => D.pongs.size > 0, 30_000), 'D reaches A and hears back');

  // D's view of A: next hop C (the Mycelium link), A's own router id, a metric that adds up.
  assert.equal(nextHop(net, 'D', 'A'), 'C');
  const r = routeTo(D, A);
  assert.ok(r);
  assert.equal(r.routerId, routerIdText(A.overlay.router.routerId));
  assert.match(r.nextHop, /^MEMORY mem:D <-> mem:C$/);
  assert.equal(typeof r.metric, 'number');
  const cToA = routeTo(C, A);
  assert.ok(cToA && typeof cToA.metric === 'number');
  assert.match(cToA.nextHop, /^NATIVE /);
  // C announces (its metric to A + its link cost to B); the link cost is ≥ 10 and drifts with the RTT.
  assert.ok((r.metric as number) >= cToA.metric + 10, `D's metric ${r.metric} ≥ C's ${cToA.metric} + a native link`);
  assert.ok((r.metric as number) < 2 * (1000 + 10), `metric ${r.metric} is sane`);
  assert.equal(nextHop(net, 'A', 'D'), 'B');
  for (const n of [A, B, C, D]) noListenerErrors(n);
  await net.stop();
});

test('square of native links: a silently failed link is routed around in under 5 s; a closed one at once', async () => {
  // Virtual time: deterministic, so these are protocol properties, not timing measurements.
  const silent = await measureReroute('native', 'silent');
  assert.equal(silent.before, 'B');
  assert.equal(silent.after, 'C');
  assert.ok(silent.outageMs > 0 && silent.outageMs <= 5_000, `outage ${silent.outageMs} ms`);
  const closed = await measureReroute('native', 'closed');
  assert.equal(closed.after, 'C');
  assert.ok(closed.outageMs <= 100, `outage ${closed.outageMs} ms`);
});

test('a native link going away removes its neighbour from the router at once', async () => {
  const net = new OneNet();
  const A = await net.add('A');
  const B = await net.add('B');
  await net.native('A', 'B');
  await net.clock.advance(2_000);
  assert.equal(A.overlay.router.neighbourCount, 1);
  assert.equal(A.overlay.router.lookup(B.address).kind, 'selected');
  net.nativeWire('A', 'B').close('reset');
  // No time passes: the disconnect itself takes the neighbour out and retracts its routes.
  assert.equal(A.overlay.router.neighbourCount, 0);
  assert.equal(B.overlay.router.neighbourCount, 0);
  assert.equal(A.bridge!.stats().neighbours, 0);
  assert.notEqual(A.overlay.router.lookup(B.address).kind, 'selected');
  await net.stop();
});

test('a native link that falls silent leaves the overlay in seconds but stays up; when it heals the neighbour rejoins', async () => {
  const net = new OneNet();
  const A = await net.add('A');
  const B = await net.add('B');
  await net.native('A', 'B');
  await net.clock.advance(5_000);
  const w = net.nativeWire('A', 'B');
  w.cut = true;
  await net.clock.advance(4_500);
  assert.equal(A.overlay.router.neighbourCount, 0, 'given up after 3.5 s without IHU');
  assert.ok(A.pm.peer(B.id.nodeId)?.connected, 'the native link itself is the peer manager\'s: still up');
  assert.ok(A.bridge!.stats().givenUp >= 1);
  await net.clock.advance(10_000);
  w.cut = false;
  // The next probe (5, 10 … s after giving up) finds it again; one Hello from either side is enough.
  assert.ok(await net.clock.runUntil(() => A.overlay.router.neighbourCount === 1 && B.overlay.router.neighbourCount === 1, 30_000) >= 0);
  assert.ok(await net.pingUntil('A', 'B', () => A.pongs.size > 0, 10_000));
  await net.stop();
});

test('a Hypha peer that runs no overlay on native links: no neighbour, the link stays up, probes back off', async () => {
  const net = new OneNet();
  const A = await net.add('A');
  const E = await net.add('E', { native: false });
  await net.native('A', 'E');
  await net.clock.advance(600_000);
  assert.ok(A.pm.peer(E.id.nodeId)?.connected, 'native link still up after 10 minutes');
  const s = A.bridge!.stats();
  // Probes after 5, 10, 20, 40, 60, 60 … s (+3.5 s each): about a dozen in ten minutes, not hundreds.
  assert.ok(s.joins >= 5 && s.joins <= 16, `joins ${s.joins}`);
  assert.ok(E.pm.stats().overlayUnhandled > 0, 'E dropped (and counted) the overlay envelopes');
  assert.equal(E.overlay.router.neighbourCount, 0);
  noListenerErrors(A);
  noListenerErrors(E);
  await net.stop();
});

/** A malicious (or buggy) Hypha node: a peer manager that sends hand-made overlay packets to A. */
async function withRogue() {
  const net = new OneNet();
  const A = await net.add('A');
  const B = await net.add('B');
  const M = await net.add('M', { native: false });
  await net.native('A', 'B');
  await net.native('M', 'A');
  await net.clock.advance(1_000);
  const toA = M.pm.peer(A.id.nodeId)!;
  const send = (t: OverlayMsgType, packet: Uint8Array): boolean => M.pm.sendOverlay(toA, t, packet);
  return { net, A, B, M, send };
}

function updateFor(of: OneNetNode, metric: number, rid: Uint8Array): UpdateTlv {
  return { kind: 'update', flags: 0, intervalCs: 30_000, seqno: 5, metric, prefix: subnetToPrefix(makeSubnet(of.address, 64)), routerId: rid };
}

test('binding: a native neighbour may not announce its own /64 under another key, nor originate someone else\'s', async () => {
  const { net, A, B, M, send } = await withRogue();
  const routerA = A.overlay.router;
  // M's own /64 under B's router id: refused (the /64 belongs to the key M's Noise handshake proved).
  send(OVERLAY_CONTROL_MSG_TYPE, encodeControlFrame(updateFor(M, 0, B.overlay.router.routerId)));
  // B's /64 under B's router id at metric 0 — "I am B": refused by the binding.
  send(OVERLAY_CONTROL_MSG_TYPE, encodeControlFrame(updateFor(B, 0, B.overlay.router.routerId)));
  await net.clock.advance(50);
  assert.equal(routerA.stats.updatesDeniedOwnership, 1);
  assert.equal(routerA.stats.updatesDeniedBinding, 1);
  assert.equal(nextHop(net, 'A', 'B'), 'B', 'A still reaches B directly');
  assert.notEqual(routerA.lookup(M.address).kind, 'selected');
  // M's own /64 under M's own router id: that is what M may say.
  send(OVERLAY_CONTROL_MSG_TYPE, encodeControlFrame(updateFor(M, 0, M.overlay.router.routerId)));
  await net.clock.advance(50);
  assert.equal(routerA.lookup(M.address).kind, 'selected');
  assert.equal(nextHop(net, 'A', 'M'), 'M');
  await net.stop();
});

test('random and mutated overlay packets from a Hypha peer: dropped and counted, no exception, every link stays up', async () => {
  const { net, A, B, M, send } = await withRogue();
  const valid = [
    encodeControlFrame({ kind: 'hello', flags: 0x8000, seqno: 1, intervalCs: 100 }),
    encodeControlFrame({ kind: 'ihu', rxCost: 10, intervalCs: 300, address: undefined }),
    encodeControlFrame({ kind: 'route-request', generation: 0, prefix: subnetToPrefix(makeSubnet(B.address, 64)) }),
    encodeControlFrame(updateFor(M, METRIC_INFINITE, M.overlay.router.routerId)),
    encodeDataFrame({ hopLimit: 64, src: M.address, dst: B.address, rawData: new Uint8Array(60) }),
  ];
  const packet = fc.oneof(
    fc.uint8Array({ maxLength: 200 }),
    fc.tuple(fc.constantFrom(...valid), fc.nat(), fc.integer({ min: 0, max: 255 }), fc.nat()).map(([v, i, b, cut]) => {
      const m = Uint8Array.from(v);
      m[i % m.length] = b;
      return m.subarray(0, cut % (m.length + 2));
    }),
  );
  const type = fc.constantFrom<OverlayMsgType>(OVERLAY_CONTROL_MSG_TYPE, OVERLAY_DATA_MSG_TYPE);
  await fc.assert(
    fc.asyncProperty(fc.array(fc.tuple(type, packet), { minLength: 1, maxLength: 8 }), async (batch) => {
      for (const [t, p] of batch) send(t, p);
      await net.clock.advance(20);
      assert.ok(A.pm.peer(M.id.nodeId)?.connected, 'the rogue\'s link stays up (Micelio keeps links on bad envelopes)');
      assert.ok(A.pm.peer(B.id.nodeId)?.connected);
    }),
    { numRuns: 300 },
  );
  assert.ok(A.bridge!.stats().malformed > 0, 'malformed packets are counted');
  // The honest neighbour never noticed.
  assert.equal(nextHop(net, 'A', 'B'), 'B');
  assert.ok(await net.pingUntil('A', 'B', () => A.pongs.size > 0, 10_000));
  noListenerErrors(A);
  assert.equal(A.log.count('error'), 0);
  await net.stop();
});

test('overlay packets never reach gossip, and an overlay msg_type cannot be gossiped', async () => {
  const net = new OneNet();
  const A = await net.add('A', { gossip: true });
  const B = await net.add('B', { gossip: true });
  await net.native('A', 'B');
  assert.ok(await net.pingUntil('A', 'B', () => A.pongs.size > 0, 10_000));
  await net.clock.advance(10_000);
  const g = B.gossip!.stats();
  assert.equal(g.received, 0, 'ten seconds of Hellos, IHUs and data: none of it went to gossip');
  assert.throws(() => A.gossip!.broadcast(MsgType.OverlayControl, new Uint8Array(1)), /consumed by the peer manager/);
  await net.stop();
});

test('a bridge started after its peers connected adopts them; stopped, it leaves the links up', async () => {
  const net = new OneNet();
  const A = await net.add('A', { native: false });
  const B = await net.add('B');
  await net.native('A', 'B');
  await net.clock.advance(1_000);
  assert.equal(A.overlay.router.neighbourCount, 0);
  const bridge = new NativeOverlayBridge({ peers: A.pm, overlay: A.overlay, clock: net.clock, logger: A.log.logger });
  bridge.start();
  assert.equal(A.overlay.router.neighbourCount, 1);
  assert.ok(await net.pingUntil('A', 'B', () => A.pongs.size > 0, 10_000));
  assert.equal(typeof bridge.linkCost(B.id.nodeId), 'number');
  bridge.stop();
  assert.equal(A.overlay.router.neighbourCount, 0);
  assert.ok(A.pm.peer(B.id.nodeId)?.connected);
  await net.stop();
});

test('modes: both kinds by default, or native only, or Mycelium only', () => {
  assert.deepEqual(overlayLinkKinds('both'), { native: true, mycelium: true });
  assert.deepEqual(overlayLinkKinds('native'), { native: true, mycelium: false });
  assert.deepEqual(overlayLinkKinds('mycelium'), { native: false, mycelium: true });
});
