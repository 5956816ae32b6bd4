// The state over a simulated mesh: real peer managers over memory wires, the real gossip engine, one
// VirtualClock. 100 nodes with random writes converge to identical maps; a partition into two halves with
// writes on both sides converges after healing; 10,000 entries reach a new node in pages under the limits
// without dropping a link; a controller's desired state reaches exactly the nodes with the tag.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MsgType } from '../../src/wire/micelio/envelope.ts';
import { decodeEnvelope } from '../../src/wire/micelio/envelope.ts';
import { MAX_SYNC_PAYLOAD_BYTES } from '../../src/state/sync-codec.ts';
import { DesiredState } from '../../src/state/desired.ts';
import { silentLogger } from '../../src/base/log.ts';
import { StateSim, type SimNode } from '../helpers/state-sim.ts';

const FRAME_LIMIT_BYTES = 1 << 20;

async function randomWrites(sim: StateSim, nodes: SimNode[], rounds: number, prefix: string): Promise<number> {
  let n = 0;
  for (let r = 0; r < rounds; r++) {
    for (const node of nodes) {
      if (sim.random() < 0.3) {
        const k = `${prefix}${Math.floor(sim.random() * 8)}`;
        if (sim.random() < 0.15) await node.state.delete(k);
        else await node.state.put(k, `${prefix}-${r}-${node.index}-${'x'.repeat(Math.floor(sim.random() * 100))}`);
        n++;
      }
    }
    await sim.clock.advance(1_000);
  }
  return n;
}

function assertIdentical(nodes: SimNode[]): void {
  const ref = nodes[0].state.list({ includeDeleted: true }).map((i) => `${i.key}@${i.ts}${i.deleted ? '-' : ''}`);
  for (const n of nodes.slice(1)) assert.deepEqual(n.state.list({ includeDeleted: true }).map((i) => `${i.key}@${i.ts}${i.deleted ? '-' : ''}`), ref, `node ${n.index} differs`);
}

test('100 nodes: random writes everywhere converge; then a partition with writes on both sides converges after healing', async () => {
  const sim = new StateSim({ seed: 42 });
  for (let i = 0; i < 100; i++) await sim.addNode({ tags: [i % 2 ? 'EU' : 'US'] });
  assert.ok((await sim.clock.runUntil(() => sim.converged(), 120_000, 1_000)) >= 0, 'the tags entries spread');

  const writes = await randomWrites(sim, sim.nodes, 4, 'k');
  assert.ok(writes > 80, `${writes} writes`);
  const t = await sim.clock.runUntil(() => sim.converged(), 120_000, 500);
  assert.ok(t >= 0, 'converged');
  assertIdentical(sim.nodes);
  for (const n of sim.nodes) assert.equal(n.state.stats().sync.largestPayload <= MAX_SYNC_PAYLOAD_BYTES, true);

  // Partition: nodes 0–49 and 50–99 lose every link between them; both halves keep writing.
  const inA = (n: SimNode) => n.index < 50;
  sim.partition(inA);
  const A = sim.nodes.filter(inA);
  const B = sim.nodes.filter((n) => !inA(n));
  await randomWrites(sim, A, 3, 'pa');
  await randomWrites(sim, B, 3, 'pb');
  await randomWrites(sim, sim.nodes, 2, 'k'); // both sides overwrite shared-looking keys of their own
  assert.ok((await sim.clock.runUntil(() => sim.converged(A) && sim.converged(B), 120_000, 500)) >= 0, 'each half converges on its own');
  assert.equal(sim.converged(), false, 'the halves differ');
  assert.equal(sim.nodes.some((n) => n.pm.peers().some((p) => inA(n) !== A.some((a) => a.id.nodeId === p.nodeId))), false, 'no link crosses the partition');

  sim.heal();
  const healed = await sim.clock.runUntil(() => sim.converged(), 300_000, 1_000);
  assert.ok(healed >= 0, 'converged after healing');
  assertIdentical(sim.nodes);
  await sim.stop();
});

test('10,000 entries reach a new node in pages under the payload and frame limits, without dropping a link', async () => {
  const limits = { maxEntriesPerOwner: 20_000 };
  const sim = new StateSim({ seed: 7, stateOptions: { limits } });
  const a = await sim.addNode();
  const b = await sim.addNode({ bootstrap: [a.addr] });
  await sim.clock.runUntil(() => a.pm.connectedCount === 1, 10_000);
  for (let i = 0; i < 10_000; i++) await a.state.put(`bulk/${i}`, `value number ${i}`);
  await sim.clock.advance(2_000);
  const frames: number[] = [];
  let drops = 0;
  const joiner = await sim.addNode({ bootstrap: [a.addr] });
  for (const n of [a, b, joiner]) n.pm.on('disconnected', () => drops++);
  // Watch every envelope the old nodes send to the newcomer.
  for (const n of [a, b]) {
    const send = n.pm.send.bind(n.pm);
    n.pm.send = (to, env) => {
      if (to === joiner.id.nodeId) {
        const bytes = env instanceof Uint8Array ? env : undefined;
        if (bytes) {
          const e = decodeEnvelope(bytes);
          if (e.ok && e.value.msgType === MsgType.StateSyncResponse) frames.push(bytes.length + 8);
          if (e.ok) assert.ok(e.value.payload.length <= MAX_SYNC_PAYLOAD_BYTES);
        }
      }
      return send(to, env);
    };
  }
  const t = await sim.clock.runUntil(() => joiner.state.list({ prefix: `${a.id.nodeId}/bulk/` }).length === 10_000, 300_000, 500);
  assert.ok(t >= 0, `all 10,000 arrived (${joiner.state.list({ prefix: `${a.id.nodeId}/bulk/` }).length})`);
  assert.equal(drops, 0, 'no link dropped');
  assert.ok(frames.length >= 10, `${frames.length} pages`);
  for (const f of frames) assert.ok(f < FRAME_LIMIT_BYTES, `frame ${f}`);
  assert.ok(Math.max(...frames) <= MAX_SYNC_PAYLOAD_BYTES + 512, `largest page frame ${Math.max(...frames)}`);
  await sim.stop();
});

test('desired state: a controller publishes for tag EU; exactly the EU nodes adopt it and report convergence', async () => {
  const sim = new StateSim({ seed: 3 });
  const ctrl = await sim.addNode({ tags: ['controller'] });
  const tags = [['EU', 'prod'], ['EU'], ['US', 'prod'], ['US'], ['EU', 'region=EU'], []];
  for (const t of tags) await sim.addNode({ tags: t });
  const desired = new Map<SimNode, DesiredState>();
  for (const n of sim.nodes) {
    const d = new DesiredState({ state: n.state, logger: silentLogger(), tags: n.state.ownTags, controllers: [ctrl.id.nodeId] });
    d.start();
    desired.set(n, d);
  }
  const changes: string[] = [];
  desired.get(sim.nodes[1])!.subscribe((c) => changes.push(`${c.name}=${c.current ? Buffer.from(c.current.value).toString() : '-'}`));
  await sim.clock.runUntil(() => sim.converged(), 60_000, 500);

  await desired.get(ctrl)!.publish('EU', 'motd', 'hello EU');
  await desired.get(ctrl)!.publish('US,prod', 'motd', 'hello US prod');
  // A node that is not a trusted controller publishes too: ignored everywhere.
  await desired.get(sim.nodes[3])!.publish('*', 'motd', 'rogue');
  const eu = sim.nodes.filter((n) => n.state.ownTags.includes('EU'));
  const others = sim.nodes.filter((n) => !n.state.ownTags.includes('EU'));
  const ok = await sim.clock.runUntil(() => sim.converged() && eu.every((n) => desired.get(n)!.get('motd') !== undefined), 60_000, 500);
  assert.ok(ok >= 0);
  for (const n of eu) assert.equal(Buffer.from(desired.get(n)!.get('motd')!.value).toString(), 'hello EU', `node ${n.index}`);
  const usProd = sim.nodes.find((n) => n.state.ownTags.includes('US') && n.state.ownTags.includes('prod'))!;
  assert.equal(Buffer.from(desired.get(usProd)!.get('motd')!.value).toString(), 'hello US prod');
  for (const n of others.filter((x) => x !== usProd)) assert.equal(desired.get(n)!.get('motd'), undefined, `node ${n.index} (${n.state.ownTags}) wants nothing`);
  assert.deepEqual(changes, ['motd=hello EU']);

  // Every node can see who converged, from the observed entries.
  const d = desired.get(sim.nodes[3])!.allDesired().find((x) => x.key === `${ctrl.id.nodeId}/desired/EU/motd`)!;
  const conv = desired.get(sim.nodes[3])!.convergence(d);
  assert.deepEqual(conv.targets.sort(), eu.map((n) => n.id.nodeId).sort());
  assert.deepEqual(conv.converged.sort(), eu.map((n) => n.id.nodeId).sort());
  assert.deepEqual(conv.pending, []);
  const obs = desired.get(ctrl)!.observation(eu[0].id.nodeId, 'motd')!;
  assert.equal(obs.desiredKey, d.key);
  assert.equal(Buffer.from(obs.value!).toString(), 'hello EU');

  // Withdrawn: the EU nodes drop it and delete their observation.
  await desired.get(ctrl)!.withdraw('EU', 'motd');
  await sim.clock.runUntil(() => sim.converged() && eu.every((n) => !desired.get(n)!.get('motd')), 60_000, 500);
  for (const n of eu) {
    assert.equal(desired.get(n)!.get('motd'), undefined);
    assert.equal(desired.get(ctrl)!.observation(n.id.nodeId, 'motd'), undefined);
  }
  assert.deepEqual(changes, ['motd=hello EU', 'motd=-']);
  for (const x of desired.values()) await x.stop();
  await sim.stop();
});
