// One message being received (reference §5.3): the chunks of an INIT'ed message, checked as Mycelium
// checks them, and the DONE checks that make it complete. Pure bookkeeping — the bus decides about
// ACLs, limits, ACKs and delivery.
//
// Chunk rules: offset + size ≤ length; index ≤ ceil(length/250) − 1; at least 250 bytes unless the
// chunk ends the message. (Mycelium only lets the chunk with the highest possible *index* be short,
// which refuses its own sender's last chunk; Hypha accepts the chunk that actually ends the message.)
// DONE rules: the chunk count matches, chunks 0..count−1 are all present and tile the message from
// byte 0 to its length, and BLAKE3 of the bytes matches.
import { blake3 } from '@noble/hashes/blake3.js';
import { bytesEqual } from '../base/bytes.ts';
import { MIN_CHUNK_BYTES, maxChunkIndex } from './chunks.ts';

export interface ChunkProblem {
  code: 'out-of-bounds' | 'index-too-high' | 'too-small';
  message: string;
}

export type DoneCheck = { ok: true; data: Uint8Array } | { ok: false; code: 'count' | 'missing' | 'not-contiguous' | 'checksum'; message: string };

export class PartialMessage {
  readonly id: Uint8Array;
  readonly src: Uint8Array;
  readonly dst: Uint8Array;
  readonly isReply: boolean;
  readonly topic: Uint8Array;
  readonly length: number;
  lastActivityAt: number;
  /** Allocated on the first chunk, so an INIT alone costs no memory. */
  private buf: Uint8Array | undefined;
  /** index → [offset, size] of the chunk stored there. */
  private readonly spans = new Map<number, [number, number]>();

  constructor(opts: { id: Uint8Array; src: Uint8Array; dst: Uint8Array; isReply: boolean; topic: Uint8Array; length: number; now: number }) {
    this.id = opts.id;
    this.src = opts.src;
    this.dst = opts.dst;
    this.isReply = opts.isReply;
    this.topic = opts.topic;
    this.length = opts.length;
    this.lastActivityAt = opts.now;
  }

  get chunksStored(): number {
    return this.spans.size;
  }

  /** Stores a chunk (a repeated index overwrites), or says why it is refused. */
  addChunk(index: number, offset: number, data: Uint8Array, now: number): ChunkProblem | undefined {
    const size = data.length;
    if (offset + size > this.length) return { code: 'out-of-bounds', message: `chunk ${index} at ${offset}+${size} runs past the message length ${this.length}` };
    const maxIdx = maxChunkIndex(this.length);
    if (index > maxIdx) return { code: 'index-too-high', message: `chunk index ${index} exceeds ${maxIdx} for a ${this.length}-byte message` };
    if (size < MIN_CHUNK_BYTES && offset + size !== this.length && index !== maxIdx) {
      return { code: 'too-small', message: `chunk ${index} of ${size} bytes is below ${MIN_CHUNK_BYTES} and does not end the message` };
    }
    this.buf ??= new Uint8Array(this.length);
    this.buf.set(data, offset);
    this.spans.set(index, [offset, size]);
    this.lastActivityAt = now;
    return undefined;
  }

  /** The DONE checks; on success the message's bytes. */
  complete(chunkCount: number, checksum: Uint8Array): DoneCheck {
    if (chunkCount !== this.spans.size) return { ok: false, code: 'count', message: `DONE says ${chunkCount} chunks, ${this.spans.size} received` };
    let end = 0;
    for (let i = 0; i < chunkCount; i++) {
      const span = this.spans.get(i);
      if (span === undefined) return { ok: false, code: 'missing', message: `chunk ${i} of ${chunkCount} is missing` };
      if (span[0] !== end) return { ok: false, code: 'not-contiguous', message: `chunk ${i} starts at ${span[0]}, expected ${end}` };
      end += span[1];
    }
    if (end !== this.length) return { ok: false, code: 'not-contiguous', message: `chunks cover ${end} of ${this.length} bytes` };
    const data = this.buf ?? new Uint8Array(0);
    if (!bytesEqual(blake3(data), checksum)) return { ok: false, code: 'checksum', message: 'BLAKE3 checksum does not match the received bytes' };
    return { ok: true, data };
  }
}
