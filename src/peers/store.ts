// The persistent peer table's storage port. The node's composition root adapts the LMDB store to
// this interface; tests and the simulator use MemoryPeerStore. Records use Micelio's shape, and
// encodePeerRecordJson / decodePeerRecordJson give Micelio's exact JSON value for the `peers` bucket.
import { err, ok, type Result } from '../base/result.ts';
import { fromHex } from '../base/bytes.ts';
import { nodeIdOf } from '../identity/identity.ts';
import { isDialableAddress } from '../link/endpoint.ts';

/** One known peer, as Micelio keeps it (times in unix seconds). */
export interface PeerRecord {
  nodeId: string;
  /** Advertised `host:port`; '' when the peer is not reachable. */
  addr: string;
  reachable: boolean;
  /** Ed25519 public key, lowercase hex (64 characters). */
  publicKey: string;
  lastSeen: number;
  failCount: number;
  lastFail: number;
}

/**
 * Where the peer table lives between runs. Writes may complete asynchronously; the manager tracks
 * the promises so stop() returns only once everything is written.
 */
export interface PeerStore {
  loadAll(): PeerRecord[] | Promise<PeerRecord[]>;
  put(record: PeerRecord): void | Promise<void>;
  delete(nodeId: string): void | Promise<void>;
}

export class MemoryPeerStore implements PeerStore {
  readonly records = new Map<string, PeerRecord>();

  loadAll(): PeerRecord[] {
    return [...this.records.values()].map((r) => ({ ...r }));
  }

  put(record: PeerRecord): void {
    this.records.set(record.nodeId, { ...record });
  }

  delete(nodeId: string): void {
    this.records.delete(nodeId);
  }
}

/** A record the table may use: id is the hash of a 32-byte key; a reachable record has a dialable address. */
export function validatePeerRecord(r: PeerRecord): Result<PeerRecord> {
  if (!/^[0-9a-f]{64}$/.test(r.nodeId)) return err('bad-id', `peer record: node_id "${r.nodeId.slice(0, 80)}" is not 64 lowercase hex`);
  const key = fromHex(r.publicKey);
  if (!key || key.length !== 32) return err('bad-key', `peer record ${r.nodeId.slice(0, 12)}: public_key is not 32 bytes of hex`);
  if (nodeIdOf(key) !== r.nodeId) return err('bad-key', `peer record ${r.nodeId.slice(0, 12)}: node_id is not the hash of public_key`);
  if (r.reachable && r.addr === '') return err('bad-addr', `peer record ${r.nodeId.slice(0, 12)}: reachable without an addr`);
  if (r.addr !== '' && !isDialableAddress(r.addr)) return err('bad-addr', `peer record ${r.nodeId.slice(0, 12)}: invalid addr "${r.addr.slice(0, 80)}"`);
  for (const [k, v] of [['last_seen', r.lastSeen], ['fail_count', r.failCount], ['last_fail', r.lastFail]] as const) {
    if (!Number.isSafeInteger(v) || v < 0) return err('bad-number', `peer record ${r.nodeId.slice(0, 12)}: ${k} is not a non-negative integer`);
  }
  return ok(r);
}

/** Micelio's JSON value: {"node_id","addr","reachable","public_key","last_seen","fail_count","last_fail"}. */
export function encodePeerRecordJson(r: PeerRecord): string {
  return JSON.stringify({
    node_id: r.nodeId,
    addr: r.addr,
    reachable: r.reachable,
    public_key: r.publicKey,
    last_seen: r.lastSeen,
    fail_count: r.failCount,
    last_fail: r.lastFail,
  });
}

const MAX_RECORD_JSON_CHARS = 4096;

export function decodePeerRecordJson(text: string): Result<PeerRecord> {
  if (text.length > MAX_RECORD_JSON_CHARS) return err('too-large', `peer record of ${text.length} characters`);
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    return err('bad-json', `peer record: ${e instanceof Error ? e.message : 'invalid JSON'}`);
  }
  if (typeof v !== 'object' || v === null) return err('bad-json', 'peer record is not an object');
  const o = v as Record<string, unknown>;
  const str = (k: string): string => (typeof o[k] === 'string' ? (o[k] as string) : '');
  const num = (k: string): number => (typeof o[k] === 'number' ? (o[k] as number) : 0);
  return validatePeerRecord({
    nodeId: str('node_id'),
    addr: str('addr'),
    reachable: o.reachable === true,
    publicKey: str('public_key').toLowerCase(),
    lastSeen: num('last_seen'),
    failCount: num('fail_count'),
    lastFail: num('last_fail'),
  });
}
