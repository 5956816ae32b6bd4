// Many nodes in one process: peer managers over memory wires, the real gossip engine, a StateService
// each, MemoryStores, one VirtualClock. Deterministic from a seed. Used by the state simulation tests and
// bench/state-sync.ts.
import { VirtualClock } from '../../src/base/clock.ts';
import { captureLogger, silentLogger, type CapturedLog, type Logger } from '../../src/base/log.ts';
import { identityFromSeed, type NodeIdentity } from '../../src/identity/identity.ts';
import { MemoryPeerStore, PeerManager } from '../../src/peers/index.ts';
import { StateService, type StateServiceOptions } from '../../src/state/service.ts';
import { MemoryBacking, MemoryStore } from '../../src/store/memory.ts';
import { GossipEngine } from '../../src/gossip/engine.ts';
import { MemoryNetwork } from './memory-links.ts';
import { prng } from './prng.ts';


export interface SimNode {
  index: number;
  addr: string;
  id: NodeIdentity;
  pm: PeerManager;
  gossip: GossipEngine;
  state: StateService;
  backing: MemoryBacking;
  log: CapturedLog | undefined;
  running: boolean;
}

export interface SimOptions {
  seed?: number;
  /** Earlier nodes each new node bootstraps to. */
  bootstrapPeers?: number;
  maxPeers?: number;
  stateOptions?: Partial<StateServiceOptions>;
  /** Capture logs of every node (tests that assert log lines). */
  captureLogs?: boolean;
}

export function simAddr(i: number): string {
  return `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:4000`;
}

export class StateSim {
  readonly clock = new VirtualClock();
  readonly net = new MemoryNetwork(this.clock);
  readonly nodes: SimNode[] = [];
  readonly random: () => number;
  private readonly o: SimOptions;
  private readonly logger: Logger = silentLogger();

  constructor(o: SimOptions = {}) {
    this.o = o;
    this.random = prng(o.seed ?? 1);
  }

  /** Builds and starts node number `nodes.length`, bootstrapping to random earlier nodes. */
  async addNode(extra: { tags?: string[]; bootstrap?: string[]; identity?: NodeIdentity; backing?: MemoryBacking; stateOptions?: Partial<StateServiceOptions> } = {}): Promise<SimNode> {
    const index = this.nodes.length;
    const seed = new Uint8Array(32);
    for (let i = 0; i < 32; i++) seed[i] = Math.floor(this.random() * 256);
    const id = extra.identity ?? identityFromSeed(seed);
    const bootstrap = extra.bootstrap ?? this.pickBootstrap(index);
    const node = this.build(index, simAddr(index), id, bootstrap, extra.backing ?? new MemoryBacking(), extra.tags, extra.stateOptions);
    this.nodes.push(node);
    await this.startNode(node);
    return node;
  }

  private pickBootstrap(index: number): string[] {
    const k = Math.min(index, this.o.bootstrapPeers ?? 2);
    const picked = new Set<number>();
    while (picked.size < k) picked.add(Math.floor(this.random() * index));
    return [...picked].map(simAddr);
  }

  private build(index: number, addr: string, id: NodeIdentity, bootstrap: string[], backing: MemoryBacking, tags?: string[], stateOptions?: Partial<StateServiceOptions>): SimNode {
    const cap = this.o.captureLogs ? captureLogger('info') : undefined;
    const logger = cap?.logger ?? this.logger;
    const pm = new PeerManager({
      identity: id,
      clock: this.clock,
      logger,
      version: '0.1.0',
      listen: addr,
      bootstrap,
      tags,
      maxPeers: this.o.maxPeers ?? 15,
      links: this.net.factory(addr, id.x25519Public),
      store: new MemoryPeerStore(),
      random: this.random,
      // Peer exchange on connect is enough to fill the mesh; the periodic one only costs CPU here.
      exchangeIntervalMs: 600_000,
    });
    const gossip = new GossipEngine({ peers: pm, identity: id, clock: this.clock, logger, random: this.random });
    const state = new StateService({
      identity: id,
      gossip,
      peers: pm,
      store: new MemoryStore(backing),
      clock: this.clock,
      logger,
      tags,
      ...this.o.stateOptions,
      ...stateOptions,
      sync: { random: this.random, ...this.o.stateOptions?.sync, ...stateOptions?.sync },
    });
    return { index, addr, id, pm, gossip, state, backing, log: cap, running: false };
  }

  private async startNode(n: SimNode): Promise<void> {
    n.gossip.start();
    await n.state.start();
    await n.pm.start();
    n.running = true;
  }

  /** Stops a node (its store's backing survives) — a crash, as far as the others can tell. */
  async stopNode(n: SimNode): Promise<void> {
    if (!n.running) return;
    n.running = false;
    await n.state.stop();
    await n.pm.stop();
    n.gossip.stop();
  }

  /** Starts a stopped node again on the same data (identity, address, MemoryBacking). */
  async restartNode(n: SimNode, stateOptions?: Partial<StateServiceOptions>): Promise<SimNode> {
    await this.stopNode(n);
    const fresh = this.build(n.index, n.addr, n.id, this.pickBootstrap(this.nodes.length), n.backing, n.state.ownTags as string[], stateOptions);
    this.nodes[n.index] = fresh;
    await this.startNode(fresh);
    return fresh;
  }

  running(): SimNode[] {
    return this.nodes.filter((n) => n.running);
  }

  /** True when every running node holds the same versions (equal whole-map digests). */
  converged(nodes: SimNode[] = this.running()): boolean {
    if (nodes.length === 0) return true;
    const first = nodes[0].state.rootDigest();
    return nodes.every((n) => {
      const d = n.state.rootDigest();
      return d.count === first.count && d.fingerprint === first.fingerprint;
    });
  }

  /** Splits the network: links between the groups are reset and redials across are refused. */
  partition(inA: (n: SimNode) => boolean): void {
    const side = new Map(this.nodes.map((n) => [n.addr, inA(n)]));
    this.net.blocked = (from, to) => side.get(from) !== side.get(to);
    for (const w of this.net.wires) {
      const a = w.a.localAddress.slice(4);
      const b = w.a.remoteAddress.slice(4);
      if (!w.a.closed && side.get(a) !== side.get(b)) w.close('partition');
    }
  }

  heal(): void {
    this.net.blocked = undefined;
  }

  /** Sum over the running nodes of the gossip bytes sent for these msg_types. */
  bytesSent(types: number[] = [6, 7, 8]): number {
    let n = 0;
    for (const node of this.running()) for (const t of types) n += node.gossip.stats().byType[t]?.bytesSent ?? 0;
    return n;
  }

  async stop(): Promise<void> {
    for (const n of this.nodes) await this.stopNode(n);
  }
}
