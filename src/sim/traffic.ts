// Byte counters per node and per kind of traffic, fed by the wires: what a node spends on control
// (hellos, keepalives, peer exchange, routing) against payload (gossip, overlay data). Native-link
// messages are classified by the Envelope's msg_type, read straight from the protobuf bytes; Mycelium
// messages by their packet type.
import { MsgType } from '../wire/micelio/envelope.ts';
import { OVERLAY_CONTROL_MSG_TYPE, OVERLAY_DATA_MSG_TYPE } from '../wire/micelio/overlay.ts';
import { PACKET_TYPE_CONTROL, PACKET_TYPE_DATA } from '../wire/mycelium/packet.ts';

export const TRAFFIC_KINDS = [
  /** Native: PeerHello / PeerHelloAck. */
  'native-hello',
  'native-keepalive',
  'native-peer-exchange',
  /** Native: gossiped or direct application messages (chat, state, plugins). */
  'native-gossip',
  /** Native: overlay control (Babel TLVs, msg_type 90). */
  'native-overlay-control',
  /** Native: overlay data packets (msg_type 91). */
  'native-overlay-data',
  /** Mycelium: one Babel TLV per packet. */
  'mycelium-control',
  'mycelium-data',
  'other',
] as const;
export type TrafficKind = (typeof TRAFFIC_KINDS)[number];

/** Kinds that are control traffic (everything a node sends just to keep the network running). */
export const CONTROL_KINDS: readonly TrafficKind[] = ['native-hello', 'native-keepalive', 'native-peer-exchange', 'native-overlay-control', 'mycelium-control'];

const KIND_INDEX = new Map<TrafficKind, number>(TRAFFIC_KINDS.map((k, i) => [k, i]));

export function kindIndex(kind: TrafficKind): number {
  return KIND_INDEX.get(kind)!;
}

/**
 * The msg_type (field 5) of an encoded Envelope, or -1 if the bytes do not parse that far. Walks the
 * fields without decoding them: cheap enough to run on every message of a 1,000-node simulation.
 */
export function envelopeMsgType(b: Uint8Array): number {
  let i = 0;
  let msgType = 0;
  while (i < b.length) {
    const [tag, t] = varint(b, i);
    if (t < 0) return -1;
    i = t;
    const field = tag >>> 3;
    const wire = tag & 7;
    // A msg_type of another wire type is no envelope any of our encoders wrote: not classified.
    if (field === 5 && wire !== 0) return -1;
    if (wire === 0) {
      const [, next] = varint(b, i);
      if (next < 0) return -1;
      // Protobuf keeps the last of repeated scalar fields, and a uint32 keeps the varint's low 32 bits.
      if (field === 5) msgType = low32(b, i);
      i = next;
    } else if (wire === 2) {
      const [len, next] = varint(b, i);
      if (next < 0) return -1;
      i = next + len;
    } else if (wire === 1) {
      i += 8;
    } else if (wire === 5) {
      i += 4;
    } else {
      return -1;
    }
  }
  // Field 5 absent: proto3 leaves out a zero msg_type.
  return i === b.length ? msgType : -1;
}

/** The low 32 bits of the (well-formed) varint at `start`. */
function low32(b: Uint8Array, start: number): number {
  let v = 0;
  for (let k = 0; k < 5; k++) {
    const byte = b[start + k];
    v += (byte & 0x7f) * 2 ** (7 * k);
    if ((byte & 0x80) === 0) break;
  }
  return v % 2 ** 32;
}

function varint(b: Uint8Array, start: number): [number, number] {
  let v = 0;
  let mul = 1;
  for (let i = start; i < b.length && i < start + 10; i++) {
    v += (b[i] & 0x7f) * mul;
    if ((b[i] & 0x80) === 0) return [v, i + 1];
    mul *= 128;
  }
  return [0, -1];
}

export interface TrafficClassifierOptions {
  /** msg_types that carry overlay control on native links (default: 90, OVERLAY_CONTROL_MSG_TYPE). */
  nativeOverlayControl?: readonly number[];
  /** msg_types that carry overlay data packets on native links (default: 91, OVERLAY_DATA_MSG_TYPE). */
  nativeOverlayData?: readonly number[];
}

export class TrafficClassifier {
  private readonly control: ReadonlySet<number>;
  private readonly data: ReadonlySet<number>;

  constructor(opts: TrafficClassifierOptions = {}) {
    this.control = new Set(opts.nativeOverlayControl ?? [OVERLAY_CONTROL_MSG_TYPE]);
    this.data = new Set(opts.nativeOverlayData ?? [OVERLAY_DATA_MSG_TYPE]);
  }

  /** The kind index of one message on a link of `protocol`. */
  classify(protocol: 'native' | 'mycelium', msg: Uint8Array): number {
    if (protocol === 'mycelium') {
      if (msg.length >= 2 && msg[1] === PACKET_TYPE_DATA) return kindIndex('mycelium-data');
      if (msg.length >= 2 && msg[1] === PACKET_TYPE_CONTROL) return kindIndex('mycelium-control');
      return kindIndex('other');
    }
    const t = envelopeMsgType(msg);
    if (t === MsgType.PeerHello || t === MsgType.PeerHelloAck) return kindIndex('native-hello');
    if (t === MsgType.Keepalive) return kindIndex('native-keepalive');
    if (t === MsgType.PeerExchange) return kindIndex('native-peer-exchange');
    if (this.control.has(t)) return kindIndex('native-overlay-control');
    if (this.data.has(t)) return kindIndex('native-overlay-data');
    return t < 0 ? kindIndex('other') : kindIndex('native-gossip');
  }
}

/** Bytes and messages sent per node and kind: two flat arrays, nodes × kinds. */
export class TrafficCounters {
  readonly nodes: number;
  readonly bytes: Float64Array;
  readonly messages: Float64Array;

  constructor(nodes: number) {
    this.nodes = nodes;
    this.bytes = new Float64Array(nodes * TRAFFIC_KINDS.length);
    this.messages = new Float64Array(nodes * TRAFFIC_KINDS.length);
  }

  add(node: number, kind: number, bytes: number): void {
    const i = node * TRAFFIC_KINDS.length + kind;
    this.bytes[i] += bytes;
    this.messages[i]++;
  }

  /** A copy, to subtract later (`since`). */
  snapshot(): TrafficSnapshot {
    return { bytes: this.bytes.slice(), messages: this.messages.slice() };
  }

  /** Bytes node `node` sent of the given kinds, since `from` (or since the start). */
  bytesOf(node: number, kinds: readonly TrafficKind[], from?: TrafficSnapshot): number {
    let s = 0;
    for (const k of kinds) {
      const i = node * TRAFFIC_KINDS.length + kindIndex(k);
      s += this.bytes[i] - (from?.bytes[i] ?? 0);
    }
    return s;
  }

  /** Totals per kind over all nodes, since `from`. */
  totals(from?: TrafficSnapshot): Record<TrafficKind, { bytes: number; messages: number }> {
    const out = {} as Record<TrafficKind, { bytes: number; messages: number }>;
    TRAFFIC_KINDS.forEach((k, ki) => {
      let b = 0;
      let m = 0;
      for (let n = 0; n < this.nodes; n++) {
        const i = n * TRAFFIC_KINDS.length + ki;
        b += this.bytes[i] - (from?.bytes[i] ?? 0);
        m += this.messages[i] - (from?.messages[i] ?? 0);
      }
      out[k] = { bytes: b, messages: m };
    });
    return out;
  }
}

export interface TrafficSnapshot {
  bytes: Float64Array;
  messages: Float64Array;
}
