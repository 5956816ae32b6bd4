// StateServices wired together without peer managers or envelopes: a fake gossip port and a fake peers
// port per node, delivering through a VirtualClock, with switches to drop messages and to connect and
// disconnect nodes. For targeted sync tests where every message must be under the test's control.
import { randomBytes } from 'node:crypto';
import { VirtualClock } from '../../src/base/clock.ts';
import { captureLogger, type CapturedLog } from '../../src/base/log.ts';
import { identityFromSeed, type NodeIdentity } from '../../src/identity/identity.ts';
import type { PeerHandle } from '../../src/peers/manager.ts';
import type { GossipHandler, GossipPort, PeersPort } from '../../src/state/ports.ts';
import { StateService, type StateServiceOptions } from '../../src/state/service.ts';
import { MemoryBacking, MemoryStore } from '../../src/store/memory.ts';

export interface Sent {
  from: string;
  to: string;
  msgType: number;
  payload: Uint8Array;
  atMs: number;
}

type Listener = (peer: PeerHandle, reason: string) => void;

export class FakeNode {
  readonly id: NodeIdentity;
  readonly backing: MemoryBacking;
  readonly log: CapturedLog;
  state!: StateService;
  readonly handlers = new Map<number, GossipHandler>();
  readonly listeners = { connected: new Set<Listener>(), disconnected: new Set<Listener>() };
  readonly links = new Map<string, PeerHandle & { connected: boolean }>();
  /** The node object behind each link (two nodes may share an identity: a clone). */
  readonly neighbours = new Map<string, FakeNode>();
  isHypha = true;
  private readonly mesh: FakeMesh;

  constructor(mesh: FakeMesh, id: NodeIdentity, backing: MemoryBacking) {
    this.mesh = mesh;
    this.id = id;
    this.backing = backing;
    this.log = captureLogger('debug');
  }

  get nodeId(): string {
    return this.id.nodeId;
  }

  gossipPort(): GossipPort {
    return {
      handle: (t, h) => {
        this.handlers.set(t, h);
        return () => this.handlers.delete(t);
      },
      broadcast: (t, payload) => {
        let sent = 0;
        for (const to of this.links.keys()) if (this.mesh.deliver(this, to, t, payload, 10)) sent++;
        return { messageId: 'm', sent, total: this.links.size };
      },
      sendDirect: (to, t, payload) => this.links.has(to) && this.mesh.deliver(this, to, t, payload, 1),
    };
  }

  peersPort(): PeersPort {
    const on = (event: string, fn: Listener): (() => void) => {
      const set = this.listeners[event as 'connected' | 'disconnected'];
      set?.add(fn);
      return () => set?.delete(fn);
    };
    return {
      on: on as PeersPort['on'],
      peers: () => [...this.links.values()],
      peer: (id: string) => this.links.get(id),
    };
  }
}

export class FakeMesh {
  readonly clock = new VirtualClock();
  readonly nodes: FakeNode[] = [];
  readonly sent: Sent[] = [];
  latencyMs = 5;
  /** Return true to lose a message. */
  drop: ((s: Sent) => boolean) | undefined;

  async add(opts: Partial<StateServiceOptions> & { backing?: MemoryBacking; identity?: NodeIdentity } = {}): Promise<FakeNode> {
    const n = new FakeNode(this, opts.identity ?? identityFromSeed(randomBytes(32)), opts.backing ?? new MemoryBacking());
    this.nodes.push(n);
    await this.boot(n, opts);
    return n;
  }

  private async boot(n: FakeNode, opts: Partial<StateServiceOptions>): Promise<void> {
    n.state = new StateService({
      identity: n.id,
      gossip: n.gossipPort(),
      peers: n.peersPort(),
      store: new MemoryStore(n.backing),
      clock: this.clock,
      logger: n.log.logger,
      ...opts,
    });
    await n.state.start();
  }

  /** Stops a node's service and starts a new one on the same backing (a restart). */
  async restart(n: FakeNode, opts: Partial<StateServiceOptions> = {}): Promise<void> {
    for (const other of [...n.neighbours.values()]) this.disconnect(n, other);
    await n.state.stop();
    n.handlers.clear();
    await this.boot(n, opts);
  }

  byId(id: string): FakeNode | undefined {
    return this.nodes.find((n) => n.nodeId === id);
  }

  deliver(from: FakeNode, to: string, msgType: number, payload: Uint8Array, hopCount: number): boolean {
    const s: Sent = { from: from.nodeId, to, msgType, payload: Uint8Array.from(payload), atMs: this.clock.now() };
    this.sent.push(s);
    if (this.drop?.(s)) return true;
    const target = from.neighbours.get(to);
    this.clock.setTimeout(() => {
      if (!target || target.neighbours.get(from.nodeId) !== from || !target.links.get(from.nodeId)?.connected) return;
      target.handlers.get(msgType)?.({ msgType, senderId: from.nodeId, senderPublicKey: from.id.ed25519Public, payload: s.payload, hopCount, messageId: `m${this.sent.length}`, fromPeer: from.nodeId });
    }, this.latencyMs);
    return true;
  }

  private handle(of: FakeNode, other: FakeNode): PeerHandle & { connected: boolean } {
    return {
      nodeId: other.nodeId,
      ed25519PublicKey: other.id.ed25519Public,
      version: other.isHypha ? 'hypha/0.1.0' : '0.1.0',
      tags: [],
      listenAddr: '',
      reachable: false,
      direction: 'outbound',
      remoteAddress: 'fake',
      isHypha: other.isHypha,
      connectedAtMs: this.clock.now(),
      linkId: 0,
      connected: true,
      stats: () => ({ txBytes: 0, rxBytes: 0, txMessages: 0, rxMessages: 0, dropped: 0, lastRxMs: 0, lastTxMs: 0 }),
    };
  }

  connect(a: FakeNode, b: FakeNode): void {
    const ha = this.handle(a, b);
    const hb = this.handle(b, a);
    a.links.set(b.nodeId, ha);
    b.links.set(a.nodeId, hb);
    a.neighbours.set(b.nodeId, b);
    b.neighbours.set(a.nodeId, a);
    for (const fn of a.listeners.connected) fn(ha, '');
    for (const fn of b.listeners.connected) fn(hb, '');
  }

  disconnect(a: FakeNode, b: FakeNode): void {
    const ha = a.links.get(b.nodeId);
    const hb = b.links.get(a.nodeId);
    a.links.delete(b.nodeId);
    b.links.delete(a.nodeId);
    a.neighbours.delete(b.nodeId);
    b.neighbours.delete(a.nodeId);
    if (ha) {
      ha.connected = false;
      for (const fn of a.listeners.disconnected) fn(ha, 'test');
    }
    if (hb) {
      hb.connected = false;
      for (const fn of b.listeners.disconnected) fn(hb, 'test');
    }
  }

  /** Waits (virtual time) until every node is idle and the given nodes hold the same versions. */
  async settle(nodes: FakeNode[] = this.nodes, maxMs = 120_000): Promise<number> {
    return this.clock.runUntil(() => {
      const d = nodes[0].state.rootDigest();
      return nodes.every((n) => n.state.syncIdle && n.state.rootDigest().fingerprint === d.fingerprint && n.state.rootDigest().count === d.count);
    }, maxMs, 50);
  }

  bytes(filter: (s: Sent) => boolean = () => true): number {
    return this.sent.filter(filter).reduce((a, s) => a + s.payload.length, 0);
  }

  async stop(): Promise<void> {
    for (const n of this.nodes) await n.state.stop();
  }
}
