// Topologies have the promised shape, for any size and seed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Rng } from '../../src/sim/random.ts';
import { adjacency, barabasiAlbert, degrees, diameter, grid, isConnected, line, randomConnected, randomGeometric, ring, type Topology } from '../../src/sim/topology.ts';

function wellFormed(t: Topology): void {
  const seen = new Set<string>();
  for (const [a, b] of t.edges) {
    assert.ok(Number.isInteger(a) && Number.isInteger(b) && a >= 0 && b < t.n, `edge ${a}-${b} out of range`);
    assert.ok(a < b, `edge ${a}-${b} not ordered (or a self-loop)`);
    assert.ok(!seen.has(`${a}-${b}`), `duplicate edge ${a}-${b}`);
    seen.add(`${a}-${b}`);
  }
}

test('line, ring and grid: exact edge sets, degrees and diameters', () => {
  const l = line(10);
  wellFormed(l);
  assert.equal(l.edges.length, 9);
  assert.deepEqual(degrees(l), [1, 2, 2, 2, 2, 2, 2, 2, 2, 1]);
  assert.equal(diameter(l), 9);

  const r = ring(10);
  wellFormed(r);
  assert.equal(r.edges.length, 10);
  assert.ok(degrees(r).every((d) => d === 2));
  assert.equal(diameter(r), 5);

  const g = grid(4, 3);
  wellFormed(g);
  assert.equal(g.n, 12);
  assert.equal(g.edges.length, 2 * 4 * 3 - 4 - 3);
  assert.equal(diameter(g), 3 + 2);
  // Corners have 2 neighbours, the inner nodes 4.
  assert.deepEqual(adjacency(g)[0], [1, 4]);
  assert.deepEqual(adjacency(g)[5], [1, 4, 6, 9]);
});

test('Barabási–Albert: m links per new node, connected, every node of degree ≥ m, hubs emerge', () => {
  fc.assert(
    fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 6, max: 120 }), fc.string(), (m, n, seed) => {
      fc.pre(n > m + 1);
      const t = barabasiAlbert(n, m, new Rng(seed));
      wellFormed(t);
      assert.equal(t.edges.length, (m * (m + 1)) / 2 + (n - m - 1) * m);
      assert.ok(isConnected(t));
      assert.ok(degrees(t).every((d) => d >= m));
    }),
    { numRuns: 60 },
  );
  // Scale-free: at 1,000 nodes the biggest hub has far more links than the mean (about 2m).
  const big = barabasiAlbert(1000, 2, new Rng('hubs'));
  const d = degrees(big);
  assert.ok(Math.max(...d) > 8 * 4, `max degree ${Math.max(...d)}`);
});

test('random geometric: points in the unit square, edges only between close points (plus joins), connected', () => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 150 }), fc.string(), (n, seed) => {
      const t = randomGeometric(n, new Rng(seed), { avgDegree: 6 });
      wellFormed(t);
      assert.ok(isConnected(t));
      const pos = t.positions!;
      assert.equal(pos.length, n);
      for (const [x, y] of pos) assert.ok(x >= 0 && x < 1 && y >= 0 && y < 1);
      const r = Number(/r=([0-9.]+)/.exec(t.name)![1]);
      // Components are joined by their nearest pair, so at most n − 1 edges may be longer than r.
      const long = t.edges.filter(([a, b]) => Math.hypot(pos[a][0] - pos[b][0], pos[a][1] - pos[b][1]) > r + 1e-4);
      assert.ok(long.length <= n - 1);
    }),
    { numRuns: 40 },
  );
  // At 1,000 nodes the mean degree is close to the one asked for.
  const t = randomGeometric(1000, new Rng('deg'), { avgDegree: 8 });
  const mean = (2 * t.edges.length) / t.n;
  assert.ok(mean > 6.5 && mean < 9, `mean degree ${mean}`);
});

test('random connected: a spanning tree plus the extra edges', () => {
  fc.assert(
    fc.property(fc.integer({ min: 2, max: 80 }), fc.integer({ min: 0, max: 100 }), fc.string(), (n, extra, seed) => {
      const t = randomConnected(n, extra, new Rng(seed));
      wellFormed(t);
      assert.ok(isConnected(t));
      assert.equal(t.edges.length, n - 1 + Math.min(extra, (n * (n - 1)) / 2 - (n - 1)));
    }),
    { numRuns: 60 },
  );
});

test('the same seed gives the same topology; another seed another one', () => {
  const a = barabasiAlbert(200, 3, new Rng(7));
  const b = barabasiAlbert(200, 3, new Rng(7));
  const c = barabasiAlbert(200, 3, new Rng(8));
  assert.deepEqual(a, b);
  assert.notDeepEqual(a.edges, c.edges);
  assert.deepEqual(randomGeometric(100, new Rng('g')), randomGeometric(100, new Rng('g')));
});
