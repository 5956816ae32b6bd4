// The overlay over native links: every connected Hypha peer of the peer manager becomes a router
// neighbour (router/native-neighbour.ts) beside the Mycelium links, in the same Router, and its data
// packets reach the same DataPlane. So a node with native peers on one side and Mycelium peers on the
// other is one network: it routes and forwards between the two kinds.
//
// Lifecycle per peer: connected (and Hypha) → neighbour joins the router and says Hello at once;
// disconnected → out of the router at once (its routes become retractions, another is selected). When
// the router declares the neighbour dead (no IHU for NATIVE_TIMERS.deadAfterMs) the native link stays
// up — it carries chat and gossip, and the peer manager judges its health — and the bridge probes
// again later: after reprobeMinMs, doubling up to reprobeMaxMs while the peer stays silent, and at once
// when any overlay packet arrives from it. A Hypha peer whose overlay is disabled thus costs one
// Hello burst a minute, and a link that heals rejoins within one Hello.
//
// Disabling the overlay on native links (config: native links carry no overlay) = not starting this
// bridge: the peer manager then drops overlay envelopes, counted (overlayUnhandled).
import type { Clock, Timer } from '../base/clock.ts';
import type { Logger } from '../base/log.ts';
import { ed25519PublicToX25519 } from '../crypto/ed25519.ts';
import type { PeerHandle, PeerManager } from '../peers/manager.ts';
import { NativeNeighbour } from '../router/native-neighbour.ts';
import { NATIVE_TIMERS, type Neighbour, type TimerProfile } from '../router/neighbour.ts';
import type { Router } from '../router/router.ts';
import type { OverlayMsgType } from '../wire/micelio/overlay.ts';

/** What the bridge uses of the peer manager. */
export type NativeOverlayPeers = Pick<PeerManager, 'on' | 'peers' | 'sendOverlay'>;

/** What the bridge uses of the overlay (an Overlay fits). */
export interface OverlayParts {
  readonly router: Router;
  readonly dataplane: { receiveFrame(from: Neighbour, frame: Uint8Array): void };
}

export interface NativeOverlayBridgeOptions {
  peers: NativeOverlayPeers;
  overlay: OverlayParts;
  clock: Clock;
  logger: Logger;
  /** Timers of native neighbours (default NATIVE_TIMERS). */
  timers?: TimerProfile;
  /** Static link cost of every native link (default: TCP's for the address family). */
  staticCost?: number;
  /** First probe after the router gave a neighbour up (default 5 s). */
  reprobeMinMs?: number;
  /** Longest wait between probes of a silent peer (default 60 s, the native idle timeout). */
  reprobeMaxMs?: number;
}

/** Which links carry the overlay (config): both kinds (the default), native links only, Mycelium links only. */
export type OverlayLinks = 'both' | 'native' | 'mycelium';

/**
 * What a node builds for each mode: `native` → start a NativeOverlayBridge; `mycelium` → run the Mycelium
 * peer manager (listener, peers, discovery) and attach its links to the Overlay. Neither = no overlay links.
 */
export function overlayLinkKinds(mode: OverlayLinks): { native: boolean; mycelium: boolean } {
  return { native: mode !== 'mycelium', mycelium: mode !== 'native' };
}

export const DEFAULT_REPROBE_MIN_MS = 5_000;
export const DEFAULT_REPROBE_MAX_MS = 60_000;
/** A neighbour is not re-created for incoming packets more often than this (a refused one would loop). */
const MIN_REJOIN_INTERVAL_MS = 1_000;

export interface NativeOverlayBridgeStats {
  /** Native neighbours in the router now. */
  neighbours: number;
  /** Connected Hypha peers (with or without a neighbour). */
  hyphaPeers: number;
  joins: number;
  /** Neighbours the router gave up while their native link stayed up. */
  givenUp: number;
  reprobes: number;
  /** Packets that arrived while the peer had no neighbour and could not rejoin yet. */
  droppedNoNeighbour: number;
  /** Packets that did not decode, over every neighbour so far. */
  malformed: number;
}

interface PeerState {
  readonly peer: PeerHandle;
  readonly key: Uint8Array;
  neighbour: NativeNeighbour | undefined;
  reprobe: Timer | undefined;
  backoffMs: number;
  lastJoinAt: number;
}

export class NativeOverlayBridge {
  private readonly peers: NativeOverlayPeers;
  private readonly overlay: OverlayParts;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly log: Logger;
  private readonly timers: TimerProfile;
  private readonly staticCost: number | undefined;
  private readonly reprobeMinMs: number;
  private readonly reprobeMaxMs: number;
  private readonly states = new Map<PeerHandle, PeerState>();
  private readonly unsubscribe: (() => void)[] = [];
  private running = false;
  private readonly counters = { joins: 0, givenUp: 0, reprobes: 0, droppedNoNeighbour: 0, malformedGone: 0 };

  constructor(opts: NativeOverlayBridgeOptions) {
    this.peers = opts.peers;
    this.overlay = opts.overlay;
    this.clock = opts.clock;
    this.logger = opts.logger;
    this.log = opts.logger.child({ component: 'dataplane' });
    this.timers = opts.timers ?? NATIVE_TIMERS;
    this.staticCost = opts.staticCost;
    this.reprobeMinMs = opts.reprobeMinMs ?? DEFAULT_REPROBE_MIN_MS;
    this.reprobeMaxMs = Math.max(this.reprobeMinMs, opts.reprobeMaxMs ?? DEFAULT_REPROBE_MAX_MS);
  }

  /** Subscribes to the peer manager and makes every Hypha peer already connected a neighbour. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.unsubscribe.push(
      this.peers.on('connected', (p) => this.onConnected(p)),
      this.peers.on('disconnected', (p, reason) => this.onDisconnected(p, reason)),
      this.peers.on('overlay', (p, t, packet) => this.onPacket(p, t, packet)),
    );
    for (const p of this.peers.peers()) this.onConnected(p);
    this.log.debug({ helloIntervalMs: this.timers.helloIntervalMs, deadAfterMs: this.timers.deadAfterMs }, 'overlay on native links started');
  }

  /** Takes every native neighbour out of the router and unsubscribes; links stay up. */
  stop(): void {
    if (!this.running) return;
    this.running = false;
    for (const u of this.unsubscribe.splice(0)) u();
    for (const st of this.states.values()) this.forget(st, 'overlay on native links stopped');
    this.states.clear();
  }

  /** The native neighbour of a connected peer, if it is in the router now. */
  neighbourOf(nodeId: string): NativeNeighbour | undefined {
    for (const st of this.states.values()) if (st.peer.nodeId === nodeId && st.peer.connected) return st.neighbour;
    return undefined;
  }

  /** Link cost to a native peer as the router sees it (for `hypha peers list`); undefined if none. */
  linkCost(nodeId: string): number | undefined {
    const n = this.neighbourOf(nodeId);
    return n === undefined ? undefined : this.overlay.router.linkCost(n);
  }

  stats(): NativeOverlayBridgeStats {
    let neighbours = 0;
    let malformed = this.counters.malformedGone;
    for (const st of this.states.values()) {
      if (st.neighbour !== undefined) {
        neighbours++;
        malformed += st.neighbour.malformed;
      }
    }
    return {
      neighbours,
      hyphaPeers: this.states.size,
      joins: this.counters.joins,
      givenUp: this.counters.givenUp,
      reprobes: this.counters.reprobes,
      droppedNoNeighbour: this.counters.droppedNoNeighbour,
      malformed,
    };
  }

  private onConnected(peer: PeerHandle): void {
    if (!this.running || !peer.isHypha || !peer.connected || this.states.has(peer)) return;
    // The hello check bound this Ed25519 key to the Noise static key: converted, it is that key.
    const key = ed25519PublicToX25519(peer.ed25519PublicKey);
    if (key === undefined) return;
    const st: PeerState = { peer, key, neighbour: undefined, reprobe: undefined, backoffMs: this.reprobeMinMs, lastJoinAt: Number.NEGATIVE_INFINITY };
    this.states.set(peer, st);
    this.join(st);
  }

  private onDisconnected(peer: PeerHandle, reason: string): void {
    const st = this.states.get(peer);
    if (st === undefined) return;
    this.states.delete(peer);
    this.forget(st, `native link closed: ${reason}`);
  }

  private onPacket(peer: PeerHandle, msgType: OverlayMsgType, packet: Uint8Array): void {
    let st = this.states.get(peer);
    if (st === undefined) {
      this.onConnected(peer);
      st = this.states.get(peer);
      if (st === undefined) return;
    }
    // The peer runs the overlay: probe it promptly from now on.
    st.backoffMs = this.reprobeMinMs;
    if (st.neighbour === undefined) {
      if (this.clock.now() - st.lastJoinAt < MIN_REJOIN_INTERVAL_MS) {
        this.counters.droppedNoNeighbour++;
        return;
      }
      this.join(st);
      if (st.neighbour === undefined) {
        this.counters.droppedNoNeighbour++;
        return;
      }
    }
    st.neighbour.receive(msgType, packet);
  }

  private join(st: PeerState): void {
    st.reprobe?.cancel();
    st.reprobe = undefined;
    st.lastJoinAt = this.clock.now();
    const n = new NativeNeighbour({
      peer: st.peer,
      sender: this.peers,
      authenticatedKey: st.key,
      router: this.overlay.router,
      clock: this.clock,
      logger: this.logger,
      onData: (from, frame) => this.overlay.dataplane.receiveFrame(from, frame),
      onClose: (nb, reason) => this.givenUp(st, nb, reason),
      timers: this.timers,
      staticCost: this.staticCost,
    });
    st.neighbour = n;
    this.counters.joins++;
    n.join();
  }

  /** The router dropped the neighbour while the link is up: probe again after a backoff. */
  private givenUp(st: PeerState, n: NativeNeighbour, reason: string): void {
    if (st.neighbour !== n) return;
    st.neighbour = undefined;
    this.counters.malformedGone += n.malformed;
    this.counters.givenUp++;
    if (!this.running || !st.peer.connected || this.states.get(st.peer) !== st) return;
    const delay = st.backoffMs;
    st.backoffMs = Math.min(st.backoffMs * 2, this.reprobeMaxMs);
    this.log.info({ peer: st.peer.nodeId.slice(0, 12), reason, reprobeMs: delay }, 'native overlay neighbour gone quiet; the link stays up, probing again later');
    st.reprobe?.cancel();
    st.reprobe = this.clock.setTimeout(() => {
      st.reprobe = undefined;
      if (!this.running || st.neighbour !== undefined || !st.peer.connected || this.states.get(st.peer) !== st) return;
      this.counters.reprobes++;
      this.join(st);
    }, delay);
  }

  private forget(st: PeerState, reason: string): void {
    st.reprobe?.cancel();
    st.reprobe = undefined;
    const n = st.neighbour;
    st.neighbour = undefined;
    if (n !== undefined) {
      this.counters.malformedGone += n.malformed;
      n.detach(reason);
    }
  }
}
