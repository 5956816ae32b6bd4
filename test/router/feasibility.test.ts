// Property: whatever happens to links and nodes, no selected route ever violates the feasibility
// condition and no snapshot of the tables has a forwarding loop.
import { test } from 'node:test';
import fc from 'fast-check';
import { SimNet, randomTopology } from './sim.ts';

type Ev =
  | { kind: 'cut'; edge: number }
  | { kind: 'heal'; edge: number }
  | { kind: 'close'; edge: number }
  | { kind: 'latency'; edge: number; ms: number }
  | { kind: 'leave'; node: number }
  | { kind: 'link'; a: number; b: number }
  | { kind: 'traffic' }
  | { kind: 'wait'; ms: number };

const arbEvent: fc.Arbitrary<Ev> = fc.oneof(
  fc.record({ kind: fc.constant('cut' as const), edge: fc.nat() }),
  fc.record({ kind: fc.constant('heal' as const), edge: fc.nat() }),
  fc.record({ kind: fc.constant('close' as const), edge: fc.nat() }),
  fc.record({ kind: fc.constant('latency' as const), edge: fc.nat(), ms: fc.integer({ min: 1, max: 400 }) }),
  fc.record({ kind: fc.constant('leave' as const), node: fc.nat() }),
  fc.record({ kind: fc.constant('link' as const), a: fc.nat(), b: fc.nat() }),
  fc.record({ kind: fc.constant('traffic' as const) }),
  fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 100, max: 90_000 }) }),
);

test('property: feasibility holds and no loop appears under random link and node events', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 1_000_000 }),
      fc.integer({ min: 6, max: 16 }),
      fc.integer({ min: 0, max: 12 }),
      fc.array(arbEvent, { minLength: 1, maxLength: 14 }),
      async (seed, n, extra, events) => {
        const net = new SimNet(n, { seed, latencyMs: 3 });
        try {
          randomTopology(net, extra);
          await net.run(3_000, 250);
          await net.requestAll(1_000);
          await net.run(5_000, 250);
          const edges = () => [...net.wires.values()];
          for (const e of events) {
            const ws = edges();
            switch (e.kind) {
              case 'cut':
                ws[e.edge % ws.length].cut = true;
                break;
              case 'heal':
                ws[e.edge % ws.length].cut = false;
                break;
              case 'close':
                ws[e.edge % ws.length].close('event');
                break;
              case 'latency':
                ws[e.edge % ws.length].latencyMs = e.ms;
                break;
              case 'leave':
                if (net.nodes.filter((x) => x.alive).length > 3) net.removeNode(e.node % n);
                break;
              case 'link': {
                const a = e.a % n;
                const b = e.b % n;
                if (a !== b && net.nodes[a].alive && net.nodes[b].alive && !net.wires.has(SimNet.key(a, b))) net.connect(a, b);
                break;
              }
              case 'traffic':
                await net.requestAll(500);
                break;
              case 'wait':
                break;
            }
            await net.run(e.kind === 'wait' ? e.ms : 1_000, 100);
          }
          await net.run(60_000, 250);
        } finally {
          net.stop();
        }
      },
    ),
    // FC_SEED replays a run exactly (the simulated network derives its keys from the seed too).
    { numRuns: 25, seed: process.env.FC_SEED ? Number(process.env.FC_SEED) : undefined },
  );
});
