// Decoding and bounding of the state messages (msg_types 6, 7, 8). Every decoder returns a Result and
// checks counts and formats before the sync engine does any work, so a request costs a bounded amount.
import { create } from '@bufbuild/protobuf';
import { err, ok, type Result } from '../base/result.ts';
import { decodeMessage, encodeMessage } from '../wire/micelio/codec.ts';
import {
  StateSyncRequestSchema,
  StateSyncResponseSchema,
  StateUpdateSchema,
  type StateEntry,
  type StateSyncRequest,
  type StateSyncResponse,
} from '../wire/gen/micelio_pb.ts';
import { isNodeId, NODE_ID_HEX_CHARS } from './entry.ts';
import { ITEM_RECORD_BYTES, isRangePrefix } from './digest.ts';
import { FINGERPRINT_BYTES } from './entry.ts';

/** Version of Hypha's sync protocol in StateSyncRequest/Response.version; 0 is a phase-5 Go message. */
export const SYNC_PROTOCOL_VERSION = 1;
/**
 * Most bytes of one state message payload. Micelio's gossip engine drops payloads over 65,536 bytes and
 * a gossip engine may apply that cap to direct messages too, so pages stay under it (and thus far under
 * the 1 MiB frame limit).
 */
export const MAX_SYNC_PAYLOAD_BYTES = 64 * 1024 - 512;
/** Bounds a request must respect (the builder stays well inside them). */
export const MAX_KNOWN_PER_REQUEST = 1024;
export const MAX_RANGES_PER_REQUEST = 1024;
export const MAX_LISTS_PER_REQUEST = 1024;
export const MAX_LIST_ITEMS_PER_REQUEST = 4096;
export const MAX_PREFIXES_PER_RESPONSE = 4096;

export function encodeStateUpdate(entry: StateEntry): Uint8Array {
  return encodeMessage(StateUpdateSchema, create(StateUpdateSchema, { entry }));
}

export function decodeStateUpdate(bytes: Uint8Array): Result<StateEntry> {
  const m = decodeMessage(StateUpdateSchema, bytes);
  if (!m.ok) return m;
  if (!m.value.entry) return err('empty', 'StateUpdate carries no entry');
  return ok(m.value.entry);
}

export function encodeSyncRequest(r: StateSyncRequest): Uint8Array {
  return encodeMessage(StateSyncRequestSchema, r);
}

export function encodeSyncResponse(r: StateSyncResponse): Uint8Array {
  return encodeMessage(StateSyncResponseSchema, r);
}

/**
 * A Hypha StateSyncRequest within bounds. A phase-5 request (version 0) decodes with code "phase5", so the
 * caller can ignore it without treating the peer as faulty.
 */
export function decodeSyncRequest(bytes: Uint8Array): Result<StateSyncRequest> {
  const m = decodeMessage(StateSyncRequestSchema, bytes);
  if (!m.ok) return m;
  const r = m.value;
  if (r.version === 0) return err('phase5', 'a phase-5 StateSyncRequest (no Hypha version)');
  if (r.base !== '') {
    if (!isNodeId(r.base)) return err('prefix', `base ${JSON.stringify(r.base.slice(0, 70))} is not a node id`);
    // Resolve relative prefixes here, so everything after the decoder sees full ones.
    for (const d of r.ranges) d.prefix = r.base + d.prefix;
    for (const l of r.lists) l.prefix = r.base + l.prefix;
  }
  if (r.version !== SYNC_PROTOCOL_VERSION) return err('version', `sync protocol version ${r.version} is not ${SYNC_PROTOCOL_VERSION}`);
  const known = Object.keys(r.known);
  if (known.length > MAX_KNOWN_PER_REQUEST) return err('too-many', `${known.length} known owners, at most ${MAX_KNOWN_PER_REQUEST}`);
  for (const k of known) if (!isNodeId(k)) return err('known', `known owner ${JSON.stringify(k.slice(0, 70))} is not a node id`);
  for (const [name, v] of [['known_from', r.knownFrom], ['known_to', r.knownTo], ['after_owner', r.afterOwner]] as const) {
    if (v !== '' && !isNodeId(v)) return err('known', `${name} ${JSON.stringify(v.slice(0, 70))} is not a node id`);
  }
  if (r.ranges.length > MAX_RANGES_PER_REQUEST) return err('too-many', `${r.ranges.length} ranges, at most ${MAX_RANGES_PER_REQUEST}`);
  for (const d of r.ranges) {
    if (!isRangePrefix(d.prefix)) return err('prefix', `range prefix ${JSON.stringify(d.prefix.slice(0, 100))} is not "" or an owner id and key-hash digits`);
    if (d.fingerprint.length !== FINGERPRINT_BYTES) return err('fingerprint', `range ${d.prefix}: fingerprint of ${d.fingerprint.length} bytes`);
  }
  if (r.compareOwners && r.ranges.some((d) => d.prefix.length !== NODE_ID_HEX_CHARS)) return err('prefix', 'an owner comparison names a range that is not an owner');
  if (r.lists.length > MAX_LISTS_PER_REQUEST) return err('too-many', `${r.lists.length} lists, at most ${MAX_LISTS_PER_REQUEST}`);
  let items = 0;
  for (const l of r.lists) {
    if (!isRangePrefix(l.prefix)) return err('prefix', `list prefix ${JSON.stringify(l.prefix.slice(0, 100))} is not "" or an owner id and key-hash digits`);
    if (l.items.length % ITEM_RECORD_BYTES !== 0) return err('items', `list ${l.prefix}: ${l.items.length} bytes is not whole ${ITEM_RECORD_BYTES}-byte records`);
    items += l.items.length / ITEM_RECORD_BYTES;
  }
  if (items > MAX_LIST_ITEMS_PER_REQUEST) return err('too-many', `${items} listed items, at most ${MAX_LIST_ITEMS_PER_REQUEST}`);
  return ok(r);
}

export function decodeSyncResponse(bytes: Uint8Array): Result<StateSyncResponse> {
  const m = decodeMessage(StateSyncResponseSchema, bytes);
  if (!m.ok) return m;
  const r = m.value;
  if (r.version === 0) return err('phase5', 'a phase-5 StateSyncResponse (no Hypha version)');
  if (r.base !== '') {
    if (!isNodeId(r.base)) return err('prefix', `base ${JSON.stringify(r.base.slice(0, 70))} is not a node id`);
    r.mismatched = r.mismatched.map((p) => r.base + p);
    r.unfinished = r.unfinished.map((p) => r.base + p);
  }
  if (r.version !== SYNC_PROTOCOL_VERSION) return err('version', `sync protocol version ${r.version} is not ${SYNC_PROTOCOL_VERSION}`);
  if (r.mismatched.length + r.unfinished.length > MAX_PREFIXES_PER_RESPONSE) return err('too-many', 'too many prefixes in a response');
  for (const p of [...r.mismatched, ...r.unfinished]) {
    if (!isRangePrefix(p)) return err('prefix', `prefix ${JSON.stringify(p.slice(0, 100))} is not "" or an owner id and key-hash digits`);
  }
  if (r.nextOwner !== '' && !isNodeId(r.nextOwner)) return err('cursor', 'next_owner is not a node id');
  if (r.rootFingerprint.length !== 0 && r.rootFingerprint.length !== FINGERPRINT_BYTES) return err('fingerprint', 'root fingerprint of the wrong size');
  return ok(r);
}

/** Bytes a repeated/embedded field of `len` bytes adds to its message: tag + length varint + body. */
export function fieldBytes(len: number): number {
  let v = 1;
  for (let n = len; n >= 0x80; n >>>= 7) v++;
  return 1 + v + len;
}
