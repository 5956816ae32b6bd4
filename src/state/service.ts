// StateService: the node's replicated state map. It owns the map, the clock, the store buckets, the gossip
// handler for StateUpdate (msg_type 6) and the anti-entropy engine (7/8), and it is what everything above
// uses: the SSH commands, desired state, and (next) the HTTP API and the CLI through the node-level
// methods list / get / put / delete / watch.
import type { Clock, Timer } from '../base/clock.ts';
import type { Logger } from '../base/log.ts';
import { BoundedMap } from '../base/bounded-map.ts';
import { bytesEqual } from '../base/bytes.ts';
import { Emitter } from '../peers/events.ts';
import type { NodeIdentity } from '../identity/identity.ts';
import type { Store } from '../store/store.ts';
import { MsgType } from '../wire/micelio/envelope.ts';
import type { StateEntry } from '../wire/gen/micelio_pb.ts';
import { AuthorKeyCache, checkSubkey, entryToWire, isNodeId, signEntry, utf8Length, verifyEntry, type EntryErrorCode, type SignedEntry } from './entry.ts';
import { HybridClock, hlcMs } from './hlc.ts';
import { DEFAULT_STATE_LIMITS, type StateLimits } from './limits.ts';
import { StateMap, type MergeResult } from './map.ts';
import { StatePersistence } from './persist.ts';
import type { GossipMessage, GossipPort, PeersPort } from './ports.ts';
import { encodeTags } from './selector.ts';
import { StateSync, type StateSyncStats, type SessionReport } from './sync.ts';
import { decodeStateUpdate, encodeStateUpdate } from './sync-codec.ts';

export const DEFAULT_TOMBSTONE_TTL_MS = 24 * 3600_000;
export const DEFAULT_GC_INTERVAL_MS = 3600_000;
/** Subkeys starting with "_" are written by the node itself (its tags); people and plugins cannot set them. */
export const RESERVED_PREFIX = '_';
export const TAGS_SUBKEY = '_tags';
/** Own updates gossiped per second, and the burst: under the 10/s a Micelio gossip engine accepts per origin. */
export const GOSSIP_UPDATES_PER_S = 4;
export const GOSSIP_UPDATE_BURST = 8;
/**
 * Own updates waiting for their turn to be gossiped. A burst bigger than this is not trickled out for
 * minutes: the oldest updates are left to anti-entropy, which moves them in pages within a sync interval.
 */
export const MAX_GOSSIP_BACKLOG = 256;
export const DEFAULT_WATCH_BUFFER = 1024;

/** An entry as callers see it. */
export interface StateItem {
  key: string;
  owner: string;
  subkey: string;
  value: Uint8Array;
  /** Hybrid logical clock timestamp: (unix ms << 16) | counter. */
  ts: bigint;
  /** The author's wall-clock time of the write (from ts), unix ms. */
  writtenAtMs: number;
  /** A tombstone: the key was deleted at `ts`. */
  deleted: boolean;
  /** Bytes of the signed entry as stored and sent (StateEntry protobuf). */
  size: number;
}

export type ChangeSource = 'local' | 'peer';

export interface StateChange {
  item: StateItem;
  previous: StateItem | undefined;
  source: ChangeSource;
  /** The neighbour it came from (source 'peer'). */
  fromPeer?: string;
}

export interface StateEvents {
  change: [change: StateChange];
}

export interface StateServiceOptions {
  identity: Pick<NodeIdentity, 'nodeId' | 'ed25519Public' | 'signingKey'>;
  gossip: GossipPort;
  peers: PeersPort;
  store: Store;
  clock: Clock;
  logger: Logger;
  /** This node's [node] tags, published as `<node_id>/_tags`. */
  tags?: readonly string[];
  limits?: Partial<StateLimits>;
  tombstoneTtlMs?: number;
  gcIntervalMs?: number;
  syncIntervalMs?: number;
  /** Passed to the sync engine (tests pin pacing and randomness). */
  sync?: { requestSpacingMs?: number; responseTimeoutMs?: number; random?: () => number; listMaxItems?: number };
}

/** A write refused locally: `code` is stable, the message says what to change. */
export class StateError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'StateError';
    this.code = code;
  }
}

export interface ListOptions {
  /** Only keys starting with this (full keys: "<node_id>/…"). */
  prefix?: string;
  includeDeleted?: boolean;
  /** At most this many items, after `after`. */
  limit?: number;
  /** Resume after this key (exclusive), for paging. */
  after?: string;
}

export interface WatchOptions {
  prefix?: string;
  signal?: AbortSignal;
  /** Changes held for a slow consumer; past this the oldest are dropped and `missed` says how many. */
  maxBuffered?: number;
}

export interface WatchEvent extends StateChange {
  /** Changes dropped before this one because the consumer fell behind (re-list to catch up). */
  missed: number;
}

export interface StateStats {
  entries: number;
  tombstones: number;
  bytes: number;
  owners: number;
  localWrites: number;
  applied: number;
  duplicates: number;
  stale: number;
  expiredIgnored: number;
  refused: Record<string, number>;
  rejected: Partial<Record<EntryErrorCode | 'malformed', number>>;
  corruptOnLoad: number;
  gcCollected: number;
  redeleted: number;
  gossipSent: number;
  gossipDeferred: number;
  gossipBacklogDropped: number;
  sync: StateSyncStats;
}

export function toItem(e: SignedEntry): StateItem {
  return { key: e.key, owner: e.owner, subkey: e.subkey, value: e.value, ts: e.ts, writtenAtMs: hlcMs(e.ts), deleted: e.deleted, size: e.encodedSize };
}

function short(id: string): string {
  return id.slice(0, 12);
}

export class StateService {
  readonly nodeId: string;
  readonly limits: StateLimits;
  readonly tombstoneTtlMs: number;
  private readonly id: StateServiceOptions['identity'];
  private readonly gossip: GossipPort;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly map: StateMap;
  private readonly persist: StatePersistence;
  private readonly sync: StateSync;
  private readonly events: Emitter<StateEvents>;
  private readonly gcIntervalMs: number;
  private readonly tags: readonly string[];
  private hlc: HybridClock | undefined;
  private readonly retired: BoundedMap<string, bigint>;
  private readonly outbox = new Map<string, SignedEntry>();
  private outboxTimer: Timer | undefined;
  private tokens = GOSSIP_UPDATE_BURST;
  private tokensAtMs: number;
  private gcTimer: Timer | undefined;
  private readonly unsubscribe: (() => void)[] = [];
  private readonly pendingRedeletes = new Set<string>();
  private readonly authorKeys = new AuthorKeyCache();
  private started = false;
  private stopped = false;
  private readonly counters = {
    localWrites: 0,
    applied: 0,
    duplicates: 0,
    stale: 0,
    expiredIgnored: 0,
    corruptOnLoad: 0,
    gcCollected: 0,
    redeleted: 0,
    gossipSent: 0,
    gossipDeferred: 0,
    gossipBacklogDropped: 0,
  };
  private readonly refused: Record<string, number> = {};
  private readonly rejected: Partial<Record<EntryErrorCode | 'malformed', number>> = {};

  constructor(o: StateServiceOptions) {
    this.id = o.identity;
    this.nodeId = o.identity.nodeId;
    this.gossip = o.gossip;
    this.clock = o.clock;
    this.log = o.logger.child({ component: 'state' });
    this.limits = { ...DEFAULT_STATE_LIMITS, ...o.limits };
    this.tombstoneTtlMs = o.tombstoneTtlMs ?? DEFAULT_TOMBSTONE_TTL_MS;
    this.gcIntervalMs = o.gcIntervalMs ?? DEFAULT_GC_INTERVAL_MS;
    this.tags = o.tags ?? [];
    this.map = new StateMap(this.limits);
    this.persist = new StatePersistence(o.store, this.log);
    this.events = new Emitter(this.log);
    this.retired = new BoundedMap(this.limits.maxEntriesPerOwner, (key) => this.persist.unretire(key));
    this.tokensAtMs = o.clock.now();
    this.sync = new StateSync({
      selfId: this.nodeId,
      map: this.map,
      gossip: o.gossip,
      peers: o.peers,
      clock: o.clock,
      logger: this.log,
      ingest: (entries, from) => this.ingestMany(entries, from),
      prepare: () => this.expireTombstones(),
      intervalMs: o.syncIntervalMs,
      ...o.sync,
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Lifecycle

  /** Loads (re-verifying every entry), then listens for updates, starts anti-entropy and publishes the tags. */
  async start(): Promise<void> {
    if (this.started) throw new Error('StateService already started');
    this.started = true;
    const loaded = this.persist.load(this.limits);
    for (const c of loaded.corrupt) {
      this.counters.corruptOnLoad++;
      this.log.warn({ key: c.key, reason: c.reason }, 'corrupt state entry skipped (not loaded, never served; a peer will resend a good copy)');
    }
    let floor = loaded.clockFloor;
    let kept = 0;
    const now = this.clock.now();
    for (const e of loaded.entries) {
      const r = this.map.merge(e, now, this.tombstoneTtlMs);
      if (e.owner === this.nodeId && e.ts > floor) floor = e.ts;
      if (r.status === 'applied') kept++;
      else if (r.status === 'expired' || r.status === 'removed') {
        this.persist.remove(e.key);
        if (e.owner === this.nodeId) this.retire(e.key, e.ts);
      } else if (r.status === 'refused') {
        this.log.warn({ key: e.key, reason: r.message }, 'stored state entry over the current limits; not loaded');
      }
    }
    for (const [key, ts] of loaded.retired) {
      this.retired.set(key, ts);
      if (ts > floor) floor = ts;
    }
    this.hlc = new HybridClock({ clock: this.clock, floor, persistFloor: (f) => this.persist.saveClockFloor(f) });
    this.log.info(
      { entries: kept, verified: loaded.entries.length, corrupt: loaded.corrupt.length, owners: this.map.owners().length, clockFloor: floor.toString() },
      'state loaded',
    );
    this.unsubscribe.push(this.gossip.handle(MsgType.StateUpdate, (m) => this.onUpdate(m)));
    this.sync.start();
    this.gcTimer = this.clock.setInterval(() => this.expireTombstones(), this.gcIntervalMs);
    await this.publishTags();
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.sync.stop();
    this.gcTimer?.cancel();
    this.outboxTimer?.cancel();
    for (const u of this.unsubscribe.splice(0)) u();
    await this.persist.flush();
  }

  /** Waits until every write so far is durable. */
  flush(): Promise<void> {
    return this.persist.flush();
  }

  // ---------------------------------------------------------------------------------------------
  // Node-level API (SSH commands, HTTP API, CLI)

  /** The full key for `key`: a key without "/" (or starting with "/") is in this node's namespace. */
  resolveKey(key: string): string {
    if (key.startsWith('/')) return `${this.nodeId}${key}`;
    const slash = key.indexOf('/');
    if (slash < 0) return `${this.nodeId}/${key}`;
    const head = key.slice(0, slash);
    if (isNodeId(head)) return key;
    // A short owner id ("56475aa75463/color") is expanded when exactly one known owner starts with it.
    if (/^[0-9a-f]{4,63}$/.test(head)) {
      const owners = this.map.owners().filter((o) => o.owner.startsWith(head));
      if (owners.length === 1) return `${owners[0].owner}${key.slice(slash)}`;
    }
    return `${this.nodeId}/${key}`;
  }

  /** The live value of a key (undefined if absent or deleted). `key` may be short (see resolveKey). */
  get(key: string): StateItem | undefined {
    const e = this.map.get(this.resolveKey(key));
    return e && !e.deleted ? toItem(e) : undefined;
  }

  /** The held version of a key, tombstones included. */
  getEntry(key: string): StateItem | undefined {
    const e = this.map.get(this.resolveKey(key));
    return e ? toItem(e) : undefined;
  }

  /** Entries in key order. */
  list(opts: ListOptions = {}): StateItem[] {
    const out: StateItem[] = [];
    const limit = opts.limit ?? Infinity;
    for (const e of this.map.entries(opts.prefix ?? '')) {
      if (out.length >= limit) break;
      if (opts.after !== undefined && e.key <= opts.after) continue;
      if (e.deleted && !opts.includeDeleted) continue;
      out.push(toItem(e));
    }
    return out;
  }

  /**
   * Writes `value` under `key` in this node's namespace (a key without a node id gets this node's).
   * Resolves once the entry is durable here; it is gossiped at once (paced) and reaches the rest of the
   * mesh by anti-entropy if gossip loses it. Throws StateError for a key or value the limits refuse.
   */
  async put(key: string, value: Uint8Array | string): Promise<StateItem> {
    const bytes = typeof value === 'string' ? new TextEncoder().encode(value) : value;
    return this.write(this.ownKey(key, false), bytes, false);
  }

  /** Deletes a key of this node's namespace (a tombstone); undefined if it held no live value. */
  async delete(key: string): Promise<StateItem | undefined> {
    const full = this.ownKey(key, false);
    const held = this.map.get(full);
    if (!held || held.deleted) return undefined;
    return this.write(full, new Uint8Array(0), true);
  }

  /** Subscribes to every change of the map; returns the function that unsubscribes. */
  onChange(fn: (c: StateChange) => void): () => void {
    return this.events.on('change', fn);
  }

  /** Changes as an async iterator (for long-poll / server-sent events). Ends when `signal` aborts or on return(). */
  watch(opts: WatchOptions = {}): AsyncIterableIterator<WatchEvent> {
    const prefix = opts.prefix ?? '';
    const max = opts.maxBuffered ?? DEFAULT_WATCH_BUFFER;
    const buffer: WatchEvent[] = [];
    let missed = 0;
    let wake: (() => void) | undefined;
    let done = false;
    const off = this.onChange((c) => {
      if (!c.item.key.startsWith(prefix)) return;
      if (buffer.length >= max) {
        buffer.shift();
        missed++;
      }
      buffer.push({ ...c, missed: 0 });
      wake?.();
    });
    const end = (): void => {
      done = true;
      buffer.length = 0;
      off();
      wake?.();
    };
    opts.signal?.addEventListener('abort', end, { once: true });
    if (opts.signal?.aborted) end();
    const iterator: AsyncIterableIterator<WatchEvent> = {
      [Symbol.asyncIterator]: () => iterator,
      next: async () => {
        while (buffer.length === 0 && !done) await new Promise<void>((r) => (wake = r));
        wake = undefined;
        const ev = buffer.shift();
        if (!ev) return { done: true, value: undefined };
        ev.missed = missed;
        missed = 0;
        return { done: false, value: ev };
      },
      return: async () => {
        end();
        return { done: true, value: undefined };
      },
    };
    return iterator;
  }

  /** Pulls from one connected Hypha peer now (the /sync command, tests). */
  syncWith(peer: string): boolean {
    return this.sync.schedule(peer);
  }

  onSyncSession(fn: (r: SessionReport) => void): () => void {
    return this.sync.onSession(fn);
  }

  get syncIdle(): boolean {
    return this.sync.activePeer === undefined && this.sync.pendingPeers.length === 0;
  }

  /** The node's current tags (as published in `<node_id>/_tags`). */
  get ownTags(): readonly string[] {
    return this.tags;
  }

  /** Whole-map digest: equal on two nodes iff they hold the same versions (tests, /state summary). */
  rootDigest(): { count: number; fingerprint: string } {
    this.expireTombstones();
    const r = this.map.digests.root();
    return { count: r.count, fingerprint: Buffer.from(r.fingerprint).toString('hex') };
  }

  owners(): { owner: string; count: number; maxTs: bigint }[] {
    return this.map.owners();
  }

  /** The clock's last timestamp (tests). */
  get clockLast(): bigint {
    return this.hlc?.last ?? 0n;
  }

  stats(): StateStats {
    return {
      entries: this.map.size - this.map.tombstoneCount,
      tombstones: this.map.tombstoneCount,
      bytes: this.map.bytes,
      owners: this.map.owners().length,
      ...this.counters,
      refused: { ...this.refused },
      rejected: { ...this.rejected },
      sync: this.sync.stats(),
    };
  }

  // ---------------------------------------------------------------------------------------------
  // Writing

  /** Checks a key for a local write and returns the full key; `internal` allows reserved subkeys. */
  private ownKey(key: string, internal: boolean): string {
    if (typeof key !== 'string' || key === '') throw new StateError('key', 'the key is empty');
    const full = this.resolveKey(key);
    const slash = full.indexOf('/');
    const owner = full.slice(0, slash);
    if (owner !== this.nodeId) {
      throw new StateError('namespace', `key ${full} belongs to node ${short(owner)}; a node writes only its own keys (${short(this.nodeId)}/…)`);
    }
    const sub = checkSubkey(full.slice(slash + 1));
    if (!sub.ok) throw new StateError('key', sub.error.message);
    if (!internal && sub.value.startsWith(RESERVED_PREFIX)) throw new StateError('reserved', `keys starting with "${RESERVED_PREFIX}" are written by the node itself`);
    const n = utf8Length(full);
    if (n > this.limits.maxKeyBytes) throw new StateError('key-too-long', `key ${full} is ${n} bytes; [state] max_key_bytes is ${this.limits.maxKeyBytes}`);
    return full;
  }

  private async write(full: string, value: Uint8Array, deleted: boolean): Promise<StateItem> {
    if (!this.hlc || this.stopped) throw new StateError('stopped', 'the state service is not running');
    if (value.length > this.limits.maxValueBytes) {
      throw new StateError('value-too-long', `value is ${value.length} bytes; [state] max_value_bytes is ${this.limits.maxValueBytes}`);
    }
    const ts = await this.hlc.next();
    const e = signEntry({ key: full, value, ts, deleted }, this.id);
    const room = this.map.checkRoom(e);
    if (room) throw new StateError(room.code, `cannot write ${full}: ${room.message}`);
    const r = this.map.merge(e, this.clock.now(), this.tombstoneTtlMs);
    if (r.status !== 'applied') throw new StateError('internal', `write of ${full} not applied (${r.status})`);
    this.counters.localWrites++;
    if (this.retired.has(full)) {
      this.retired.delete(full);
      this.persist.unretire(full);
    }
    this.persist.put(e);
    this.emit(r, 'local');
    this.enqueueGossip(e);
    await this.persist.flush();
    return toItem(e);
  }

  private async publishTags(): Promise<void> {
    const key = `${this.nodeId}/${TAGS_SUBKEY}`;
    const want = encodeTags(this.tags);
    const held = this.map.get(key);
    if (held && !held.deleted && bytesEqual(held.value, want)) return;
    await this.write(key, want, false);
  }

  // ---------------------------------------------------------------------------------------------
  // Gossip (msg_type 6)

  private enqueueGossip(e: SignedEntry): void {
    this.outbox.delete(e.key);
    this.outbox.set(e.key, e);
    if (this.outbox.size > MAX_GOSSIP_BACKLOG) {
      const oldest = this.outbox.keys().next().value as string;
      this.outbox.delete(oldest);
      this.counters.gossipBacklogDropped++;
    }
    this.drainOutbox();
  }

  private drainOutbox(): void {
    if (this.stopped) return;
    const now = this.clock.now();
    this.tokens = Math.min(GOSSIP_UPDATE_BURST, this.tokens + ((now - this.tokensAtMs) / 1000) * GOSSIP_UPDATES_PER_S);
    this.tokensAtMs = now;
    while (this.outbox.size > 0 && this.tokens >= 1) {
      const [key, e] = this.outbox.entries().next().value as [string, SignedEntry];
      this.outbox.delete(key);
      this.tokens -= 1;
      this.gossip.broadcast(MsgType.StateUpdate, encodeStateUpdate(entryToWire(e)));
      this.counters.gossipSent++;
    }
    if (this.outbox.size > 0 && !this.outboxTimer) {
      this.counters.gossipDeferred++;
      const waitMs = Math.ceil(((1 - this.tokens) / GOSSIP_UPDATES_PER_S) * 1000);
      this.outboxTimer = this.clock.setTimeout(() => {
        this.outboxTimer = undefined;
        this.drainOutbox();
      }, Math.max(1, waitMs));
    }
  }

  private onUpdate(m: GossipMessage): void {
    const pb = decodeStateUpdate(m.payload);
    if (!pb.ok) {
      this.rejected.malformed = (this.rejected.malformed ?? 0) + 1;
      this.log.debug({ from: short(m.senderId), reason: pb.error.message }, 'malformed StateUpdate');
      return;
    }
    this.ingest(pb.value, m.fromPeer || m.senderId);
  }

  // ---------------------------------------------------------------------------------------------
  // Entries from peers

  private ingestMany(entries: readonly StateEntry[], from: string): number {
    let changed = 0;
    for (const pb of entries) if (this.ingest(pb, from)) changed++;
    return changed;
  }

  /** Verifies and merges one entry from a peer; true if the map changed. */
  private ingest(pb: StateEntry, from: string): boolean {
    if (this.stopped) return false;
    // Cheap answers first: a version held already, or older than the one held, needs no signature check.
    const held = this.map.get(pb.key);
    if (held && held.ts === pb.lamportTs && bytesEqual(held.signature, pb.signature)) {
      this.counters.duplicates++;
      return false;
    }
    if (held && held.ts > pb.lamportTs) {
      this.counters.stale++;
      return false;
    }
    const v = verifyEntry(pb, this.limits, this.authorKeys);
    if (!v.ok) {
      this.rejected[v.error.code] = (this.rejected[v.error.code] ?? 0) + 1;
      // A bad signature or a foreign write into a namespace is an attack or a bug; sizes are config skew.
      const level = v.error.code === 'signature' || v.error.code === 'namespace' || v.error.code === 'node-id' ? 'warn' : 'debug';
      this.log[level]({ from: short(from), reason: v.error.message }, 'state entry rejected');
      return false;
    }
    const e = v.value;
    if (e.owner === this.nodeId) {
      // This node's own entry coming back: move the clock past it (it may have been written before a
      // data loss), and if this node deleted the key long ago, delete it again rather than revive it.
      this.hlc?.witness(e.ts, true);
      const retiredTs = this.retired.get(e.key);
      if (!held && !e.deleted && retiredTs !== undefined && retiredTs >= e.ts) {
        this.redelete(e.key);
        return false;
      }
    } else {
      this.hlc?.witness(e.ts);
    }
    const r = this.map.merge(e, this.clock.now(), this.tombstoneTtlMs);
    return this.settle(r, e, from);
  }

  private settle(r: MergeResult, e: SignedEntry, from: string): boolean {
    switch (r.status) {
      case 'applied':
        this.counters.applied++;
        this.persist.put(e);
        this.emit(r, 'peer', from);
        return true;
      case 'removed':
        this.counters.applied++;
        this.persist.remove(e.key);
        this.events.emit('change', { item: toItem(e), previous: toItem(r.previous), source: 'peer', fromPeer: from });
        return true;
      case 'duplicate':
        this.counters.duplicates++;
        return false;
      case 'stale':
        this.counters.stale++;
        return false;
      case 'expired':
        this.counters.expiredIgnored++;
        return false;
      case 'refused':
        this.refused[r.code] = (this.refused[r.code] ?? 0) + 1;
        this.log.debug({ key: e.key, from: short(from), reason: r.message }, 'state entry refused by a limit');
        return false;
    }
  }

  private redelete(key: string): void {
    if (this.pendingRedeletes.has(key)) return;
    this.pendingRedeletes.add(key);
    this.counters.redeleted++;
    this.log.info({ key }, 'a peer still holds a value this node deleted; deleting it again');
    void this.write(key, new Uint8Array(0), true)
      .catch((e: unknown) => this.log.warn({ key, err: (e as Error).message }, 'could not delete again'))
      .finally(() => this.pendingRedeletes.delete(key));
  }

  private emit(r: Extract<MergeResult, { status: 'applied' }>, source: ChangeSource, fromPeer?: string): void {
    this.events.emit('change', { item: toItem(r.entry), previous: r.previous ? toItem(r.previous) : undefined, source, fromPeer });
  }

  // ---------------------------------------------------------------------------------------------
  // Tombstones

  private retire(key: string, ts: bigint): void {
    this.retired.set(key, ts);
    this.persist.retire(key, ts);
  }

  /** Forgets tombstones past their TTL (here and on disk); this node remembers its own deleted keys. */
  private expireTombstones(): void {
    const gone = this.map.expire(this.clock.now(), this.tombstoneTtlMs);
    for (const e of gone) {
      this.counters.gcCollected++;
      this.persist.remove(e.key);
      if (e.owner === this.nodeId) this.retire(e.key, e.ts);
    }
    if (gone.length > 0) this.log.debug({ collected: gone.length }, 'expired tombstones collected');
  }
}
