// Anti-entropy bandwidth on a simulated 100-node mesh (memory links, virtual time): after a partition
// with writes on both sides heals, the bytes of state messages (msg_types 6, 7, 8: whole envelopes, as
// sent) against the bytes that were actually missing (the encoded entries each node lacked at the heal,
// summed over nodes). Target: at most 2×. Also: a new node pulling 10,000 entries, and the cost of
// anti-entropy in an idle, converged mesh.
//   node_modules/.bin/node bench/state-sync.ts
import { emit } from './lib/emit.ts';
import { StateSim, type SimNode } from '../test/helpers/state-sim.ts';
import type { StateItem } from '../src/state/service.ts';

const NODES = 100;

function version(i: StateItem): string {
  return `${i.key}@${i.ts}${i.deleted ? '-' : ''}:${Buffer.from(i.value).toString('hex')}`;
}

async function writes(sim: StateSim, nodes: SimNode[], rounds: number, prefix: string): Promise<number> {
  let n = 0;
  for (let r = 0; r < rounds; r++) {
    for (const node of nodes) {
      if (sim.random() < 0.5) {
        await node.state.put(`${prefix}${Math.floor(sim.random() * 10)}`, `${prefix}-${r}-${'v'.repeat(Math.floor(sim.random() * 200))}`);
        n++;
      }
    }
    await sim.clock.advance(1_000);
  }
  return n;
}

async function heal(): Promise<void> {
  const sim = new StateSim({ seed: 2024 });
  for (let i = 0; i < NODES; i++) await sim.addNode({ tags: [i % 2 ? 'EU' : 'US'] });
  await sim.clock.runUntil(() => sim.converged(), 300_000, 1_000);
  await writes(sim, sim.nodes, 3, 'shared');
  await sim.clock.runUntil(() => sim.converged(), 300_000, 1_000);

  const inA = (n: SimNode): boolean => n.index < NODES / 2;
  sim.partition(inA);
  const A = sim.nodes.filter(inA);
  const B = sim.nodes.filter((n) => !inA(n));
  const written = (await writes(sim, A, 5, 'a')) + (await writes(sim, B, 5, 'b')) + (await writes(sim, sim.nodes, 2, 'shared'));
  await sim.clock.runUntil(() => sim.converged(A) && sim.converged(B), 300_000, 1_000);
  await sim.clock.advance(120_000); // gossip backlogs drained, periodic syncs idle

  // What every node lacks: the version each key will converge to, where the node holds another (or none).
  const winner = new Map<string, StateItem>();
  for (const side of [A[0], B[0]]) {
    for (const i of side.state.list({ includeDeleted: true })) {
      const w = winner.get(i.key);
      if (!w || i.ts > w.ts || (i.ts === w.ts && version(i) > version(w))) winner.set(i.key, i);
    }
  }
  let missing = 0;
  let missingEntries = 0;
  for (const n of sim.nodes) {
    const have = new Set(n.state.list({ includeDeleted: true }).map(version));
    for (const w of winner.values()) {
      if (!have.has(version(w))) {
        missing += w.size;
        missingEntries++;
      }
    }
  }
  const before = sim.bytesSent();
  const byType = (t: number): number => sim.nodes.reduce((n, x) => n + (x.gossip.stats().byType[t]?.bytesSent ?? 0), 0);
  const typesBefore = [6, 7, 8].map(byType);
  const recvBefore = sim.nodes.reduce((n, x) => n + x.state.stats().sync.entriesReceived, 0);
  const newBefore = sim.nodes.reduce((n, x) => n + x.state.stats().sync.entriesNew, 0);
  const t0 = sim.clock.now();
  sim.heal();
  const took = await sim.clock.runUntil(() => sim.converged(), 600_000, 500);
  const sent = sim.bytesSent() - before;
  const perType = Object.fromEntries([6, 7, 8].map((t, i) => [`msgType${t}Bytes`, byType(t) - typesBefore[i]]));
  const received = sim.nodes.reduce((n, x) => n + x.state.stats().sync.entriesReceived, 0) - recvBefore;
  const fresh = sim.nodes.reduce((n, x) => n + x.state.stats().sync.entriesNew, 0) - newBefore;
  emit({
    bench: 'state-sync',
    figure: 'heal_bytes_over_missing',
    value: sent / missing,
    unit: '×',
    what: `${NODES} nodes, partitioned in halves with writes on both sides, then healed: state bytes sent (msg_types 6/7/8, whole envelopes) until every map is identical, over the bytes of the entries the nodes lacked`,
    target: { op: '<=', value: 2 },
    extra: { sentBytes: sent, missingBytes: missing, missingEntries, entriesReceivedBySync: received, entriesNewBySync: fresh, ...perType, writesDuringPartition: written, convergedAfterVirtualMs: took >= 0 ? took : null, healedAtMs: t0 },
  });

  // Idle: converged mesh, only periodic anti-entropy.
  const idleBefore = sim.bytesSent();
  await sim.clock.advance(300_000);
  const idle = sim.bytesSent() - idleBefore;
  emit({
    bench: 'state-sync',
    figure: 'idle_bytes_per_node_per_minute',
    value: idle / NODES / 5,
    unit: 'B/node/min',
    what: `${NODES} converged nodes, no writes, 5 virtual minutes: anti-entropy traffic (one root comparison per node every sync_interval)`,
  });
  await sim.stop();
}

async function newNode(): Promise<void> {
  const sim = new StateSim({ seed: 5, stateOptions: { limits: { maxEntriesPerOwner: 20_000 } } });
  const a = await sim.addNode();
  for (let i = 0; i < 10_000; i++) await a.state.put(`bulk/${i}`, `value number ${i} ${'x'.repeat(i % 100)}`);
  await sim.clock.advance(120_000);
  const missing = a.state.list({ prefix: `${a.id.nodeId}/` }).reduce((n, i) => n + i.size, 0);
  const before = sim.bytesSent();
  const t0 = sim.clock.now();
  const joiner = await sim.addNode({ bootstrap: [a.addr] });
  const took = await sim.clock.runUntil(() => sim.converged(), 600_000, 100);
  const sent = sim.bytesSent() - before - (joiner.gossip.stats().byType[6]?.bytesSent ?? 0);
  emit({
    bench: 'state-sync',
    figure: 'new_node_10k_bytes_over_missing',
    value: sent / missing,
    unit: '×',
    what: 'a new node joins a node holding 10,000 entries: state bytes sent (both directions, whole envelopes) over the bytes of the entries it lacked',
    target: { op: '<=', value: 2 },
    extra: { sentBytes: sent, missingBytes: missing, virtualMs: took, startedAtMs: t0, pages: a.state.stats().sync.requestsAnswered },
  });
  await sim.stop();
}

await heal();
if (!process.env.HEAL_ONLY) await newNode();
