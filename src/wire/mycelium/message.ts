// Message-bus packets (reference §5.1): the payload of an encrypted type-1 data packet. A 12-byte
// header (8-byte message id, u16 flags, u16 reserved) and a body that depends on the flags. ACKs are
// the same packet with the ACK flag added and a shortened body. The message bus itself lives in
// messages/; these are only the codecs.
import { err, ok, type Result } from '../../base/result.ts';

export const MESSAGE_HEADER_BYTES = 12;
export const MESSAGE_ID_BYTES = 8;
export const MESSAGE_CHECKSUM_BYTES = 32;
export const MAX_TOPIC_BYTES = 255;

export const MSG_FLAG_INIT = 0x8000;
export const MSG_FLAG_DONE = 0x4000;
export const MSG_FLAG_ABORTED = 0x2000;
export const MSG_FLAG_CHUNK = 0x1000;
export const MSG_FLAG_READ = 0x0800;
export const MSG_FLAG_REPLY = 0x0400;
export const MSG_FLAG_ACK = 0x0100;

const INIT_BODY_BYTES = 9; // length u64 + topic length u8
const CHUNK_HEADER_BYTES = 24; // index, offset, size: u64 each
const DONE_BODY_BYTES = 8 + MESSAGE_CHECKSUM_BYTES;

interface Common {
  /** 8 bytes. */
  id: Uint8Array;
  /** All flags as on the wire (the kind's flag, plus REPLY/ACK where present). */
  flags: number;
}

export interface InitPacket extends Common {
  kind: 'init';
  length: number;
  /** The topic; empty in an INIT-ACK, which keeps only the topic length byte. */
  topic: Uint8Array;
  /** The topic length byte as sent (equals topic.length except in an INIT-ACK). */
  topicLength: number;
}
export interface ChunkPacket extends Common {
  kind: 'chunk';
  index: number;
  offset: number;
  size: number;
  /** The chunk's bytes; empty in a CHUNK-ACK. */
  data: Uint8Array;
}
export interface DonePacket extends Common {
  kind: 'done';
  chunkCount: number;
  /** BLAKE3-256 of the whole message. */
  checksum: Uint8Array;
}
export interface ReadPacket extends Common {
  kind: 'read';
}
export interface AbortedPacket extends Common {
  kind: 'aborted';
}

export type MessagePacket = InitPacket | ChunkPacket | DonePacket | ReadPacket | AbortedPacket;

export function isAck(p: MessagePacket): boolean {
  return (p.flags & MSG_FLAG_ACK) !== 0;
}
export function isReply(p: MessagePacket): boolean {
  return (p.flags & MSG_FLAG_REPLY) !== 0;
}

function putU64(out: Uint8Array, o: number, v: number): void {
  if (!Number.isSafeInteger(v) || v < 0) throw new RangeError(`${v} is not a u64 this codec can carry`);
  const hi = Math.floor(v / 0x1_0000_0000);
  const lo = v >>> 0;
  out[o] = hi >>> 24;
  out[o + 1] = (hi >>> 16) & 0xff;
  out[o + 2] = (hi >>> 8) & 0xff;
  out[o + 3] = hi & 0xff;
  out[o + 4] = lo >>> 24;
  out[o + 5] = (lo >>> 16) & 0xff;
  out[o + 6] = (lo >>> 8) & 0xff;
  out[o + 7] = lo & 0xff;
}

/** A u64 as a number, or -1 when it exceeds 2^53 (no real message is that large). */
function getU64(b: Uint8Array, o: number): number {
  const hi = ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
  const lo = ((b[o + 4] << 24) | (b[o + 5] << 16) | (b[o + 6] << 8) | b[o + 7]) >>> 0;
  if (hi > 0x1f_ffff) return -1;
  return hi * 0x1_0000_0000 + lo;
}

function header(out: Uint8Array, id: Uint8Array, flags: number): void {
  if (id.length !== MESSAGE_ID_BYTES) throw new RangeError(`message id must be ${MESSAGE_ID_BYTES} bytes`);
  out.set(id, 0);
  out[8] = flags >>> 8;
  out[9] = flags & 0xff;
  out[10] = 0;
  out[11] = 0;
}

/** Encodes a packet; ACKs (flag set) are written with their shortened bodies. */
export function encodeMessagePacket(p: MessagePacket): Uint8Array {
  const ack = (p.flags & MSG_FLAG_ACK) !== 0;
  switch (p.kind) {
    case 'init': {
      if (p.topic.length > MAX_TOPIC_BYTES) throw new RangeError(`topic of ${p.topic.length} bytes exceeds ${MAX_TOPIC_BYTES}`);
      const topicBytes = ack ? 0 : p.topic.length;
      const out = new Uint8Array(MESSAGE_HEADER_BYTES + INIT_BODY_BYTES + topicBytes);
      header(out, p.id, p.flags | MSG_FLAG_INIT);
      putU64(out, 12, p.length);
      out[20] = ack ? p.topicLength & 0xff : p.topic.length;
      if (!ack) out.set(p.topic, 21);
      return out;
    }
    case 'chunk': {
      const dataBytes = ack ? 0 : p.data.length;
      if (!ack && p.size !== p.data.length) throw new RangeError(`chunk size ${p.size} does not match its ${p.data.length} data bytes`);
      const out = new Uint8Array(MESSAGE_HEADER_BYTES + CHUNK_HEADER_BYTES + dataBytes);
      header(out, p.id, p.flags | MSG_FLAG_CHUNK);
      putU64(out, 12, p.index);
      putU64(out, 20, p.offset);
      putU64(out, 28, p.size);
      if (!ack) out.set(p.data, 36);
      return out;
    }
    case 'done': {
      if (p.checksum.length !== MESSAGE_CHECKSUM_BYTES) throw new RangeError(`checksum must be ${MESSAGE_CHECKSUM_BYTES} bytes`);
      const out = new Uint8Array(MESSAGE_HEADER_BYTES + DONE_BODY_BYTES);
      header(out, p.id, p.flags | MSG_FLAG_DONE);
      putU64(out, 12, p.chunkCount);
      out.set(p.checksum, 20);
      return out;
    }
    case 'read': {
      const out = new Uint8Array(MESSAGE_HEADER_BYTES);
      header(out, p.id, p.flags | MSG_FLAG_READ);
      return out;
    }
    case 'aborted': {
      const out = new Uint8Array(MESSAGE_HEADER_BYTES);
      header(out, p.id, p.flags | MSG_FLAG_ABORTED);
      return out;
    }
  }
}

/**
 * Decodes a message packet. The kind follows the receiver's order of flag tests in Mycelium: INIT,
 * then CHUNK, DONE, READ, ABORTED. Views into `b` are copied, so the result owns its bytes.
 */
export function decodeMessagePacket(b: Uint8Array): Result<MessagePacket> {
  if (b.length < MESSAGE_HEADER_BYTES) return err('truncated', `message packet of ${b.length} bytes is shorter than its ${MESSAGE_HEADER_BYTES}-byte header`);
  const id = b.slice(0, 8);
  const flags = (b[8] << 8) | b[9];
  const ack = (flags & MSG_FLAG_ACK) !== 0;
  const body = b.subarray(MESSAGE_HEADER_BYTES);
  if (flags & MSG_FLAG_INIT) {
    if (body.length < INIT_BODY_BYTES) return err('truncated', `INIT body of ${body.length} bytes, needs ${INIT_BODY_BYTES}`);
    const length = getU64(body, 0);
    if (length < 0) return err('too-large', 'INIT announces a message longer than 2^53 bytes');
    const topicLength = body[8];
    if (ack) return ok({ kind: 'init', id, flags, length, topicLength, topic: body.slice(9, 9 + topicLength) });
    if (body.length < INIT_BODY_BYTES + topicLength) return err('truncated', `INIT topic of ${topicLength} bytes, ${body.length - INIT_BODY_BYTES} present`);
    return ok({ kind: 'init', id, flags, length, topicLength, topic: body.slice(9, 9 + topicLength) });
  }
  if (flags & MSG_FLAG_CHUNK) {
    if (body.length < CHUNK_HEADER_BYTES) return err('truncated', `CHUNK body of ${body.length} bytes, needs ${CHUNK_HEADER_BYTES}`);
    const index = getU64(body, 0);
    const offset = getU64(body, 8);
    const size = getU64(body, 16);
    if (index < 0 || offset < 0 || size < 0) return err('too-large', 'CHUNK field exceeds 2^53');
    if (ack) return ok({ kind: 'chunk', id, flags, index, offset, size, data: new Uint8Array(0) });
    if (body.length - CHUNK_HEADER_BYTES < size) return err('truncated', `CHUNK announces ${size} bytes, ${body.length - CHUNK_HEADER_BYTES} present`);
    return ok({ kind: 'chunk', id, flags, index, offset, size, data: body.slice(CHUNK_HEADER_BYTES, CHUNK_HEADER_BYTES + size) });
  }
  if (flags & MSG_FLAG_DONE) {
    if (body.length < DONE_BODY_BYTES) return err('truncated', `DONE body of ${body.length} bytes, needs ${DONE_BODY_BYTES}`);
    const chunkCount = getU64(body, 0);
    if (chunkCount < 0) return err('too-large', 'DONE chunk count exceeds 2^53');
    return ok({ kind: 'done', id, flags, chunkCount, checksum: body.slice(8, 8 + MESSAGE_CHECKSUM_BYTES) });
  }
  if (flags & MSG_FLAG_READ) return ok({ kind: 'read', id, flags });
  if (flags & MSG_FLAG_ABORTED) return ok({ kind: 'aborted', id, flags });
  return err('bad-flags', `message packet flags 0x${flags.toString(16).padStart(4, '0')} name no packet kind`);
}
