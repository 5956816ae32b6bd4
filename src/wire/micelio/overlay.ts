// The two core msg_types Hypha reserves for the overlay on native links (README "## Protocol"). Between two
// Hypha nodes a native link carries Mycelium packets — byte for byte what a Mycelium link carries — inside
// unsigned direct envelopes: msg_type 90 holds one control packet (one Babel TLV), 91 one data packet.
// The Noise session already authenticates both ends, so these envelopes carry no id, sender or
// signature, like the keepalive. They are never relayed and never sent to a peer that is not Hypha.
//
// Encoding is canonical protobuf in field order: hop_count = 1, msg_type, payload:
//
//   20 01 | 28 5A (or 5B) | 32 <varint length> | Mycelium packet
//
// A receiver takes the canonical form on a fast path without a protobuf decode; anything else (extra
// fields, another order) is decoded as an ordinary envelope and only msg_type and payload are read.

import { allocUnsafeBytes } from '../../base/bytes.ts';

/** One Babel control packet (4-byte Mycelium packet header, Babel header, one TLV). */
export const OVERLAY_CONTROL_MSG_TYPE = 90;
/** One Mycelium data packet (4-byte packet header, 36-byte data header, E2E-encrypted raw data). */
export const OVERLAY_DATA_MSG_TYPE = 91;

export type OverlayMsgType = typeof OVERLAY_CONTROL_MSG_TYPE | typeof OVERLAY_DATA_MSG_TYPE;

export function isOverlayMsgType(t: number): t is OverlayMsgType {
  return t === OVERLAY_CONTROL_MSG_TYPE || t === OVERLAY_DATA_MSG_TYPE;
}

/** Tag bytes: field 4 varint (hop_count), field 5 varint (msg_type), field 6 length-delimited (payload). */
const TAG_HOP_COUNT = 0x20;
const TAG_MSG_TYPE = 0x28;
const TAG_PAYLOAD = 0x32;
/** hop_count 1 + msg_type + payload tag. */
const FIXED_PREFIX_BYTES = 5;
/** The largest packet one envelope may carry: a Micelio frame holds at most 1 MiB of envelope. */
export const MAX_OVERLAY_PACKET_BYTES = 1_048_576 - FIXED_PREFIX_BYTES - 3;

function varintBytes(n: number): number {
  let len = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

/** The envelope bytes (a Micelio frame payload) around one Mycelium packet. */
export function encodeOverlayEnvelope(msgType: OverlayMsgType, packet: Uint8Array): Uint8Array {
  if (packet.length > MAX_OVERLAY_PACKET_BYTES) {
    throw new RangeError(`overlay packet of ${packet.length} bytes exceeds ${MAX_OVERLAY_PACKET_BYTES}`);
  }
  const lenBytes = varintBytes(packet.length);
  // Every byte is written below: unzeroed pool memory costs far less per data packet than a fresh ArrayBuffer.
  const out = allocUnsafeBytes(FIXED_PREFIX_BYTES + lenBytes + packet.length);
  out[0] = TAG_HOP_COUNT;
  out[1] = 1;
  out[2] = TAG_MSG_TYPE;
  out[3] = msgType;
  out[4] = TAG_PAYLOAD;
  let n = packet.length;
  let o = FIXED_PREFIX_BYTES;
  while (n >= 0x80) {
    out[o++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  out[o++] = n;
  out.set(packet, o);
  return out;
}

export interface OverlayEnvelope {
  msgType: OverlayMsgType;
  /** A view into the envelope bytes (no copy). */
  packet: Uint8Array;
}

/**
 * Recognises the canonical encoding above and returns a view of its packet; undefined for anything
 * else (which the caller decodes as an ordinary envelope). Never throws, never reads out of bounds.
 */
export function peekOverlayEnvelope(b: Uint8Array): OverlayEnvelope | undefined {
  if (b.length < FIXED_PREFIX_BYTES + 1 || b[0] !== TAG_HOP_COUNT || b[1] !== 1 || b[2] !== TAG_MSG_TYPE || b[4] !== TAG_PAYLOAD) return undefined;
  const t = b[3];
  if (!isOverlayMsgType(t)) return undefined;
  let len = 0;
  let shift = 0;
  let o = FIXED_PREFIX_BYTES;
  // Three varint bytes cover every length a frame can hold (< 2^21).
  for (;;) {
    if (o >= b.length || shift > 14) return undefined;
    const c = b[o++];
    len += (c & 0x7f) * 2 ** shift;
    if ((c & 0x80) === 0) break;
    shift += 7;
  }
  if (b.length - o !== len) return undefined;
  return { msgType: t, packet: b.subarray(o) };
}
