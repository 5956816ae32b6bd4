// The Store on LMDB (lmdb-js): one environment in <data_dir>/hypha.lmdb/ (data.mdb + lock.mdb), one named
// database per bucket, raw binary keys and values (the bucket's codec does the encoding, so nothing here
// depends on lmdb-js's own msgpack format).
//
// lmdb-js batches asynchronous writes and commits them off the main thread; a write only becomes visible
// to reads when its batch commits. The Store contract says a write is visible at once, so each bucket keeps
// the writes still in flight in an overlay that get() and entries() consult first. overlappingSync is off,
// so a commit promise resolves only once the data is fsynced: resolved means durable.
import { mkdirSync } from 'node:fs';
import { open, type Database, type RootDatabase } from 'lmdb';
import {
  checkBucketSpec,
  compareKeyBytes,
  decodeValue,
  encodeKey,
  encodeValue,
  hasPrefix,
  MAX_BUCKETS,
  StoreError,
  type Bucket,
  type BucketSpec,
  type Store,
} from './store.ts';

export const LMDB_DIR_NAME = 'hypha.lmdb';
const DIR_MODE = 0o700;
/** Internal database remembering each bucket's encoding across restarts (bucket names cannot start with "_"). */
const META_DB = '_buckets';

interface InFlight {
  keyBytes: Buffer;
  /** Encoded value, or null for a delete. */
  value: Uint8Array | null;
  seq: number;
}

type BinaryDb = Database<Buffer, Buffer>;

class LmdbBucket<V> implements Bucket<V> {
  readonly name: string;
  private readonly spec: BucketSpec<V>;
  private readonly db: BinaryDb;
  private readonly store: LmdbStore;
  private readonly inFlight = new Map<string, InFlight>();
  private seq = 0;

  constructor(store: LmdbStore, spec: BucketSpec<V>, db: BinaryDb) {
    this.store = store;
    this.spec = spec;
    this.name = spec.name;
    this.db = db;
  }

  private readRaw(key: string): Uint8Array | undefined {
    this.store.assertOpen();
    const keyBytes = encodeKey(this.name, key);
    const pending = this.inFlight.get(key);
    if (pending) return pending.value ?? undefined;
    return this.db.getBinary(keyBytes);
  }

  get(key: string): V | undefined {
    const raw = this.readRaw(key);
    return raw === undefined ? undefined : decodeValue(this.spec, key, raw);
  }

  has(key: string): boolean {
    return this.readRaw(key) !== undefined;
  }

  private write(key: string, value: Uint8Array | null): Promise<void> {
    const keyBytes = encodeKey(this.name, key);
    const seq = ++this.seq;
    this.inFlight.set(key, { keyBytes, value, seq });
    const settle = (): void => {
      // A later write to the same key keeps its own overlay entry until it commits too.
      if (this.inFlight.get(key)?.seq === seq) this.inFlight.delete(key);
    };
    const op = value === null ? this.db.remove(keyBytes) : this.db.put(keyBytes, Buffer.from(value.buffer, value.byteOffset, value.byteLength));
    const done = op.then(
      () => settle(),
      (e: unknown) => {
        settle();
        throw new StoreError(`bucket ${this.name}, key ${JSON.stringify(key)}: write failed: ${(e as Error).message}`, { cause: e });
      },
    );
    return this.store.track(done);
  }

  put(key: string, value: V): Promise<void> {
    try {
      this.store.assertOpen();
      // Copy: lmdb-js reads the buffer when the batch commits, and the caller may reuse it before that.
      return this.write(key, Uint8Array.from(encodeValue(this.spec, key, value)));
    } catch (e) {
      return Promise.reject(e);
    }
  }

  delete(key: string): Promise<void> {
    try {
      this.store.assertOpen();
      return this.write(key, null);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  *entries(prefix = ''): IterableIterator<[string, V]> {
    this.store.assertOpen();
    const p = Buffer.from(prefix, 'utf8');
    const overlay = [...this.inFlight.entries()]
      .filter(([, w]) => hasPrefix(w.keyBytes, p))
      .sort((a, b) => compareKeyBytes(a[1].keyBytes, b[1].keyBytes));
    let i = 0;
    const range = p.length === 0 ? this.db.getRange({}) : this.db.getRange({ start: p });
    for (const { key, value } of range) {
      if (!hasPrefix(key, p)) break;
      while (i < overlay.length && compareKeyBytes(overlay[i][1].keyBytes, key) < 0) {
        const [k, w] = overlay[i++];
        if (w.value !== null) yield [k, decodeValue(this.spec, k, w.value)];
      }
      if (i < overlay.length && compareKeyBytes(overlay[i][1].keyBytes, key) === 0) {
        const [k, w] = overlay[i++];
        if (w.value !== null) yield [k, decodeValue(this.spec, k, w.value)];
        continue;
      }
      const k = key.toString('utf8');
      yield [k, decodeValue(this.spec, k, value)];
    }
    for (; i < overlay.length; i++) {
      const [k, w] = overlay[i];
      if (w.value !== null) yield [k, decodeValue(this.spec, k, w.value)];
    }
  }
}

export class LmdbStore implements Store {
  readonly location: string;
  private readonly root: RootDatabase<Buffer, Buffer>;
  private readonly meta: Database<string, string>;
  private readonly encodings = new Map<string, string>();
  private readonly buckets = new Map<string, LmdbBucket<unknown>>();
  private readonly pending = new Set<Promise<void>>();
  private closing: Promise<void> | undefined;

  /** Opens (creating if needed) the environment in `dir`, typically `<data_dir>/hypha.lmdb`. */
  constructor(dir: string) {
    this.location = dir;
    try {
      mkdirSync(dir, { recursive: true, mode: DIR_MODE });
      this.root = open<Buffer, Buffer>({
        path: dir,
        encoding: 'binary',
        keyEncoding: 'binary',
        // +1 for the internal bucket registry.
        maxDbs: MAX_BUCKETS + 1,
        overlappingSync: false,
        // lmdb-js treats a path with an extension as a single file; hypha.lmdb is a directory.
        noSubdir: false,
      });
      this.meta = this.root.openDB<string, string>({ name: META_DB, encoding: 'string', keyEncoding: 'ordered-binary' });
      for (const { key, value } of this.meta.getRange({})) this.encodings.set(String(key), value);
    } catch (e) {
      throw new StoreError(`cannot open the store at ${dir}: ${(e as Error).message}; check that --data-dir is a writable directory`, { cause: e });
    }
  }

  assertOpen(): void {
    if (this.closing) throw new StoreError(`the store at ${this.location} is closed`);
  }

  /** Remembers a write until it settles, so flush() and close() can wait for it. */
  track(p: Promise<void>): Promise<void> {
    this.pending.add(p);
    const forget = (): void => {
      this.pending.delete(p);
    };
    p.then(forget, forget);
    return p;
  }

  bucket<V>(spec: BucketSpec<V>): Bucket<V> {
    this.assertOpen();
    checkBucketSpec(spec, this.encodings);
    const already = this.buckets.get(spec.name);
    if (already) return already as unknown as Bucket<V>;
    const db = this.root.openDB<Buffer, Buffer>({ name: spec.name, encoding: 'binary', keyEncoding: 'binary' });
    if (!this.encodings.has(spec.name)) {
      this.encodings.set(spec.name, spec.codec.encoding);
      void this.track(this.meta.put(spec.name, spec.codec.encoding).then(() => undefined));
    }
    const bucket = new LmdbBucket(this, spec, db);
    this.buckets.set(spec.name, bucket as LmdbBucket<unknown>);
    return bucket;
  }

  async flush(): Promise<void> {
    this.assertOpen();
    await Promise.allSettled([...this.pending]);
    await this.root.flushed;
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.allSettled([...this.pending]);
      await this.root.flushed;
      await this.root.close();
    })();
    return this.closing;
  }
}
