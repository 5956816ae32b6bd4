// Digests for anti-entropy. An entry's position is its owner's node id followed by the hex of
// SHA-256(key)[0..16] (96 hex digits); a range is every entry whose position starts with a hex prefix, and
// its digest is (count, XOR of the entries' 16-byte fingerprints). Two nodes whose digests of a range
// agree hold the same versions there; when they differ, the requester splits the range into its 16
// children, until a range is small enough to list its items.
//
// Ranges start at an owner (a 64-digit prefix): the whole-map digest and each owner's digest are kept up
// to date on every change; a deeper prefix is computed from that owner's entries when asked.
import { FINGERPRINT_BYTES, KEY_HASH_BYTES, NODE_ID_HEX_CHARS, type SignedEntry } from './entry.ts';

/** Bytes of one item record in a RangeItems list: key hash 16 ‖ u64_BE ts ‖ fingerprint[0..8]. */
export const ITEM_RECORD_BYTES = KEY_HASH_BYTES + 8 + 8;
export const MAX_PREFIX_HEX = NODE_ID_HEX_CHARS + KEY_HASH_BYTES * 2;
const HEX = /^[0-9a-f]*$/;

export interface RangeSummary {
  count: number;
  fingerprint: Uint8Array;
}

/** "" (the whole map) or an owner id followed by up to 32 hex digits of key hash. */
export function isRangePrefix(p: string): boolean {
  return p === '' || (p.length >= NODE_ID_HEX_CHARS && p.length <= MAX_PREFIX_HEX && HEX.test(p));
}

export function positionOf(e: Pick<SignedEntry, 'owner' | 'keyHash'>): string {
  return e.owner + e.keyHash;
}

function xorInto(acc: Uint8Array, fp: Uint8Array): void {
  for (let i = 0; i < FINGERPRINT_BYTES; i++) acc[i] ^= fp[i];
}

interface OwnerDigest {
  count: number;
  fingerprint: Uint8Array;
  entries: Set<SignedEntry>;
}

export class DigestIndex {
  private rootCount = 0;
  private readonly rootFp = new Uint8Array(FINGERPRINT_BYTES);
  private readonly owners = new Map<string, OwnerDigest>();

  get size(): number {
    return this.rootCount;
  }

  add(e: SignedEntry): void {
    let o = this.owners.get(e.owner);
    if (!o) {
      o = { count: 0, fingerprint: new Uint8Array(FINGERPRINT_BYTES), entries: new Set() };
      this.owners.set(e.owner, o);
    }
    if (o.entries.has(e)) return;
    o.entries.add(e);
    o.count++;
    xorInto(o.fingerprint, e.fingerprint);
    this.rootCount++;
    xorInto(this.rootFp, e.fingerprint);
  }

  remove(e: SignedEntry): void {
    const o = this.owners.get(e.owner);
    if (!o?.entries.delete(e)) return;
    o.count--;
    xorInto(o.fingerprint, e.fingerprint);
    if (o.count === 0) this.owners.delete(e.owner);
    this.rootCount--;
    xorInto(this.rootFp, e.fingerprint);
  }

  root(): RangeSummary {
    return { count: this.rootCount, fingerprint: Uint8Array.from(this.rootFp) };
  }

  owner(owner: string): RangeSummary {
    const o = this.owners.get(owner);
    return o ? { count: o.count, fingerprint: Uint8Array.from(o.fingerprint) } : { count: 0, fingerprint: new Uint8Array(FINGERPRINT_BYTES) };
  }

  /** The digest of one range (see isRangePrefix). */
  summary(prefix: string): RangeSummary {
    return this.summaries([prefix]).get(prefix)!;
  }

  /**
   * Digests of several ranges, with one pass over each owner's entries for the prefixes deeper than the
   * owner: bounded work per request however the prefixes are chosen.
   */
  summaries(prefixes: readonly string[]): Map<string, RangeSummary> {
    const out = new Map<string, RangeSummary>();
    const deep = new Map<string, Map<number, Map<string, RangeSummary>>>(); // owner → key-hash prefix length → prefix → acc
    for (const p of prefixes) {
      if (out.has(p)) continue;
      if (p === '') out.set(p, this.root());
      else if (p.length <= NODE_ID_HEX_CHARS) out.set(p, this.owner(p));
      else {
        const owner = p.slice(0, NODE_ID_HEX_CHARS);
        const kh = p.slice(NODE_ID_HEX_CHARS);
        const acc: RangeSummary = { count: 0, fingerprint: new Uint8Array(FINGERPRINT_BYTES) };
        out.set(p, acc);
        let byLen = deep.get(owner);
        if (!byLen) deep.set(owner, (byLen = new Map()));
        let m = byLen.get(kh.length);
        if (!m) byLen.set(kh.length, (m = new Map()));
        m.set(kh, acc);
      }
    }
    for (const [owner, byLen] of deep) {
      for (const e of this.owners.get(owner)?.entries ?? []) {
        for (const [len, m] of byLen) {
          const acc = m.get(e.keyHash.slice(0, len));
          if (acc) {
            acc.count++;
            xorInto(acc.fingerprint, e.fingerprint);
          }
        }
      }
    }
    return out;
  }

  /** The entries in a range, in position order. */
  items(prefix: string): SignedEntry[] {
    let out: SignedEntry[];
    if (prefix === '') out = [...this.owners.values()].flatMap((o) => [...o.entries]);
    else {
      const owner = prefix.slice(0, NODE_ID_HEX_CHARS);
      const kh = prefix.slice(NODE_ID_HEX_CHARS);
      out = [...(this.owners.get(owner)?.entries ?? [])].filter((e) => e.keyHash.startsWith(kh));
    }
    return out.sort((a, b) => {
      const pa = positionOf(a);
      const pb = positionOf(b);
      return pa < pb ? -1 : pa > pb ? 1 : 0;
    });
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
