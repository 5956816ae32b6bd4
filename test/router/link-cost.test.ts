// A link that gets slower: the router re-runs selection when a neighbour's link cost moves, instead of
// waiting for that neighbour's next Update (on Mycelium's reactive routing, possibly not before the route
// expires, ~17 min), and it does so without an update storm when the link jitters.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MYCELIUM_TIMERS, NATIVE_TIMERS, type TimerProfile } from '../../src/router/neighbour.ts';
import { SimNet } from './sim.ts';

const A = 0;
const B = 1;
const C = 2;
const D = 3;

/** The square A–B–D / A–C–D, with A–B–D the faster way; counts every Update TLV any node sends. */
function square(timers: TimerProfile): { net: SimNet; updates: () => number } {
  const net = new SimNet(4, { seed: 11, timers });
  net.connect(A, B, 5);
  net.connect(B, D, 5);
  net.connect(A, C, 10);
  net.connect(C, D, 10);
  let updates = 0;
  for (const n of net.remoteOf.keys()) {
    const send = n.sendTlv.bind(n);
    n.sendTlv = (tlv) => {
      if (tlv.kind === 'update') updates++;
      return send(tlv);
    };
  }
  return { net, updates: () => updates };
}

/** Runs until the smoothed RTTs have settled (they start at 1000 ms) and A routes to D through B. */
async function settled(net: SimNet, timers: TimerProfile): Promise<void> {
  await net.run(60 * timers.helloIntervalMs, timers.helloIntervalMs / 2);
  assert.deepEqual(net.path(A, D).path, [A, B, D], 'A reaches D through B, the faster way');
  assert.deepEqual(net.path(D, A).path, [D, B, A]);
}

for (const [name, timers] of [['native links (Hello every 1 s)', NATIVE_TIMERS], ['Mycelium links (Hello every 20 s)', MYCELIUM_TIMERS]] as const) {
  test(`${name}: when A–B gets 20 times slower, A's route to D moves to C within 4 Hello intervals, with few updates`, async (t) => {
    const { net, updates } = square(timers);
    await settled(net, timers);
    const before = updates();
    net.wire(A, B).latencyMs = 100;
    // Each IHU over A–B now measures a 200 ms round trip; the smoothed cost climbs by ~20 per Hello, and
    // the second or third Hello after the change makes the way through C better by more than 10.
    let intervals = 0;
    while (net.path(A, D).path[1] !== C) {
      assert.ok(++intervals <= 4, `after ${intervals - 1} Hello intervals A still goes ${net.path(A, D).path.join('→')}`);
      await net.run(timers.helloIntervalMs, timers.helloIntervalMs / 4);
    }
    assert.deepEqual(net.path(A, D).path, [A, C, D]);
    // D's route back to A moves as well: B measures the same slow link and tells D.
    await net.run(4 * timers.helloIntervalMs, timers.helloIntervalMs / 4);
    assert.deepEqual(net.path(D, A).path, [D, C, A]);
    // While the smoothed cost climbs from 20 towards 210, A and B re-announce the routes they keep through
    // each other only when the cost grew by a quarter (about 10 rounds, a few Updates each; measured 15 on
    // native and 59 on Mycelium timers, where every IHU is past the 4 s hold-off), not at every IHU.
    await net.run(60 * timers.helloIntervalMs, timers.helloIntervalMs / 2);
    const sent = updates() - before;
    t.diagnostic(`${sent} Updates after the change; switched after ${intervals} Hello intervals`);
    assert.ok(sent <= 80, `${sent} Updates in 64 Hello intervals after the change`);
    net.stop();
  });
}

for (const period of [2, 10]) test(`a jittery link (5 ms ↔ 60 ms, period ${period} Hellos) does not flood: Updates stay bounded`, async (t) => {
  const timers = NATIVE_TIMERS;
  const { net, updates } = square(timers);
  await settled(net, timers);
  const before = updates();
  const HELLOS = 120;
  for (let i = 0; i < HELLOS; i++) {
    net.wire(A, B).latencyMs = Math.floor((2 * i) / period) % 2 === 0 ? 60 : 5;
    await net.run(timers.helloIntervalMs, timers.helloIntervalMs / 2);
  }
  const sent = updates() - before;
  t.diagnostic(`${sent} Updates during the jitter`);
  // Metric-only re-announcements at most once per 4 s per end of the jittery link; selection flips damped
  // by the smoothing and the hysteresis of 10. The worst case, a round of 4 subnets × 2 neighbours at A and
  // at B every 4 s, would be 480; measured 14–15.
  assert.ok(sent <= 60, `${sent} Updates in ${HELLOS} Hello intervals of jitter`);
  assert.deepEqual(net.checkInvariants(), []);
  net.stop();
});
