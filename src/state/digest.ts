// Range fingerprints for anti-entropy. Every entry sits at the position SHA-256(key) in a 16-ary trie of
// hex prefixes; the digest of a prefix is (count, XOR of the 16-byte fingerprints) of the entries under it.
// Two nodes whose digests of a prefix agree hold the same versions there; when they differ, the
// requester splits the prefix into its 16 children, until a range is small enough to list its items.
//
// The digests of the root and of every prefix of up to three hex digits (16 + 256 + 4096 ranges) are kept
// up to date on every change; a deeper prefix is computed from the entries of its three-digit bucket.
import { FINGERPRINT_BYTES, KEY_HASH_BYTES, type SignedEntry } from './entry.ts';

export const TABLE_DEPTH = 3;
const BUCKETS = 1 << (4 * TABLE_DEPTH); // 4096
/** Bytes of one item record in a RangeItems list: key hash 16 ‖ u64_BE ts ‖ fingerprint[0..8]. */
export const ITEM_RECORD_BYTES = KEY_HASH_BYTES + 8 + 8;
export const MAX_PREFIX_HEX = KEY_HASH_BYTES * 2;
const HEX = /^[0-9a-f]*$/;

export interface RangeSummary {
  count: number;
  fingerprint: Uint8Array;
}

export function isHexPrefix(p: string): boolean {
  return p.length <= MAX_PREFIX_HEX && HEX.test(p);
}

function xorInto(acc: Uint8Array, accOffset: number, fp: Uint8Array): void {
  for (let i = 0; i < FINGERPRINT_BYTES; i++) acc[accOffset + i] ^= fp[i];
}

function bucketOf(keyHash: string): number {
  return parseInt(keyHash.slice(0, TABLE_DEPTH), 16);
}

export class DigestIndex {
  private rootCount = 0;
  private readonly rootFp = new Uint8Array(FINGERPRINT_BYTES);
  /** counts[d] / fps[d]: digests of the 16^(d+1) prefixes of d+1 hex digits. */
  private readonly counts: Int32Array[] = [];
  private readonly fps: Uint8Array[] = [];
  private readonly buckets = new Map<number, Set<SignedEntry>>();

  constructor() {
    for (let d = 1; d <= TABLE_DEPTH; d++) {
      const n = 1 << (4 * d);
      this.counts.push(new Int32Array(n));
      this.fps.push(new Uint8Array(n * FINGERPRINT_BYTES));
    }
  }

  get size(): number {
    return this.rootCount;
  }

  private apply(e: SignedEntry, delta: 1 | -1): void {
    const b = bucketOf(e.keyHash);
    this.rootCount += delta;
    xorInto(this.rootFp, 0, e.fingerprint);
    for (let d = 1; d <= TABLE_DEPTH; d++) {
      const idx = b >> (4 * (TABLE_DEPTH - d));
      this.counts[d - 1][idx] += delta;
      xorInto(this.fps[d - 1], idx * FINGERPRINT_BYTES, e.fingerprint);
    }
  }

  add(e: SignedEntry): void {
    const b = bucketOf(e.keyHash);
    let set = this.buckets.get(b);
    if (!set) {
      set = new Set();
      this.buckets.set(b, set);
    }
    set.add(e);
    this.apply(e, 1);
  }

  remove(e: SignedEntry): void {
    const b = bucketOf(e.keyHash);
    const set = this.buckets.get(b);
    if (!set?.delete(e)) return;
    if (set.size === 0) this.buckets.delete(b);
    this.apply(e, -1);
  }

  root(): RangeSummary {
    return { count: this.rootCount, fingerprint: Uint8Array.from(this.rootFp) };
  }

  /** The digest of every entry whose key hash starts with `prefix` (hex). */
  summary(prefix: string): RangeSummary {
    const d = prefix.length;
    if (d === 0) return this.root();
    if (d <= TABLE_DEPTH) {
      const idx = parseInt(prefix, 16);
      const o = idx * FINGERPRINT_BYTES;
      return { count: this.counts[d - 1][idx], fingerprint: this.fps[d - 1].slice(o, o + FINGERPRINT_BYTES) };
    }
    const fp = new Uint8Array(FINGERPRINT_BYTES);
    let count = 0;
    for (const e of this.buckets.get(bucketOf(prefix)) ?? []) {
      if (e.keyHash.startsWith(prefix)) {
        count++;
        xorInto(fp, 0, e.fingerprint);
      }
    }
    return { count, fingerprint: fp };
  }

  /** The entries under `prefix`, in key-hash order. */
  items(prefix: string): SignedEntry[] {
    const out: SignedEntry[] = [];
    if (prefix.length >= TABLE_DEPTH) {
      for (const e of this.buckets.get(bucketOf(prefix)) ?? []) if (e.keyHash.startsWith(prefix)) out.push(e);
    } else {
      const shift = 4 * (TABLE_DEPTH - prefix.length);
      const first = prefix === '' ? 0 : parseInt(prefix, 16) << shift;
      const last = prefix === '' ? BUCKETS : first + (1 << shift);
      if (last - first > this.buckets.size) {
        for (const [b, set] of this.buckets) if (b >= first && b < last) out.push(...set);
      } else {
        for (let b = first; b < last; b++) {
          const set = this.buckets.get(b);
          if (set) out.push(...set);
        }
      }
    }
    return out.sort((a, b) => (a.keyHash < b.keyHash ? -1 : a.keyHash > b.keyHash ? 1 : 0));
  }
}

/** A list record for one entry (what the requester tells the responder it holds). */
export function writeItemRecord(out: Uint8Array, offset: number, e: SignedEntry): void {
  out.set(Buffer.from(e.keyHash, 'hex'), offset);
  new DataView(out.buffer, out.byteOffset, out.byteLength).setBigUint64(offset + KEY_HASH_BYTES, e.ts);
  out.set(e.fingerprint.subarray(0, 8), offset + KEY_HASH_BYTES + 8);
}

export function encodeItems(entries: readonly SignedEntry[]): Uint8Array {
  const out = new Uint8Array(entries.length * ITEM_RECORD_BYTES);
  entries.forEach((e, i) => writeItemRecord(out, i * ITEM_RECORD_BYTES, e));
  return out;
}

export interface ItemRecord {
  ts: bigint;
  /** First 8 bytes of the fingerprint, as hex. */
  fp8: string;
}

/** Key hash (hex) → what the requester holds; undefined if the bytes are not whole records. */
export function decodeItems(bytes: Uint8Array): Map<string, ItemRecord> | undefined {
  if (bytes.length % ITEM_RECORD_BYTES !== 0) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Map<string, ItemRecord>();
  for (let o = 0; o < bytes.length; o += ITEM_RECORD_BYTES) {
    const kh = Buffer.from(bytes.buffer, bytes.byteOffset + o, KEY_HASH_BYTES).toString('hex');
    out.set(kh, {
      ts: view.getBigUint64(o + KEY_HASH_BYTES),
      fp8: Buffer.from(bytes.buffer, bytes.byteOffset + o + KEY_HASH_BYTES + 8, 8).toString('hex'),
    });
  }
  return out;
}

/** Does the requester (holding `have`) lack entry `e`? It does unless it holds this version or a newer one. */
export function requesterLacks(e: SignedEntry, have: ItemRecord | undefined): boolean {
  if (!have) return true;
  if (have.ts !== e.ts) return have.ts < e.ts;
  return have.fp8 !== Buffer.from(e.fingerprint.buffer, e.fingerprint.byteOffset, 8).toString('hex');
}
