// The keyring: node id → Ed25519 public key, used to verify every gossiped envelope. Trust levels are
// Micelio's (lower is stronger): 0 = proven by a hello over Noise (and this node's own key), 1 = learned
// from a peer exchange entry or from an envelope's sender_pubkey. A key is never replaced by one of equal
// or weaker trust; a stronger one replaces it. Micelio's keyring is never pruned; this one has a size
// limit (least recently used evicted first) and refuses any key whose SHA-256 is not the node id.
import { createHash, type KeyObject } from 'node:crypto';
import { BoundedMap } from '../base/bounded-map.ts';
import { ed25519PublicKeyObject } from '../crypto/ed25519.ts';
import { ED25519_PUBLIC_KEY_BYTES } from '../wire/micelio/envelope.ts';

export const TrustLevel = {
  /** Bound to the node by a PeerHello over a Noise session (Micelio TrustDirectlyVerified). */
  Direct: 0,
  /** Read from a PeerExchange entry or an envelope's sender_pubkey (Micelio TrustGossipLearned). */
  Gossip: 1,
} as const;
export type TrustLevel = (typeof TrustLevel)[keyof typeof TrustLevel];

export const DEFAULT_KEYRING_MAX_ENTRIES = 10_000;

export interface KeyEntry {
  readonly nodeId: string;
  readonly publicKey: Uint8Array;
  readonly trust: TrustLevel;
  /**
   * The key parsed for node:crypto, once, on first use: each verification then skips the DER import.
   * Parsing costs ~100 µs, and a peer exchange teaches hundreds of keys of which few ever sign anything
   * this node verifies, so it is not paid up front (a 1,000-node mesh spent most of its CPU here).
   */
  readonly keyObject: KeyObject;
}

/** A keyring entry whose KeyObject is built when a signature first needs it. */
class LazyKeyEntry implements KeyEntry {
  readonly nodeId: string;
  readonly publicKey: Uint8Array;
  readonly trust: TrustLevel;
  private parsed: KeyObject | undefined;

  constructor(nodeId: string, publicKey: Uint8Array, trust: TrustLevel) {
    this.nodeId = nodeId;
    this.publicKey = publicKey;
    this.trust = trust;
  }

  get keyObject(): KeyObject {
    // node:crypto imports any 32 bytes as an Ed25519 key (it checks the point only when verifying),
    // so this does not throw for the 32-byte keys prepare() admits.
    this.parsed ??= ed25519PublicKeyObject(this.publicKey);
    return this.parsed;
  }
}

/** What add() did: a new entry, a stronger key replacing a weaker one, nothing, or a refusal. */
export type KeyAddResult = 'added' | 'upgraded' | 'kept' | 'rejected';

export interface KeyRingStats {
  size: number;
  maxEntries: number;
  direct: number;
  gossip: number;
  /** Entries pushed out because the keyring was full. */
  evictions: number;
  /** Keys refused: wrong size, or SHA-256 ≠ node id (a key that is not a curve point fails at its first signature). */
  rejected: number;
}

/** hex(SHA-256(key)) — a node id is the hash of its Ed25519 key. */
export function nodeIdOfKey(publicKey: Uint8Array): string {
  return createHash('sha256').update(publicKey).digest('hex');
}

export class KeyRing {
  private readonly entries: BoundedMap<string, KeyEntry>;
  private rejectedCount = 0;

  constructor(opts: { maxEntries?: number } = {}) {
    this.entries = new BoundedMap(opts.maxEntries ?? DEFAULT_KEYRING_MAX_ENTRIES);
  }

  add(nodeId: string, publicKey: Uint8Array, trust: TrustLevel): KeyAddResult {
    const existing = this.entries.get(nodeId);
    if (existing !== undefined && existing.trust <= trust) return 'kept';
    const entry = this.prepare(nodeId, publicKey, trust);
    return entry === undefined ? 'rejected' : this.put(entry);
  }

  /**
   * Checks a key against its node id, without storing it: the gossip engine learns a key
   * from sender_pubkey only once the signature it came with verifies, so unsigned junk cannot churn the
   * keyring. Undefined (and counted as rejected) for a bad key.
   */
  prepare(nodeId: string, publicKey: Uint8Array, trust: TrustLevel): KeyEntry | undefined {
    if (publicKey.length !== ED25519_PUBLIC_KEY_BYTES || nodeIdOfKey(publicKey) !== nodeId) {
      this.rejectedCount++;
      return undefined;
    }
    return new LazyKeyEntry(nodeId, Uint8Array.from(publicKey), trust);
  }

  /** Stores a prepared entry under the trust rule (no downgrade, a stronger key replaces). */
  put(entry: KeyEntry): KeyAddResult {
    const existing = this.entries.get(entry.nodeId);
    if (existing !== undefined && existing.trust <= entry.trust) return 'kept';
    if (existing !== undefined) this.entries.delete(entry.nodeId);
    this.entries.set(entry.nodeId, entry);
    return existing === undefined ? 'added' : 'upgraded';
  }

  /** The entry for `nodeId`; a hit makes it the last to be evicted. */
  lookup(nodeId: string): KeyEntry | undefined {
    const e = this.entries.get(nodeId);
    if (e !== undefined) this.entries.touch(nodeId);
    return e;
  }

  /** Like lookup, without changing the eviction order. */
  peek(nodeId: string): KeyEntry | undefined {
    return this.entries.get(nodeId);
  }

  remove(nodeId: string): boolean {
    return this.entries.delete(nodeId);
  }

  get size(): number {
    return this.entries.size;
  }

  stats(): KeyRingStats {
    let direct = 0;
    for (const e of this.entries.values()) if (e.trust === TrustLevel.Direct) direct++;
    return {
      size: this.entries.size,
      maxEntries: this.entries.maxEntries,
      direct,
      gossip: this.entries.size - direct,
      evictions: this.entries.evictions,
      rejected: this.rejectedCount,
    };
  }
}
