// Whole Hypha nodes in one process on a VirtualClock: a peer manager on in-memory native links
// (Noise-authenticated keys, as MemoryNetwork simulates them), an Overlay with an in-memory TUN, and the
// bridge that runs the overlay over native links. Mycelium links are in-memory wires attached to the
// overlays. Every node answers pings (a tiny echo protocol inside IPv6/UDP), so tests and benchmarks
// can measure reachability and outages the way `ping -6` would.
import { createHash } from 'node:crypto';
import { VirtualClock } from '../../src/base/clock.ts';
import { captureLogger, type CapturedLog } from '../../src/base/log.ts';
import { identityFromSeed, type NodeIdentity } from '../../src/identity/identity.ts';
import { MemoryWire } from '../../src/link/memory.ts';
import { MemoryDevice } from '../../src/dataplane/memory-device.ts';
import { GossipEngine } from '../../src/gossip/engine.ts';
import { NativeOverlayBridge } from '../../src/dataplane/native-bridge.ts';
import { Overlay } from '../../src/dataplane/overlay.ts';
import { MemoryPeerStore, PeerManager, type PeerManagerOptions } from '../../src/peers/index.ts';
import type { TimerProfile } from '../../src/router/neighbour.ts';
import { ipv6Packet } from './ipv6.ts';
import { MemoryNetwork } from './memory-links.ts';

const PING = 1;
const PONG = 2;
const ECHO_PORT_BYTES = 5;

export interface OneNetNode {
  readonly name: string;
  readonly id: NodeIdentity;
  readonly pm: PeerManager;
  readonly overlay: Overlay;
  readonly device: MemoryDevice;
  /** Absent when the node runs no overlay on native links. */
  readonly bridge: NativeOverlayBridge | undefined;
  /** Present when asked for (chat and other gossip). */
  readonly gossip: GossipEngine | undefined;
  readonly log: CapturedLog;
  readonly address: Uint8Array;
  /** Pong arrival times by sequence number. */
  readonly pongs: Map<number, number>;
  /** Ping send times by sequence number. */
  readonly pings: Map<number, number>;
}

export interface OneNetNodeOptions {
  /** Run the overlay over native links (start the bridge). Default true. */
  native?: boolean;
  /** Timers for native neighbours (default NATIVE_TIMERS). */
  nativeTimers?: TimerProfile;
  /** Run a gossip engine on the peer manager. */
  gossip?: boolean;
  /** Extra peer-manager options. */
  peers?: Partial<PeerManagerOptions>;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
}

export interface OneNetOptions {
  /** One-way latency of every link unless given per link (default 5 ms). */
  latencyMs?: number;
}

function seedOf(name: string): Uint8Array {
  return new Uint8Array(createHash('sha256').update(`hypha onenet ${name}`).digest());
}

export class OneNet {
  readonly clock = new VirtualClock(0);
  readonly net = new MemoryNetwork(this.clock);
  readonly nodes = new Map<string, OneNetNode>();
  readonly myceliumWires = new Map<string, MemoryWire>();
  private readonly latencies = new Map<string, number>();
  private readonly defaultLatencyMs: number;

  constructor(opts: OneNetOptions = {}) {
    this.defaultLatencyMs = opts.latencyMs ?? 5;
    this.net.latency = (from, to) => this.latencies.get(`${from}|${to}`) ?? this.defaultLatencyMs;
  }

  node(name: string): OneNetNode {
    const n = this.nodes.get(name);
    if (n === undefined) throw new Error(`no node ${name}`);
    return n;
  }

  async add(name: string, opts: OneNetNodeOptions = {}): Promise<OneNetNode> {
    const id = identityFromSeed(seedOf(name));
    const log = captureLogger(opts.logLevel ?? 'info');
    const pm = new PeerManager({
      identity: id,
      clock: this.clock,
      logger: log.logger,
      version: '0.0.0-test',
      links: this.net.factory(name, id.x25519Public),
      store: new MemoryPeerStore(),
      random: () => 0.5,
      listen: '127.0.0.1:0',
      // Links are made by the test only: no discovery dials.
      maxDialsPerTick: 0,
      ...opts.peers,
    });
    const pongs = new Map<number, number>();
    const pings = new Map<number, number>();
    const device = new MemoryDevice({
      name: `mem-${name}`,
      maxWritten: 1_000,
      onWrite: (p) => {
        if (p.length !== 40 + ECHO_PORT_BYTES) return;
        const seq = new DataView(p.buffer, p.byteOffset + 41, 4).getUint32(0);
        if (p[40] === PING) {
          const reply = echo(PONG, seq);
          const [src, dst] = [p.slice(8, 24), p.slice(24, 40)];
          // Answer after the write returns, as a kernel would.
          this.clock.setTimeout(() => device.inject(ipv6Packet(dst, src, 64, reply)), 0);
        } else if (p[40] === PONG && !pongs.has(seq)) {
          pongs.set(seq, this.clock.now());
        }
      },
    });
    const overlay = new Overlay({
      clock: this.clock,
      logger: log.logger,
      x25519Private: id.x25519PrivateKey,
      x25519Public: id.x25519Public,
      device,
      routerIdTail: seedOf(name).subarray(0, 6),
    });
    const bridge =
      opts.native === false
        ? undefined
        : new NativeOverlayBridge({ peers: pm, overlay, clock: this.clock, logger: log.logger, timers: opts.nativeTimers });
    const gossip = opts.gossip === true ? new GossipEngine({ identity: id, peers: pm, clock: this.clock, logger: log.logger }) : undefined;
    await pm.start();
    bridge?.start();
    gossip?.start();
    const node: OneNetNode = { name, id, pm, overlay, device, bridge, gossip, log, address: overlay.router.address, pongs, pings };
    this.nodes.set(name, node);
    return node;
  }

  /** `a` dials `b` over a native link and both finish the hello. */
  async native(a: string, b: string, latencyMs?: number): Promise<MemoryWire> {
    const na = this.node(a);
    const nb = this.node(b);
    const addr = nb.pm.listenAddress;
    if (addr === undefined) throw new Error(`${b} does not listen`);
    if (latencyMs !== undefined) this.latencies.set(`${a}|${addr}`, latencyMs);
    const res = na.pm.connect(addr);
    await this.clock.runUntil(() => na.pm.peer(nb.id.nodeId) !== undefined && nb.pm.peer(na.id.nodeId) !== undefined, 10_000);
    const r = await res;
    if (!r.ok) throw new Error(`native ${a}-${b}: ${r.error.message}`);
    return this.nativeWire(a, b);
  }

  nativeWire(a: string, b: string): MemoryWire {
    const addrB = this.node(b).pm.listenAddress!;
    const addrA = this.node(a).pm.listenAddress!;
    const w = this.net.wireBetween(a, addrB) ?? this.net.wireBetween(b, addrA);
    if (w === undefined) throw new Error(`no native wire ${a}-${b}`);
    return w;
  }

  /** A Mycelium link between the two overlays. */
  mycelium(a: string, b: string, latencyMs = this.defaultLatencyMs): MemoryWire {
    const w = new MemoryWire(this.clock, { protocol: 'mycelium', latencyMs, nameA: a, nameB: b });
    this.node(a).overlay.attachLink(w.a);
    this.node(b).overlay.attachLink(w.b);
    this.myceliumWires.set(`${a}-${b}`, w);
    return w;
  }

  myceliumWire(a: string, b: string): MemoryWire {
    const w = this.myceliumWires.get(`${a}-${b}`) ?? this.myceliumWires.get(`${b}-${a}`);
    if (w === undefined) throw new Error(`no Mycelium wire ${a}-${b}`);
    return w;
  }

  /** `from` sends ping `seq` to `to`'s overlay address. */
  ping(from: string, to: string, seq: number): void {
    const f = this.node(from);
    f.pings.set(seq, this.clock.now());
    f.device.inject(ipv6Packet(f.address, this.node(to).address, 64, echo(PING, seq)));
  }

  /** Pings every `intervalMs` until `pred` holds or `limitMs` passes; true if it held. */
  async pingUntil(from: string, to: string, pred: () => boolean, limitMs = 60_000, intervalMs = 100): Promise<boolean> {
    const end = this.clock.now() + limitMs;
    let seq = 1_000_000 + this.node(from).pings.size;
    while (this.clock.now() < end) {
      if (pred()) return true;
      this.ping(from, to, seq++);
      await this.clock.advance(intervalMs);
    }
    return pred();
  }

  async stop(): Promise<void> {
    for (const n of this.nodes.values()) {
      n.gossip?.stop();
      n.bridge?.stop();
      n.overlay.stop();
    }
    for (const w of this.myceliumWires.values()) w.close('test over');
    for (const n of this.nodes.values()) await n.pm.stop();
  }
}

function echo(kind: number, seq: number): Uint8Array {
  const b = new Uint8Array(ECHO_PORT_BYTES);
  b[0] = kind;
  new DataView(b.buffer).setUint32(1, seq);
  return b;
}
