// Mycelium link framing (reference §2.1), identical on TCP, TLS and QUIC streams: a 4-byte packet
// header [version 1, type, 0, 0] then the body. A data packet body is a 36-byte header
// (u32: reserved | length u16 | hop limit u8, source IPv6, destination IPv6) and `length` bytes of
// E2E-encrypted raw data. A control packet body is one Babel packet with exactly one TLV.
//
// The first 8 bytes of any frame say how long it is, so a byte stream can be split without
// understanding the body (stream.ts). Data frames are handled as views over one buffer on the hot
// path: the accessors below read and patch fields in place, so forwarding needs no copy.
import { err, ok, type Result } from '../../base/result.ts';
import { BABEL_HEADER_BYTES, decodeBabelPacket, tlvBodyLength, TLV_HEADER_BYTES, writeBabelPacket, type Tlv } from './babel.ts';

export const PROTOCOL_VERSION = 1;
export const PACKET_TYPE_DATA = 0;
export const PACKET_TYPE_CONTROL = 1;
export const PACKET_HEADER_BYTES = 4;
/** u32 length|hop limit + 16-byte source + 16-byte destination. */
export const DATA_HEADER_BYTES = 36;
/** Packet header + data header: where raw data starts in a data frame. */
export const DATA_FRAME_OVERHEAD_BYTES = PACKET_HEADER_BYTES + DATA_HEADER_BYTES;
/** The length field is 16 bits wide. */
export const MAX_RAW_DATA_BYTES = 0xffff;
/** Bytes needed to know a frame's total length: packet header + (data length word | Babel header). */
export const FRAME_PREFIX_BYTES = 8;
export const MAX_DATA_FRAME_BYTES = DATA_FRAME_OVERHEAD_BYTES + MAX_RAW_DATA_BYTES;
export const MAX_CONTROL_FRAME_BYTES = PACKET_HEADER_BYTES + BABEL_HEADER_BYTES + 0xffff;

const SRC_OFFSET = PACKET_HEADER_BYTES + 4;
const DST_OFFSET = SRC_OFFSET + 16;
const HOP_OFFSET = PACKET_HEADER_BYTES + 3;

export interface DataPacket {
  hopLimit: number;
  src: Uint8Array;
  dst: Uint8Array;
  rawData: Uint8Array;
}

export type Packet = { kind: 'data'; packet: DataPacket } | { kind: 'control'; tlv: Tlv };

export interface FramePrefix {
  type: typeof PACKET_TYPE_DATA | typeof PACKET_TYPE_CONTROL;
  /** Whole frame length including every header. */
  frameLength: number;
}

/**
 * Reads the first FRAME_PREFIX_BYTES of a frame at `o`: checks version and type and returns the
 * whole frame's length. Errors here mean the stream is not (or no longer) Mycelium framing.
 */
export function parseFramePrefix(b: Uint8Array, o = 0): Result<FramePrefix> {
  if (b[o] !== PROTOCOL_VERSION) return err('bad-version', `packet version ${b[o]}, expected ${PROTOCOL_VERSION}`);
  const type = b[o + 1];
  if (type === PACKET_TYPE_DATA) {
    // Mycelium ignores the reserved bytes; so do we, since the length still frames the stream.
    const len = (b[o + 5] << 8) | b[o + 6];
    return ok({ type: PACKET_TYPE_DATA, frameLength: DATA_FRAME_OVERHEAD_BYTES + len });
  }
  if (type === PACKET_TYPE_CONTROL) {
    const bodyLen = (b[o + 6] << 8) | b[o + 7];
    return ok({ type: PACKET_TYPE_CONTROL, frameLength: PACKET_HEADER_BYTES + BABEL_HEADER_BYTES + bodyLen });
  }
  return err('bad-type', `packet type ${type}, expected 0 (data) or 1 (control)`);
}

// ---------------------------------------------------------------------------------------------
// Data frames

/** Writes the 40 header bytes of a data frame carrying `rawLength` bytes; raw data goes at offset 40. */
export function writeDataFrameHeader(out: Uint8Array, rawLength: number, hopLimit: number, src: Uint8Array, dst: Uint8Array, o = 0): void {
  if (!Number.isInteger(rawLength) || rawLength < 0 || rawLength > MAX_RAW_DATA_BYTES) {
    // A larger length would spill into the reserved byte and corrupt the receiver's framing.
    throw new RangeError(`data packet raw data of ${rawLength} bytes exceeds ${MAX_RAW_DATA_BYTES}`);
  }
  out[o] = PROTOCOL_VERSION;
  out[o + 1] = PACKET_TYPE_DATA;
  out[o + 2] = 0;
  out[o + 3] = 0;
  out[o + 4] = 0;
  out[o + 5] = rawLength >>> 8;
  out[o + 6] = rawLength & 0xff;
  out[o + 7] = hopLimit & 0xff;
  out.set(src.length === 16 ? src : src.subarray(0, 16), o + SRC_OFFSET);
  out.set(dst.length === 16 ? dst : dst.subarray(0, 16), o + DST_OFFSET);
}

export function encodeDataFrame(p: DataPacket): Uint8Array {
  const out = new Uint8Array(DATA_FRAME_OVERHEAD_BYTES + p.rawData.length);
  writeDataFrameHeader(out, p.rawData.length, p.hopLimit, p.src, p.dst);
  out.set(p.rawData, DATA_FRAME_OVERHEAD_BYTES);
  return out;
}

/** Checks a whole data frame: header fields and that its length matches. */
export function checkDataFrame(frame: Uint8Array): Result<void> {
  if (frame.length < DATA_FRAME_OVERHEAD_BYTES) return err('truncated', `data frame of ${frame.length} bytes is shorter than its ${DATA_FRAME_OVERHEAD_BYTES}-byte header`);
  if (frame[0] !== PROTOCOL_VERSION) return err('bad-version', `packet version ${frame[0]}, expected ${PROTOCOL_VERSION}`);
  if (frame[1] !== PACKET_TYPE_DATA) return err('bad-type', `packet type ${frame[1]} is not a data packet`);
  const len = dataFrameRawLength(frame);
  if (frame.length !== DATA_FRAME_OVERHEAD_BYTES + len) {
    return err('bad-length', `data header announces ${len} bytes of raw data but ${frame.length - DATA_FRAME_OVERHEAD_BYTES} follow`);
  }
  return ok(undefined);
}

/** Decodes a data frame into views over `frame` (no copy). */
export function decodeDataFrame(frame: Uint8Array): Result<DataPacket> {
  const c = checkDataFrame(frame);
  if (!c.ok) return c;
  return ok({
    hopLimit: dataFrameHopLimit(frame),
    src: dataFrameSrc(frame),
    dst: dataFrameDst(frame),
    rawData: dataFrameRaw(frame),
  });
}

export function dataFrameRawLength(frame: Uint8Array): number {
  return (frame[5] << 8) | frame[6];
}
export function dataFrameHopLimit(frame: Uint8Array): number {
  return frame[HOP_OFFSET];
}
export function setDataFrameHopLimit(frame: Uint8Array, hopLimit: number): void {
  frame[HOP_OFFSET] = hopLimit;
}
export function dataFrameSrc(frame: Uint8Array): Uint8Array {
  return frame.subarray(SRC_OFFSET, SRC_OFFSET + 16);
}
export function dataFrameDst(frame: Uint8Array): Uint8Array {
  return frame.subarray(DST_OFFSET, DST_OFFSET + 16);
}
export function dataFrameRaw(frame: Uint8Array): Uint8Array {
  return frame.subarray(DATA_FRAME_OVERHEAD_BYTES, DATA_FRAME_OVERHEAD_BYTES + dataFrameRawLength(frame));
}

// ---------------------------------------------------------------------------------------------
// Control frames

/** Packet header + Babel header + one TLV. Throws on a TLV Mycelium would not accept. */
export function encodeControlFrame(tlv: Tlv): Uint8Array {
  const n = tlvBodyLength(tlv);
  const out = new Uint8Array(PACKET_HEADER_BYTES + BABEL_HEADER_BYTES + TLV_HEADER_BYTES + n);
  out[0] = PROTOCOL_VERSION;
  out[1] = PACKET_TYPE_CONTROL;
  writeBabelPacket(out, PACKET_HEADER_BYTES, tlv, n);
  return out;
}

export function decodeControlFrame(frame: Uint8Array): Result<Tlv> {
  if (frame.length < PACKET_HEADER_BYTES) return err('truncated', `control frame of ${frame.length} bytes is shorter than its header`);
  if (frame[0] !== PROTOCOL_VERSION) return err('bad-version', `packet version ${frame[0]}, expected ${PROTOCOL_VERSION}`);
  if (frame[1] !== PACKET_TYPE_CONTROL) return err('bad-type', `packet type ${frame[1]} is not a control packet`);
  return decodeBabelPacket(frame.subarray(PACKET_HEADER_BYTES));
}

/** Decodes one whole frame of either type. */
export function decodeFrame(frame: Uint8Array): Result<Packet> {
  if (frame.length < PACKET_HEADER_BYTES) return err('truncated', `frame of ${frame.length} bytes is shorter than its header`);
  if (frame[0] !== PROTOCOL_VERSION) return err('bad-version', `packet version ${frame[0]}, expected ${PROTOCOL_VERSION}`);
  if (frame[1] === PACKET_TYPE_DATA) {
    const d = decodeDataFrame(frame);
    return d.ok ? ok({ kind: 'data', packet: d.value }) : d;
  }
  if (frame[1] === PACKET_TYPE_CONTROL) {
    const c = decodeControlFrame(frame);
    return c.ok ? ok({ kind: 'control', tlv: c.value }) : c;
  }
  return err('bad-type', `packet type ${frame[1]}, expected 0 (data) or 1 (control)`);
}
