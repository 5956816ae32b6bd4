// Anti-entropy: each node pulls from its neighbours what it lacks, on connect and every sync_interval,
// one session at a time. A session (requester side) runs three phases, each a series of direct
// request/response pairs (msg_types 7 and 8, Hypha peers only):
//
//   root    compare whole-map digests (count + XOR of fingerprints). Equal: done, ~200 bytes spent.
//   known   send `known` (owner → highest timestamp held, Micelio's meaning) for a batch of owners; the
//           responder returns every entry newer than that, in (owner, ts, key) order, one page per
//           response, with a cursor to resume. This is the bulk path: a node that is simply behind, or
//           new, gets exactly what it lacks.
//   compare if the whole-map digests still differ: send each owner's digest (count, XOR of fingerprints)
//           and highest timestamp; the responder names the owners where it may hold something the
//           requester lacks (it holds more of their entries, or as many with the same latest write but
//           other versions, or an owner the requester does not have). A responder that is merely behind
//           costs nothing further: it will pull from us instead, and a real gap shows once it caught up.
//   ranges  for those owners, catch what `known` cannot see (an entry lost below the highest timestamp
//           held): compare digests of key-hash ranges under the owner, split those that differ into
//           their 16 children, and list the items (key hash, ts, fingerprint) of small ranges, for which
//           the responder returns exactly the versions the requester lacks.
//
// The responder keeps no session state: every request carries what it needs, costs a bounded amount of
// work, and is answered with at most one page (MAX_SYNC_PAYLOAD_BYTES). Requests are paced and each peer
// is rate-limited, so a session never floods a link or trips a gossip engine's per-origin limit.
import { create } from '@bufbuild/protobuf';
import type { Clock, Timer } from '../base/clock.ts';
import type { Logger } from '../base/log.ts';
import { BoundedMap } from '../base/bounded-map.ts';
import { bytesEqual } from '../base/bytes.ts';
import { MsgType } from '../wire/micelio/envelope.ts';
import {
  RangeDigestSchema,
  RangeItemsSchema,
  StateSyncRequestSchema,
  StateSyncResponseSchema,
  type StateEntry,
  type StateSyncRequest,
  type StateSyncResponse,
} from '../wire/gen/micelio_pb.ts';
import { entryToWire, NODE_ID_HEX_CHARS, type SignedEntry } from './entry.ts';
import { decodeItems, encodeItems, ITEM_RECORD_BYTES, MAX_PREFIX_HEX, requesterLacks } from './digest.ts';
import type { StateMap } from './map.ts';
import type { GossipMessage, GossipPort, PeersPort } from './ports.ts';
import {
  MAX_SYNC_PAYLOAD_BYTES,
  SYNC_PROTOCOL_VERSION,
  decodeSyncRequest,
  decodeSyncResponse,
  encodeSyncRequest,
  encodeSyncResponse,
  fieldBytes,
} from './sync-codec.ts';

export const DEFAULT_SYNC_INTERVAL_MS = 10_000;
/** Least time between two requests of this node: 5/s, half of what a gossip engine accepts per origin. */
export const DEFAULT_REQUEST_SPACING_MS = 200;
export const DEFAULT_RESPONSE_TIMEOUT_MS = 15_000;
/** A range with at most this many entries on the requester's side is listed instead of split. */
export const DEFAULT_LIST_MAX_ITEMS = 4;
/** A session stops after this many requests; the next one continues where it left off. */
export const DEFAULT_MAX_ROUNDS = 2_000;
/** Requests a peer may make of this node: per second, and in a burst. */
export const DEFAULT_PEER_REQUESTS_PER_S = 10;
export const DEFAULT_PEER_REQUEST_BURST = 20;
/** Owners whose `known` (~80 bytes each) and digest (~90 bytes each) travel in one request. */
export const KNOWN_BATCH_OWNERS = 256;
/** Entries a response may scan to answer lists (bounded work per request, whatever the request asks). */
const MAX_LIST_SCAN_PER_REQUEST = 100_000;
/** "Retry after" answers a session accepts before it gives up until the next one. */
const MAX_RETRIES_PER_SESSION = 5;
/** Owners one response may name for comparison. */
const MAX_FLAGGED_OWNERS = 1024;
const MAX_RANGES_SENT = 256;
const MAX_LIST_ITEMS_SENT = 1_500;
const MAX_QUEUED_PREFIXES = 8_192;
const RATE_BUCKETS = 1_024;
/** Room left in a response for its fixed fields. */
const RESPONSE_HEADER_BYTES = 160;

export interface StateSyncOptions {
  selfId: string;
  map: StateMap;
  gossip: GossipPort;
  peers: PeersPort;
  clock: Clock;
  logger: Logger;
  /** Verifies and merges entries a peer sent; returns how many changed the map. */
  ingest(entries: readonly StateEntry[], fromPeer: string): number;
  /** Runs before digests are read (expires tombstones, so both sides compare the same set). */
  prepare(): void;
  intervalMs?: number;
  requestSpacingMs?: number;
  responseTimeoutMs?: number;
  listMaxItems?: number;
  maxRounds?: number;
  peerRequestsPerS?: number;
  peerRequestBurst?: number;
  random?: () => number;
}

export interface SessionReport {
  peer: string;
  /** 'done': both maps matched at the end; 'incomplete': stopped early (rounds, timeout, disconnect). */
  outcome: 'done' | 'incomplete';
  reason: string;
  rounds: number;
  entriesReceived: number;
  entriesNew: number;
  bytesSent: number;
  bytesReceived: number;
  durationMs: number;
}

export interface StateSyncStats {
  sessionsStarted: number;
  sessionsDone: number;
  sessionsIncomplete: number;
  requestsSent: number;
  responsesReceived: number;
  requestsAnswered: number;
  requestsRateLimited: number;
  requestsMalformed: number;
  phase5Ignored: number;
  unexpectedResponses: number;
  entriesSent: number;
  entriesReceived: number;
  entriesNew: number;
  bytesSent: number;
  bytesReceived: number;
  /** Largest payload this node sent (always ≤ MAX_SYNC_PAYLOAD_BYTES). */
  largestPayload: number;
}

type Phase = 'root' | 'known' | 'compare' | 'ranges';

interface Cursor {
  owner: string;
  ts: bigint;
  key: string;
}

interface KnownBatch {
  from: string;
  to: string;
  owners: string[];
  /**
   * Highest timestamps held when the session began. Fixed for the whole batch: entries gossiped in while
   * pages arrive must not raise them, or the pages still due (older than those entries) would be skipped.
   */
  known: Map<string, bigint>;
}

interface Session {
  id: bigint;
  peer: string;
  phase: Phase;
  round: number;
  batches: KnownBatch[];
  batch: number;
  cursor: Cursor | undefined;
  /** Owners whose ranges must be compared (from the responder's owner summaries). */
  flagged: string[];
  queue: string[];
  /** The request in flight, sent again after a "retry after". */
  last: StateSyncRequest | undefined;
  retries: number;
  /** Spacing of this session's requests, raised when the peer says we are too fast. */
  spacingMs: number;
  timer: Timer | undefined;
  startedMs: number;
  entriesReceived: number;
  entriesNew: number;
  bytesSent: number;
  bytesReceived: number;
  closed: boolean;
}

interface RateBucket {
  tokens: number;
  atMs: number;
  refusedAtMs: number;
}

function short(id: string): string {
  return id.slice(0, 12);
}

function afterCursor(e: SignedEntry, c: Cursor): boolean {
  if (e.owner !== c.owner) return e.owner > c.owner;
  if (e.ts !== c.ts) return e.ts > c.ts;
  return e.key > c.key;
}

export class StateSync {
  private readonly o: Required<Omit<StateSyncOptions, 'ingest' | 'prepare'>> & Pick<StateSyncOptions, 'ingest' | 'prepare'>;
  private readonly map: StateMap;
  private readonly log: Logger;
  private readonly clock: Clock;
  private readonly queue: string[] = [];
  private active: Session | undefined;
  private nextSessionId = 1n;
  private lastRequestMs = -Infinity;
  private spacingTimer: Timer | undefined;
  private interval: Timer | undefined;
  private readonly unsubscribe: (() => void)[] = [];
  private readonly buckets = new BoundedMap<string, RateBucket>(RATE_BUCKETS);
  private readonly reportListeners = new Set<(r: SessionReport) => void>();
  private started = false;
  private stopped = false;
  private readonly counters: StateSyncStats = {
    sessionsStarted: 0,
    sessionsDone: 0,
    sessionsIncomplete: 0,
    requestsSent: 0,
    responsesReceived: 0,
    requestsAnswered: 0,
    requestsRateLimited: 0,
    requestsMalformed: 0,
    phase5Ignored: 0,
    unexpectedResponses: 0,
    entriesSent: 0,
    entriesReceived: 0,
    entriesNew: 0,
    bytesSent: 0,
    bytesReceived: 0,
    largestPayload: 0,
  };

  constructor(opts: StateSyncOptions) {
    this.o = {
      intervalMs: DEFAULT_SYNC_INTERVAL_MS,
      requestSpacingMs: DEFAULT_REQUEST_SPACING_MS,
      responseTimeoutMs: DEFAULT_RESPONSE_TIMEOUT_MS,
      listMaxItems: DEFAULT_LIST_MAX_ITEMS,
      maxRounds: DEFAULT_MAX_ROUNDS,
      peerRequestsPerS: DEFAULT_PEER_REQUESTS_PER_S,
      peerRequestBurst: DEFAULT_PEER_REQUEST_BURST,
      random: Math.random,
      ...(Object.fromEntries(Object.entries(opts).filter(([, v]) => v !== undefined)) as StateSyncOptions),
    };
    this.map = opts.map;
    this.clock = opts.clock;
    this.log = opts.logger;
  }

  start(): void {
    if (this.started) return;
    this.started = true;
    const g = this.o.gossip;
    this.unsubscribe.push(g.handle(MsgType.StateSyncRequest, (m) => this.onRequest(m)));
    this.unsubscribe.push(g.handle(MsgType.StateSyncResponse, (m) => this.onResponse(m)));
    this.unsubscribe.push(this.o.peers.on('connected', (p) => {
      if (p.isHypha) this.schedule(p.nodeId);
    }));
    this.unsubscribe.push(this.o.peers.on('disconnected', (p) => {
      const i = this.queue.indexOf(p.nodeId);
      if (i >= 0) this.queue.splice(i, 1);
      if (this.active?.peer === p.nodeId) this.finish(this.active, 'incomplete', 'peer disconnected');
    }));
    for (const p of this.o.peers.peers()) if (p.isHypha) this.schedule(p.nodeId);
    this.interval = this.clock.setInterval(() => this.periodic(), this.o.intervalMs);
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.interval?.cancel();
    this.spacingTimer?.cancel();
    for (const u of this.unsubscribe.splice(0)) u();
    if (this.active) this.finish(this.active, 'incomplete', 'stopping');
    this.queue.length = 0;
  }

  stats(): StateSyncStats {
    return { ...this.counters };
  }

  /** The peer a session is running with, if any. */
  get activePeer(): string | undefined {
    return this.active?.peer;
  }

  get pendingPeers(): readonly string[] {
    return [...this.queue];
  }

  /** Subscribes to the end of every session (tests, benchmarks, the /sync command). */
  onSession(fn: (r: SessionReport) => void): () => void {
    this.reportListeners.add(fn);
    return () => this.reportListeners.delete(fn);
  }

  /** Queues a pull from `peer` (a connected Hypha peer); returns false if it cannot be synced with. */
  schedule(peer: string): boolean {
    if (this.stopped || peer === this.o.selfId) return false;
    if (!this.o.peers.peer(peer)?.isHypha) return false;
    if (this.active?.peer !== peer && !this.queue.includes(peer)) this.queue.push(peer);
    this.kick();
    return true;
  }

  private periodic(): void {
    const candidates = this.o.peers.peers().filter((p) => p.isHypha && p.connected && p.nodeId !== this.active?.peer && !this.queue.includes(p.nodeId));
    if (candidates.length === 0) return;
    this.schedule(candidates[Math.floor(this.o.random() * candidates.length)].nodeId);
  }

  // ---------------------------------------------------------------------------------------------
  // Requester

  private kick(): void {
    if (this.active || this.stopped || !this.started) return;
    while (this.queue.length > 0) {
      const peer = this.queue.shift()!;
      if (!this.o.peers.peer(peer)?.connected) continue;
      this.active = {
        id: this.nextSessionId++,
        peer,
        phase: 'root',
        round: 0,
        batches: [],
        batch: 0,
        cursor: undefined,
        flagged: [],
        queue: [],
        last: undefined,
        retries: 0,
        spacingMs: 0,
        timer: undefined,
        startedMs: this.clock.now(),
        entriesReceived: 0,
        entriesNew: 0,
        bytesSent: 0,
        bytesReceived: 0,
        closed: false,
      };
      this.counters.sessionsStarted++;
      this.sendNext(this.active);
      return;
    }
  }

  private finish(s: Session, outcome: SessionReport['outcome'], reason: string): void {
    if (s.closed) return;
    s.closed = true;
    s.timer?.cancel();
    if (this.active === s) this.active = undefined;
    if (outcome === 'done') this.counters.sessionsDone++;
    else this.counters.sessionsIncomplete++;
    const report: SessionReport = {
      peer: s.peer,
      outcome,
      reason,
      rounds: s.round,
      entriesReceived: s.entriesReceived,
      entriesNew: s.entriesNew,
      bytesSent: s.bytesSent,
      bytesReceived: s.bytesReceived,
      durationMs: this.clock.now() - s.startedMs,
    };
    const level = outcome === 'done' ? (s.entriesNew > 0 ? 'info' : 'debug') : 'info';
    this.log[level]({ ...report, peer: short(s.peer) }, outcome === 'done' ? 'state sync done' : 'state sync stopped early');
    for (const fn of this.reportListeners) {
      try {
        fn(report);
      } catch (e) {
        this.log.error({ err: e instanceof Error ? e.message : String(e) }, 'sync report listener threw');
      }
    }
    if (!this.stopped) this.kick();
  }

  /**
   * Sends the session's next request (or, after a "retry after", the previous one again), no sooner than
   * requestSpacingMs after the previous one.
   */
  private sendNext(s: Session, notBeforeMs = 0, again = false): void {
    const wait = Math.max(this.lastRequestMs + Math.max(this.o.requestSpacingMs, s.spacingMs), notBeforeMs) - this.clock.now();
    if (wait > 0) {
      this.spacingTimer?.cancel();
      this.spacingTimer = this.clock.setTimeout(() => {
        if (!s.closed) this.sendNext(s, 0, again);
      }, wait);
      return;
    }
    if (s.round >= this.o.maxRounds) {
      this.finish(s, 'incomplete', `stopped after ${s.round} requests`);
      return;
    }
    let req: StateSyncRequest | undefined;
    if (again && s.last) {
      req = s.last;
      req.round = ++s.round;
    } else {
      this.o.prepare();
      req = this.buildRequest(s);
    }
    if (!req) {
      this.finish(s, 'done', 'nothing left to compare');
      return;
    }
    s.last = req;
    const bytes = encodeSyncRequest(req);
    this.lastRequestMs = this.clock.now();
    if (!this.o.gossip.sendDirect(s.peer, MsgType.StateSyncRequest, bytes)) {
      this.finish(s, 'incomplete', 'could not send to the peer');
      return;
    }
    s.bytesSent += bytes.length;
    this.counters.requestsSent++;
    this.counters.bytesSent += bytes.length;
    this.counters.largestPayload = Math.max(this.counters.largestPayload, bytes.length);
    s.timer = this.clock.setTimeout(() => this.finish(s, 'incomplete', `no response in ${this.o.responseTimeoutMs} ms`), this.o.responseTimeoutMs);
  }

  private newRequest(s: Session): StateSyncRequest {
    s.round++;
    return create(StateSyncRequestSchema, { version: SYNC_PROTOCOL_VERSION, session: s.id, round: s.round });
  }

  /** The request for the session's current phase, or undefined when there is nothing left to ask. */
  private buildRequest(s: Session): StateSyncRequest | undefined {
    if (s.phase === 'root') {
      const req = this.newRequest(s);
      const root = this.map.digests.root();
      req.ranges.push(create(RangeDigestSchema, { prefix: '', count: root.count, fingerprint: root.fingerprint }));
      return req;
    }
    if (s.phase === 'known') {
      const b = s.batches[s.batch];
      const req = this.newRequest(s);
      req.wantKnown = true;
      req.knownFrom = b.from;
      req.knownTo = b.to;
      for (const [owner, ts] of b.known) {
        if (s.cursor && owner < s.cursor.owner) continue;
        req.known[owner] = ts;
      }
      if (s.cursor) {
        req.afterOwner = s.cursor.owner;
        req.afterTs = s.cursor.ts;
        req.afterKey = s.cursor.key;
      }
      return req;
    }
    if (s.phase === 'compare') {
      const b = s.batches[s.batch];
      const req = this.newRequest(s);
      req.compareOwners = true;
      req.knownFrom = b.from;
      req.knownTo = b.to;
      for (const owner of b.owners) {
        const d = this.map.digests.owner(owner);
        if (d.count === 0) continue;
        req.known[owner] = this.map.maxTs(owner);
        req.ranges.push(create(RangeDigestSchema, { prefix: owner, count: d.count, fingerprint: d.fingerprint }));
      }
      return req;
    }
    if (s.queue.length === 0) return undefined;
    // One owner per request, so its id is sent once (base) and every prefix is a few hex digits.
    const owner = s.queue[0].slice(0, NODE_ID_HEX_CHARS);
    const mine = s.queue.filter((p) => p.startsWith(owner)).slice(0, MAX_RANGES_SENT);
    const req = this.newRequest(s);
    req.base = owner;
    let bytes = 128;
    let listed = 0;
    const budget = MAX_SYNC_PAYLOAD_BYTES - 1024;
    const sums = this.map.digests.summaries(mine);
    const sent = new Set<string>();
    for (const prefix of mine) {
      const sum = sums.get(prefix)!;
      const rel = prefix.slice(owner.length);
      if (sum.count <= this.o.listMaxItems || prefix.length >= MAX_PREFIX_HEX) {
        const items = this.map.digests.items(prefix);
        const cost = fieldBytes(rel.length + 2 + fieldBytes(items.length * ITEM_RECORD_BYTES));
        if ((listed + items.length > MAX_LIST_ITEMS_SENT || bytes + cost > budget) && sent.size > 0) break;
        req.lists.push(create(RangeItemsSchema, { prefix: rel, items: encodeItems(items) }));
        listed += items.length;
        bytes += cost;
      } else {
        const cost = fieldBytes(rel.length + 2 + 6 + 2 + sum.fingerprint.length);
        if (bytes + cost > budget) break;
        req.ranges.push(create(RangeDigestSchema, { prefix: rel, count: sum.count, fingerprint: sum.fingerprint }));
        bytes += cost;
      }
      sent.add(prefix);
    }
    s.queue = s.queue.filter((p) => !sent.has(p));
    return req;
  }

  private enterKnownPhase(s: Session): void {
    s.phase = 'known';
    s.cursor = undefined;
    s.batch = 0;
    s.flagged = [];
    const owners = this.map.owners().map((x) => x.owner);
    s.batches = [];
    for (let i = 0; i < owners.length; i += KNOWN_BATCH_OWNERS) {
      const batch = owners.slice(i, i + KNOWN_BATCH_OWNERS);
      s.batches.push({ from: i === 0 ? '' : owners[i], to: '', owners: batch, known: new Map(batch.map((o) => [o, this.map.maxTs(o)])) });
    }
    for (let i = 0; i + 1 < s.batches.length; i++) s.batches[i].to = s.batches[i + 1].from;
    if (s.batches.length === 0) s.batches.push({ from: '', to: '', owners: [], known: new Map() });
  }

  private onResponse(m: GossipMessage): void {
    if (m.senderId !== m.fromPeer) return; // direct messages only
    const s = this.active;
    const r = decodeSyncResponse(m.payload);
    if (!r.ok) {
      if (r.error.code === 'phase5') this.counters.phase5Ignored++;
      else this.log.warn({ peer: short(m.fromPeer), reason: r.error.message }, 'malformed state sync response');
      return;
    }
    const resp = r.value;
    if (!s || s.closed || s.peer !== m.fromPeer || resp.session !== s.id || resp.round !== s.round) {
      this.counters.unexpectedResponses++;
      return;
    }
    s.timer?.cancel();
    s.timer = undefined;
    this.counters.responsesReceived++;
    this.counters.bytesReceived += m.payload.length;
    s.bytesReceived += m.payload.length;
    if (resp.retryAfterMs > 0) {
      // The peer is busy: ask the same again once it says so, a few times, then leave it for later.
      if (++s.retries > MAX_RETRIES_PER_SESSION) {
        this.finish(s, 'incomplete', `peer asked to retry after ${resp.retryAfterMs} ms`);
        return;
      }
      // Slow down for the rest of the session too: requests past a peer's rate get no answer at all.
      s.spacingMs = Math.min(Math.max(2 * Math.max(s.spacingMs, this.o.requestSpacingMs), 2 * resp.retryAfterMs, DEFAULT_REQUEST_SPACING_MS), this.o.responseTimeoutMs / 4);
      this.sendNext(s, this.clock.now() + Math.min(resp.retryAfterMs, this.o.responseTimeoutMs), true);
      return;
    }
    if (resp.entries.length > 0) {
      s.entriesReceived += resp.entries.length;
      this.counters.entriesReceived += resp.entries.length;
      const changed = this.o.ingest(resp.entries, s.peer);
      s.entriesNew += changed;
      this.counters.entriesNew += changed;
    }
    if (this.advance(s, resp)) this.sendNext(s);
  }

  /** Moves the session on after a response; false if it finished. */
  private advance(s: Session, resp: StateSyncResponse): boolean {
    this.o.prepare();
    const matches = (): boolean => {
      if (resp.rootFingerprint.length === 0) return false;
      const mine = this.map.digests.root();
      return mine.count === resp.rootCount && bytesEqual(mine.fingerprint, resp.rootFingerprint);
    };
    switch (s.phase) {
      case 'root':
        if (!resp.mismatched.includes('')) {
          this.finish(s, 'done', 'in sync');
          return false;
        }
        this.enterKnownPhase(s);
        return true;
      case 'known':
        if (!resp.knownDone) {
          s.cursor = { owner: resp.nextOwner, ts: resp.nextTs, key: resp.nextKey };
          return true;
        }
        s.cursor = undefined;
        s.batch++;
        if (s.batch < s.batches.length) return true;
        if (matches()) {
          this.finish(s, 'done', 'in sync after catching up');
          return false;
        }
        // A peer holding fewer entries is most likely behind: it will pull from us, and if it also holds
        // something we lack, its count passes ours once it caught up and the next pull compares owners.
        if (resp.rootFingerprint.length > 0 && resp.rootCount < this.map.digests.root().count) {
          this.finish(s, 'done', 'the peer is behind');
          return false;
        }
        s.phase = 'compare';
        s.batch = 0;
        return true;
      case 'compare':
        for (const owner of resp.mismatched) if (owner.length === 64 && s.flagged.length < MAX_FLAGGED_OWNERS) s.flagged.push(owner);
        s.batch++;
        if (s.batch < s.batches.length) return true;
        if (s.flagged.length === 0) {
          this.finish(s, 'done', 'nothing the peer holds is missing here');
          return false;
        }
        s.phase = 'ranges';
        s.queue = s.flagged.splice(0);
        return true;
      case 'ranges':
        if (matches()) {
          this.finish(s, 'done', 'in sync');
          return false;
        }
        for (const p of resp.unfinished) this.enqueue(s, p);
        for (const p of resp.mismatched) {
          if (p.length >= MAX_PREFIX_HEX) this.enqueue(s, p);
          else for (const d of '0123456789abcdef') this.enqueue(s, p + d);
        }
        if (s.queue.length === 0) {
          this.finish(s, 'done', 'every range compared');
          return false;
        }
        return true;
    }
  }

  private enqueue(s: Session, prefix: string): void {
    if (s.queue.length < MAX_QUEUED_PREFIXES) s.queue.push(prefix);
  }

  // ---------------------------------------------------------------------------------------------
  // Responder

  private allow(peer: string): { ok: true } | { ok: false; retryMs: number; reply: boolean } {
    const now = this.clock.now();
    let b = this.buckets.get(peer);
    if (!b) {
      b = { tokens: this.o.peerRequestBurst, atMs: now, refusedAtMs: -Infinity };
      this.buckets.set(peer, b);
    }
    b.tokens = Math.min(this.o.peerRequestBurst, b.tokens + ((now - b.atMs) / 1000) * this.o.peerRequestsPerS);
    b.atMs = now;
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return { ok: true };
    }
    // Tell a peer over its rate once a second at most, so refusals cannot become a flood themselves.
    const reply = now - b.refusedAtMs >= 1000;
    if (reply) b.refusedAtMs = now;
    return { ok: false, retryMs: Math.ceil(((1 - b.tokens) / this.o.peerRequestsPerS) * 1000), reply };
  }

  private onRequest(m: GossipMessage): void {
    if (m.senderId !== m.fromPeer) return; // direct messages only
    const peer = m.fromPeer;
    const r = decodeSyncRequest(m.payload);
    if (!r.ok) {
      if (r.error.code === 'phase5') {
        this.counters.phase5Ignored++;
        this.log.debug({ peer: short(peer) }, 'ignoring a phase-5 state sync request: Micelio nodes cannot verify Hypha entries');
      } else {
        this.counters.requestsMalformed++;
        this.log.warn({ peer: short(peer), reason: r.error.message }, 'malformed state sync request');
      }
      return;
    }
    const req = r.value;
    const base = { version: SYNC_PROTOCOL_VERSION, session: req.session, round: req.round };
    const gate = this.allow(peer);
    if (!gate.ok) {
      this.counters.requestsRateLimited++;
      if (gate.reply) this.send(peer, create(StateSyncResponseSchema, { ...base, retryAfterMs: gate.retryMs }));
      return;
    }
    this.o.prepare();
    this.send(peer, this.answer(req));
  }

  private send(peer: string, resp: StateSyncResponse): void {
    const bytes = encodeSyncResponse(resp);
    if (!this.o.gossip.sendDirect(peer, MsgType.StateSyncResponse, bytes)) return;
    this.counters.requestsAnswered++;
    this.counters.entriesSent += resp.entries.length;
    this.counters.bytesSent += bytes.length;
    this.counters.largestPayload = Math.max(this.counters.largestPayload, bytes.length);
  }

  /** One page answering `req`: bounded by the request limits and MAX_SYNC_PAYLOAD_BYTES. */
  answer(req: StateSyncRequest): StateSyncResponse {
    const root = this.map.digests.root();
    const resp = create(StateSyncResponseSchema, {
      version: SYNC_PROTOCOL_VERSION,
      session: req.session,
      round: req.round,
      rootCount: root.count,
      rootFingerprint: root.fingerprint,
      base: req.base,
    });
    // Prefixes go back relative to the request's base, as they came.
    const rel = (p: string): string => p.slice(req.base.length);
    // Room for the prefixes this response may name, then the entries fill the rest.
    let budget = MAX_SYNC_PAYLOAD_BYTES - RESPONSE_HEADER_BYTES - (req.ranges.length + req.lists.length) * (MAX_PREFIX_HEX + 3 - req.base.length);
    const add = (e: SignedEntry): boolean => {
      const cost = fieldBytes(e.encodedSize);
      if (cost > budget && resp.entries.length > 0) return false;
      resp.entries.push(entryToWire(e));
      budget -= cost;
      return true;
    };

    if (req.compareOwners) {
      this.compareOwners(req, resp);
      return resp;
    }
    if (req.wantKnown) this.answerKnown(req, resp, add);

    let full = false;
    // Each list costs a scan of its owner's entries; past this many, the rest wait for the next request.
    let work = 0;
    const scanCost = (prefix: string): number => (prefix === '' ? this.map.digests.size : this.map.digests.owner(prefix.slice(0, NODE_ID_HEX_CHARS)).count);
    for (const l of req.lists) {
      if (!full && work > 0) full = work + scanCost(l.prefix) > MAX_LIST_SCAN_PER_REQUEST;
      if (full) {
        resp.unfinished.push(rel(l.prefix));
        continue;
      }
      work += scanCost(l.prefix);
      const have = decodeItems(l.items) ?? new Map();
      for (const e of this.map.digests.items(l.prefix)) {
        if (!requesterLacks(e, have.get(e.keyHash))) continue;
        if (!add(e)) {
          full = true;
          resp.unfinished.push(rel(l.prefix));
          break;
        }
      }
    }
    const sums = this.map.digests.summaries(req.ranges.map((d) => d.prefix));
    for (const d of req.ranges) {
      const mine = sums.get(d.prefix)!;
      // Where this node has nothing, the requester has nothing to gain: it pulls only what it lacks.
      if (mine.count > 0 && (mine.count !== d.count || !bytesEqual(mine.fingerprint, d.fingerprint))) resp.mismatched.push(rel(d.prefix));
    }
    return resp;
  }

  /** The owners in the request's range where the requester may lack something this node holds. */
  private compareOwners(req: StateSyncRequest, resp: StateSyncResponse): void {
    const theirs = new Map(req.ranges.map((d) => [d.prefix, d]));
    for (const { owner, maxTs } of this.map.owners()) {
      if (owner < req.knownFrom || (req.knownTo !== '' && owner >= req.knownTo)) continue;
      if (resp.mismatched.length >= MAX_FLAGGED_OWNERS) break;
      const mine = this.map.digests.owner(owner);
      const t = theirs.get(owner);
      if (!t) resp.mismatched.push(owner);
      else if (mine.count === t.count && bytesEqual(mine.fingerprint, t.fingerprint)) continue;
      else if (mine.count > t.count || (mine.count === t.count && maxTs >= (req.known[owner] ?? 0n))) resp.mismatched.push(owner);
    }
  }

  private answerKnown(req: StateSyncRequest, resp: StateSyncResponse, add: (e: SignedEntry) => boolean): void {
    const cursor: Cursor | undefined = req.afterOwner === '' ? undefined : { owner: req.afterOwner, ts: req.afterTs, key: req.afterKey };
    for (const { owner } of this.map.owners()) {
      if (owner < req.knownFrom || (req.knownTo !== '' && owner >= req.knownTo)) continue;
      if (cursor && owner < cursor.owner) continue;
      const base = req.known[owner] ?? 0n;
      const list = this.map
        .ownerEntries(owner)
        .filter((e) => e.ts > base && (!cursor || afterCursor(e, cursor)))
        .sort((a, b) => (a.ts !== b.ts ? (a.ts < b.ts ? -1 : 1) : a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      for (const e of list) {
        if (!add(e)) {
          const last = resp.entries[resp.entries.length - 1];
          resp.knownDone = false;
          resp.nextOwner = last.nodeId;
          resp.nextTs = last.lamportTs;
          resp.nextKey = last.key;
          return;
        }
      }
    }
    resp.knownDone = true;
  }
}
