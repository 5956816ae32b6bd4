// Splits a Mycelium byte stream (TCP or TLS) into whole frames. Every frame's length is known from its
// first 8 bytes (packet header + data length word or Babel header), so the reader never interprets a
// body to find the next frame: a TLV it cannot use never costs it its place in the stream, unlike the
// Rust decoder. A frame that lies wholly inside one incoming chunk is handed out as a view of that
// chunk (no copy); one split across chunks is assembled into a fresh buffer. At most one incomplete
// frame (≤ 65,575 bytes) is held.
import { type Result } from '../../base/result.ts';
import { FRAME_PREFIX_BYTES, parseFramePrefix } from './packet.ts';

export interface StreamError {
  code: string;
  message: string;
}

export class MyceliumFrameReader {
  private readonly prefix = new Uint8Array(FRAME_PREFIX_BYTES);
  private prefixFill = 0;
  private frame: Uint8Array | undefined;
  private frameFill = 0;
  private failure: StreamError | undefined;

  /** Bytes held for the frame in progress. */
  get bufferedBytes(): number {
    return this.frame === undefined ? this.prefixFill : this.frameFill;
  }

  get error(): StreamError | undefined {
    return this.failure;
  }

  /**
   * Feeds a chunk; calls `onFrame` for every completed frame (which the callee owns: the reader keeps
   * no reference, and `chunk` must not be reused by the caller). Returns the first error, after which
   * the reader delivers nothing more: the stream has lost sync and the link must close.
   */
  push(chunk: Uint8Array, onFrame: (frame: Uint8Array) => void): Result<void, StreamError> {
    if (this.failure) return { ok: false, error: this.failure };
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.frame === undefined) {
        // Fast path: a whole frame inside the chunk goes out as a view.
        if (this.prefixFill === 0 && n - i >= FRAME_PREFIX_BYTES) {
          const p = parseFramePrefix(chunk, i);
          if (!p.ok) return this.fail(p.error);
          const len = p.value.frameLength;
          if (n - i >= len) {
            const f = chunk.subarray(i, i + len);
            i += len;
            onFrame(f);
            if (this.failure) return { ok: false, error: this.failure };
            continue;
          }
          this.frame = new Uint8Array(len);
          this.frame.set(chunk.subarray(i, n));
          this.frameFill = n - i;
          break;
        }
        const take = Math.min(FRAME_PREFIX_BYTES - this.prefixFill, n - i);
        this.prefix.set(chunk.subarray(i, i + take), this.prefixFill);
        this.prefixFill += take;
        i += take;
        if (this.prefixFill < FRAME_PREFIX_BYTES) break;
        const p = parseFramePrefix(this.prefix, 0);
        if (!p.ok) return this.fail(p.error);
        this.frame = new Uint8Array(p.value.frameLength);
        this.frame.set(this.prefix);
        this.frameFill = FRAME_PREFIX_BYTES;
        this.prefixFill = 0;
      }
      const f = this.frame;
      const take = Math.min(f.length - this.frameFill, n - i);
      f.set(chunk.subarray(i, i + take), this.frameFill);
      this.frameFill += take;
      i += take;
      if (this.frameFill === f.length) {
        this.frame = undefined;
        this.frameFill = 0;
        onFrame(f);
        if (this.failure) return { ok: false, error: this.failure };
      }
    }
    return { ok: true, value: undefined };
  }

  private fail(e: StreamError): Result<void, StreamError> {
    this.failure = e;
    this.frame = undefined;
    return { ok: false, error: e };
  }
}
