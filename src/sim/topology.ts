// Topologies for the simulator: plain data (a node count and an edge list), built by pure functions
// from a seeded Rng, so a test can check their shape and a benchmark can name exactly what it ran on.
import type { Rng } from './random.ts';

export interface Topology {
  /** e.g. "ring(50)", "ba(1000, m=3)": printed with every figure measured on it. */
  readonly name: string;
  readonly n: number;
  /** Undirected edges [a, b] with a < b, no duplicates, no self-loops. */
  readonly edges: readonly (readonly [number, number])[];
  /** Positions in the unit square, for geometric topologies (distance-based latency). */
  readonly positions?: readonly (readonly [number, number])[];
}

class EdgeSet {
  readonly edges: [number, number][] = [];
  private readonly keys = new Set<number>();
  private readonly n: number;

  constructor(n: number) {
    this.n = n;
  }

  has(a: number, b: number): boolean {
    return this.keys.has(a < b ? a * this.n + b : b * this.n + a);
  }

  add(a: number, b: number): boolean {
    if (a === b || this.has(a, b)) return false;
    const [x, y] = a < b ? [a, b] : [b, a];
    this.keys.add(x * this.n + y);
    this.edges.push([x, y]);
    return true;
  }
}

function checkN(n: number, min = 1): void {
  if (!Number.isInteger(n) || n < min) throw new RangeError(`a topology needs an integer node count ≥ ${min}, got ${n}`);
}

/** 0 – 1 – 2 – … – (n−1). */
export function line(n: number): Topology {
  checkN(n);
  const edges: [number, number][] = [];
  for (let i = 0; i + 1 < n; i++) edges.push([i, i + 1]);
  return { name: `line(${n})`, n, edges };
}

/** A line closed into a cycle (n ≥ 3). */
export function ring(n: number): Topology {
  checkN(n, 3);
  const edges: [number, number][] = [];
  for (let i = 0; i + 1 < n; i++) edges.push([i, i + 1]);
  edges.push([0, n - 1]);
  return { name: `ring(${n})`, n, edges };
}

/** A width × height lattice; node i sits at column i % width, row ⌊i / width⌋. */
export function grid(width: number, height: number): Topology {
  checkN(width);
  checkN(height);
  const n = width * height;
  const edges: [number, number][] = [];
  for (let i = 0; i < n; i++) {
    if ((i + 1) % width !== 0) edges.push([i, i + 1]);
    if (i + width < n) edges.push([i, i + width]);
  }
  return { name: `grid(${width}x${height})`, n, edges };
}

/**
 * Random geometric graph: n points uniform in the unit square, an edge between every two closer than
 * `radius`. Default radius gives a mean degree of about `avgDegree` (default 8). With `connect`
 * (default true), each component beyond the first is joined to the nearest node of the others, as a
 * real deployment would add a long link rather than leave an island.
 */
export function randomGeometric(n: number, rng: Rng, opts: { radius?: number; avgDegree?: number; connect?: boolean } = {}): Topology {
  checkN(n);
  const avg = opts.avgDegree ?? 8;
  const radius = opts.radius ?? Math.sqrt(avg / (Math.PI * Math.max(1, n - 1)));
  const pos: [number, number][] = [];
  for (let i = 0; i < n; i++) pos.push([rng.next(), rng.next()]);
  const set = new EdgeSet(n);
  // A cell grid of side `radius` keeps this O(n · degree) instead of O(n²).
  const cells = Math.max(1, Math.floor(1 / radius));
  const bucket = new Map<number, number[]>();
  const cellOf = (p: readonly [number, number]): [number, number] => [Math.min(cells - 1, Math.floor(p[0] * cells)), Math.min(cells - 1, Math.floor(p[1] * cells))];
  for (let i = 0; i < n; i++) {
    const [cx, cy] = cellOf(pos[i]);
    const k = cx * cells + cy;
    let b = bucket.get(k);
    if (b === undefined) bucket.set(k, (b = []));
    b.push(i);
  }
  const r2 = radius * radius;
  for (let i = 0; i < n; i++) {
    const [cx, cy] = cellOf(pos[i]);
    for (let dx = -1; dx <= 1; dx++) {
      for (let dy = -1; dy <= 1; dy++) {
        const x = cx + dx;
        const y = cy + dy;
        if (x < 0 || y < 0 || x >= cells || y >= cells) continue;
        for (const j of bucket.get(x * cells + y) ?? []) {
          if (j <= i) continue;
          const ddx = pos[i][0] - pos[j][0];
          const ddy = pos[i][1] - pos[j][1];
          if (ddx * ddx + ddy * ddy <= r2) set.add(i, j);
        }
      }
    }
  }
  if (opts.connect ?? true) {
    // Join components: repeatedly link the component of node 0 to its nearest outside node.
    for (;;) {
      const comp = componentOf(n, set.edges, 0);
      if (comp.size === n) break;
      let best: [number, number] | undefined;
      let bestD = Infinity;
      for (const i of comp) {
        for (let j = 0; j < n; j++) {
          if (comp.has(j)) continue;
          const d = (pos[i][0] - pos[j][0]) ** 2 + (pos[i][1] - pos[j][1]) ** 2;
          if (d < bestD) {
            bestD = d;
            best = [i, j];
          }
        }
      }
      if (best === undefined) break;
      set.add(best[0], best[1]);
    }
  }
  return { name: `geometric(${n}, r=${radius.toFixed(4)})`, n, edges: sortEdges(set.edges), positions: pos };
}

/**
 * Barabási–Albert scale-free graph: start from a clique of m + 1 nodes; each new node links to m
 * distinct existing nodes chosen with probability proportional to their degree. Mean degree ≈ 2m;
 * a few hubs have degree ~ m·√n, like a mesh where many nodes bootstrap off a few well-known ones.
 */
export function barabasiAlbert(n: number, m: number, rng: Rng): Topology {
  checkN(m);
  checkN(n, m + 1);
  const set = new EdgeSet(n);
  // Every edge end once: a uniform pick from this list is a degree-proportional pick of a node.
  const ends: number[] = [];
  for (let i = 0; i <= m; i++) {
    for (let j = i + 1; j <= m; j++) {
      set.add(i, j);
      ends.push(i, j);
    }
  }
  for (let v = m + 1; v < n; v++) {
    const targets = new Set<number>();
    while (targets.size < m) targets.add(ends[rng.int(ends.length)]);
    for (const t of targets) {
      set.add(v, t);
      ends.push(v, t);
    }
  }
  return { name: `ba(${n}, m=${m})`, n, edges: sortEdges(set.edges) };
}

/** A random spanning tree (each node i > 0 links to a uniform earlier node) plus `extra` random edges. */
export function randomConnected(n: number, extra: number, rng: Rng): Topology {
  checkN(n);
  const set = new EdgeSet(n);
  for (let i = 1; i < n; i++) set.add(i, rng.int(i));
  const room = (n * (n - 1)) / 2 - (n - 1);
  let added = 0;
  while (added < Math.min(extra, room)) {
    if (set.add(rng.int(n), rng.int(n))) added++;
  }
  return { name: `random(${n}, +${extra})`, n, edges: sortEdges(set.edges) };
}

function sortEdges(edges: [number, number][]): [number, number][] {
  return edges.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
}

// ---------------------------------------------------------------------------------------------
// Shape

/** Neighbour lists, index → sorted neighbours. */
export function adjacency(t: Pick<Topology, 'n' | 'edges'>): number[][] {
  const adj: number[][] = Array.from({ length: t.n }, () => []);
  for (const [a, b] of t.edges) {
    adj[a].push(b);
    adj[b].push(a);
  }
  for (const l of adj) l.sort((x, y) => x - y);
  return adj;
}

export function degrees(t: Pick<Topology, 'n' | 'edges'>): number[] {
  const d = new Array<number>(t.n).fill(0);
  for (const [a, b] of t.edges) {
    d[a]++;
    d[b]++;
  }
  return d;
}

function componentOf(n: number, edges: readonly (readonly [number, number])[], start: number): Set<number> {
  return new Set(bfs(adjacency({ n, edges }), start).keys());
}

/** Hop distances from `start` to every node it reaches. */
export function bfs(adj: readonly (readonly number[])[], start: number): Map<number, number> {
  const dist = new Map<number, number>([[start, 0]]);
  const queue = [start];
  for (let i = 0; i < queue.length; i++) {
    const v = queue[i];
    const d = dist.get(v)!;
    for (const w of adj[v]) {
      if (dist.has(w)) continue;
      dist.set(w, d + 1);
      queue.push(w);
    }
  }
  return dist;
}

export function isConnected(t: Pick<Topology, 'n' | 'edges'>): boolean {
  return t.n === 0 || componentOf(t.n, t.edges, 0).size === t.n;
}

/** The longest shortest path, by BFS from every node (O(n·e); fine up to a few thousand nodes). */
export function diameter(t: Pick<Topology, 'n' | 'edges'>): number {
  const adj = adjacency(t);
  let best = 0;
  for (let s = 0; s < t.n; s++) {
    const d = bfs(adj, s);
    if (d.size < t.n) return Infinity;
    for (const v of d.values()) if (v > best) best = v;
  }
  return best;
}

/** A one-line summary for figures: nodes, edges, mean and max degree. */
export function describe(t: Topology): { name: string; nodes: number; edges: number; meanDegree: number; maxDegree: number } {
  const d = degrees(t);
  return {
    name: t.name,
    nodes: t.n,
    edges: t.edges.length,
    meanDegree: Math.round(((2 * t.edges.length) / Math.max(1, t.n)) * 100) / 100,
    maxDegree: d.reduce((a, b) => Math.max(a, b), 0),
  };
}

export interface PathWalk {
  /** Node indices from the source, up to where the walk stopped. */
  path: number[];
  result: 'reached' | 'no-route' | 'loop';
}

/** Follows `nextOf` (the next hop each node's router selected) from src until dst, a dead end or a loop. */
export function walkPath(src: number, dst: number, nextOf: (at: number) => number | undefined): PathWalk {
  const path = [src];
  const seen = new Set([src]);
  let at = src;
  while (at !== dst) {
    const next = nextOf(at);
    if (next === undefined) return { path, result: 'no-route' };
    path.push(next);
    if (seen.has(next)) return { path, result: 'loop' };
    seen.add(next);
    at = next;
  }
  return { path, result: 'reached' };
}
