// A selected route that gets much worse while the node holds no other: on Mycelium's reactive routing the
// other neighbours never announced the subnet, so re-selecting among held routes finds nothing and the node
// would stay on the slow path until the route expires (~17 min). The router asks its other neighbours
// (a RouteRequest) instead, rate-limited per subnet.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MYCELIUM_TIMERS, NATIVE_TIMERS, type TimerProfile } from '../../src/router/neighbour.ts';
import { subnetText } from '../../src/router/subnet.ts';
import { SimNet } from './sim.ts';

const A = 0;
const B = 1;
const C = 2;
const D = 3;

/**
 * The square A–B–D / A–C–D, A–B–D the faster way, where C–D comes up only after the rest settled: C then
 * tells D nothing about A (a new neighbour gets our own /64 only), so D's one route to A goes through B.
 * Counts every RouteRequest TLV any node sends.
 */
async function square(timers: TimerProfile, dropRequests = false): Promise<{ net: SimNet; requests: () => number }> {
  // Costs start near the links' real round trips, so the square settles in a few Hellos, well before
  // the initial announcements expire (3.5 × 300 s) even on Mycelium's 20 s Hellos.
  const net = new SimNet(4, { seed: 11, timers, constants: { initialRttMs: 20 } });
  net.connect(A, B, 5);
  net.connect(B, D, 5);
  net.connect(A, C, 10);
  await net.run(10 * timers.helloIntervalMs, timers.helloIntervalMs / 2);
  net.connect(C, D, 10);
  let sent = 0;
  for (const n of net.remoteOf.keys()) {
    const send = n.sendTlv.bind(n);
    n.sendTlv = (tlv) => {
      if (tlv.kind === 'route-request') {
        sent++;
        if (dropRequests) return true;
      }
      return send(tlv);
    };
  }
  await net.run(10 * timers.helloIntervalMs, timers.helloIntervalMs / 2);
  assert.deepEqual(net.path(D, A).path, [D, B, A], 'D reaches A through B');
  const lookup = net.nodes[D].router.lookup(net.nodes[A].address);
  assert.equal(lookup.kind, 'selected');
  const subnetA = lookup.kind === 'selected' ? subnetText(lookup.subnet) : '';
  assert.deepEqual(
    net.nodes[D].router.fallbackRoutes().filter((r) => r.subnet === subnetA),
    [],
    'D holds no other route to A',
  );
  return { net, requests: () => sent };
}

for (const [name, timers, bound] of [
  ['native links (Hello every 1 s)', NATIVE_TIMERS, 8],
  ['Mycelium links (Hello every 20 s)', MYCELIUM_TIMERS, 4],
] as const) {
  test(`${name}: when A–B gets 20 times slower, D, holding no other route to A, asks C and moves there within ${bound} Hello intervals`, async (t) => {
    const { net, requests } = await square(timers);
    const before = requests();
    net.wire(A, B).latencyMs = 100;
    let intervals = 0;
    while (net.path(D, A).path[1] !== C) {
      assert.ok(++intervals <= bound, `after ${intervals - 1} Hello intervals D still goes ${net.path(D, A).path.join('→')}`);
      await net.run(timers.helloIntervalMs, timers.helloIntervalMs / 4);
    }
    assert.deepEqual(net.path(D, A).path, [D, C, A]);
    assert.deepEqual(net.path(A, D).path, [A, C, D]);
    // Let the smoothed cost climb the rest of the way (from 20 to ~210).
    await net.run(20 * timers.helloIntervalMs, timers.helloIntervalMs / 2);
    assert.deepEqual(net.path(D, A).path, [D, C, A]);
    const sent = requests() - before;
    const asked = net.nodes.reduce((n, x) => n + x.router.stats.alternativeRequests, 0);
    t.diagnostic(`moved after ${intervals} Hello intervals; ${asked} requests for alternatives, ${sent} RouteRequest TLVs in all`);
    // D asks C once; C asks D once for B's subnet (its route to B through A got slower) and is answered.
    // A and B do not ask for each other's own subnets: no detour can be feasible there (see the router).
    assert.equal(net.nodes[D].router.stats.alternativeRequests, 1);
    for (const x of net.nodes) assert.ok(x.router.stats.alternativeRequests <= 2, `${x.router.stats.alternativeRequests} requests for alternatives at ${x.index}`);
    assert.ok(sent <= 4, `${sent} RouteRequest TLVs`);
    assert.deepEqual(net.checkInvariants(), []);
    net.stop();
  });
}

test('with RouteRequests lost on the wire, D stays on the slow path: the case the requests are for', async () => {
  const timers = NATIVE_TIMERS;
  const { net } = await square(timers, true);
  net.wire(A, B).latencyMs = 100;
  await net.run(60 * timers.helloIntervalMs, timers.helloIntervalMs / 2);
  assert.deepEqual(net.path(D, A).path, [D, B, A]);
  assert.ok(net.nodes[D].router.stats.alternativeRequests >= 1, 'D did try');
  net.stop();
});

for (const period of [2, 10]) test(`a jittery A–B link (5 ms ↔ 60 ms, period ${period} Hellos): requests for alternatives stay bounded`, async (t) => {
  const timers = NATIVE_TIMERS;
  const { net, requests } = await square(timers);
  const before = requests();
  const HELLOS = 120;
  for (let i = 0; i < HELLOS; i++) {
    net.wire(A, B).latencyMs = Math.floor((2 * i) / period) % 2 === 0 ? 60 : 5;
    await net.run(timers.helloIntervalMs, timers.helloIntervalMs / 2);
  }
  const sent = requests() - before;
  const asked = net.nodes.map((x) => x.router.stats.alternativeRequests);
  const held = net.nodes.reduce((n, x) => n + x.router.stats.alternativeRequestsHeld, 0);
  t.diagnostic(`requests for alternatives per node ${asked.join(',')}, ${held} held, ${sent} RouteRequest TLVs`);
  // At most one per subnet per 15 s at each node, so at most 9 per (node, subnet) over 120 s; measured one
  // each at C and D (the answer is then held and keeps them from asking again).
  for (const n of asked) assert.ok(n <= 9, `${n} requests for alternatives at one node`);
  assert.ok(sent <= 20, `${sent} RouteRequest TLVs in ${HELLOS} Hello intervals of jitter`);
  assert.deepEqual(net.checkInvariants(), []);
  net.stop();
});
