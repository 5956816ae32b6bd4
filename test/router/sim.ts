// A network of routers on in-memory links under a VirtualClock, for routing tests.
import { VirtualClock } from '../../src/base/clock.ts';
import { silentLogger, type Logger } from '../../src/base/log.ts';
import { x25519PublicFromPrivate } from '../../src/crypto/x25519.ts';
import { MemoryWire } from '../../src/link/memory.ts';
import { MyceliumNeighbour } from '../../src/router/mycelium-neighbour.ts';
import type { Neighbour, TimerProfile } from '../../src/router/neighbour.ts';
import { Router, type RouterConstants } from '../../src/router/router.ts';
import { walkPath, type PathWalk } from '../../src/sim/topology.ts';
import { prng } from '../helpers/prng.ts';

export interface SimNode {
  index: number;
  router: Router;
  publicKey: Uint8Array;
  privateKey: Uint8Array;
  address: Uint8Array;
  alive: boolean;
}

export interface SimOptions {
  latencyMs?: number;
  timers?: TimerProfile;
  constants?: Partial<RouterConstants>;
  logger?: Logger;
  seed?: number;
}


export class SimNet {
  readonly clock = new VirtualClock(0);
  readonly nodes: SimNode[] = [];
  readonly wires = new Map<string, MemoryWire>();
  /** Which node sits at the far end of each neighbour object. */
  readonly remoteOf = new Map<Neighbour, number>();
  readonly random: () => number;
  private readonly opts: SimOptions;
  private readonly log: Logger;

  constructor(n: number, opts: SimOptions = {}) {
    this.opts = opts;
    this.log = opts.logger ?? silentLogger();
    this.random = prng(opts.seed ?? 1);
    for (let i = 0; i < n; i++) this.addNode();
  }

  addNode(): SimNode {
    // Keys come from the seed too, so a failing run can be replayed exactly.
    const priv = new Uint8Array(32);
    for (let k = 0; k < 32; k++) priv[k] = Math.floor(this.random() * 256);
    const kp = { privateKey: priv, publicKey: x25519PublicFromPrivate(priv) };
    const tail = new Uint8Array(6);
    for (let k = 0; k < 6; k++) tail[k] = Math.floor(this.random() * 256);
    const router = new Router({ clock: this.clock, logger: this.log, publicKey: kp.publicKey, routerIdTail: tail, constants: this.opts.constants });
    const node: SimNode = { index: this.nodes.length, router, publicKey: kp.publicKey, privateKey: kp.privateKey, address: router.address, alive: true };
    this.nodes.push(node);
    return node;
  }

  static key(i: number, j: number): string {
    return i < j ? `${i}-${j}` : `${j}-${i}`;
  }

  connect(i: number, j: number, latencyMs = this.opts.latencyMs ?? 5): MemoryWire {
    const wire = new MemoryWire(this.clock, { protocol: 'mycelium', latencyMs, nameA: String(i), nameB: String(j) });
    this.wires.set(SimNet.key(i, j), wire);
    const a = this.nodes[i];
    const b = this.nodes[j];
    const na = new MyceliumNeighbour({ link: wire.a, router: a.router, logger: this.log, onData: () => {}, timers: this.opts.timers });
    const nb = new MyceliumNeighbour({ link: wire.b, router: b.router, logger: this.log, onData: () => {}, timers: this.opts.timers });
    this.remoteOf.set(na, j);
    this.remoteOf.set(nb, i);
    return wire;
  }

  wire(i: number, j: number): MemoryWire {
    const w = this.wires.get(SimNet.key(i, j));
    if (!w) throw new Error(`no wire ${i}-${j}`);
    return w;
  }

  /** A node leaves: every link closes and its router stops. */
  removeNode(i: number): void {
    for (const [k, w] of this.wires) {
      const [a, b] = k.split('-').map(Number);
      if (a === i || b === i) w.close('node left');
    }
    this.nodes[i].router.stop();
    this.nodes[i].alive = false;
  }

  /** Each node asks for a route to every other (as traffic would), spread over `spreadMs`. */
  async requestAll(spreadMs = 2_000): Promise<void> {
    const alive = this.nodes.filter((n) => n.alive);
    const steps = alive.length;
    for (const src of alive) {
      for (const dst of alive) if (src !== dst) src.router.requestRoute(dst.address);
      await this.clock.advance(Math.max(1, Math.floor(spreadMs / steps)));
    }
  }

  /** Path of node indices from src to dst's address following selected next hops. */
  path(src: number, dst: number): PathWalk {
    const target = this.nodes[dst].address;
    return walkPath(src, dst, (at) => {
      const nh = this.nodes[at].router.nextHopFor(target);
      return nh === undefined ? undefined : this.remoteOf.get(nh);
    });
  }

  allReach(): { ok: boolean; missing: string[] } {
    const missing: string[] = [];
    for (const a of this.nodes) {
      if (!a.alive) continue;
      for (const b of this.nodes) {
        if (!b.alive || a === b) continue;
        const p = this.path(a.index, b.index);
        if (p.result !== 'reached') missing.push(`${a.index}->${b.index}:${p.result}`);
      }
    }
    return { ok: missing.length === 0, missing };
  }

  /**
   * Checks one snapshot of all tables: no next-hop cycle for any destination, and every selected
   * route satisfies the feasibility condition. Returns the violations.
   */
  checkInvariants(): string[] {
    const bad: string[] = [];
    for (const n of this.nodes) {
      if (!n.alive) continue;
      for (const v of n.router.selectedRouteViews()) if (!v.feasible) bad.push(`node ${n.index}: unfeasible selected route`);
    }
    for (const d of this.nodes) {
      if (!d.alive) continue;
      // Next-hop function towards d; colour walk finds cycles in O(N).
      const state = new Map<number, number>(); // 1 = on stack, 2 = done
      for (const s of this.nodes) {
        if (!s.alive || state.has(s.index)) continue;
        const stack: number[] = [];
        let at: number | undefined = s.index;
        while (at !== undefined && !state.has(at) && at !== d.index) {
          state.set(at, 1);
          stack.push(at);
          const nh = this.nodes[at].router.nextHopFor(d.address);
          at = nh === undefined ? undefined : this.remoteOf.get(nh);
        }
        if (at !== undefined && state.get(at) === 1) bad.push(`loop towards ${d.index} through ${at}`);
        for (const x of stack) state.set(x, 2);
      }
    }
    return bad;
  }

  /** Advances time in steps, checking invariants at each; throws on the first violation. */
  async run(ms: number, stepMs = 500): Promise<void> {
    const end = this.clock.now() + ms;
    while (this.clock.now() < end) {
      await this.clock.advance(Math.min(stepMs, end - this.clock.now()));
      const bad = this.checkInvariants();
      if (bad.length > 0) throw new Error(`invariant violated at t=${this.clock.now()}: ${bad.slice(0, 5).join('; ')}`);
    }
  }

  stop(): void {
    for (const n of this.nodes) n.router.stop();
    for (const w of this.wires.values()) w.close('test over');
  }
}

export function lineTopology(net: SimNet): void {
  for (let i = 0; i + 1 < net.nodes.length; i++) net.connect(i, i + 1);
}
export function ringTopology(net: SimNet): void {
  lineTopology(net);
  net.connect(net.nodes.length - 1, 0);
}
export function gridTopology(net: SimNet, width: number): void {
  const n = net.nodes.length;
  for (let i = 0; i < n; i++) {
    if ((i + 1) % width !== 0 && i + 1 < n) net.connect(i, i + 1);
    if (i + width < n) net.connect(i, i + width);
  }
}
/** A random connected graph: a random spanning tree plus `extra` random edges. */
export function randomTopology(net: SimNet, extra: number): void {
  const n = net.nodes.length;
  for (let i = 1; i < n; i++) net.connect(i, Math.floor(net.random() * i));
  let added = 0;
  // A small network has room for only so many more edges.
  const room = (n * (n - 1)) / 2 - (n - 1);
  while (added < Math.min(extra, room)) {
    const a = Math.floor(net.random() * n);
    const b = Math.floor(net.random() * n);
    if (a === b || net.wires.has(SimNet.key(a, b))) continue;
    net.connect(a, b);
    added++;
  }
}
