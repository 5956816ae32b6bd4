// The Store in memory, for tests and the simulator (thousands of nodes in one process). Values are kept
// encoded, exactly as LMDB keeps them, so code behaves the same on both. The data lives in a
// MemoryBacking that outlives the store: a simulated restart opens a new MemoryStore on the old backing.
import {
  checkBucketSpec,
  compareKeyBytes,
  decodeValue,
  encodeKey,
  encodeValue,
  hasPrefix,
  StoreError,
  type Bucket,
  type BucketSpec,
  type Store,
} from './store.ts';

interface StoredEntry {
  keyBytes: Buffer;
  value: Uint8Array;
}

/** What a MemoryStore persists: bucket name → key → encoded value. */
export class MemoryBacking {
  readonly buckets = new Map<string, Map<string, StoredEntry>>();
  /** Name → encoding of the buckets created so far (what LMDB would remember as named databases). */
  readonly encodings = new Map<string, string>();
}

class MemoryBucket<V> implements Bucket<V> {
  readonly name: string;
  private readonly spec: BucketSpec<V>;
  private readonly data: Map<string, StoredEntry>;
  private readonly store: MemoryStore;

  constructor(store: MemoryStore, spec: BucketSpec<V>, data: Map<string, StoredEntry>) {
    this.store = store;
    this.spec = spec;
    this.name = spec.name;
    this.data = data;
  }

  get(key: string): V | undefined {
    this.store.assertOpen();
    encodeKey(this.name, key);
    const entry = this.data.get(key);
    return entry === undefined ? undefined : decodeValue(this.spec, key, entry.value);
  }

  has(key: string): boolean {
    this.store.assertOpen();
    encodeKey(this.name, key);
    return this.data.has(key);
  }

  put(key: string, value: V): Promise<void> {
    try {
      this.store.assertOpen();
      const keyBytes = encodeKey(this.name, key);
      // Copy: the caller may reuse its buffer, as it may with LMDB.
      const bytes = Uint8Array.from(encodeValue(this.spec, key, value));
      this.data.set(key, { keyBytes, value: bytes });
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }

  delete(key: string): Promise<void> {
    try {
      this.store.assertOpen();
      encodeKey(this.name, key);
      this.data.delete(key);
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }

  *entries(prefix = ''): IterableIterator<[string, V]> {
    this.store.assertOpen();
    const p = Buffer.from(prefix, 'utf8');
    const snapshot: [string, StoredEntry][] = [];
    for (const [key, entry] of this.data) if (hasPrefix(entry.keyBytes, p)) snapshot.push([key, entry]);
    snapshot.sort((a, b) => compareKeyBytes(a[1].keyBytes, b[1].keyBytes));
    for (const [key, entry] of snapshot) {
      this.store.assertOpen();
      yield [key, decodeValue(this.spec, key, entry.value)];
    }
  }
}

export class MemoryStore implements Store {
  readonly location = 'memory';
  readonly backing: MemoryBacking;
  private readonly open = new Map<string, MemoryBucket<unknown>>();
  private closed = false;

  constructor(backing: MemoryBacking = new MemoryBacking()) {
    this.backing = backing;
  }

  assertOpen(): void {
    if (this.closed) throw new StoreError('the store is closed');
  }

  bucket<V>(spec: BucketSpec<V>): Bucket<V> {
    this.assertOpen();
    checkBucketSpec(spec, this.backing.encodings);
    const already = this.open.get(spec.name);
    if (already) return already as unknown as Bucket<V>;
    let data = this.backing.buckets.get(spec.name);
    if (!data) {
      data = new Map();
      this.backing.buckets.set(spec.name, data);
    }
    this.backing.encodings.set(spec.name, spec.codec.encoding);
    const bucket = new MemoryBucket(this, spec, data);
    this.open.set(spec.name, bucket as MemoryBucket<unknown>);
    return bucket;
  }

  flush(): Promise<void> {
    return this.closed ? Promise.reject(new StoreError('the store is closed')) : Promise.resolve();
  }

  close(): Promise<void> {
    this.closed = true;
    return Promise.resolve();
  }
}
