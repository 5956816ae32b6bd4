// A native link to another Hypha node as a router neighbour. The link is the peer manager's Noise link;
// the overlay rides on it as unsigned envelopes of msg_type 90 (one Babel control packet) and 91 (one
// Mycelium data packet), the same packet bytes a Mycelium link carries. The Noise handshake proved the
// neighbour's X25519 key, so it is the neighbour's authenticatedKey and binds what it may announce as
// its own (router.ts). Timers are Hypha's own (NATIVE_TIMERS).
//
// Unlike a Mycelium link, the native link is not the overlay's to close: it also carries gossip and
// chat, and its liveness is the peer manager's (keepalive, idle timeout). When the router declares this
// neighbour dead, close() only takes it out of the overlay; the bridge (dataplane/native-bridge.ts)
// probes again later. A packet that does not decode is dropped and counted, and closes nothing.
import type { Clock } from '../base/clock.ts';
import type { Logger } from '../base/log.ts';
import type { PeerHandle } from '../peers/manager.ts';
import type { Tlv } from '../wire/mycelium/babel.ts';
import { OVERLAY_CONTROL_MSG_TYPE, OVERLAY_DATA_MSG_TYPE, type OverlayMsgType } from '../wire/micelio/overlay.ts';
import { checkDataFrame, decodeControlFrame, encodeControlFrame } from '../wire/mycelium/packet.ts';
import { NATIVE_TIMERS, STATIC_LINK_COST, tcpStaticCost, type Neighbour, type TimerProfile } from './neighbour.ts';
import type { Router } from './router.ts';

/** How a native neighbour puts an overlay packet on its peer's link (PeerManager.sendOverlay). */
export interface NativeOverlaySender {
  sendOverlay(peer: PeerHandle, msgType: OverlayMsgType, packet: Uint8Array): boolean;
}

export interface NativeNeighbourOptions {
  peer: PeerHandle;
  sender: NativeOverlaySender;
  /** The peer's X25519 key as its Noise handshake proved it. */
  authenticatedKey: Uint8Array;
  router: Router;
  clock: Clock;
  logger: Logger;
  /** Receives every data frame from this neighbour (the data plane). */
  onData: (from: Neighbour, frame: Uint8Array) => void;
  /** The neighbour left the overlay (router: dead or refused); the native link stays up. */
  onClose?: (n: NativeNeighbour, reason: string) => void;
  timers?: TimerProfile;
  staticCost?: number;
}

/** One WARN per neighbour per this long for malformed packets; the rest are counted. */
const MALFORMED_WARN_INTERVAL_MS = 60_000;

/** Static cost of a native link: TCP of the same address family (memory links: as in-memory Mycelium). */
export function nativeStaticCost(peer: Pick<PeerHandle, 'remoteAddress'>): number {
  return peer.remoteAddress.startsWith('mem:') ? STATIC_LINK_COST.memory : tcpStaticCost(peer.remoteAddress);
}

export class NativeNeighbour implements Neighbour {
  readonly id: string;
  readonly kind = 'native' as const;
  readonly label: string;
  readonly staticCost: number;
  readonly timers: TimerProfile;
  readonly authenticatedKey: Uint8Array;
  readonly remoteId: string;
  readonly peer: PeerHandle;
  /** Packets from this neighbour that did not decode (dropped). */
  malformed = 0;
  private isClosed = false;
  private readonly sender: NativeOverlaySender;
  private readonly router: Router;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly onData: (from: Neighbour, frame: Uint8Array) => void;
  private readonly onClose: ((n: NativeNeighbour, reason: string) => void) | undefined;
  private lastWarnAt = Number.NEGATIVE_INFINITY;
  private warnSuppressed = 0;

  constructor(opts: NativeNeighbourOptions) {
    this.peer = opts.peer;
    this.sender = opts.sender;
    this.authenticatedKey = Uint8Array.from(opts.authenticatedKey);
    this.router = opts.router;
    this.clock = opts.clock;
    this.onData = opts.onData;
    this.onClose = opts.onClose;
    this.timers = opts.timers ?? NATIVE_TIMERS;
    this.staticCost = opts.staticCost ?? nativeStaticCost(opts.peer);
    this.remoteId = opts.peer.nodeId;
    this.id = `native-${opts.peer.linkId}`;
    this.label = `NATIVE ${opts.peer.remoteAddress} ${opts.peer.nodeId.slice(0, 12)}`;
    this.log = opts.logger.child({ component: 'router', neighbour: this.label });
  }

  /** Joins the router (Hello at once). Call after the owner has recorded this neighbour. */
  join(): void {
    this.router.addNeighbour(this);
  }

  get closed(): boolean {
    return this.isClosed || !this.peer.connected;
  }

  sendTlv(tlv: Tlv): boolean {
    if (this.closed) return false;
    return this.sender.sendOverlay(this.peer, OVERLAY_CONTROL_MSG_TYPE, encodeControlFrame(tlv));
  }

  sendData(frame: Uint8Array): boolean {
    if (this.closed) return false;
    return this.sender.sendOverlay(this.peer, OVERLAY_DATA_MSG_TYPE, frame);
  }

  /** The router is done with this neighbour (dead, or too many neighbours): leave the overlay only. */
  close(reason: string): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.router.removeNeighbour(this, reason);
    this.onClose?.(this, reason);
  }

  /** The native link went away (or the bridge stops): out of the router at once, nothing to probe. */
  detach(reason: string): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.router.removeNeighbour(this, reason);
  }

  /** One overlay envelope's packet from the peer. */
  receive(msgType: OverlayMsgType, packet: Uint8Array): void {
    if (this.closed) return;
    if (msgType === OVERLAY_DATA_MSG_TYPE) {
      const c = checkDataFrame(packet);
      if (!c.ok) return this.bad(c.error.code, c.error.message);
      this.onData(this, packet);
      return;
    }
    const t = decodeControlFrame(packet);
    if (!t.ok) return this.bad(t.error.code, t.error.message);
    this.router.receiveTlv(this, t.value);
  }

  private bad(code: string, message: string): void {
    this.malformed++;
    const now = this.clock.now();
    if (now - this.lastWarnAt < MALFORMED_WARN_INTERVAL_MS) {
      this.warnSuppressed++;
      return;
    }
    this.log.warn({ reason: code, detail: message, suppressed: this.warnSuppressed }, 'malformed overlay packet from a native peer, dropped');
    this.lastWarnAt = now;
    this.warnSuppressed = 0;
  }
}
