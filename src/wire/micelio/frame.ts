// Micelio frame: [u16 BE magic 0x4D49 "MI"][u16 BE version 1][u32 BE payload length][payload].
// Frames travel inside Noise transport plaintext, which the receiver treats as a byte stream: a frame
// may span several Noise messages and one message may carry several frames, so decoding goes through
// a streaming reader that reassembles frames from arbitrary chunks.
import { err, ok, type Result } from '../../base/result.ts';

export const FRAME_MAGIC = 0x4d49;
export const FRAME_VERSION = 1;
export const FRAME_HEADER_BYTES = 8;
/** Largest payload a frame may carry (1 MiB), inclusive. */
export const MAX_FRAME_PAYLOAD_BYTES = 1_048_576;
export const MAX_FRAME_BYTES = FRAME_HEADER_BYTES + MAX_FRAME_PAYLOAD_BYTES;

export type FrameErrorCode = 'bad-magic' | 'bad-version' | 'too-large';

export interface FrameError {
  code: FrameErrorCode;
  message: string;
}

/** One frame around `payload`, header and payload in a single buffer (sent as one Noise message). */
export function encodeFrame(payload: Uint8Array): Result<Uint8Array> {
  if (payload.length > MAX_FRAME_PAYLOAD_BYTES) {
    return err('too-large', `frame payload of ${payload.length} bytes exceeds ${MAX_FRAME_PAYLOAD_BYTES}`);
  }
  const out = new Uint8Array(FRAME_HEADER_BYTES + payload.length);
  writeFrameHeader(out, payload.length);
  out.set(payload, FRAME_HEADER_BYTES);
  return ok(out);
}

export function writeFrameHeader(out: Uint8Array, payloadLength: number, offset = 0): void {
  out[offset] = FRAME_MAGIC >> 8;
  out[offset + 1] = FRAME_MAGIC & 0xff;
  out[offset + 2] = 0;
  out[offset + 3] = FRAME_VERSION;
  out[offset + 4] = payloadLength >>> 24;
  out[offset + 5] = (payloadLength >>> 16) & 0xff;
  out[offset + 6] = (payloadLength >>> 8) & 0xff;
  out[offset + 7] = payloadLength & 0xff;
}

/** Checks an 8-byte header; returns the payload length it announces. */
export function parseFrameHeader(h: Uint8Array, offset = 0): Result<number, FrameError> {
  const magic = (h[offset] << 8) | h[offset + 1];
  if (magic !== FRAME_MAGIC) {
    return { ok: false, error: { code: 'bad-magic', message: `invalid frame magic 0x${magic.toString(16).padStart(4, '0').toUpperCase()}` } };
  }
  const version = (h[offset + 2] << 8) | h[offset + 3];
  if (version !== FRAME_VERSION) {
    return { ok: false, error: { code: 'bad-version', message: `unsupported frame version ${version}` } };
  }
  const len = ((h[offset + 4] << 24) | (h[offset + 5] << 16) | (h[offset + 6] << 8) | h[offset + 7]) >>> 0;
  if (len > MAX_FRAME_PAYLOAD_BYTES) {
    return { ok: false, error: { code: 'too-large', message: `frame payload length ${len} exceeds ${MAX_FRAME_PAYLOAD_BYTES}` } };
  }
  return { ok: true, value: len };
}

/** Decodes exactly one whole frame (no trailing bytes). */
export function decodeFrame(bytes: Uint8Array): Result<Uint8Array> {
  if (bytes.length < FRAME_HEADER_BYTES) return err('truncated', `frame of ${bytes.length} bytes is shorter than its header`);
  const h = parseFrameHeader(bytes);
  if (!h.ok) return h;
  if (bytes.length !== FRAME_HEADER_BYTES + h.value) {
    return err('length-mismatch', `frame announces ${h.value} payload bytes but carries ${bytes.length - FRAME_HEADER_BYTES}`);
  }
  return ok(bytes.slice(FRAME_HEADER_BYTES));
}

/**
 * Reassembles frames from a byte stream delivered in arbitrary chunks. It never holds more than one
 * incomplete frame (≤ MAX_FRAME_BYTES) and allocates a payload buffer only after its header checked
 * out. After an error it stays failed: the stream has lost sync and the link must close.
 */
export class FrameReader {
  private readonly header = new Uint8Array(FRAME_HEADER_BYTES);
  private headerFill = 0;
  private payload: Uint8Array | undefined;
  private payloadFill = 0;
  private failure: FrameError | undefined;

  /** Bytes held for the frame in progress (for limits and tests). */
  get bufferedBytes(): number {
    return this.headerFill + this.payloadFill;
  }

  get error(): FrameError | undefined {
    return this.failure;
  }

  /**
   * Feeds a chunk, which the caller gives up; calls `onFrame` for each completed payload, which the callee
   * owns: a view of the chunk when the frame lies wholly inside it (no copy), else a fresh buffer. Returns
   * the first error, after which nothing more is delivered.
   */
  push(chunk: Uint8Array, onFrame: (payload: Uint8Array) => void): Result<void, FrameError> {
    if (this.failure) return { ok: false, error: this.failure };
    let i = 0;
    while (i < chunk.length) {
      if (this.payload === undefined && this.headerFill === 0 && chunk.length - i >= FRAME_HEADER_BYTES) {
        // A bad header falls through to the path below, which reports it.
        const len = parseFrameHeader(chunk, i);
        const end = len.ok ? i + FRAME_HEADER_BYTES + len.value : Infinity;
        if (end <= chunk.length) {
          const payload = chunk.subarray(i + FRAME_HEADER_BYTES, end);
          i = end;
          onFrame(payload);
          continue;
        }
      }
      if (this.payload === undefined) {
        const n = Math.min(FRAME_HEADER_BYTES - this.headerFill, chunk.length - i);
        this.header.set(chunk.subarray(i, i + n), this.headerFill);
        this.headerFill += n;
        i += n;
        if (this.headerFill < FRAME_HEADER_BYTES) break;
        const len = parseFrameHeader(this.header);
        if (!len.ok) {
          this.failure = len.error;
          return len;
        }
        this.payload = new Uint8Array(len.value);
        this.payloadFill = 0;
      }
      const n = Math.min(this.payload.length - this.payloadFill, chunk.length - i);
      this.payload.set(chunk.subarray(i, i + n), this.payloadFill);
      this.payloadFill += n;
      i += n;
      if (this.payloadFill === this.payload.length) {
        const done = this.payload;
        this.payload = undefined;
        this.payloadFill = 0;
        this.headerFill = 0;
        onFrame(done);
      }
    }
    return { ok: true, value: undefined };
  }
}
