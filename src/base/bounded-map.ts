// A Map with a hard entry limit and least-recently-inserted eviction. Every cache and table in the
// node is bounded (DESIGN.md, "Bounded everything"); this is the common building block, and it counts
// its evictions so they can be logged and exported as metrics.

export class BoundedMap<K, V> {
  private readonly map = new Map<K, V>();
  readonly maxEntries: number;
  /** Entries pushed out because the map was full. */
  evictions = 0;
  private readonly onEvict: ((key: K, value: V) => void) | undefined;

  constructor(maxEntries: number, onEvict?: (key: K, value: V) => void) {
    if (!(maxEntries > 0)) throw new RangeError(`maxEntries must be positive, got ${maxEntries}`);
    this.maxEntries = maxEntries;
    this.onEvict = onEvict;
  }

  get size(): number {
    return this.map.size;
  }

  get(key: K): V | undefined {
    return this.map.get(key);
  }

  has(key: K): boolean {
    return this.map.has(key);
  }

  /** Inserts or replaces; a new key at capacity evicts the oldest entry. */
  set(key: K, value: V): this {
    if (!this.map.has(key) && this.map.size >= this.maxEntries) {
      const oldest = this.map.keys().next();
      if (!oldest.done) {
        const v = this.map.get(oldest.value) as V;
        this.map.delete(oldest.value);
        this.evictions++;
        this.onEvict?.(oldest.value, v);
      }
    }
    this.map.set(key, value);
    return this;
  }

  /** Moves an existing key to the young end, so it is evicted last. */
  touch(key: K): void {
    const v = this.map.get(key);
    if (v === undefined && !this.map.has(key)) return;
    this.map.delete(key);
    this.map.set(key, v as V);
  }

  delete(key: K): boolean {
    return this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
  }

  keys(): IterableIterator<K> {
    return this.map.keys();
  }

  values(): IterableIterator<V> {
    return this.map.values();
  }

  entries(): IterableIterator<[K, V]> {
    return this.map.entries();
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.map.entries();
  }
}
