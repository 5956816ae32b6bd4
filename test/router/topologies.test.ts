// Routing on ≥ 50-node networks of in-memory links under virtual time: reachability, no loops in any
// snapshot, rerouting around failed links, retraction of a departed node.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SimNet, gridTopology, lineTopology, randomTopology, ringTopology } from './sim.ts';

const CONVERGE_MS = 60_000;

async function converged(net: SimNet): Promise<void> {
  await net.run(5_000);
  await net.requestAll(5_000);
  await net.run(CONVERGE_MS);
  const r = net.allReach();
  assert.ok(r.ok, `unreachable pairs: ${r.missing.slice(0, 10).join(', ')} (${r.missing.length})`);
}

for (const [name, build, n] of [
  ['line', (net: SimNet) => lineTopology(net), 50],
  ['ring', (net: SimNet) => ringTopology(net), 50],
  ['grid', (net: SimNet) => gridTopology(net, 8), 56],
  ['random', (net: SimNet) => randomTopology(net, 40), 60],
] as const) {
  test(`${name} of ${n} nodes: every node reaches every other, with no loop in any snapshot`, async () => {
    const net = new SimNet(n, { seed: n });
    build(net);
    await converged(net);
    // Half an hour without traffic: relayed routes expire (Mycelium's routing is on demand) and the
    // retractions spread without a loop in any snapshot.
    await net.run(30 * 60_000, 5_000);
    // Traffic resumes: route requests find every destination again.
    await net.requestAll(5_000);
    await net.run(30_000);
    const r = net.allReach();
    assert.ok(r.ok, r.missing.slice(0, 10).join(', '));
    net.stop();
  });
}

test('ring of 50: after a link on the path fails silently, traffic takes the other way round', async () => {
  const net = new SimNet(50, { seed: 7 });
  ringTopology(net);
  await converged(net);
  const before = net.path(0, 10);
  assert.equal(before.result, 'reached');
  assert.deepEqual(before.path, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  net.wire(4, 5).cut = true; // a pulled cable: no FIN, only silence
  // Dead-neighbour detection (no IHU for 43 s, checked every 10 s), then reselection.
  await net.run(120_000, 250);
  await net.requestAll(2_000);
  await net.run(30_000, 250);
  const after = net.path(0, 10);
  assert.equal(after.result, 'reached', JSON.stringify(after));
  assert.equal(after.path[1], 49, `0→10 should now go the other way: ${after.path.join(',')}`);
  assert.ok(net.allReach().ok, net.allReach().missing.slice(0, 5).join(','));
  net.stop();
});

test('grid of 56: a closed link is routed around at once', async () => {
  const net = new SimNet(56, { seed: 3 });
  gridTopology(net, 8);
  await converged(net);
  const p = net.path(0, 55).path;
  net.wire(p[1], p[2]).close('cable cut');
  await net.run(20_000, 100);
  const q = net.path(0, 55);
  assert.equal(q.result, 'reached');
  for (let i = 0; i + 1 < q.path.length; i++) {
    assert.ok(!(q.path[i] === p[1] && q.path[i + 1] === p[2]), 'path still uses the closed link');
  }
  net.stop();
});

test('after a node leaves, its route is retracted everywhere', async () => {
  const net = new SimNet(50, { seed: 11 });
  randomTopology(net, 30);
  await converged(net);
  const gone = net.nodes[17];
  const holders = net.nodes.filter((n) => n.alive && n !== gone && n.router.nextHopFor(gone.address) !== undefined);
  assert.equal(holders.length, 49);
  net.removeNode(17);
  await net.run(30_000, 250);
  const still = net.nodes.filter((n) => n.alive && n.router.nextHopFor(gone.address) !== undefined).map((n) => n.index);
  assert.deepEqual(still, [], 'nodes still routing to the departed node');
  // And, once traffic asks again, everybody else is still reachable.
  await net.requestAll(2_000);
  await net.run(30_000, 250);
  assert.ok(net.allReach().ok, net.allReach().missing.slice(0, 5).join(','));
  net.stop();
});
