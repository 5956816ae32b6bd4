// The state on disk: bucket "state" (full key → StateEntry protobuf, as on the wire), bucket "state-meta"
// (the clock floor), bucket "state-retired" (this node's own deleted keys whose tombstones have expired:
// key → u64_BE ts, so a value a long-offline peer still holds can be deleted again instead of coming back).
// Every entry is verified again when it is loaded: a corrupted one is reported by key and skipped.
import type { Logger } from '../base/log.ts';
import { bytesBucket, jsonBucket, type Bucket, type Store } from '../store/store.ts';
import { decodeMessage } from '../wire/micelio/codec.ts';
import { StateEntrySchema } from '../wire/gen/micelio_pb.ts';
import { encodeEntry, verifyEntry, type SignedEntry } from './entry.ts';
import type { StateLimits } from './limits.ts';

export const STATE_BUCKET = 'state';
export const STATE_META_BUCKET = 'state-meta';
export const STATE_RETIRED_BUCKET = 'state-retired';
const CLOCK_KEY = 'clock';

interface MetaRecord {
  /** Decimal: JSON has no 64-bit integers. */
  floor: string;
}

export interface LoadedState {
  entries: SignedEntry[];
  /** Keys whose stored bytes did not decode or verify, with why. */
  corrupt: { key: string; reason: string }[];
  clockFloor: bigint;
  retired: Map<string, bigint>;
}

export class StatePersistence {
  private readonly entries: Bucket<Uint8Array>;
  private readonly meta: Bucket<MetaRecord>;
  private readonly retired: Bucket<Uint8Array>;
  private readonly log: Logger;
  private readonly writes = new Set<Promise<void>>();
  /** Failed writes since start (each is logged). */
  failures = 0;

  constructor(store: Store, logger: Logger) {
    this.entries = store.bucket(bytesBucket(STATE_BUCKET));
    this.meta = store.bucket(jsonBucket<MetaRecord>(STATE_META_BUCKET));
    this.retired = store.bucket(bytesBucket(STATE_RETIRED_BUCKET));
    this.log = logger;
  }

  /** Reads and re-verifies everything; never throws for bad records (they are reported instead). */
  load(limits: StateLimits): LoadedState {
    const out: LoadedState = { entries: [], corrupt: [], clockFloor: 0n, retired: new Map() };
    for (const [key, bytes] of this.entries.entries()) {
      const pb = decodeMessage(StateEntrySchema, bytes);
      if (!pb.ok) {
        out.corrupt.push({ key, reason: pb.error.message });
        continue;
      }
      if (pb.value.key !== key) {
        out.corrupt.push({ key, reason: `the record is stored under ${JSON.stringify(key)} but holds key ${JSON.stringify(pb.value.key.slice(0, 80))}` });
        continue;
      }
      const v = verifyEntry(pb.value, limits);
      if (!v.ok) {
        out.corrupt.push({ key, reason: v.error.message });
        continue;
      }
      out.entries.push(v.value);
    }
    try {
      const m = this.meta.get(CLOCK_KEY);
      if (m && /^\d{1,20}$/.test(m.floor)) out.clockFloor = BigInt(m.floor);
      else if (m) this.log.warn({ key: `${STATE_META_BUCKET}/${CLOCK_KEY}` }, 'state clock floor record is corrupt; starting from the entries');
    } catch (e) {
      this.log.warn({ key: `${STATE_META_BUCKET}/${CLOCK_KEY}`, err: (e as Error).message }, 'state clock floor record is corrupt; starting from the entries');
    }
    for (const [key, bytes] of this.retired.entries()) {
      if (bytes.length === 8) out.retired.set(key, new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0));
    }
    return out;
  }

  /** Durable once resolved. */
  saveClockFloor(floor: bigint): Promise<void> {
    return this.meta.put(CLOCK_KEY, { floor: floor.toString() });
  }

  put(e: SignedEntry): void {
    this.track(this.entries.put(e.key, encodeEntry(e)), e.key);
  }

  remove(key: string): void {
    this.track(this.entries.delete(key), key);
  }

  retire(key: string, ts: bigint): void {
    const b = new Uint8Array(8);
    new DataView(b.buffer).setBigUint64(0, ts);
    this.track(this.retired.put(key, b), key);
  }

  unretire(key: string): void {
    this.track(this.retired.delete(key), key);
  }

  /** Resolves when every write issued so far is durable. */
  async flush(): Promise<void> {
    while (this.writes.size > 0) await Promise.all([...this.writes]);
  }

  private track(p: Promise<void>, key: string): void {
    const q = p.catch((e: unknown) => {
      this.failures++;
      this.log.error({ key, err: e instanceof Error ? e.message : String(e) }, 'state write failed');
    });
    this.writes.add(q);
    void q.finally(() => this.writes.delete(q));
  }
}
