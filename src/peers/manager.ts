// The peer manager: owns every native link of the node. It listens and dials, runs the hello
// exchange with Micelio's identity checks, rejects duplicates and enforces max_peers, keeps links
// alive, exchanges peer lists, discovers and dials new peers, redials bootstrap addresses, and hands
// every envelope it does not consume itself up to the gossip layer.
import type { KeyObject } from 'node:crypto';
import { create } from '@bufbuild/protobuf';
import type { Clock, Timer } from '../base/clock.ts';
import type { Logger } from '../base/log.ts';
import { BoundedMap } from '../base/bounded-map.ts';
import { err, ok, type Result } from '../base/result.ts';
import type { NodeIdentity } from '../identity/identity.ts';
import { ed25519PublicKeyObject } from '../crypto/ed25519.ts';
import { formatHostPort, isWildcardHost, parseHostPort } from '../link/endpoint.ts';
import type { Link, LinkDirection, LinkError, LinkFactory, LinkListener, LinkStats } from '../link/link.ts';
import { NativeTcpTransport } from '../link/native-tcp.ts';
import { PeerExchangeSchema, PeerInfoSchema, type Envelope, type PeerInfo } from '../wire/gen/micelio_pb.ts';
import { decodeMessage, encodeMessage } from '../wire/micelio/codec.ts';
import { KEEPALIVE_ENVELOPE_BYTES, MsgType, decodeEnvelope, encodeEnvelope } from '../wire/micelio/envelope.ts';
import { encodeOverlayEnvelope, isOverlayMsgType, peekOverlayEnvelope, type OverlayMsgType } from '../wire/micelio/overlay.ts';
import { Emitter } from './events.ts';
import { buildHello, verifyHello, type VerifiedHello } from './hello.ts';
import { MemoryPeerStore, type PeerRecord, type PeerStore } from './store.ts';
import { PX_RESEND_LAST_SEEN_ADVANCE_S, PeerTable } from './table.ts';

export { PX_RESEND_LAST_SEEN_ADVANCE_S };
import { newEnvelope, verifyEnvelope } from '../crypto/envelope.ts';

/** Every PeerHello `version` a Hypha node sends starts with this. */
export const HYPHA_VERSION_PREFIX = 'hypha/';

export const DEFAULT_MAX_PEERS = 15;
export const DEFAULT_HELLO_TIMEOUT_MS = 10_000;
export const DEFAULT_KEEPALIVE_INTERVAL_MS = 20_000;
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
export const DEFAULT_EXCHANGE_INTERVAL_MS = 30_000;
/**
 * After the full list a peer gets on connect, the periodic exchange to it carries only entries new to
 * it or changed since we last sent them; every this long it gets the full list again, so an entry it
 * dropped (its table was full, say) while ours did not change still reaches it in the end.
 */
export const DEFAULT_FULL_EXCHANGE_INTERVAL_MS = 6 * 3600_000;
export const DEFAULT_DISCOVERY_INTERVAL_MS = 10_000;
export const DEFAULT_MAX_DIALS_PER_TICK = 3;
export const DEFAULT_DIAL_JITTER_MS = 2_000;
export const DEFAULT_DISCOVERY_BACKOFF_MAX_MS = 30_000;
export const DEFAULT_BOOTSTRAP_BACKOFF_MIN_MS = 1_000;
export const DEFAULT_BOOTSTRAP_BACKOFF_MAX_MS = 30_000;
export const DEFAULT_REDIAL_DELAY_MS = 2_000;
export const DEFAULT_PX_DEDUP_TTL_MS = 5 * 60_000;
export const DEFAULT_PX_DEDUP_ENTRIES = 1024;
export const DEFAULT_PEER_TTL_MS = 7 * 24 * 3600_000;
export const DEFAULT_MAX_KNOWN_PEERS = 1000;
export const DEFAULT_MAX_EXCHANGE_ENTRIES = 500;
export const DEFAULT_MAX_PENDING_HELLOS = 64;
export const DEFAULT_CLEANUP_INTERVAL_MS = 60_000;
/** Hello fields kept from a peer are truncated to these sizes (they are shown, never trusted). */
const MAX_KEPT_TAGS = 32;
const MAX_KEPT_STRING_CHARS = 128;

export interface PeerManagerOptions {
  identity: NodeIdentity;
  clock: Clock;
  logger: Logger;
  /** Hypha's semver; the hello says `hypha/<version>`. */
  version: string;
  tags?: readonly string[];
  /** `host:port` to accept native links on; absent or '' = outbound only. Port 0 picks one. */
  listen?: string;
  /** Address other peers should dial; default: the bound listen address unless its host is a wildcard. */
  advertiseAddr?: string;
  bootstrap?: readonly string[];
  /** Connected peers allowed, both directions; 0 = unlimited. Default 15. */
  maxPeers?: number;
  store?: PeerStore;
  /** Link maker; default a NativeTcpTransport built from the timing options below. */
  links?: LinkFactory;
  /** Randomness for jitter and shuffling (tests pin it). */
  random?: () => number;

  helloTimeoutMs?: number;
  keepaliveIntervalMs?: number;
  idleTimeoutMs?: number;
  exchangeIntervalMs?: number;
  /** How often each peer gets the full peer list again rather than the changes (default 6 h). */
  fullExchangeIntervalMs?: number;
  discoveryIntervalMs?: number;
  maxDialsPerTick?: number;
  dialJitterMs?: number;
  discoveryBackoffMaxMs?: number;
  bootstrapBackoffMinMs?: number;
  bootstrapBackoffMaxMs?: number;
  /** Least wait before redialling a bootstrap address whose connection dropped (Micelio: none). */
  redialDelayMs?: number;
  pxDedupTtlMs?: number;
  pxDedupEntries?: number;
  /** Known peers unseen this long are forgotten (Micelio: never). */
  peerTtlMs?: number;
  maxKnownPeers?: number;
  /** Most entries sent in, and read from, one PeerExchange. */
  maxExchangeEntries?: number;
  maxPendingHellos?: number;
  cleanupIntervalMs?: number;
  /** Passed to the default TCP link factory. */
  handshakeTimeoutMs?: number;
  dialTimeoutMs?: number;
  writeTimeoutMs?: number;
  sendQueueMessages?: number;
  maxPendingHandshakes?: number;
}

/** A connected peer as upper layers see it. The object stays valid (with connected = false) after it goes. */
export interface PeerHandle {
  readonly nodeId: string;
  readonly ed25519PublicKey: Uint8Array;
  /** The hello's version string (`hypha/x.y.z` or Micelio's `0.1.0`), truncated to 128 characters. */
  readonly version: string;
  readonly tags: readonly string[];
  /** The address the peer advertised ('' when it is not reachable). */
  readonly listenAddr: string;
  readonly reachable: boolean;
  readonly direction: LinkDirection;
  readonly remoteAddress: string;
  /** Both ends are Hypha: the link may carry Hypha-only message types. */
  readonly isHypha: boolean;
  readonly connectedAtMs: number;
  readonly linkId: number;
  readonly connected: boolean;
  stats(): LinkStats;
}

export type KeyTrust = 'direct' | 'gossip';

/** A (node id → Ed25519 key) binding for the gossip keyring. */
export interface LearnedKey {
  nodeId: string;
  publicKey: Uint8Array;
  /** 'direct': proven by a hello over Noise; 'gossip': read from a PeerExchange entry. */
  trust: KeyTrust;
  /** The peer that told us (the peer itself for 'direct'). */
  via: string;
}

export interface PeerManagerEvents {
  connected: [peer: PeerHandle];
  disconnected: [peer: PeerHandle, reason: string];
  /** Every envelope of a msg_type other than 1, 2, 4, 5, 90 and 91, with the peer it came from. */
  envelope: [from: PeerHandle, envelope: Envelope];
  /**
   * One overlay packet (msg_type 90 control, 91 data) from a Hypha peer; `packet` is the envelope's
   * payload, a Mycelium packet. Never emitted for a peer that is not Hypha.
   */
  overlay: [from: PeerHandle, msgType: OverlayMsgType, packet: Uint8Array];
  key: [key: LearnedKey];
}

export interface PeerManagerStats {
  connected: number;
  pendingHellos: number;
  knownPeers: number;
  dials: number;
  dialFailures: number;
  helloFailures: number;
  rejectedDuplicate: number;
  rejectedMaxPeers: number;
  refusedInbound: number;
  malformedEnvelopes: number;
  /** Overlay envelopes (90, 91) from a peer that is not Hypha: dropped. */
  overlayFromNonHypha: number;
  /** Overlay envelopes from a Hypha peer while nothing handles the overlay (it is disabled): dropped. */
  overlayUnhandled: number;
  peerExchangesReceived: number;
  peerExchangesDeduped: number;
  /** PeerExchanges sent, and the entries they carried (a periodic exchange carries only changes). */
  peerExchangesSent: number;
  peerExchangeEntriesSent: number;
  peersEvictedFull: number;
  peersEvictedExpired: number;
}

type Resolved = Required<Omit<PeerManagerOptions, 'listen' | 'advertiseAddr' | 'links' | 'store'>> & {
  listen: string;
  advertiseAddr: string;
};

function resolve(o: PeerManagerOptions): Resolved {
  return {
    identity: o.identity,
    clock: o.clock,
    logger: o.logger,
    version: o.version,
    tags: o.tags ?? [],
    listen: o.listen ?? '',
    advertiseAddr: o.advertiseAddr ?? '',
    bootstrap: o.bootstrap ?? [],
    maxPeers: o.maxPeers ?? DEFAULT_MAX_PEERS,
    random: o.random ?? Math.random,
    helloTimeoutMs: o.helloTimeoutMs ?? DEFAULT_HELLO_TIMEOUT_MS,
    keepaliveIntervalMs: o.keepaliveIntervalMs ?? DEFAULT_KEEPALIVE_INTERVAL_MS,
    idleTimeoutMs: o.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
    exchangeIntervalMs: o.exchangeIntervalMs || DEFAULT_EXCHANGE_INTERVAL_MS,
    fullExchangeIntervalMs: o.fullExchangeIntervalMs || DEFAULT_FULL_EXCHANGE_INTERVAL_MS,
    discoveryIntervalMs: o.discoveryIntervalMs || DEFAULT_DISCOVERY_INTERVAL_MS,
    maxDialsPerTick: o.maxDialsPerTick ?? DEFAULT_MAX_DIALS_PER_TICK,
    dialJitterMs: o.dialJitterMs ?? DEFAULT_DIAL_JITTER_MS,
    discoveryBackoffMaxMs: o.discoveryBackoffMaxMs ?? DEFAULT_DISCOVERY_BACKOFF_MAX_MS,
    bootstrapBackoffMinMs: o.bootstrapBackoffMinMs ?? DEFAULT_BOOTSTRAP_BACKOFF_MIN_MS,
    bootstrapBackoffMaxMs: o.bootstrapBackoffMaxMs ?? DEFAULT_BOOTSTRAP_BACKOFF_MAX_MS,
    redialDelayMs: o.redialDelayMs ?? DEFAULT_REDIAL_DELAY_MS,
    pxDedupTtlMs: o.pxDedupTtlMs ?? DEFAULT_PX_DEDUP_TTL_MS,
    pxDedupEntries: o.pxDedupEntries ?? DEFAULT_PX_DEDUP_ENTRIES,
    peerTtlMs: o.peerTtlMs ?? DEFAULT_PEER_TTL_MS,
    maxKnownPeers: o.maxKnownPeers ?? DEFAULT_MAX_KNOWN_PEERS,
    maxExchangeEntries: o.maxExchangeEntries ?? DEFAULT_MAX_EXCHANGE_ENTRIES,
    maxPendingHellos: o.maxPendingHellos ?? DEFAULT_MAX_PENDING_HELLOS,
    cleanupIntervalMs: o.cleanupIntervalMs ?? DEFAULT_CLEANUP_INTERVAL_MS,
    handshakeTimeoutMs: o.handshakeTimeoutMs ?? 10_000,
    dialTimeoutMs: o.dialTimeoutMs ?? 10_000,
    writeTimeoutMs: o.writeTimeoutMs ?? 10_000,
    sendQueueMessages: o.sendQueueMessages ?? 64,
    maxPendingHandshakes: o.maxPendingHandshakes ?? 64,
  };
}

/** A link between its handshake and the end of the hello exchange. */
interface PendingConn {
  link: Link;
  timer: Timer;
  done: boolean;
  /** Resolves a dial waiting for this connection. */
  settle: ((r: Result<PeerHandle, LinkError>) => void) | undefined;
  peer: Peer | undefined;
}

class Peer implements PeerHandle {
  readonly nodeId: string;
  readonly ed25519PublicKey: Uint8Array;
  readonly version: string;
  readonly tags: readonly string[];
  readonly listenAddr: string;
  readonly reachable: boolean;
  readonly direction: LinkDirection;
  readonly remoteAddress: string;
  readonly isHypha: boolean;
  readonly connectedAtMs: number;
  readonly linkId: number;
  readonly link: Link;
  readonly pxSeen: BoundedMap<string, number>;
  /** The hello key parsed for node:crypto (≈100 µs), once: every peer exchange is checked with it. */
  private parsedKey: KeyObject | undefined;
  /** What our exchanges told this peer: the table's change cursor they reached (see PeerTable.exchangeDelta). */
  pxCursor = 0;
  /** Our own entry as last sent to it (address, last_seen in unix s). */
  pxSelf: { addr: string; lastSeenS: number } | undefined;
  /** When this peer last got the full list (clock ms); -Infinity = never. */
  pxFullAtMs = -Infinity;
  keepalive: Timer | undefined;
  connected = true;
  /** Set when we close the link ourselves, so the disconnect is logged at the right level. */
  closeLevel: 'info' | 'warn' | undefined;
  readonly disconnectWaiters: (() => void)[] = [];

  constructor(hello: VerifiedHello, link: Link, nowMs: number, pxDedupEntries: number) {
    this.nodeId = hello.nodeId;
    this.ed25519PublicKey = hello.ed25519PublicKey;
    this.version = hello.version.slice(0, MAX_KEPT_STRING_CHARS);
    this.tags = hello.tags.slice(0, MAX_KEPT_TAGS).map((t) => t.slice(0, MAX_KEPT_STRING_CHARS));
    this.listenAddr = hello.listenAddr.slice(0, MAX_KEPT_STRING_CHARS);
    this.reachable = hello.reachable;
    this.direction = link.direction;
    this.remoteAddress = link.remoteAddress;
    this.isHypha = this.version.startsWith(HYPHA_VERSION_PREFIX);
    this.connectedAtMs = nowMs;
    this.linkId = link.id;
    this.link = link;
    this.pxSeen = new BoundedMap(pxDedupEntries);
  }

  stats(): LinkStats {
    return this.link.stats();
  }

  get keyObject(): KeyObject {
    this.parsedKey ??= ed25519PublicKeyObject(this.ed25519PublicKey);
    return this.parsedKey;
  }

  /** Sends one envelope; any real send postpones the keepalive. */
  send(bytes: Uint8Array): boolean {
    const sent = this.link.send(bytes);
    this.keepalive?.reset();
    return sent;
  }
}

function short(nodeId: string): string {
  return nodeId.slice(0, 12);
}

/** Link-reported reasons that are a normal end of a connection, logged at INFO rather than WARN. */
function isOrderlyClose(reason: string): boolean {
  return /^(remote closed|connection closed)/.test(reason);
}

export class PeerManager {
  readonly nodeId: string;
  private readonly o: Resolved;
  private readonly id: NodeIdentity;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly links: LinkFactory;
  private readonly store: PeerStore;
  private readonly table: PeerTable;
  private readonly events: Emitter<PeerManagerEvents>;
  private readonly helloVersion: string;
  private readonly connected = new Map<string, Peer>();
  private readonly pending = new Set<PendingConn>();
  private readonly dialingIds = new Set<string>();
  private readonly dialingAddrs = new Set<string>();
  private readonly bootstrapAddrs: Set<string>;
  private readonly writes = new Set<Promise<void>>();
  private readonly waits = new Set<{ timer: Timer; resolve: () => void }>();
  private readonly timers: Timer[] = [];
  private readonly loops: Promise<void>[] = [];
  private listener: LinkListener | undefined;
  private advertise = '';
  private started = false;
  private stopped = false;
  private readonly counters = {
    dials: 0,
    dialFailures: 0,
    helloFailures: 0,
    rejectedDuplicate: 0,
    rejectedMaxPeers: 0,
    refusedInbound: 0,
    malformedEnvelopes: 0,
    overlayFromNonHypha: 0,
    overlayUnhandled: 0,
    peerExchangesReceived: 0,
    peerExchangesDeduped: 0,
    peerExchangesSent: 0,
    peerExchangeEntriesSent: 0,
  };

  constructor(opts: PeerManagerOptions) {
    this.o = resolve(opts);
    this.id = opts.identity;
    this.nodeId = opts.identity.nodeId;
    this.clock = opts.clock;
    this.log = opts.logger.child({ component: 'peers' });
    this.events = new Emitter(this.log);
    this.helloVersion = opts.version.startsWith(HYPHA_VERSION_PREFIX) ? opts.version : HYPHA_VERSION_PREFIX + opts.version;
    this.store = opts.store ?? new MemoryPeerStore();
    this.links =
      opts.links ??
      new NativeTcpTransport({
        clock: opts.clock,
        logger: opts.logger,
        staticKey: { privateKey: opts.identity.x25519PrivateKey, publicKey: opts.identity.x25519Public },
        handshakeTimeoutMs: this.o.handshakeTimeoutMs,
        dialTimeoutMs: this.o.dialTimeoutMs,
        writeTimeoutMs: this.o.writeTimeoutMs,
        sendQueueMessages: this.o.sendQueueMessages,
        maxPendingHandshakes: this.o.maxPendingHandshakes,
      });
    this.bootstrapAddrs = new Set(this.o.bootstrap);
    this.table = new PeerTable({
      selfId: this.nodeId,
      clock: this.clock,
      logger: this.log,
      store: this.store,
      maxEntries: this.o.maxKnownPeers,
      ttlMs: this.o.peerTtlMs,
      isConnected: (id) => this.connected.has(id),
      track: (p) => this.track(p),
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Public API

  on<K extends keyof PeerManagerEvents>(event: K, fn: (...args: PeerManagerEvents[K]) => void): () => void {
    return this.events.on(event, fn);
  }

  /** Loads the peer table, starts listening (if configured), then peer exchange, discovery and bootstrap. */
  async start(): Promise<void> {
    if (this.started) throw new Error('PeerManager already started');
    this.started = true;
    const loaded = await this.store.loadAll();
    const kept = this.table.load(loaded);
    this.log.info({ kept, stored: loaded.length }, 'peer table loaded');
    if (this.o.listen !== '') {
      const l = await this.links.listen(this.o.listen, {
        preCheck: (remote) => this.preCheck(remote),
        onLink: (link) => this.adopt(link, undefined),
      });
      if (!l.ok) {
        this.stopped = true;
        throw new Error(l.error.message);
      }
      this.listener = l.value;
    }
    this.advertise = this.computeAdvertise();
    this.log.info(
      { nodeId: this.nodeId, listen: this.listener?.address ?? '', advertise: this.advertise, version: this.helloVersion, maxPeers: this.o.maxPeers },
      'peer manager started',
    );
    this.timers.push(this.clock.setInterval(() => this.exchangeTick(), this.o.exchangeIntervalMs));
    this.timers.push(this.clock.setInterval(() => this.discoveryTick(), this.o.discoveryIntervalMs));
    this.timers.push(this.clock.setInterval(() => this.cleanupTick(), this.o.cleanupIntervalMs));
    // A restarted node dials the peers it remembers at once instead of after a whole interval.
    this.timers.push(this.clock.setTimeout(() => this.discoveryTick(), 0));
    for (const addr of this.bootstrapAddrs) this.loops.push(this.bootstrapLoop(addr));
  }

  /** Closes every link and listener, waits for bootstrap loops and for the peer table to be written. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    for (const t of this.timers) t.cancel();
    for (const w of [...this.waits]) {
      w.timer.cancel();
      w.resolve();
    }
    this.waits.clear();
    for (const p of [...this.pending]) this.failPending(p, 'shutting down', 'info');
    for (const peer of [...this.connected.values()]) {
      this.table.touch(peer.nodeId);
      this.closePeer(peer, 'shutting down', 'info');
    }
    // A TCP server reports closed only once its connections are gone: links first, then the factory
    // (which aborts dials and handshakes in progress), then the listener.
    await this.links.close();
    await this.listener?.close();
    await Promise.all(this.loops);
    await this.flush();
    this.log.info({}, 'peer manager stopped');
  }

  /** Waits for every store write issued so far. */
  async flush(): Promise<void> {
    while (this.writes.size > 0) await Promise.all([...this.writes]);
  }

  /** The bound listen address, if listening. */
  get listenAddress(): string | undefined {
    return this.listener?.address;
  }

  /** The address put in hellos and peer exchanges ('' = outbound only / not reachable). */
  get advertiseAddress(): string {
    return this.advertise;
  }

  /** The version string this node sends in its hello. */
  get version(): string {
    return this.helloVersion;
  }

  get connectedCount(): number {
    return this.connected.size;
  }

  peers(): PeerHandle[] {
    return [...this.connected.values()];
  }

  peer(nodeId: string): PeerHandle | undefined {
    return this.connected.get(nodeId);
  }

  knownPeers(): PeerRecord[] {
    return this.table.all().map((r) => ({ ...r }));
  }

  /** Sends one envelope (or its encoded bytes) to a connected peer; false if not connected or its queue is full. */
  send(nodeId: string, envelope: Envelope | Uint8Array): boolean {
    const peer = this.connected.get(nodeId);
    if (!peer) return false;
    const ok = peer.send(envelope instanceof Uint8Array ? envelope : encodeEnvelope(envelope));
    if (!ok) this.log.warn({ peer: short(nodeId), reason: 'send buffer full' }, 'message dropped');
    return ok;
  }

  /**
   * Sends one overlay packet (msg_type 90 or 91, unsigned, hop 1) to a connected Hypha peer. Refused
   * (false) for a peer that is not Hypha, so a Micelio node never receives one whatever the caller does.
   */
  sendOverlay(peer: PeerHandle, msgType: OverlayMsgType, packet: Uint8Array): boolean {
    const p = this.connected.get(peer.nodeId);
    if (p !== peer || !p.isHypha) return false;
    return p.send(encodeOverlayEnvelope(msgType, packet));
  }

  /** Sends to every connected peer except `except`; returns how many accepted it out of how many tried. */
  broadcast(envelope: Envelope | Uint8Array, except?: string): { sent: number; total: number } {
    const bytes = envelope instanceof Uint8Array ? envelope : encodeEnvelope(envelope);
    let sent = 0;
    let total = 0;
    for (const peer of this.connected.values()) {
      if (peer.nodeId === except) continue;
      total++;
      if (peer.send(bytes)) sent++;
    }
    if (sent < total) this.log.warn({ sent, total, reason: 'send buffer full' }, 'partial broadcast delivery');
    return { sent, total };
  }

  /** Closes the link to a peer (e.g. the gossip layer caught it lying). */
  disconnect(nodeId: string, reason: string): boolean {
    const peer = this.connected.get(nodeId);
    if (!peer) return false;
    this.closePeer(peer, reason, 'warn');
    return true;
  }

  /** Dials `address` and runs the hello; resolves once the peer is connected, or with why not. */
  async connect(address: string): Promise<Result<PeerHandle, LinkError>> {
    if (this.stopped) return err('stopped', 'peer manager stopped');
    this.counters.dials++;
    this.dialingAddrs.add(address);
    try {
      const link = await this.links.dial(address);
      if (!link.ok) return link;
      if (this.stopped) {
        link.value.close('shutting down');
        return err('stopped', 'peer manager stopped');
      }
      return await new Promise<Result<PeerHandle, LinkError>>((res) => this.adopt(link.value, res));
    } finally {
      this.dialingAddrs.delete(address);
    }
  }

  stats(): PeerManagerStats {
    return {
      connected: this.connected.size,
      pendingHellos: this.pending.size,
      knownPeers: this.table.size,
      ...this.counters,
      peersEvictedFull: this.table.evictedFull,
      peersEvictedExpired: this.table.evictedExpired,
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Connections

  private atMaxPeers(): boolean {
    return this.o.maxPeers > 0 && this.connected.size >= this.o.maxPeers;
  }

  private preCheck(_remote: string): string | undefined {
    let reason: string | undefined;
    if (this.stopped) reason = 'shutting down';
    else if (this.atMaxPeers()) reason = `max peers reached (${this.o.maxPeers})`;
    else if (this.pending.size >= this.o.maxPendingHellos) reason = `too many connections awaiting hello (${this.pending.size})`;
    if (reason) this.counters.refusedInbound++;
    return reason;
  }

  private computeAdvertise(): string {
    if (this.o.advertiseAddr !== '') return this.o.advertiseAddr;
    if (!this.listener) return '';
    const hp = parseHostPort(this.listener.address, true);
    if (!hp.ok || isWildcardHost(hp.value.host)) return '';
    return formatHostPort(hp.value.host, hp.value.port);
  }

  private helloBytes(type: typeof MsgType.PeerHello | typeof MsgType.PeerHelloAck): Uint8Array {
    return buildHello(this.id, { version: this.helloVersion, tags: this.o.tags, listenAddr: this.advertise }, type);
  }

  /** Takes ownership of a link that finished its handshake and runs the hello exchange on it. */
  private adopt(link: Link, settle: ((r: Result<PeerHandle, LinkError>) => void) | undefined): void {
    if (this.stopped) {
      link.close('shutting down');
      settle?.(err('stopped', 'peer manager stopped'));
      return;
    }
    const p: PendingConn = {
      link,
      done: false,
      settle,
      peer: undefined,
      timer: this.clock.setTimeout(() => this.failPending(p, `hello timeout (${this.o.helloTimeoutMs} ms)`, 'warn'), this.o.helloTimeoutMs),
    };
    this.pending.add(p);
    link.attach({
      onMessage: (m) => (p.peer ? this.onPeerMessage(p.peer, m) : this.onHelloMessage(p, m)),
      onClose: (reason) => (p.peer ? this.onPeerClosed(p.peer, reason) : this.failPending(p, `connection closed before hello: ${reason}`, 'warn')),
    });
    if (link.direction === 'outbound' && !link.closed) link.send(this.helloBytes(MsgType.PeerHello));
  }

  private failPending(p: PendingConn, reason: string, level: 'info' | 'warn'): void {
    if (p.done) return;
    p.done = true;
    p.timer.cancel();
    this.pending.delete(p);
    if (level === 'warn') this.counters.helloFailures++;
    this.log[level]({ remote: p.link.remoteAddress, direction: p.link.direction, reason }, 'closing connection');
    p.link.close(reason);
    p.settle?.(err('hello-failed', reason));
  }

  private onHelloMessage(p: PendingConn, msg: Uint8Array): void {
    if (p.done) return;
    const outbound = p.link.direction === 'outbound';
    const hello = verifyHello(msg, outbound ? MsgType.PeerHelloAck : MsgType.PeerHello, p.link.remoteStatic);
    if (!hello.ok) {
      this.failPending(p, hello.error.message, 'warn');
      return;
    }
    // The responder answers only once the initiator's hello checked out (Micelio's order).
    if (!outbound) p.link.send(this.helloBytes(MsgType.PeerHelloAck));
    this.addPeer(p, hello.value);
  }

  private addPeer(p: PendingConn, hello: VerifiedHello): void {
    let refusal: string | undefined;
    const existing = this.connected.get(hello.nodeId);
    if (hello.nodeId === this.nodeId) refusal = 'connection to self';
    else if (existing && this.keepsNewer(existing, p.link, hello)) {
      this.counters.rejectedDuplicate++;
      this.closePeer(existing, 'replaced by the connection both Hypha ends keep (simultaneous dial)', 'info');
    } else if (existing) {
      refusal = `duplicate connection to ${short(hello.nodeId)} (the newer one loses)`;
      this.counters.rejectedDuplicate++;
    } else if (this.atMaxPeers()) {
      refusal = `max peers reached (${this.o.maxPeers})`;
      this.counters.rejectedMaxPeers++;
    }
    if (refusal) {
      this.failPending(p, refusal, 'info');
      return;
    }
    p.done = true;
    p.timer.cancel();
    this.pending.delete(p);
    const peer = new Peer(hello, p.link, this.clock.now(), this.o.pxDedupEntries);
    p.peer = peer;
    this.connected.set(peer.nodeId, peer);
    p.link.setIdleTimeout(this.o.idleTimeoutMs);
    peer.keepalive = this.clock.setTimeout(() => this.sendKeepalive(peer), this.o.keepaliveIntervalMs);
    this.table.upsertConnected(peer.nodeId, hello.reachable ? hello.listenAddr : '', hello.reachable, hello.ed25519PublicKey);
    this.log.info(
      { peer: short(peer.nodeId), direction: peer.direction, remote: peer.remoteAddress, version: peer.version, advertised: peer.listenAddr, peers: this.connected.size },
      'peer connected',
    );
    this.events.emit('key', { nodeId: peer.nodeId, publicKey: peer.ed25519PublicKey, trust: 'direct', via: peer.nodeId });
    this.sendPeerExchange(peer);
    this.events.emit('connected', peer);
    p.settle?.(ok(peer));
  }

  /**
   * Duplicate rule. Micelio: the newer connection loses — but when two nodes dial each other at the
   * same moment, each may keep a different one and both links die (and, redialling in step, die
   * again). When both ends are Hypha they agree instead: keep the link dialled by the lower node id.
   */
  private keepsNewer(existing: Peer, link: Link, hello: VerifiedHello): boolean {
    if (!existing.isHypha || !hello.version.startsWith(HYPHA_VERSION_PREFIX) || existing.direction === link.direction) return false;
    const initiator = (dir: LinkDirection): string => (dir === 'outbound' ? this.nodeId : hello.nodeId);
    return initiator(link.direction) < initiator(existing.direction);
  }

  private sendKeepalive(peer: Peer): void {
    if (!peer.connected) return;
    peer.link.send(KEEPALIVE_ENVELOPE_BYTES);
    peer.keepalive?.reset();
  }

  private closePeer(peer: Peer, reason: string, level: 'info' | 'warn'): void {
    if (!peer.connected) return;
    peer.closeLevel = level;
    peer.link.close(reason);
    // A link that was already closed reports nothing more: finish the removal here.
    this.onPeerClosed(peer, reason);
  }

  private onPeerClosed(peer: Peer, reason: string): void {
    if (!peer.connected) return;
    peer.connected = false;
    peer.keepalive?.cancel();
    if (this.connected.get(peer.nodeId) === peer) this.connected.delete(peer.nodeId);
    const level = peer.closeLevel ?? (isOrderlyClose(reason) ? 'info' : 'warn');
    this.log[level]({ peer: short(peer.nodeId), remote: peer.remoteAddress, reason, peers: this.connected.size }, 'peer disconnected');
    for (const w of peer.disconnectWaiters.splice(0)) w();
    this.events.emit('disconnected', peer, reason);
  }

  private onPeerMessage(peer: Peer, msg: Uint8Array): void {
    if (!peer.connected) return;
    // Overlay packets are most of the traffic between Hypha nodes: their canonical form skips the decode.
    const fast = peekOverlayEnvelope(msg);
    if (fast !== undefined) {
      this.onOverlay(peer, fast.msgType, fast.packet);
      return;
    }
    const env = decodeEnvelope(msg);
    if (!env.ok) {
      // Micelio skips an envelope it cannot unmarshal and keeps the connection.
      this.counters.malformedEnvelopes++;
      this.log.warn({ peer: short(peer.nodeId), reason: env.error.message }, 'skipping malformed envelope');
      return;
    }
    const e = env.value;
    switch (e.msgType) {
      case MsgType.Keepalive:
        return;
      case MsgType.PeerExchange:
        this.onPeerExchange(peer, e);
        return;
      case MsgType.PeerHello:
      case MsgType.PeerHelloAck:
        return; // a second hello after the exchange means nothing
      default:
        if (isOverlayMsgType(e.msgType)) this.onOverlay(peer, e.msgType, e.payload);
        else this.events.emit('envelope', peer, e);
    }
  }

  /** Overlay packets go to the overlay, never to gossip; only a Hypha peer may send them. */
  private onOverlay(peer: Peer, msgType: OverlayMsgType, packet: Uint8Array): void {
    if (!peer.isHypha) {
      this.counters.overlayFromNonHypha++;
      return;
    }
    if (this.events.listenerCount('overlay') === 0) {
      this.counters.overlayUnhandled++;
      return;
    }
    this.events.emit('overlay', peer, msgType, packet);
  }

  // ---------------------------------------------------------------------------------------------
  // Peer exchange

  private selfInfo(): PeerInfo | undefined {
    if (this.advertise === '') return undefined;
    return create(PeerInfoSchema, {
      nodeId: this.nodeId,
      addr: this.advertise,
      reachable: true,
      ed25519Pubkey: this.id.ed25519Public,
      lastSeen: BigInt(Math.floor(this.clock.now() / 1000)),
    });
  }

  /**
   * Sends `peer` what it has not had from us: on connect and every fullExchangeIntervalMs the whole
   * list, otherwise the records that changed since its cursor (new, new address, or last_seen moved
   * by PX_RESEND_LAST_SEEN_ADVANCE_S: see PeerTable). Nothing to send → nothing is sent. At most
   * maxExchangeEntries per message; the rest go next time. Per peer this costs a few numbers, not a
   * copy of the table.
   */
  private sendPeerExchange(peer: Peer): void {
    const now = this.clock.now();
    const self = this.selfInfo();
    const full = now - peer.pxFullAtMs >= this.o.fullExchangeIntervalMs;
    let list: PeerInfo[];
    let upTo: number;
    if (full) {
      list = this.table.exchangeList(peer.nodeId, self, this.o.maxExchangeEntries);
      upTo = this.table.changeCursor;
    } else {
      const sendSelf =
        self !== undefined && (peer.pxSelf === undefined || peer.pxSelf.addr !== self.addr || Number(self.lastSeen) - peer.pxSelf.lastSeenS >= PX_RESEND_LAST_SEEN_ADVANCE_S);
      const delta = this.table.exchangeDelta(peer.nodeId, peer.pxCursor, this.o.maxExchangeEntries - (sendSelf ? 1 : 0));
      list = sendSelf ? [self, ...delta.entries] : delta.entries;
      upTo = delta.upTo;
    }
    if (list.length === 0) {
      // Nothing this peer may be told changed: nothing is sent (the keepalive keeps the link alive).
      peer.pxCursor = upTo;
      if (full) peer.pxFullAtMs = now;
      return;
    }
    const payload = encodeMessage(PeerExchangeSchema, create(PeerExchangeSchema, { peers: list }));
    const env = newEnvelope({ msgType: MsgType.PeerExchange, payload, senderId: this.nodeId, signingKey: this.id.signingKey });
    if (!peer.send(encodeEnvelope(env))) {
      // Not recorded as sent: the same entries are tried again at the next exchange.
      this.log.warn({ peer: short(peer.nodeId), reason: 'send buffer full' }, 'peer exchange dropped');
      return;
    }
    this.counters.peerExchangesSent++;
    this.counters.peerExchangeEntriesSent += list.length;
    peer.pxCursor = upTo;
    if (full) peer.pxFullAtMs = now;
    if (self && list[0] === self) peer.pxSelf = { addr: self.addr, lastSeenS: Number(self.lastSeen) };
  }

  private onPeerExchange(peer: Peer, env: Envelope): void {
    const now = this.clock.now();
    const seenUntil = peer.pxSeen.get(env.messageId);
    if (seenUntil !== undefined && seenUntil > now) {
      this.counters.peerExchangesDeduped++;
      return;
    }
    if (!verifyEnvelope(env, peer.keyObject)) {
      this.closePeer(peer, 'peer exchange signature invalid', 'warn');
      return;
    }
    if (env.senderId !== peer.nodeId) {
      this.closePeer(peer, 'peer exchange sender_id does not match the peer', 'warn');
      return;
    }
    peer.pxSeen.set(env.messageId, now + this.o.pxDedupTtlMs);
    this.counters.peerExchangesReceived++;
    const px = decodeMessage(PeerExchangeSchema, env.payload);
    if (!px.ok) {
      this.log.warn({ peer: short(peer.nodeId), reason: px.error.message }, 'skipping malformed peer exchange');
      return;
    }
    const res = this.table.merge(px.value.peers, this.o.maxExchangeEntries);
    for (const k of res.learned) this.events.emit('key', { nodeId: k.nodeId, publicKey: k.publicKey, trust: 'gossip', via: peer.nodeId });
    if (res.added > 0 || res.updated > 0) this.log.debug({ peer: short(peer.nodeId), ...res, learned: res.learned.length }, 'peer exchange merged');
  }

  private exchangeTick(): void {
    for (const peer of this.connected.values()) {
      this.table.touch(peer.nodeId);
      this.sendPeerExchange(peer);
    }
  }

  private cleanupTick(): void {
    const now = this.clock.now();
    for (const peer of this.connected.values()) {
      for (const [id, until] of [...peer.pxSeen]) if (until <= now) peer.pxSeen.delete(id);
    }
    const n = this.table.evictExpired();
    if (n > 0) this.log.info({ evicted: n, ttlMs: this.o.peerTtlMs }, 'forgot peers unseen past their TTL');
  }

  // ---------------------------------------------------------------------------------------------
  // Discovery and bootstrap

  private isOwnAddress(addr: string): boolean {
    return addr === this.advertise || addr === this.listener?.address;
  }

  private discoveryTick(): void {
    if (this.stopped || this.atMaxPeers()) return;
    const connectedAddrs = new Set<string>();
    for (const p of this.connected.values()) if (p.listenAddr) connectedAddrs.add(p.listenAddr);
    const candidates = this.table
      .dialCandidates(this.o.discoveryBackoffMaxMs)
      .filter(
        (r) =>
          !this.connected.has(r.nodeId) &&
          !this.dialingIds.has(r.nodeId) &&
          !this.dialingAddrs.has(r.addr) &&
          !this.bootstrapAddrs.has(r.addr) &&
          !connectedAddrs.has(r.addr) &&
          !this.isOwnAddress(r.addr),
      );
    // Fisher–Yates with the injected randomness.
    for (let i = candidates.length - 1; i > 0; i--) {
      const j = Math.floor(this.o.random() * (i + 1));
      [candidates[i], candidates[j]] = [candidates[j], candidates[i]];
    }
    let slots = this.o.maxDialsPerTick;
    if (this.o.maxPeers > 0) slots = Math.min(slots, this.o.maxPeers - this.connected.size - this.dialingIds.size);
    for (const r of candidates.slice(0, Math.max(0, slots))) {
      this.dialingIds.add(r.nodeId);
      const jitter = Math.floor(this.o.random() * this.o.dialJitterMs);
      void this.wait(jitter).then(async () => {
        try {
          if (this.stopped || this.connected.has(r.nodeId) || this.atMaxPeers()) return;
          const res = await this.connect(r.addr);
          if (!res.ok && !this.stopped) {
            this.counters.dialFailures++;
            this.table.recordDialFailure(r.nodeId);
            this.log.debug({ peer: short(r.nodeId), addr: r.addr, reason: res.error.message }, 'discovery dial failed');
          }
        } finally {
          this.dialingIds.delete(r.nodeId);
        }
      });
    }
  }

  private jitter(ms: number): number {
    return Math.floor(ms * (1 + 0.25 * this.o.random()));
  }

  /** Sleeps on the clock; stop() wakes every sleeper. */
  private wait(ms: number): Promise<void> {
    if (this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      const w = {
        resolve,
        timer: this.clock.setTimeout(() => {
          this.waits.delete(w);
          resolve();
        }, ms),
      };
      this.waits.add(w);
    });
  }

  private untilDisconnected(peer: Peer): Promise<void> {
    if (!peer.connected || this.stopped) return Promise.resolve();
    return new Promise((resolve) => {
      peer.disconnectWaiters.push(resolve);
      // stop() closes every peer, which runs the waiters.
    });
  }

  /** The connected peer behind a bootstrap address, if any (it may have dialled us). */
  private connectedAt(addr: string, lastId: string | undefined): Peer | undefined {
    if (lastId) {
      const p = this.connected.get(lastId);
      if (p) return p;
    }
    for (const p of this.connected.values()) if (p.listenAddr === addr) return p;
    return undefined;
  }

  /**
   * One loop per bootstrap address, until stop: dial, and on failure back off 1, 2, 4 … 30 s (with
   * jitter so two nodes bootstrapping off each other do not collide forever). After a connection
   * ends, wait at least redialDelayMs (Micelio redials at once); a connection that lasted less than
   * the maximum backoff keeps backing off. While the node behind the address is connected anyway (it
   * dialled us), or this node is at max_peers, do not dial at all.
   */
  private async bootstrapLoop(addr: string): Promise<void> {
    let backoff = this.o.bootstrapBackoffMinMs;
    let lastId: string | undefined;
    while (!this.stopped) {
      const existing = this.connectedAt(addr, lastId);
      if (existing) {
        await this.untilDisconnected(existing);
        await this.wait(this.jitter(this.o.redialDelayMs));
        continue;
      }
      if (this.atMaxPeers()) {
        await this.wait(this.jitter(this.o.bootstrapBackoffMaxMs));
        continue;
      }
      const res = await this.connect(addr);
      if (this.stopped) return;
      if (res.ok) {
        lastId = res.value.nodeId;
        await this.untilDisconnected(res.value as Peer);
        // A connection that did not last (the far end keeps dropping us) does not reset the backoff.
        const stable = this.clock.now() - res.value.connectedAtMs >= this.o.bootstrapBackoffMaxMs;
        if (stable) backoff = this.o.bootstrapBackoffMinMs;
        await this.wait(this.jitter(Math.max(this.o.redialDelayMs, stable ? 0 : backoff)));
        if (!stable) backoff = Math.min(backoff * 2, this.o.bootstrapBackoffMaxMs);
        continue;
      }
      this.log.info({ addr, reason: res.error.message, retryMs: backoff }, 'bootstrap dial failed');
      await this.wait(this.jitter(backoff));
      backoff = Math.min(backoff * 2, this.o.bootstrapBackoffMaxMs);
    }
  }

  private track(p: void | Promise<void>): void {
    if (!(p instanceof Promise)) return;
    const q = p.catch((e: unknown) => {
      this.log.error({ err: e instanceof Error ? e.message : String(e) }, 'peer store write failed');
    });
    this.writes.add(q);
    void q.finally(() => this.writes.delete(q));
  }
}
