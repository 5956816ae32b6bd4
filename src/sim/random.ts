// Seeded randomness for the simulator. Every random choice in a simulated network — wire loss and
// jitter, dial jitter, gossip relay targets, router-id tails, E2E nonces, topology generation — draws
// from a stream derived from the one seed, so a run replays exactly. Streams are derived by name
// (`derive('node/17/gossip')`) rather than drawn from one shared generator, so adding a consumer in one
// place does not shift the numbers every other consumer sees.
import { createHash } from 'node:crypto';
import type { NonceSource } from '../crypto/e2e.ts';

/** A seed: a number or any text (hashed). */
export type Seed = number | string;

/**
 * sfc32 (Chris Doty-Humphrey's Small Fast Counting generator): 128 bits of state, passes PractRand,
 * a few nanoseconds per draw. Not for cryptography.
 */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  /** The seed text this stream was derived from (for messages). */
  readonly label: string;

  constructor(seed: Seed, label = '') {
    const text = `${typeof seed}:${String(seed)}|${label}`;
    const h = createHash('sha256').update(text).digest();
    this.a = h.readUInt32LE(0);
    this.b = h.readUInt32LE(4);
    this.c = h.readUInt32LE(8);
    this.d = h.readUInt32LE(12) | 1;
    this.label = text;
    // Mix the state a little, as sfc32's author recommends.
    for (let i = 0; i < 12; i++) this.nextU32();
  }

  /** An independent stream named `name`, derived from this one's seed (not from its position). */
  derive(name: string): Rng {
    return new Rng(this.label, name);
  }

  nextU32(): number {
    const a = this.a;
    const b = this.b;
    const c = this.c;
    const d = this.d;
    const t = (((a + b) | 0) + d) | 0;
    this.d = (d + 1) | 0;
    this.a = b ^ (b >>> 9);
    this.b = (c + (c << 3)) | 0;
    const r = (c << 21) | (c >>> 11);
    this.c = (r + t) | 0;
    return t >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** `next` as a free function, for the `random` options of the real classes. */
  get fn(): () => number {
    return () => this.next();
  }

  /** An integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** A uniformly chosen element. */
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('pick from an empty list');
    return items[this.int(items.length)];
  }

  /** Shuffles in place (Fisher–Yates) and returns the array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [items[i], items[j]] = [items[j], items[i]];
    }
    return items;
  }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      const v = this.nextU32();
      for (let k = 0; k < 4 && i + k < n; k++) out[i + k] = (v >>> (8 * k)) & 0xff;
    }
    return out;
  }

  /** A nonce source for the E2E cipher (the data plane's `nonces` option): reproducible ciphertexts. */
  nonces(): NonceSource {
    return (out, offset) => {
      for (let i = 0; i < 12; i += 4) {
        const v = this.nextU32();
        out[offset + i] = v & 0xff;
        out[offset + i + 1] = (v >>> 8) & 0xff;
        out[offset + i + 2] = (v >>> 16) & 0xff;
        out[offset + i + 3] = v >>> 24;
      }
    };
  }
}
