// One replicated state entry: its key syntax, the exact bytes its author signs, verification of an entry
// from the network or the disk, and the last-writer-wins order. Plain data and functions, no I/O.
//
// Signed bytes ("hypha-state-v1", scheme 1):
//
//   0xFF ‖ "hypha-state-v1" ‖ 0x00
//   ‖ u32_BE(len key)     ‖ utf8(key)
//   ‖ u32_BE(len value)   ‖ value
//   ‖ u64_BE(ts)
//   ‖ u32_BE(len node_id) ‖ utf8(node_id)
//   ‖ u8(deleted ? 1 : 0)
//
// Every variable field carries its length, so no two different entries have the same signed bytes (the
// phase-5 branch concatenated key and value bare: key "<id>/ab" + value "c" signed the same as "<id>/a" +
// "bc"). The leading 0xFF can never start a UTF-8 string, and a Micelio envelope's signed bytes start
// with its UTF-8 message_id, so a state signature can never pass as an envelope signature or the reverse.
import { createHash, type KeyObject } from 'node:crypto';
import { create, toBinary } from '@bufbuild/protobuf';
import { ed25519PublicKeyObject, ed25519Sign, ed25519Verify } from '../crypto/ed25519.ts';
import { BoundedMap } from '../base/bounded-map.ts';
import { bytesEqual, toHex } from '../base/bytes.ts';
import { err, ok, type Result } from '../base/result.ts';
import { StateEntrySchema, type StateEntry } from '../wire/gen/micelio_pb.ts';

/** StateEntry.scheme of entries signed as described above. */
export const SIGNATURE_SCHEME_V1 = 1;
export const STATE_DOMAIN_TAG: Uint8Array = Uint8Array.of(0xff, ...new TextEncoder().encode('hypha-state-v1'), 0x00);
export const NODE_ID_HEX_CHARS = 64;
export const ED25519_PUBLIC_KEY_BYTES = 32;
export const ED25519_SIGNATURE_BYTES = 64;
/** Bytes of SHA-256(key) kept as the key's position in the sync ranges (hex: twice as many characters). */
export const KEY_HASH_BYTES = 16;
export const FINGERPRINT_BYTES = 16;
/** Timestamps are unsigned 64-bit on the wire; Hypha keeps them below 2^63 (Micelio: 2^62). */
export const MAX_TS = (1n << 63n) - 1n;

const utf8 = new TextEncoder();
const NODE_ID = /^[0-9a-f]{64}$/;
// eslint-disable-next-line no-control-regex
const FORBIDDEN_IN_SUBKEY = /[\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff]/;

export function isNodeId(s: string): boolean {
  return NODE_ID.test(s);
}

/** An entry that passed every check (or that this node signed), with what sync needs precomputed. */
export interface SignedEntry {
  readonly key: string;
  /** The node id before the first "/": the only node that may write the key. */
  readonly owner: string;
  /** Everything after the first "/". */
  readonly subkey: string;
  readonly value: Uint8Array;
  readonly ts: bigint;
  readonly deleted: boolean;
  readonly signature: Uint8Array;
  readonly authorPubkey: Uint8Array;
  /** hex(SHA-256(utf8 key)[0..16]): where the key sits in the sync ranges. */
  readonly keyHash: string;
  /** SHA-256(signed bytes)[0..16]: identifies this exact version. */
  readonly fingerprint: Uint8Array;
  /** Size of the entry as a StateEntry protobuf, what sync pages count. */
  readonly encodedSize: number;
}

export interface KeyParts {
  owner: string;
  subkey: string;
}

/**
 * Checks a full key `<owner>/<subkey>`: a 64-hex owner, a subkey of at least one character with no
 * whitespace or control characters and no lone surrogates. Length limits are the caller's ([state]).
 */
export function parseKey(key: string): Result<KeyParts> {
  if (typeof key !== 'string') return err('key', 'key is not a string');
  const slash = key.indexOf('/');
  if (slash < 0) return err('key', `key ${JSON.stringify(clip(key))} has no "<node_id>/" prefix`);
  const owner = key.slice(0, slash);
  const subkey = key.slice(slash + 1);
  if (!NODE_ID.test(owner)) return err('key', `key ${JSON.stringify(clip(key))}: "${clip(owner)}" is not a node id (64 lowercase hex characters)`);
  const sub = checkSubkey(subkey);
  return sub.ok ? ok({ owner, subkey }) : err(sub.error.code, sub.error.message);
}

export function checkSubkey(subkey: string): Result<string> {
  if (subkey === '') return err('key', 'the key after "<node_id>/" is empty');
  if (!subkey.isWellFormed()) return err('key', `key ${JSON.stringify(clip(subkey))} contains a lone surrogate`);
  if (FORBIDDEN_IN_SUBKEY.test(subkey)) return err('key', `key ${JSON.stringify(clip(subkey))} contains whitespace or a control character`);
  return ok(subkey);
}

function clip(s: string): string {
  return s.length > 80 ? `${s.slice(0, 80)}…` : s;
}

export function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

export interface EntryFields {
  key: string;
  value: Uint8Array;
  ts: bigint;
  nodeId: string;
  deleted: boolean;
}

/** The exact bytes an author signs (scheme 1, see the top of this file). */
export function entrySignBytes(f: EntryFields): Uint8Array {
  const key = utf8.encode(f.key);
  const node = utf8.encode(f.nodeId);
  const out = new Uint8Array(STATE_DOMAIN_TAG.length + 4 + key.length + 4 + f.value.length + 8 + 4 + node.length + 1);
  const view = new DataView(out.buffer);
  let o = 0;
  out.set(STATE_DOMAIN_TAG, o);
  o += STATE_DOMAIN_TAG.length;
  view.setUint32(o, key.length);
  out.set(key, o + 4);
  o += 4 + key.length;
  view.setUint32(o, f.value.length);
  out.set(f.value, o + 4);
  o += 4 + f.value.length;
  view.setBigUint64(o, BigInt.asUintN(64, f.ts));
  o += 8;
  view.setUint32(o, node.length);
  out.set(node, o + 4);
  o += 4 + node.length;
  out[o] = f.deleted ? 1 : 0;
  return out;
}

function sha256(b: Uint8Array): Buffer {
  return createHash('sha256').update(b).digest();
}

export function keyHashOf(key: string): string {
  return sha256(utf8.encode(key)).subarray(0, KEY_HASH_BYTES).toString('hex');
}

function toWire(f: EntryFields, signature: Uint8Array, authorPubkey: Uint8Array): StateEntry {
  return create(StateEntrySchema, {
    key: f.key,
    value: f.value,
    lamportTs: f.ts,
    nodeId: f.nodeId,
    deleted: f.deleted,
    signature,
    authorPubkey,
    scheme: SIGNATURE_SCHEME_V1,
  });
}

function build(f: EntryFields, parts: KeyParts, signature: Uint8Array, authorPubkey: Uint8Array, signBytes: Uint8Array): SignedEntry {
  return {
    key: f.key,
    owner: parts.owner,
    subkey: parts.subkey,
    value: f.value,
    ts: f.ts,
    deleted: f.deleted,
    signature,
    authorPubkey,
    keyHash: keyHashOf(f.key),
    fingerprint: new Uint8Array(sha256(signBytes).subarray(0, FINGERPRINT_BYTES)),
    encodedSize: toBinary(StateEntrySchema, toWire(f, signature, authorPubkey)).length,
  };
}

/** Signs an entry as `author`. The caller has checked the key belongs to the author and the limits. */
export function signEntry(f: Omit<EntryFields, 'nodeId'>, author: { nodeId: string; ed25519Public: Uint8Array; signingKey: KeyObject }): SignedEntry {
  const parts = parseKey(f.key);
  if (!parts.ok) throw new Error(parts.error.message);
  if (parts.value.owner !== author.nodeId) throw new Error(`key ${f.key} is not in the namespace of ${author.nodeId}`);
  const fields: EntryFields = { ...f, value: f.deleted ? new Uint8Array(0) : f.value, nodeId: author.nodeId };
  const bytes = entrySignBytes(fields);
  return build(fields, parts.value, ed25519Sign(author.signingKey, bytes), author.ed25519Public, bytes);
}

/** Why an entry was refused: `code` is stable (metrics, tests), `message` names the key. */
export type EntryError = { code: EntryErrorCode; message: string };
export type EntryErrorCode =
  | 'scheme'
  | 'key'
  | 'key-too-long'
  | 'value-too-long'
  | 'tombstone-value'
  | 'ts'
  | 'pubkey'
  | 'node-id'
  | 'namespace'
  | 'signature';

export interface EntrySizeLimits {
  maxKeyBytes: number;
  maxValueBytes: number;
}

function refuse(code: EntryErrorCode, message: string): { ok: false; error: EntryError } {
  return { ok: false, error: { code, message } };
}

/**
 * Parsed author keys by node id: building a key object costs about as much as a verification, and a
 * map holds many entries of few authors. Bounded; an evicted key is simply parsed again.
 */
export class AuthorKeyCache {
  private readonly keys: BoundedMap<string, { raw: Uint8Array; key: KeyObject | undefined }>;

  constructor(maxEntries = 4096) {
    this.keys = new BoundedMap(maxEntries);
  }

  /** The key object for a 32-byte key already checked against `nodeId`; undefined if it is not a valid point. */
  get(nodeId: string, raw: Uint8Array): KeyObject | undefined {
    const hit = this.keys.get(nodeId);
    if (hit && bytesEqual(hit.raw, raw)) return hit.key;
    let key: KeyObject | undefined;
    try {
      key = ed25519PublicKeyObject(raw);
    } catch {
      key = undefined;
    }
    this.keys.set(nodeId, { raw: Uint8Array.from(raw), key });
    return key;
  }
}

/**
 * Turns a StateEntry from a peer or from the disk into a SignedEntry, or says why not: scheme, key
 * syntax, sizes, timestamp, author key ↔ node id, namespace ownership, then the signature (last: it is
 * the expensive check).
 */
export function verifyEntry(pb: StateEntry, limits: EntrySizeLimits, keys?: AuthorKeyCache): Result<SignedEntry, EntryError> {
  const k = JSON.stringify(clip(pb.key));
  if (pb.scheme !== SIGNATURE_SCHEME_V1) {
    return refuse('scheme', pb.scheme === 0
      ? `entry ${k} is signed the phase-5 way (no lengths, no domain tag), which Hypha does not accept`
      : `entry ${k} uses signature scheme ${pb.scheme}, which this node does not know`);
  }
  const keyBytes = utf8Length(pb.key);
  if (keyBytes > limits.maxKeyBytes) return refuse('key-too-long', `entry ${k}: key is ${keyBytes} bytes, more than max_key_bytes (${limits.maxKeyBytes})`);
  const parts = parseKey(pb.key);
  if (!parts.ok) return refuse('key', parts.error.message);
  if (pb.value.length > limits.maxValueBytes) return refuse('value-too-long', `entry ${k}: value is ${pb.value.length} bytes, more than max_value_bytes (${limits.maxValueBytes})`);
  if (pb.deleted && pb.value.length > 0) return refuse('tombstone-value', `entry ${k}: a tombstone must have an empty value`);
  if (pb.lamportTs === 0n || pb.lamportTs > MAX_TS) return refuse('ts', `entry ${k}: timestamp ${pb.lamportTs} is out of range`);
  if (pb.authorPubkey.length !== ED25519_PUBLIC_KEY_BYTES) return refuse('pubkey', `entry ${k}: author key is ${pb.authorPubkey.length} bytes, not 32`);
  if (sha256(pb.authorPubkey).toString('hex') !== pb.nodeId) return refuse('node-id', `entry ${k}: node_id is not the hash of the author key`);
  if (parts.value.owner !== pb.nodeId) return refuse('namespace', `entry ${k}: written by ${pb.nodeId.slice(0, 12)}, but the key belongs to ${parts.value.owner.slice(0, 12)}`);
  const fields: EntryFields = { key: pb.key, value: pb.value, ts: pb.lamportTs, nodeId: pb.nodeId, deleted: pb.deleted };
  const bytes = entrySignBytes(fields);
  const pub = keys?.get(pb.nodeId, pb.authorPubkey) ?? pb.authorPubkey;
  if (pb.signature.length !== ED25519_SIGNATURE_BYTES || !ed25519Verify(pub, bytes, pb.signature)) {
    return refuse('signature', `entry ${k}: signature does not verify`);
  }
  return ok(build(fields, parts.value, Uint8Array.from(pb.signature), Uint8Array.from(pb.authorPubkey), bytes));
}

/** The wire form of an entry (also what the store keeps). */
export function entryToWire(e: SignedEntry): StateEntry {
  return toWire({ key: e.key, value: e.value, ts: e.ts, nodeId: e.owner, deleted: e.deleted }, e.signature, e.authorPubkey);
}

export function encodeEntry(e: SignedEntry): Uint8Array {
  return toBinary(StateEntrySchema, entryToWire(e));
}

/**
 * Last-writer-wins order of two versions of one key: the higher timestamp wins; on a tie the greater
 * node id (as Micelio), then a tombstone over a live value, then the greater value bytes. The order is
 * total over entry contents, so merging is commutative, associative and idempotent even when one
 * identity signs two different entries with one timestamp (a cloned data dir). >0 means `a` wins.
 */
export function compareEntries(a: Pick<SignedEntry, 'ts' | 'owner' | 'deleted' | 'value'>, b: Pick<SignedEntry, 'ts' | 'owner' | 'deleted' | 'value'>): number {
  if (a.ts !== b.ts) return a.ts > b.ts ? 1 : -1;
  if (a.owner !== b.owner) return a.owner > b.owner ? 1 : -1;
  if (a.deleted !== b.deleted) return a.deleted ? 1 : -1;
  return Buffer.compare(Buffer.from(a.value.buffer, a.value.byteOffset, a.value.byteLength), Buffer.from(b.value.buffer, b.value.byteOffset, b.value.byteLength));
}

export function sameVersion(a: SignedEntry, b: SignedEntry): boolean {
  return a.key === b.key && bytesEqual(a.fingerprint, b.fingerprint);
}

export { toHex };
