// The simulator: many real Hypha nodes in one process, on in-memory wires, under a VirtualClock, all
// randomness drawn from one seed. A topology says which pairs of nodes have a link; each link is native
// (the PeerManager dials it and runs the hello; envelopes, gossip, and the overlay (msg_types 90/91)
// travel on it) or Mycelium (the wire is attached to both nodes' overlays, and redialled every
// 5 s while down, as Mycelium's static peers are). Faults are scripted: a link cut (silence) or closed
// (reset), a node crash (its process dies: peers see resets; or its host vanishes: silence) and restart
// (same identity, same stored state), a partition and its healing.
//
// What is not simulated: TCP and the Noise handshake (a dial costs 2.5 round trips of wire latency and
// no CPU), the kernel, the TUN. Everything above the Link interface is the production code.
import { VirtualClock, type Timer } from '../base/clock.ts';
import { silentLogger, type Logger } from '../base/log.ts';
import { err, ok, type Result } from '../base/result.ts';
import { buildConfig } from '../config/load.ts';
import type { Config } from '../config/schema.ts';
import type { Overlay } from '../dataplane/overlay.ts';
import type { GossipEngine, GossipEngineOptions } from '../gossip/engine.ts';
import type { NodeIdentity } from '../identity/identity.ts';
import type { AcceptHandlers, Link, LinkError, LinkFactory, LinkListener, LinkProtocol } from '../link/link.ts';
import { MemoryWire, type MemoryLink } from '../link/memory.ts';
import { HyphaNode } from '../node/node.ts';
import type { NodePart } from '../node/part.ts';
import type { PeerManager, PeerManagerOptions } from '../peers/manager.ts';
import type { Neighbour, TimerProfile } from '../router/neighbour.ts';
import type { RouterConstants } from '../router/router.ts';
import { MemoryBacking, MemoryStore } from '../store/memory.ts';
import { IdentityCache } from './identities.ts';
import { SimGossipPart, SimOverlayPart, SimPeersPart, nativeOverlayBridge, type NativeOverlayHook, type SimNodeContext } from './parts.ts';
import { ProbeDevice, type ProbeArrival } from './probe.ts';
import { Rng, type Seed } from './random.ts';
import { adjacency, walkPath, type PathWalk, type Topology } from './topology.ts';
import { TrafficClassifier, TrafficCounters, type TrafficClassifierOptions } from './traffic.ts';

export type LinkKind = LinkProtocol;

/** How one link behaves. */
export interface WireProfile {
  latencyMs: number;
  jitterMs?: number;
  /** Probability in [0, 1) that a message is lost. */
  loss?: number;
  /** Bits per second; 0 = unlimited. */
  bandwidthBps?: number;
}

export const DEFAULT_WIRE: WireProfile = Object.freeze({ latencyMs: 10, jitterMs: 0, loss: 0, bandwidthBps: 0 });
/** A dial to a host that does not answer gives up after this long (a TCP SYN timeout). */
export const DEFAULT_DIAL_TIMEOUT_MS = 10_000;
/** Mycelium redials a static peer this often while it is down. */
export const MYCELIUM_RECONNECT_INTERVAL_MS = 5_000;
/** A dial that succeeds takes this many round trips: TCP (1) and the Noise XX handshake (1.5). */
const DIAL_ROUND_TRIPS = 2.5;

export interface SimNetworkOptions {
  seed: Seed;
  topology: Topology;
  /** PeerManager + GossipEngine on every node. Default true. */
  mesh?: boolean;
  /** Router + DataPlane (an Overlay with a ProbeDevice) on every node. Default false. */
  overlay?: boolean;
  /** The kind of each topology link. Default: native with `mesh`, else Mycelium. */
  linkKind?: LinkKind | ((a: number, b: number) => LinkKind);
  /** Latency, jitter, loss and bandwidth of each link. Default DEFAULT_WIRE. */
  wire?: WireProfile | ((a: number, b: number) => WireProfile);
  /**
   * Who may dial whom: 'edges' (default) — only the topology's links exist, other dials are refused;
   * 'any' — every node can reach every other (the Internet), as peer discovery assumes.
   */
  reachability?: 'edges' | 'any';
  /** PeerManager discovery of peers learned by peer exchange. Default false: the topology is the mesh. */
  discovery?: boolean;
  /** Connected peers allowed per node; 0 = unlimited (default, so hubs keep every topology link). */
  maxPeers?: number;
  /** Anything else for the PeerManagers (timers, limits). */
  peer?: Partial<PeerManagerOptions>;
  gossip?: Partial<GossipEngineOptions>;
  /** Timer profile of Mycelium links (default Mycelium's own). */
  myceliumTimers?: TimerProfile;
  routerConstants?: Partial<RouterConstants>;
  /**
   * How the overlay runs over native links (with `overlay` and `mesh`): default the production bridge
   * (msg_types 90/91, Hypha's native timers); false = native links carry no overlay (overlay.links = mycelium).
   */
  nativeOverlay?: NativeOverlayHook | false;
  traffic?: TrafficClassifierOptions;
  /** Extra parts on every node, after the built-in ones (e.g. a state-sync part). */
  extraParts?: (ctx: SimNodeContext, built: SimNodeParts) => NodePart[];
  logger?: Logger;
  identities?: IdentityCache;
  dialTimeoutMs?: number;
  myceliumReconnectIntervalMs?: number;
  /** Virtual start time (ms since the epoch). */
  startMs?: number;
}

export interface SimNodeParts {
  peers?: PeerManager;
  gossip?: GossipEngine;
  overlay?: Overlay;
}

export type NodeState = 'created' | 'up' | 'crashed' | 'silent';

/** One simulated node across its incarnations (a restart builds a new HyphaNode on the same backing). */
export class SimNode {
  readonly index: number;
  readonly name: string;
  readonly identity: NodeIdentity;
  /** The node's stored state; survives crashes. */
  readonly backing = new MemoryBacking();
  /** Where its native listener is (fake IPv4 from the index). */
  readonly listenAddr: string;
  /** Overlay address (its /64 is its one route). */
  readonly address: Uint8Array;
  state: NodeState = 'created';
  incarnation = 0;
  node: HyphaNode | undefined;
  parts: SimNodeParts = {};
  device: ProbeDevice | undefined;

  constructor(index: number, identity: NodeIdentity) {
    this.index = index;
    this.name = `n${index}`;
    this.identity = identity;
    this.listenAddr = `10.${(index >> 16) & 255}.${(index >> 8) & 255}.${index & 255}:4000`;
    this.address = identity.address;
  }

  get up(): boolean {
    return this.state === 'up';
  }

  get peers(): PeerManager | undefined {
    return this.parts.peers;
  }

  get gossip(): GossipEngine | undefined {
    return this.parts.gossip;
  }

  get overlay(): Overlay | undefined {
    return this.parts.overlay;
  }
}

/** A pair of nodes that has (or had) wires between it: a topology link or a pair that dialled. */
class Pair {
  readonly a: number;
  readonly b: number;
  readonly inTopology: boolean;
  readonly kind: LinkKind;
  readonly profile: WireProfile;
  /** Cut by cutLink(): everything sent is lost until healLink(). */
  cut = false;
  readonly wires = new Set<MemoryWire>();
  /** Mycelium: the redial timer while the link is down. */
  redial: Timer | undefined;

  constructor(a: number, b: number, inTopology: boolean, kind: LinkKind, profile: WireProfile) {
    this.a = a;
    this.b = b;
    this.inTopology = inTopology;
    this.kind = kind;
    this.profile = profile;
  }

  /** A Mycelium pair is connected while some wire has both ends open. */
  get connected(): boolean {
    for (const w of this.wires) if (!w.a.closed && !w.b.closed) return true;
    return false;
  }
}

export class SimNetwork {
  readonly clock: VirtualClock;
  readonly rng: Rng;
  readonly topology: Topology;
  readonly nodes: SimNode[] = [];
  readonly traffic: TrafficCounters;
  readonly opts: Readonly<SimNetworkOptions>;
  /** Probe arrivals, in order: (destination node, probe). */
  onProbe: ((node: number, arrival: ProbeArrival) => void) | undefined;
  private readonly log: Logger;
  private readonly classifier: TrafficClassifier;
  private readonly adj: number[][];
  private readonly pairs = new Map<number, Pair>();
  private readonly byAddr = new Map<string, number>();
  private readonly byNodeId = new Map<string, number>();
  private readonly listeners = new Map<number, AcceptHandlers>();
  private readonly remoteOf = new WeakMap<Neighbour, number>();
  /** Which node holds end a and end b of each wire. */
  private readonly ends = new WeakMap<MemoryWire, { a: number; b: number }>();
  private group: Int32Array | undefined;
  private readonly baseConfig: Config;
  private stopped = false;

  constructor(opts: SimNetworkOptions) {
    this.opts = opts;
    this.clock = new VirtualClock(opts.startMs);
    this.rng = new Rng(opts.seed);
    this.topology = opts.topology;
    this.log = opts.logger ?? silentLogger();
    this.classifier = new TrafficClassifier(opts.traffic);
    this.traffic = new TrafficCounters(opts.topology.n);
    this.adj = adjacency(opts.topology);
    const ids = opts.identities ?? new IdentityCache();
    for (let i = 0; i < opts.topology.n; i++) {
      const node = new SimNode(i, ids.get(opts.seed, i));
      this.nodes.push(node);
      this.byAddr.set(node.listenAddr, i);
      this.byNodeId.set(node.identity.nodeId, i);
    }
    for (const [a, b] of opts.topology.edges) this.pairs.set(this.key(a, b), new Pair(a, b, true, this.kindOf(a, b), this.profileOf(a, b)));
    this.baseConfig = buildConfig({ flags: { 'node.data_dir': '/nonexistent/hypha-sim', 'ssh.listen': '' }, env: {} });
  }

  // -------------------------------------------------------------------------------------------
  // Lifecycle

  /** Starts every node at the current virtual time (a cold start of the whole network). */
  async start(): Promise<void> {
    for (const n of this.nodes) await this.startNode(n);
  }

  /** Stops every node and closes every wire. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const p of this.pairs.values()) p.redial?.cancel();
    for (const n of this.nodes) if (n.node !== undefined) await n.node.stop();
    for (const p of this.pairs.values()) for (const w of p.wires) w.close('simulation over');
  }

  /** Advances virtual time, firing every timer on the way. */
  advance(ms: number): Promise<void> {
    return this.clock.advance(ms);
  }

  /** Advances until `done()` or `maxMs`; the virtual time it took, or -1. */
  runUntil(done: () => boolean, maxMs: number, stepMs = 100): Promise<number> {
    return this.clock.runUntil(done, maxMs, stepMs);
  }

  private async startNode(n: SimNode): Promise<void> {
    if (n.state === 'up') return;
    const inc = n.incarnation++;
    const rng = this.rng.derive(`node/${n.index}/incarnation/${inc}`);
    const logger = this.opts.logger === undefined ? this.log : this.log.child({ node: n.name });
    const mesh = this.opts.mesh ?? true;
    const withOverlay = this.opts.overlay ?? false;
    n.device = withOverlay ? new ProbeDevice(`sim${n.index}`, (a) => this.onProbe?.(n.index, a)) : undefined;
    const ctx: SimNodeContext = {
      index: n.index,
      name: n.name,
      identity: n.identity,
      clock: this.clock,
      logger,
      store: new MemoryStore(n.backing),
      rng,
      listenAddr: n.listenAddr,
      // Newer nodes dial older ones (as a node joining a mesh dials the nodes it knows).
      bootstrap: this.adj[n.index].filter((j) => j < n.index && this.pairOf(n.index, j)?.kind === 'native').map((j) => this.nodes[j].listenAddr),
      links: this.linkFactory(n.index),
      device: n.device,
    };
    const parts: SimNodeParts = {};
    const config: Config = { ...this.baseConfig, node: { ...this.baseConfig.node, name: n.name }, network: { ...this.baseConfig.network, listen: n.listenAddr } };
    const node = await HyphaNode.create(config, {
      clock: this.clock,
      logger,
      identity: n.identity,
      store: ctx.store,
      parts: () => {
        const list: NodePart[] = [];
        if (mesh) {
          const p = new SimPeersPart(ctx, { discovery: this.opts.discovery ?? false, maxPeers: this.opts.maxPeers ?? 0, peer: this.opts.peer });
          const g = new SimGossipPart(ctx, p.manager, this.opts.gossip);
          parts.peers = p.manager;
          parts.gossip = g.engine;
          list.push(p, g);
        }
        if (withOverlay) {
          const o = new SimOverlayPart(ctx, {
            routerConstants: this.opts.routerConstants,
            peers: parts.peers,
            nativeOverlay: this.opts.nativeOverlay === false ? undefined : (this.opts.nativeOverlay ?? nativeOverlayBridge()),
            register: (nb, remoteNodeId) => {
              const j = this.byNodeId.get(remoteNodeId);
              if (j !== undefined) this.remoteOf.set(nb, j);
            },
          });
          parts.overlay = o.overlay;
          list.push(o);
        }
        if (this.opts.extraParts) list.push(...this.opts.extraParts(ctx, parts));
        return list;
      },
    });
    n.node = node;
    n.parts = parts;
    n.state = 'up';
    this.refreshWiresOf(n.index);
    // Connections the old incarnation left open at the far end are reset by the rebooted host.
    for (const p of this.pairsOf(n.index)) {
      for (const w of [...p.wires]) {
        const e = this.ends.get(w)!;
        const mine = e.a === n.index ? w.a : w.b;
        if (mine.closed) w.close('connection reset by peer');
      }
    }
    await node.start();
    if (withOverlay) for (const j of this.adj[n.index]) this.connectMycelium(this.pairOf(n.index, j)!);
  }

  // -------------------------------------------------------------------------------------------
  // Faults

  /** The link a–b goes silent in both directions (a pulled cable): nothing arrives, nobody is told. */
  cutLink(a: number, b: number): void {
    const p = this.topologyPair(a, b);
    p.cut = true;
    this.refreshWires(p);
  }

  /** Undoes cutLink. Wires that died meanwhile are redialled by their owners (bootstrap loop, Mycelium's 5 s). */
  healLink(a: number, b: number): void {
    const p = this.topologyPair(a, b);
    p.cut = false;
    this.refreshWires(p);
  }

  /** Closes the current connection(s) between a and b, as a TCP reset would: both ends notice at once. */
  closeLink(a: number, b: number, reason = 'connection reset'): void {
    const p = this.pairOf(a, b);
    if (p === undefined) return;
    for (const w of [...p.wires]) w.close(reason);
  }

  /**
   * Node i crashes. 'process' (default): the process dies and its host's kernel resets every connection,
   * so peers notice at once and dials to it are refused. 'host': the machine vanishes: its links go
   * silent, peers find out by their own timeouts, dials to it time out.
   */
  async crash(i: number, how: 'process' | 'host' = 'process'): Promise<void> {
    const n = this.nodes[i];
    if (n.state !== 'up' || n.node === undefined) return;
    // Silence every link first, so the dying node sends nothing on its way down.
    n.state = 'silent';
    this.refreshWiresOf(i);
    const node = n.node;
    n.node = undefined;
    n.parts = {};
    n.device?.close();
    n.device = undefined;
    this.listeners.delete(i);
    await node.stop();
    if (how === 'process') {
      n.state = 'crashed';
      this.refreshWiresOf(i);
      // The far ends get the kernel's reset.
      for (const p of this.pairsOf(i)) for (const w of [...p.wires]) w.close('connection reset by peer');
    }
  }

  /** Starts node i again: same identity, same stored state (peer table), fresh process state. */
  async restart(i: number): Promise<void> {
    const n = this.nodes[i];
    if (n.state === 'up') return;
    await this.startNode(n);
  }

  /**
   * Splits the network: nodes in different groups cannot reach each other (every wire between them goes
   * silent, dials time out). Nodes in no group form one more group together.
   */
  partition(groups: readonly (readonly number[])[]): void {
    const g = new Int32Array(this.nodes.length).fill(groups.length);
    groups.forEach((members, k) => {
      for (const i of members) g[i] = k;
    });
    this.group = g;
    for (const p of this.pairs.values()) this.refreshWires(p);
  }

  healPartition(): void {
    this.group = undefined;
    for (const p of this.pairs.values()) this.refreshWires(p);
  }

  /** Whether a message from a can reach b right now. */
  reachable(a: number, b: number): boolean {
    if (this.nodes[a].state === 'silent' || this.nodes[b].state === 'silent') return false;
    if (this.group !== undefined && this.group[a] !== this.group[b]) return false;
    const p = this.pairOf(a, b);
    return !(p?.cut ?? false);
  }

  // -------------------------------------------------------------------------------------------
  // Looking at the network

  /** Topology neighbours of i. */
  neighboursOf(i: number): readonly number[] {
    return this.adj[i];
  }

  /** Index of the node with this Micelio node id. */
  indexOfNodeId(nodeId: string): number | undefined {
    return this.byNodeId.get(nodeId);
  }

  /** The node at the far end of a router neighbour (for path walks). */
  remoteOfNeighbour(nb: Neighbour): number | undefined {
    return this.remoteOf.get(nb);
  }

  /** Live wires between a and b. */
  wiresBetween(a: number, b: number): MemoryWire[] {
    return [...(this.pairOf(a, b)?.wires ?? [])].filter((w) => !w.a.closed || !w.b.closed);
  }

  /** Topology links whose native connection is up at both ends. */
  nativeLinksUp(): number {
    let up = 0;
    for (const p of this.pairs.values()) {
      if (!p.inTopology || p.kind !== 'native') continue;
      const a = this.nodes[p.a].peers;
      const b = this.nodes[p.b].peers;
      if (a?.peer(this.nodes[p.b].identity.nodeId)?.connected && b?.peer(this.nodes[p.a].identity.nodeId)?.connected) up++;
    }
    return up;
  }

  /** Topology links whose Mycelium wire is up. */
  myceliumLinksUp(): number {
    let up = 0;
    for (const p of this.pairs.values()) if (p.inTopology && p.kind === 'mycelium' && p.connected) up++;
    return up;
  }

  /** Every topology link connected (native: hello done at both ends; Mycelium: wire open). */
  allLinksUp(): boolean {
    let native = 0;
    let mycelium = 0;
    for (const p of this.pairs.values()) {
      if (!p.inTopology) continue;
      if (p.kind === 'native') native++;
      else mycelium++;
    }
    return this.nativeLinksUp() === native && this.myceliumLinksUp() === mycelium;
  }

  /**
   * The path packets from src to dst's address take, following each router's selected next hop.
   * 'no-route' where a node has none, 'loop' if a node repeats.
   */
  path(src: number, dst: number): PathWalk {
    const target = this.nodes[dst].address;
    return walkPath(src, dst, (at) => {
      const nh = this.nodes[at].overlay?.router.nextHopFor(target);
      return nh === undefined ? undefined : (this.remoteOf.get(nh) ?? (nh.remoteId === undefined ? undefined : this.byNodeId.get(nh.remoteId)));
    });
  }

  // -------------------------------------------------------------------------------------------
  // Wires

  private key(a: number, b: number): number {
    return a < b ? a * this.nodes.length + b : b * this.nodes.length + a;
  }

  private pairOf(a: number, b: number): Pair | undefined {
    return this.pairs.get(this.key(a, b));
  }

  private topologyPair(a: number, b: number): Pair {
    const p = this.pairOf(a, b);
    if (p === undefined || !p.inTopology) throw new RangeError(`no link ${a}–${b} in ${this.topology.name}`);
    return p;
  }

  private *pairsOf(i: number): Iterable<Pair> {
    for (const j of this.adj[i]) yield this.pairOf(i, j)!;
    if (this.opts.reachability === 'any') for (const p of this.pairs.values()) if (!p.inTopology && (p.a === i || p.b === i)) yield p;
  }

  private kindOf(a: number, b: number): LinkKind {
    const k = this.opts.linkKind;
    if (typeof k === 'function') return k(a, b);
    return k ?? ((this.opts.mesh ?? true) ? 'native' : 'mycelium');
  }

  private profileOf(a: number, b: number): WireProfile {
    const w = this.opts.wire;
    return typeof w === 'function' ? w(a, b) : (w ?? DEFAULT_WIRE);
  }

  private refreshWires(p: Pair): void {
    const cut = !this.reachable(p.a, p.b);
    for (const w of p.wires) w.cut = cut;
  }

  private refreshWiresOf(i: number): void {
    for (const p of this.pairsOf(i)) this.refreshWires(p);
  }

  /** A wire between `from` (end a) and `to` (end b), counted and tracked. */
  private makeWire(p: Pair, from: number, to: number): MemoryWire {
    const pr = p.profile;
    const wire = new MemoryWire(this.clock, {
      protocol: p.kind,
      latencyMs: pr.latencyMs,
      jitterMs: pr.jitterMs ?? 0,
      loss: pr.loss ?? 0,
      bandwidthBps: pr.bandwidthBps ?? 0,
      random: this.rng.derive(`wire/${p.a}-${p.b}/${p.wires.size}/${this.clock.now()}`).fn,
      staticA: this.nodes[from].identity.x25519Public,
      staticB: this.nodes[to].identity.x25519Public,
      nameA: this.nodes[from].listenAddr,
      nameB: this.nodes[to].listenAddr,
      observer: {
        sent: (link: MemoryLink, msg: Uint8Array) => this.traffic.add(link === wire.a ? from : to, this.classifier.classify(p.kind, msg), msg.length),
        closed: () => {
          if (wire.a.closed && wire.b.closed) p.wires.delete(wire);
          if (p.kind === 'mycelium') this.scheduleRedial(p);
        },
      },
    });
    wire.cut = !this.reachable(from, to);
    p.wires.add(wire);
    this.ends.set(wire, { a: from, b: to });
    return wire;
  }

  private pairFor(a: number, b: number): Pair | undefined {
    let p = this.pairOf(a, b);
    if (p === undefined && this.opts.reachability === 'any') {
      p = new Pair(Math.min(a, b), Math.max(a, b), false, 'native', this.profileOf(a, b));
      this.pairs.set(this.key(a, b), p);
    }
    return p;
  }

  /** The LinkFactory node i's PeerManager dials and listens with. */
  private linkFactory(i: number): LinkFactory {
    const pending = new Set<{ timer: Timer; settle: () => void }>();
    const wait = (ms: number): Promise<boolean> =>
      new Promise((resolve) => {
        const entry = {
          timer: this.clock.setTimeout(() => {
            pending.delete(entry);
            resolve(true);
          }, ms),
          settle: () => resolve(false),
        };
        pending.add(entry);
      });
    return {
      dial: async (address: string): Promise<Result<Link, LinkError>> => {
        const j = this.byAddr.get(address);
        const p = j === undefined ? undefined : this.pairFor(i, j);
        if (j === undefined || p === undefined || p.kind !== 'native') return err('dial-failed', `dial ${address}: connection refused`);
        if (!this.reachable(i, j)) {
          if (!(await wait(this.opts.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS))) return err('aborted', 'dial aborted');
          return err('dial-failed', `dial ${address}: i/o timeout`);
        }
        if (!(await wait(DIAL_ROUND_TRIPS * 2 * p.profile.latencyMs))) return err('aborted', 'dial aborted');
        const l = this.listeners.get(j);
        if (this.nodes[i].state !== 'up') return err('aborted', 'dialler is down');
        if (!this.reachable(i, j)) return err('dial-failed', `dial ${address}: i/o timeout`);
        if (l === undefined) return err('dial-failed', `dial ${address}: connection refused`);
        const refusal = l.preCheck?.(`mem:${this.nodes[i].listenAddr}`);
        if (refusal !== undefined) return err('handshake-failed', `${address}: connection closed during noise handshake`);
        const wire = this.makeWire(p, i, j);
        l.onLink(wire.b);
        return ok(wire.a);
      },
      listen: (address: string, handlers: AcceptHandlers): Promise<Result<LinkListener, LinkError>> => {
        this.listeners.set(i, handlers);
        const cut = address.lastIndexOf(':');
        const host = address.slice(0, cut);
        const port = Number(address.slice(cut + 1));
        return Promise.resolve(
          ok({
            address,
            host,
            port,
            close: async () => {
              if (this.listeners.get(i) === handlers) this.listeners.delete(i);
            },
          }),
        );
      },
      close: async () => {
        for (const e of [...pending]) {
          e.timer.cancel();
          pending.delete(e);
          e.settle();
        }
      },
    };
  }

  // -------------------------------------------------------------------------------------------
  // Mycelium links

  /** Connects a Mycelium pair if both nodes run and can reach each other; otherwise retries later. */
  private connectMycelium(p: Pair): void {
    if (p.kind !== 'mycelium' || this.stopped || p.connected) return;
    const a = this.nodes[p.a];
    const b = this.nodes[p.b];
    if (!a.up && !b.up) return; // nobody left to dial
    if (!a.up || !b.up || !this.reachable(p.a, p.b) || a.overlay === undefined || b.overlay === undefined) {
      this.scheduleRedial(p);
      return;
    }
    p.redial?.cancel();
    p.redial = undefined;
    const wire = this.makeWire(p, p.a, p.b);
    const na = a.overlay.attachLink(wire.a, { timers: this.opts.myceliumTimers });
    const nb = b.overlay.attachLink(wire.b, { timers: this.opts.myceliumTimers });
    this.remoteOf.set(na, p.b);
    this.remoteOf.set(nb, p.a);
  }

  private scheduleRedial(p: Pair): void {
    if (this.stopped || p.redial !== undefined || p.connected) return;
    p.redial = this.clock.setTimeout(() => {
      p.redial = undefined;
      this.connectMycelium(p);
    }, this.opts.myceliumReconnectIntervalMs ?? MYCELIUM_RECONNECT_INTERVAL_MS);
  }
}
