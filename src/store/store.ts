// The node's embedded database (DESIGN.md, "Where data lives"): named buckets of key → value, each with an
// explicit value encoding. Two implementations share this interface and one test suite: LmdbStore on disk
// (<data_dir>/hypha.lmdb/) and MemoryStore for tests and the simulator.
//
// Contract, identical for both:
// - Keys are non-empty strings of at most MAX_KEY_BYTES UTF-8 bytes, ordered by their UTF-8 bytes.
// - Values are encoded by the bucket's codec on put and decoded on every get, so a caller never shares an
//   object with the store, and a value that cannot be encoded fails on both implementations alike.
// - A write is visible to reads at once; its promise resolves when it is durable (fsynced on disk).
//   Writes are applied in the order they were issued.
// - entries(prefix) iterates a snapshot taken when iteration starts, in key order.

export const MAX_KEY_BYTES = 511;
/** Guards against a runaway caller; far above any record a layer stores. */
export const MAX_VALUE_BYTES = 64 * 1024 * 1024;
/** LMDB needs the number of named databases up front; later layers each add a few buckets. */
export const MAX_BUCKETS = 64;
const BUCKET_NAME = /^[a-z][a-z0-9_-]{0,62}$/;

export class StoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StoreError';
  }
}

export interface ValueCodec<V> {
  /** Names the encoding in errors and guards against opening one bucket with two codecs. */
  readonly encoding: string;
  encode(value: V): Uint8Array;
  /** May throw on bytes it did not write; the store reports that as a corrupt value. */
  decode(bytes: Uint8Array): V;
}

/** UTF-8 JSON text. For records a person may want to read with `mdb_dump`; no BigInt, no binary. */
export function jsonCodec<V>(): ValueCodec<V> {
  return {
    encoding: 'json',
    encode(value: V): Uint8Array {
      const text = JSON.stringify(value);
      if (text === undefined) throw new TypeError('value has no JSON form');
      return Buffer.from(text, 'utf8');
    },
    decode: (bytes) => JSON.parse(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8')) as V,
  };
}

/** Raw bytes, stored as given (protobuf records, keys, packets). */
export const bytesCodec: ValueCodec<Uint8Array> = {
  encoding: 'bytes',
  encode: (value) => {
    if (!(value instanceof Uint8Array)) throw new TypeError('a bytes bucket stores Uint8Array values');
    return value;
  },
  decode: (bytes) => Uint8Array.from(bytes),
};

export interface BucketSpec<V> {
  readonly name: string;
  readonly codec: ValueCodec<V>;
}

/** A bucket whose values are JSON. Each layer declares its own, e.g. `jsonBucket<PeerRecord>('peers')`. */
export function jsonBucket<V>(name: string): BucketSpec<V> {
  return { name, codec: jsonCodec<V>() };
}

export function bytesBucket(name: string): BucketSpec<Uint8Array> {
  return { name, codec: bytesCodec };
}

export interface Bucket<V> {
  readonly name: string;
  get(key: string): V | undefined;
  has(key: string): boolean;
  put(key: string, value: V): Promise<void>;
  /** Resolves when the removal is durable; removing a missing key is not an error. */
  delete(key: string): Promise<void>;
  /** Every entry whose key starts with `prefix` (all entries if omitted), in key order. */
  entries(prefix?: string): IterableIterator<[string, V]>;
}

export interface Store {
  /** Where the data lives, for logs: a directory, or "memory". */
  readonly location: string;
  /** Opens (creating if needed) the named bucket. The same name must always come with the same encoding. */
  bucket<V>(spec: BucketSpec<V>): Bucket<V>;
  /** Resolves when every write issued so far is durable. */
  flush(): Promise<void>;
  /** Waits for pending writes, then releases the store; any later use throws StoreError. Idempotent. */
  close(): Promise<void>;
}

export function encodeKey(bucket: string, key: string): Buffer {
  if (typeof key !== 'string' || key.length === 0) throw new StoreError(`bucket ${bucket}: key must be a non-empty string`);
  const bytes = Buffer.from(key, 'utf8');
  if (bytes.length > MAX_KEY_BYTES) {
    throw new StoreError(`bucket ${bucket}: key of ${bytes.length} bytes exceeds the ${MAX_KEY_BYTES}-byte limit`);
  }
  return bytes;
}

export function encodeValue<V>(spec: BucketSpec<V>, key: string, value: V): Uint8Array {
  let bytes: Uint8Array;
  try {
    bytes = spec.codec.encode(value);
  } catch (e) {
    throw new StoreError(`bucket ${spec.name}, key ${JSON.stringify(key)}: cannot encode value as ${spec.codec.encoding}: ${(e as Error).message}`, { cause: e });
  }
  if (bytes.length > MAX_VALUE_BYTES) {
    throw new StoreError(`bucket ${spec.name}, key ${JSON.stringify(key)}: value of ${bytes.length} bytes exceeds the ${MAX_VALUE_BYTES}-byte limit`);
  }
  return bytes;
}

export function decodeValue<V>(spec: BucketSpec<V>, key: string, bytes: Uint8Array): V {
  try {
    return spec.codec.decode(bytes);
  } catch (e) {
    throw new StoreError(`bucket ${spec.name}, key ${JSON.stringify(key)}: corrupt ${spec.codec.encoding} value (${(e as Error).message})`, { cause: e });
  }
}

/**
 * Checks a bucket request against those already open (`opened`: name → encoding) and the bucket limit,
 * so both implementations refuse the same things.
 */
export function checkBucketSpec(spec: BucketSpec<unknown>, opened: Map<string, string>): void {
  if (!BUCKET_NAME.test(spec.name)) {
    throw new StoreError(`bucket name ${JSON.stringify(spec.name)} is invalid: use lowercase letters, digits, "-" or "_", starting with a letter`);
  }
  const existing = opened.get(spec.name);
  if (existing !== undefined && existing !== spec.codec.encoding) {
    throw new StoreError(`bucket ${spec.name} is already open with ${existing} values, not ${spec.codec.encoding}`);
  }
  if (existing === undefined && opened.size >= MAX_BUCKETS) {
    throw new StoreError(`cannot open bucket ${spec.name}: at most ${MAX_BUCKETS} buckets per store`);
  }
}

export function compareKeyBytes(a: Uint8Array, b: Uint8Array): number {
  return Buffer.compare(a, b);
}

export function hasPrefix(key: Uint8Array, prefix: Uint8Array): boolean {
  if (key.length < prefix.length) return false;
  for (let i = 0; i < prefix.length; i++) if (key[i] !== prefix[i]) return false;
  return true;
}
