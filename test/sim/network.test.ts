// The simulator runs the real nodes: determinism from the seed, and every scripted fault doing what it
// says, observed through the real PeerManager, GossipEngine and Router. Small networks, virtual time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GossipProbe } from '../../src/sim/gossip-probe.ts';
import { PairProber, samplePairs } from '../../src/sim/probe.ts';
import { Rng } from '../../src/sim/random.ts';
import { reachability } from '../../src/sim/scenarios.ts';
import { SimNetwork, type SimNetworkOptions } from '../../src/sim/network.ts';
import { barabasiAlbert, line, ring, type Topology } from '../../src/sim/topology.ts';

const UP_WITHIN_MS = 30_000;

async function meshOf(topology: Topology, opts: Partial<SimNetworkOptions> = {}): Promise<SimNetwork> {
  const net = new SimNetwork({ seed: 'test', topology, wire: { latencyMs: 10, jitterMs: 5 }, ...opts });
  await net.start();
  assert.ok((await net.runUntil(() => net.allLinksUp(), UP_WITHIN_MS)) >= 0, `links up: ${net.nativeLinksUp()} + ${net.myceliumLinksUp()} of ${topology.edges.length}`);
  return net;
}

function connected(net: SimNetwork, a: number, b: number): boolean {
  return net.nodes[a].peers?.peer(net.nodes[b].identity.nodeId)?.connected === true;
}

test('same seed → same run: gossip spreads, traffic and timings are identical; another seed differs', async () => {
  async function once(seed: string) {
    const net = new SimNetwork({ seed, topology: barabasiAlbert(40, 2, new Rng(seed, 'topology')), wire: { latencyMs: 10, jitterMs: 8, loss: 0.01 } });
    await net.start();
    const upMs = await net.runUntil(() => net.allLinksUp(), UP_WITHIN_MS, 10);
    const probe = new GossipProbe(net);
    const spreads = [];
    for (const origin of [0, 17, 33]) {
      const s = await probe.spread(origin, 1_000);
      spreads.push({ reachedByRound: s.reachedByRound, arrivalMs: s.arrivalMs, redundant: s.redundantCopies, sends: s.sends });
    }
    const traffic = net.traffic.totals();
    await net.stop();
    return { upMs, spreads, traffic };
  }
  const a = await once('seed-a');
  const b = await once('seed-a');
  assert.deepEqual(a, b);
  const c = await once('seed-c');
  assert.notDeepEqual(a.spreads, c.spreads);
});

test('same seed → same routing: reachability times per pair are identical', async () => {
  async function once() {
    const net = new SimNetwork({ seed: 'route', topology: barabasiAlbert(30, 2, new Rng('route')), mesh: false, overlay: true, wire: { latencyMs: 5, jitterMs: 3 } });
    const prober = new PairProber(net, samplePairs(30, 40, new Rng('pairs').fn));
    await net.start();
    const r = await reachability(net, prober, { intervalMs: 200 });
    const out = { perPair: r.perPairMs, traffic: net.traffic.totals() };
    await net.stop();
    return out;
  }
  assert.deepEqual(await once(), await once());
});

test('a link cut goes silent: peers notice only at the idle timeout; healed, the bootstrap loop redials', async () => {
  const net = await meshOf(line(3));
  net.cutLink(1, 2);
  await net.advance(50_000);
  assert.ok(connected(net, 1, 2) && connected(net, 2, 1), 'silence is not noticed before the 60 s idle timeout');
  await net.advance(15_000);
  assert.ok(!connected(net, 1, 2) && !connected(net, 2, 1), 'both ends dropped the silent link');
  // A message from 0 cannot reach 2 now.
  const probe = new GossipProbe(net);
  assert.equal((await probe.spread(0, 1_000)).reached, 1);
  net.healLink(1, 2);
  assert.ok((await net.runUntil(() => net.allLinksUp(), 60_000)) >= 0, 'redialled after healing');
  assert.equal((await probe.spread(0, 1_000)).reached, 2);
  await net.stop();
});

test('a closed link (reset) is noticed at once by both ends, then redialled', async () => {
  const net = await meshOf(line(3));
  net.closeLink(0, 1);
  await net.advance(1);
  assert.ok(!connected(net, 0, 1) && !connected(net, 1, 0));
  assert.ok((await net.runUntil(() => net.allLinksUp(), 30_000)) >= 0);
  await net.stop();
});

test('process crash: neighbours see resets at once; restart keeps identity and the stored peer table', async () => {
  const net = await meshOf(ring(6));
  // Let a peer exchange fill the peer tables (and the store behind them).
  await net.advance(35_000);
  const before = net.nodes[3].peers!.knownPeers().length;
  assert.ok(before >= 2);
  const id = net.nodes[3].identity.nodeId;
  await net.crash(3);
  assert.equal(net.nodes[3].state, 'crashed');
  await net.advance(1);
  assert.ok(!connected(net, 2, 3) && !connected(net, 4, 3), 'neighbours dropped it immediately');
  await net.advance(20_000);
  assert.ok(!connected(net, 2, 3));
  await net.restart(3);
  assert.equal(net.nodes[3].identity.nodeId, id);
  assert.equal(net.nodes[3].incarnation, 2);
  assert.equal(net.nodes[3].peers!.knownPeers().length >= before, true, 'peer table loaded from the surviving store');
  assert.ok((await net.runUntil(() => net.allLinksUp(), 60_000)) >= 0, 'reconnected after the restart');
  assert.equal((await new GossipProbe(net).spread(0, 1_000)).reached, 5);
  await net.stop();
});

test('host crash: silence, so neighbours find out only by their own timeouts', async () => {
  const net = await meshOf(line(3));
  await net.crash(1, 'host');
  assert.equal(net.nodes[1].state, 'silent');
  await net.advance(30_000);
  assert.ok(connected(net, 0, 1), 'a vanished host is not noticed before the idle timeout');
  await net.advance(35_000);
  assert.ok(!connected(net, 0, 1) && !connected(net, 2, 1));
  await net.restart(1);
  assert.ok((await net.runUntil(() => net.allLinksUp(), 90_000)) >= 0);
  await net.stop();
});

test('partition: gossip stays on its side; after healing it reaches everyone again', async () => {
  const net = await meshOf(ring(8));
  net.partition([[0, 1, 2, 3]]);
  await net.advance(70_000);
  const probe = new GossipProbe(net);
  const inside = await probe.spread(0, 1_000);
  assert.equal(inside.reached, 3, 'only the other nodes of its side');
  assert.ok(!connected(net, 3, 4) && !connected(net, 0, 7), 'the links across the cut timed out');
  net.healPartition();
  assert.ok((await net.runUntil(() => net.allLinksUp(), 90_000)) >= 0);
  assert.equal((await probe.spread(0, 1_000)).reached, 7);
  await net.stop();
});

test('overlay on Mycelium links: all pairs reach; a silent cut is routed around; a reset link is redialled after 5 s', async () => {
  const net = new SimNetwork({ seed: 'overlay', topology: ring(8), mesh: false, overlay: true, wire: { latencyMs: 5 } });
  const prober = new PairProber(net, samplePairs(8, 56, new Rng('all').fn));
  await net.start();
  const r = await reachability(net, prober, { intervalMs: 500 });
  assert.ok(r.allPairsMs >= 0, 'every pair delivered');
  assert.deepEqual(net.path(0, 2).path, [0, 1, 2]);
  net.cutLink(1, 2);
  await net.advance(120_000);
  // Traffic asks for routes again, as it would.
  prober.sendAll();
  await net.advance(5_000);
  assert.deepEqual(net.path(0, 2).path, [0, 7, 6, 5, 4, 3, 2], 'around the ring the other way');
  net.healLink(1, 2);
  await net.advance(30_000);
  assert.equal(net.myceliumLinksUp(), 8, 'the cut link was redialled once healed');
  net.closeLink(4, 5);
  await net.advance(1);
  assert.equal(net.myceliumLinksUp(), 7);
  await net.advance(5_100);
  assert.equal(net.myceliumLinksUp(), 8, 'redialled 5 s later, as Mycelium does');
  await net.stop();
});

test('overlay on native links (msg_types 90/91): all pairs reach, counted as native overlay traffic; a silent cut is routed around within seconds', async () => {
  const net = new SimNetwork({ seed: 'native-overlay', topology: ring(6), overlay: true, wire: { latencyMs: 5 } });
  const prober = new PairProber(net, samplePairs(6, 30, new Rng('all').fn));
  await net.start();
  const r = await reachability(net, prober, { intervalMs: 500 });
  assert.ok(r.allPairsMs >= 0, 'every pair delivered');
  const t = net.traffic.totals();
  assert.ok(t['native-overlay-control'].messages > 0 && t['native-overlay-data'].messages > 0, 'Babel TLVs and data in msg_types 90/91');
  assert.equal(t['mycelium-control'].messages, 0);
  assert.deepEqual(net.path(0, 2).path, [0, 1, 2]);
  net.cutLink(1, 2);
  // Hypha's native timers: the neighbour is dead 3.5 s after its last IHU.
  for (let i = 0; i < 100; i++) {
    prober.sendAll();
    await net.advance(100);
  }
  assert.deepEqual(net.path(0, 2).path, [0, 5, 4, 3, 2], 'around the ring the other way');
  await net.stop();
});
