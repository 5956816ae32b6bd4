// The send side of a stream link: frames are written back to back into large chunks and handed to the
// socket once per event-loop turn, as one write (or a few, when a chunk filled up). Copying a 1.5 KB frame
// into a chunk costs less than one Writable.write() per frame, and the socket then does one syscall per
// turn instead of one per frame. A region handed to the socket is never written again: new frames only
// go after it, and a full chunk is replaced by a fresh one.

/** Size of a chunk: room for about 40 full-size overlay packets; larger frames get a chunk of their own size. */
export const OUT_CHUNK_BYTES = 64 * 1024;

export class OutChunks {
  /** The chunk being filled: write a frame at `chunk[end..]` after ensure(), then commit(). */
  chunk: Buffer;
  end = 0;
  /** First byte of `chunk` not yet taken. */
  private start = 0;
  /** Filled regions not yet taken, in order. */
  private readonly ready: Buffer[] = [];
  /** Bytes committed and not yet taken. */
  pendingBytes = 0;
  /** Frames committed and not yet taken. */
  pendingFrames = 0;
  private readonly chunkBytes: number;

  constructor(chunkBytes = OUT_CHUNK_BYTES) {
    this.chunkBytes = chunkBytes;
    this.chunk = Buffer.allocUnsafeSlow(chunkBytes);
  }

  /** Makes room for `n` contiguous bytes at `chunk[end..]`. */
  ensure(n: number): void {
    if (this.chunk.length - this.end >= n) return;
    if (this.end > this.start) this.ready.push(this.chunk.subarray(this.start, this.end));
    this.chunk = Buffer.allocUnsafeSlow(Math.max(this.chunkBytes, n));
    this.start = 0;
    this.end = 0;
  }

  /** The `n` bytes at `chunk[end..]` are a frame now. */
  commit(n: number): void {
    this.end += n;
    this.pendingBytes += n;
    this.pendingFrames++;
  }

  /** Copies `msg` in as one frame. */
  push(msg: Uint8Array): void {
    this.ensure(msg.length);
    this.chunk.set(msg, this.end);
    this.commit(msg.length);
  }

  /** Everything committed since the last take, as buffers to write in order; empty when nothing is pending. */
  take(): Buffer[] {
    const out = this.ready.splice(0);
    if (this.end > this.start) out.push(this.chunk.subarray(this.start, this.end));
    this.start = this.end;
    this.pendingBytes = 0;
    this.pendingFrames = 0;
    return out;
  }

  /** Drops everything pending (the link closed). */
  clear(): void {
    this.ready.length = 0;
    this.start = this.end;
    this.pendingBytes = 0;
    this.pendingFrames = 0;
  }
}
