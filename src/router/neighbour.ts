// What the router needs from a neighbour, whatever carries it. A Mycelium TCP/TLS link implements it
// in mycelium-neighbour.ts; a native Noise link (Babel TLVs inside Micelio envelopes) can implement
// the same five members with its own timer profile, and the router treats both alike.
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

export interface Neighbour {
  /** Unique within the process; for logs. */
  readonly id: string;
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
