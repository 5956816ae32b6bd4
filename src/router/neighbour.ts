// What the router needs from a neighbour, whatever carries it. A Mycelium TCP/TLS link implements it
// in mycelium-neighbour.ts; a native Noise link to another Hypha node (Babel TLVs inside Micelio
// envelopes) in native-neighbour.ts, with its own timer profile. The router treats both alike, except
// that a native neighbour's key is known (authenticatedKey) and binds what it may announce as its own.
import type { Tlv } from '../wire/mycelium/babel.ts';

/** Per-neighbour timers. Mycelium links use MYCELIUM_TIMERS; faster links may use shorter ones. */
export interface TimerProfile {
  /** A Hello goes out this often (Mycelium: 20 s). */
  readonly helloIntervalMs: number;
  /** Interval carried in our IHUs (Mycelium: 60 s); the receiver only reads it. */
  readonly ihuIntervalMs: number;
  /** The neighbour is dead when no IHU arrived for this long (Mycelium: 43 s). */
  readonly deadAfterMs: number;
  /** How often IHU silence is checked (Mycelium: 10 s). */
  readonly deadCheckIntervalMs: number;
  /**
   * Our own subnet is re-announced this often, and this is the interval our Updates advertise
   * (the receiver holds a route for 3.5 times it). Mycelium: 300 s.
   */
  readonly updateIntervalMs: number;
  /** Send a Hello as soon as the neighbour is added, so link cost is measured at once. */
  readonly helloOnConnect: boolean;
}

export const MYCELIUM_TIMERS: TimerProfile = Object.freeze({
  helloIntervalMs: 20_000,
  ihuIntervalMs: 60_000,
  deadAfterMs: 43_000,
  deadCheckIntervalMs: 10_000,
  updateIntervalMs: 300_000,
  helloOnConnect: true,
});

/**
 * Native links between Hypha nodes (README "## One network"): Hello every second, dead after 3.5 s
 * without an IHU (three Hellos lost), checked every 500 ms. Measured under virtual time
 * (bench/reroute-native.ts): a silent link is routed around in 2.5–4 s for ≈ 100 bytes/s of Hello/IHU
 * per neighbour and direction on the wire. Updates keep Mycelium's interval: route hold times mean
 * the same on every link kind, and a failed native link is found by its Hellos, not by route expiry.
 */
export const NATIVE_TIMERS: TimerProfile = Object.freeze({
  helloIntervalMs: 1_000,
  ihuIntervalMs: 3_000,
  deadAfterMs: 3_500,
  deadCheckIntervalMs: 500,
  updateIntervalMs: 300_000,
  helloOnConnect: true,
});

/**
 * The native profile for another Hello interval (config `native_hello_interval`), keeping the ratios chosen
 * from measurements: IHUs every 3 Hellos, dead after 3.5 Hellos without an IHU, checked every half Hello.
 */
export function nativeTimers(helloIntervalMs: number): TimerProfile {
  return Object.freeze({
    ...NATIVE_TIMERS,
    helloIntervalMs,
    ihuIntervalMs: helloIntervalMs * 3,
    deadAfterMs: Math.round(helloIntervalMs * 3.5),
    deadCheckIntervalMs: Math.max(50, Math.round(helloIntervalMs / 2)),
  });
}

/** Static link cost per transport, added to the smoothed RTT (reference §3.3). */
export const STATIC_LINK_COST = Object.freeze({
  tcpIpv6: 10,
  tcpIpv4: 15,
  quicIpv6: 7,
  quicIpv4: 12,
  vsock: 5,
  /** In-memory links of tests and the simulator. */
  memory: 10,
});

export type NeighbourKind = 'mycelium' | 'native';

/**
 * Static cost of a TCP link by the family of its remote address (`[v6]:port` is IPv6 unless v4-mapped).
 * Native links are TCP too and cost the same as Mycelium TCP of the same family: a path's metric then
 * means the same whatever links it crosses, to Hypha and to the Mycelium nodes it is announced to.
 */
export function tcpStaticCost(remoteAddress: string): number {
  const v4 = !remoteAddress.startsWith('[') || remoteAddress.toLowerCase().startsWith('[::ffff:');
  return v4 ? STATIC_LINK_COST.tcpIpv4 : STATIC_LINK_COST.tcpIpv6;
}

export interface Neighbour {
  /** Unique within the process; for logs. */
  readonly id: string;
  /** What carries the overlay to this neighbour: a Mycelium link, or a native link to a Hypha node. */
  readonly kind: NeighbourKind;
  /**
   * The neighbour's X25519 key as its link authenticated it (native links: the Noise static key), or
   * undefined (Mycelium TCP proves nothing). When set, Updates that claim to originate at this
   * neighbour — its own /64, or metric 0 — must carry a router id with exactly this key.
   */
  readonly authenticatedKey?: Uint8Array;
  /** Who is at the other end, for tables: the node id of a native peer; absent for Mycelium links. */
  readonly remoteId?: string;
  /** The next hop as route tables show it, e.g. "TCP [::1]:9651 <-> [::1]:40112". */
  readonly label: string;
  /** Static part of the link cost (STATIC_LINK_COST). */
  readonly staticCost: number;
  readonly timers: TimerProfile;
  /** Queues one TLV for the neighbour; false if the link is closed or its queue is full. */
  sendTlv(tlv: Tlv): boolean;
  /** Queues one Mycelium data frame (packet header + data header + raw data); false if dropped. */
  sendData(frame: Uint8Array): boolean;
  /** Closes the link underneath (the router calls this on a dead neighbour). */
  close(reason: string): void;
}
