// The message bus (reference §5): reliable messages between overlay nodes over type-1 data packets, in
// Mycelium's wire format, with topics, replies, forward sockets, a persisted inbox and outbox, and the
// programmatic API the HTTP and JSON-RPC layers call. One instance per node:
//
//   const bus = new MessageBus({ clock, logger, store, overlay, topicFile });
//   await bus.start();   // hooks the data plane's message packets, resumes unfinished sends
//   ...
//   await bus.stop();    // before the overlay and the store
//
// Receiving (§5.3): INIT is checked against the topic ACL (not for replies), a repeated INIT resets a
// partial message, CHUNKs are validated and stored, DONE is verified (count, coverage, BLAKE3); a
// verified message is handed to a waiting push (a reply), or a topic's forward socket, or the inbox —
// and only acknowledged once it is on disk. A Hypha receiver also remembers the messages it completed
// and answers their repeated packets with ACKs instead of taking them a second time.
import { blake3 } from '@noble/hashes/blake3.js';
import { randomBytes } from 'node:crypto';
import { BoundedMap } from '../base/bounded-map.ts';
import { bytesEqual, fromHex, toHex } from '../base/bytes.ts';
import type { Clock, Timer } from '../base/clock.ts';
import type { Logger } from '../base/log.ts';
import type { DataPlane } from '../dataplane/dataplane.ts';
import { overlayAddress } from '../identity/address.ts';
import type { Router } from '../router/router.ts';
import { subnetContains } from '../router/subnet.ts';
import type { Store } from '../store/store.ts';
import { formatIpv6, isOverlayAddress, parseIpv6 } from '../wire/ipv6.ts';
import {
  decodeMessagePacket,
  encodeMessagePacket,
  isAck,
  isReply,
  MAX_TOPIC_BYTES,
  MESSAGE_ID_BYTES,
  MSG_FLAG_ACK,
  MSG_FLAG_CHUNK,
  MSG_FLAG_DONE,
  MSG_FLAG_READ,
  type ChunkPacket,
  type DonePacket,
  type InitPacket,
  type MessagePacket,
} from '../wire/mycelium/message.ts';
import { FORWARD_REPLY_TIMEOUT_MS, FORWARD_WRITE_TIMEOUT_MS, forwardToSocket } from './forward-socket.ts';
import { Inbox, type InboxEntry, type PopOptions } from './inbox.ts';
import { PartialMessage } from './inbound.ts';
import { DEFAULT_WINDOW_TUNING, OutboundTransfer, type OutboundSpec, type TransferHost, type WindowTuning } from './outbound.ts';
import { Outbox } from './outbox.ts';
import { RttEstimator } from './rtt.ts';
import type { TopicFileConfig } from './topic-file.ts';
import { TopicTable } from './topics.ts';
import { DEFAULT_DEADLINE_MS, MAX_WAIT_MS } from './waits.ts';
import { base64, busError, type BusResult, type Destination, type MessageInfo, type PushOutcome, type ReceivedMessage } from './types.ts';

export { DEFAULT_DEADLINE_MS, MAX_WAIT_MS };
/** A partial message that hears nothing for this long is dropped (its sender gave up or went away). */
export const PARTIAL_IDLE_MS = 2 * 60 * 1000;
const SWEEP_INTERVAL_MS = 30_000;
const MAX_LOCAL_QUEUE = 65_536;
const EMPTY = new Uint8Array(0);

export interface MessageBusLimits {
  /** Largest message sent or accepted. The store keeps values up to 64 MiB. */
  maxMessageBytes: number;
  maxInboxMessages: number;
  maxInboxBytes: number;
  maxOutboxMessages: number;
  maxOutboxBytes: number;
  /** Messages being received at once, and the bytes they announce (reserved at INIT). */
  maxPartialMessages: number;
  maxPartialBytes: number;
  maxActivePerDestination: number;
  maxActiveTotal: number;
  maxPopWaiters: number;
  maxReplyWaiters: number;
  /** Completed message ids remembered to answer repeats without taking the message twice. */
  maxCompletedIds: number;
}

export const DEFAULT_MESSAGE_BUS_LIMITS: MessageBusLimits = Object.freeze({
  maxMessageBytes: 64 * 1024 * 1024,
  maxInboxMessages: 10_000,
  maxInboxBytes: 512 * 1024 * 1024,
  maxOutboxMessages: 10_000,
  maxOutboxBytes: 256 * 1024 * 1024,
  maxPartialMessages: 256,
  maxPartialBytes: 128 * 1024 * 1024,
  maxActivePerDestination: 16,
  maxActiveTotal: 256,
  maxPopWaiters: 1_024,
  maxReplyWaiters: 1_024,
  maxCompletedIds: 16_384,
});

/** What the bus needs of the overlay (an `Overlay` is one). */
export interface MessageOverlay {
  router: Pick<Router, 'address' | 'subnet' | 'publicKey' | 'publicKeyFor'>;
  dataplane: Pick<DataPlane, 'sendMessage' | 'onMessage'>;
}

export interface MessageBusOptions {
  clock: Clock;
  logger: Logger;
  store: Store;
  overlay: MessageOverlay;
  /** A parsed --topic-config file (loadTopicFile), applied at start. */
  topicFile?: TopicFileConfig;
  limits?: Partial<MessageBusLimits>;
  window?: Partial<WindowTuning>;
  forward?: { writeTimeoutMs?: number; replyTimeoutMs?: number };
  /** Message ids; tests inject deterministic ones. */
  randomId?: () => Uint8Array;
}

export interface PushRequest {
  dst: Destination;
  /** At most 255 bytes; empty = no topic. */
  topic?: Uint8Array;
  payload: Uint8Array;
  /** Give up (status aborted, ABORTED sent) this long after the push; default 5 min, as Mycelium. */
  deadlineMs?: number;
  /** Wait this long for the reply and return it; 0 or absent = return the id at once. */
  replyTimeoutMs?: number;
  /** Stops waiting for the reply (the message itself is still sent). */
  signal?: AbortSignal;
}

export interface MessageBusCounters {
  pushed: number;
  replies: number;
  accepted: number;
  forwarded: number;
  forwardFailed: number;
  popped: number;
  delivered: number;
  read: number;
  aborted: number;
  packetsSent: number;
  packetsReceived: number;
  sendDropped: number;
  malformed: number;
  chunkRetransmits: number;
  timeouts: number;
  refusedAcl: number;
  refusedFull: number;
  refusedTooLarge: number;
  badChunks: number;
  badDone: number;
  duplicates: number;
  initResets: number;
  partialsExpired: number;
  storeFailures: number;
}

export interface MessageBusStats {
  /** Accepted messages not yet popped (or being handed to a forward socket), and their bytes. */
  inboxMessages: number;
  inboxBytes: number;
  /** Messages being sent or waiting for a sending slot, and their bytes. */
  outboxMessages: number;
  outboxBytes: number;
  /** Messages being received (INIT seen, not yet complete), and the bytes they announced. */
  receiving: number;
  receivingBytes: number;
  replyWaiters: number;
}

interface Completed {
  chunkCount: number;
  checksum: Uint8Array;
  /** On disk (or handed to a waiting push), so its DONE may be acknowledged. */
  committed: boolean;
}

interface ReplyWaiter {
  dstHex: string;
  finish(m: ReceivedMessage | null | 'stopped'): void;
}

/** Parses a message id: 16 hex characters. */
export function parseMessageId(id: string): BusResult<Uint8Array> {
  const b = typeof id === 'string' && id.length === 2 * MESSAGE_ID_BYTES ? fromHex(id) : undefined;
  if (b === undefined) return busError('bad-id', `message id must be ${2 * MESSAGE_ID_BYTES} hex characters, got ${JSON.stringify(String(id).slice(0, 40))}`);
  return { ok: true, value: b };
}

/** The overlay address of a destination given as `{ ip }` or `{ pk }` (hex X25519 key). */
export function parseDestination(d: Destination): BusResult<Uint8Array> {
  if (d === null || typeof d !== 'object') return busError('bad-destination', 'destination must be {"ip": "<overlay IPv6>"} or {"pk": "<64 hex>"}');
  if ('ip' in d && typeof d.ip === 'string') {
    const ip = parseIpv6(d.ip);
    if (ip === undefined) return busError('bad-destination', `${JSON.stringify(d.ip.slice(0, 60))} is not an IPv6 address`);
    if (!isOverlayAddress(ip)) return busError('bad-destination', `${d.ip} is not an overlay address: they lie in 400::/7`);
    return { ok: true, value: ip };
  }
  if ('pk' in d && typeof d.pk === 'string') {
    const pk = d.pk.length === 64 ? fromHex(d.pk) : undefined;
    if (pk === undefined) return busError('bad-public-key', `public key must be 64 hex characters, got ${JSON.stringify(d.pk.slice(0, 70))}`);
    return { ok: true, value: overlayAddress(pk) };
  }
  return busError('bad-destination', 'destination must be {"ip": "<overlay IPv6>"} or {"pk": "<64 hex>"}');
}

function checkWait(name: string, ms: number | undefined, min: number): BusResult<void> {
  if (ms === undefined) return { ok: true, value: undefined };
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < min || ms > MAX_WAIT_MS) {
    return busError('bad-deadline', `${name} must be between ${min} ms and ${MAX_WAIT_MS / 3_600_000} h, got ${String(ms)}`);
  }
  return { ok: true, value: undefined };
}

export class MessageBus {
  readonly counters: MessageBusCounters = {
    pushed: 0,
    replies: 0,
    accepted: 0,
    forwarded: 0,
    forwardFailed: 0,
    popped: 0,
    delivered: 0,
    read: 0,
    aborted: 0,
    packetsSent: 0,
    packetsReceived: 0,
    sendDropped: 0,
    malformed: 0,
    chunkRetransmits: 0,
    timeouts: 0,
    refusedAcl: 0,
    refusedFull: 0,
    refusedTooLarge: 0,
    badChunks: 0,
    badDone: 0,
    duplicates: 0,
    initResets: 0,
    partialsExpired: 0,
    storeFailures: 0,
  };
  readonly limits: MessageBusLimits;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly router: MessageOverlay['router'];
  private readonly dataplane: MessageOverlay['dataplane'];
  private readonly topicTable: TopicTable;
  private readonly topicFile: TopicFileConfig | undefined;
  private readonly inbox: Inbox;
  private readonly outbox: Outbox;
  private readonly tuning: WindowTuning;
  private readonly forwardOpts: { writeTimeoutMs: number; replyTimeoutMs: number };
  private readonly randomId: () => Uint8Array;
  private readonly host: TransferHost;
  private readonly rtts = new BoundedMap<string, RttEstimator>(4_096);
  private readonly partials = new Map<string, PartialMessage>();
  private partialBytes = 0;
  private readonly completed: BoundedMap<string, Completed>;
  private readonly replyWaiters = new Map<string, ReplyWaiter>();
  private readonly writes = new Set<Promise<unknown>>();
  private readonly stopping = new AbortController();
  private readonly loaded: OutboundTransfer[];
  private local: Uint8Array[] = [];
  private localTimer: Timer | undefined;
  private sweepTimer: Timer | undefined;
  private readonly hook = (payload: Uint8Array, src: Uint8Array, dst: Uint8Array): void => this.receivePacket(payload, src, dst);
  private started = false;
  private stopped = false;

  constructor(opts: MessageBusOptions) {
    this.clock = opts.clock;
    this.log = opts.logger.child({ component: 'messages' });
    this.router = opts.overlay.router;
    this.dataplane = opts.overlay.dataplane;
    this.limits = { ...DEFAULT_MESSAGE_BUS_LIMITS, ...opts.limits };
    this.tuning = { ...DEFAULT_WINDOW_TUNING, ...opts.window };
    this.forwardOpts = {
      writeTimeoutMs: opts.forward?.writeTimeoutMs ?? FORWARD_WRITE_TIMEOUT_MS,
      replyTimeoutMs: opts.forward?.replyTimeoutMs ?? FORWARD_REPLY_TIMEOUT_MS,
    };
    this.randomId = opts.randomId ?? (() => new Uint8Array(randomBytes(MESSAGE_ID_BYTES)));
    this.topicFile = opts.topicFile;
    this.completed = new BoundedMap(this.limits.maxCompletedIds);
    const track = (p: Promise<unknown>): void => this.track(p);
    this.topicTable = new TopicTable(opts.store);
    this.inbox = new Inbox({
      store: opts.store,
      clock: this.clock,
      logger: this.log,
      limits: { maxMessages: this.limits.maxInboxMessages, maxBytes: this.limits.maxInboxBytes, maxWaiters: this.limits.maxPopWaiters },
      onTaken: (m, e) => this.taken(m, e),
      track,
    });
    for (const e of this.inbox.all()) {
      const src = parseIpv6(e.record.srcIp);
      const sum = fromHex(e.record.checksum);
      if (src && sum) this.completed.set(this.completedKey(src, e.record.id, e.record.reply), { chunkCount: e.record.chunks, checksum: sum, committed: true });
    }
    this.host = {
      clock: this.clock,
      send: (dst, packet) => this.send(dst, packet),
      changed: (t, phaseChanged) => this.outbox.changed(t, phaseChanged),
    };
    this.outbox = new Outbox({
      store: opts.store,
      clock: this.clock,
      logger: this.log,
      limits: {
        maxMessages: this.limits.maxOutboxMessages,
        maxBytes: this.limits.maxOutboxBytes,
        maxActivePerDestination: this.limits.maxActivePerDestination,
        maxActiveTotal: this.limits.maxActiveTotal,
      },
      track,
      onFinished: (t) => this.transferFinished(t),
    });
    this.loaded = this.outbox.load((spec) => this.makeTransfer(spec));
  }

  /** Applies the topic file, takes the data plane's message packets, resumes unfinished sends. */
  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    if (this.topicFile) await this.topicTable.applyFile(this.topicFile);
    this.dataplane.onMessage = this.hook;
    this.sweepTimer = this.clock.setInterval(() => this.sweep(), SWEEP_INTERVAL_MS);
    for (const t of this.loaded.splice(0)) this.outbox.schedule(t);
    if (this.outbox.active.size > 0 || this.inbox.count > 0) {
      this.log.info({ sending: this.outbox.active.size, inbox: this.inbox.count }, 'message bus resumed from the store');
    }
  }

  /** Stops sending and waiting; what is unfinished stays in the store for the next start. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.dataplane.onMessage === this.hook) this.dataplane.onMessage = undefined;
    this.sweepTimer?.cancel();
    this.localTimer?.cancel();
    this.stopping.abort();
    this.outbox.stop();
    this.inbox.stop();
    for (const w of [...this.replyWaiters.values()]) w.finish('stopped');
    await Promise.allSettled([...this.writes]);
  }

  // -------------------------------------------------------------------------------------------
  // The API

  /**
   * Sends a message. Returns once it is stored (a restart will not lose it) with its id; with
   * `replyTimeoutMs`, waits for the reply instead and returns it (or the id when the wait runs out).
   */
  async push(req: PushRequest): Promise<BusResult<PushOutcome>> {
    if (this.stopped) return busError('stopped', 'the node is shutting down');
    const dst = parseDestination(req.dst);
    if (!dst.ok) return dst;
    const topic = req.topic ?? EMPTY;
    if (!(topic instanceof Uint8Array)) return busError('topic-too-large', 'topic must be bytes');
    if (topic.length > MAX_TOPIC_BYTES) return busError('topic-too-large', `topic of ${topic.length} bytes; at most ${MAX_TOPIC_BYTES} allowed`);
    const checks = [checkWait('deadline', req.deadlineMs, 1), checkWait('reply timeout', req.replyTimeoutMs, 0)];
    for (const c of checks) if (!c.ok) return c;
    const wait = req.replyTimeoutMs ?? 0;
    if (wait > 0 && this.replyWaiters.size >= this.limits.maxReplyWaiters) {
      return busError('too-many-waiters', `${this.limits.maxReplyWaiters} pushes are waiting for replies already; try again later or do not wait`);
    }
    let id = this.randomId();
    while (this.outbox.get(toHex(id), false) !== undefined) id = this.randomId();
    const made = this.newTransfer(id, false, dst.value, topic, req.payload, req.deadlineMs);
    if (!made.ok) return made;
    const idHex = toHex(id);
    const reply = wait > 0 ? this.waitForReply(idHex, dst.value, wait, req.signal) : undefined;
    const stored = await this.commitTransfer(made.value.t, made.value.data);
    if (!stored.ok) {
      this.replyWaiters.get(idHex)?.finish(null);
      return stored;
    }
    this.counters.pushed++;
    if (reply === undefined) return { ok: true, value: { kind: 'sent', id: idHex } };
    const r = await reply;
    if (r === 'stopped') return busError('stopped', 'the node is shutting down');
    return { ok: true, value: r === null ? { kind: 'timeout', id: idHex } : { kind: 'reply', id: idHex, reply: r } };
  }

  /** Answers message `id` from `dst`: a message with the same id and the REPLY flag, no topic. */
  async reply(id: string, dst: Destination, payload: Uint8Array, opts: { deadlineMs?: number } = {}): Promise<BusResult<{ id: string }>> {
    if (this.stopped) return busError('stopped', 'the node is shutting down');
    const idb = parseMessageId(id);
    if (!idb.ok) return idb;
    const to = parseDestination(dst);
    if (!to.ok) return to;
    const c = checkWait('deadline', opts.deadlineMs, 1);
    if (!c.ok) return c;
    const idHex = toHex(idb.value);
    const running = this.outbox.get(idHex, true);
    if (running !== undefined && !running.finished) return busError('bad-id', `a reply to message ${idHex} is being sent already`);
    const made = this.newTransfer(idb.value, true, to.value, EMPTY, payload, opts.deadlineMs);
    if (!made.ok) return made;
    const stored = await this.commitTransfer(made.value.t, made.value.data);
    if (!stored.ok) return stored;
    this.counters.replies++;
    return { ok: true, value: { id: idHex } };
  }

  /** Mycelium's MessageInfo of a message sent (or a reply sent with that id). */
  status(id: string): BusResult<MessageInfo> {
    const idb = parseMessageId(id);
    if (!idb.ok) return idb;
    const info = this.outbox.info(toHex(idb.value));
    if (info === undefined) return busError('not-found', `no message with id ${toHex(idb.value)} was sent (statuses are kept for an hour after a message finishes)`);
    return { ok: true, value: info };
  }

  /**
   * The oldest inbox message (with exactly `topic`, if given); waits up to `timeoutMs` for one.
   * Resolves to null when none came. Never blocks anything else.
   */
  pop(opts: PopOptions = {}): Promise<BusResult<ReceivedMessage | null>> {
    if (this.stopped) return Promise.resolve(busError('stopped', 'the node is shutting down'));
    if (opts.topic !== undefined && opts.topic.length > MAX_TOPIC_BYTES) {
      return Promise.resolve(busError('topic-too-large', `topic of ${opts.topic.length} bytes; at most ${MAX_TOPIC_BYTES} allowed`));
    }
    const c = checkWait('timeout', opts.timeoutMs, 0);
    if (!c.ok) return Promise.resolve(c);
    return this.inbox.pop(opts);
  }

  /** Messages waiting in the inbox to be popped. */
  get inboxCount(): number {
    return this.inbox.visibleCount;
  }

  /** Gauges for metrics and logs (the counters are in `counters`). */
  stats(): MessageBusStats {
    return {
      inboxMessages: this.inbox.count,
      inboxBytes: this.inbox.bytes,
      outboxMessages: this.outbox.active.size,
      outboxBytes: this.outbox.bytes,
      receiving: this.partials.size,
      receivingBytes: this.partialBytes,
      replyWaiters: this.replyWaiters.size,
    };
  }

  // Topics (the API's add/remove topic, sources, forward socket, default action). Every change is stored
  // before the promise resolves.

  getDefaultTopicAccept(): boolean {
    return this.topicTable.getDefaultAccept();
  }
  setDefaultTopicAccept(accept: boolean): Promise<BusResult<void>> {
    return this.topicTable.setDefaultAccept(accept);
  }
  topics(): Uint8Array[] {
    return this.topicTable.list();
  }
  addTopic(topic: Uint8Array): Promise<BusResult<void>> {
    return this.topicTable.add(topic);
  }
  removeTopic(topic: Uint8Array): Promise<BusResult<void>> {
    return this.topicTable.remove(topic);
  }
  topicSources(topic: Uint8Array): BusResult<string[]> {
    return this.topicTable.sources(topic);
  }
  addTopicSource(topic: Uint8Array, subnet: string): Promise<BusResult<void>> {
    return this.topicTable.addSource(topic, subnet);
  }
  removeTopicSource(topic: Uint8Array, subnet: string): Promise<BusResult<void>> {
    return this.topicTable.removeSource(topic, subnet);
  }
  topicForwardSocket(topic: Uint8Array): BusResult<string | null> {
    return this.topicTable.forwardSocket(topic);
  }
  setTopicForwardSocket(topic: Uint8Array, path: string | null): Promise<BusResult<void>> {
    return this.topicTable.setForwardSocket(topic, path);
  }

  // -------------------------------------------------------------------------------------------
  // Sending

  private rttFor(dstText: string): RttEstimator {
    let r = this.rtts.get(dstText);
    if (r === undefined) {
      r = new RttEstimator();
      this.rtts.set(dstText, r);
    }
    return r;
  }

  private makeTransfer(spec: OutboundSpec): OutboundTransfer {
    return new OutboundTransfer(spec, this.host, this.rttFor(formatIpv6(spec.dst)), this.tuning);
  }

  private newTransfer(
    id: Uint8Array,
    reply: boolean,
    dst: Uint8Array,
    topic: Uint8Array,
    payload: Uint8Array,
    deadlineMs: number | undefined,
  ): BusResult<{ t: OutboundTransfer; data: Uint8Array }> {
    if (!(payload instanceof Uint8Array)) return busError('message-too-large', 'payload must be bytes');
    if (payload.length > this.limits.maxMessageBytes) {
      return busError('message-too-large', `message of ${payload.length} bytes; at most ${this.limits.maxMessageBytes} allowed`);
    }
    const full = this.outbox.makeRoom(payload.length);
    if (full !== undefined) return busError('outbox-full', full);
    // The caller may reuse its buffer; the transfer reads chunks from this copy until it is acknowledged.
    const data = Uint8Array.from(payload);
    // Anything in our /64 is us; ACKs come back from our own address.
    const to = subnetContains(this.router.subnet, dst) ? this.router.address : dst;
    const now = this.clock.now();
    const t = this.makeTransfer({
      id: Uint8Array.from(id),
      reply,
      dst: Uint8Array.from(to),
      topic: Uint8Array.from(topic),
      data,
      checksum: blake3(data),
      createdAt: now,
      deadlineAt: now + (deadlineMs ?? DEFAULT_DEADLINE_MS),
    });
    return { ok: true, value: { t, data } };
  }

  /** Stores the transfer (durably) and starts it. */
  private async commitTransfer(t: OutboundTransfer, data: Uint8Array): Promise<BusResult<void>> {
    const durable = this.outbox.add(t, data);
    this.outbox.schedule(t);
    try {
      await durable;
      return { ok: true, value: undefined };
    } catch (e) {
      this.counters.storeFailures++;
      this.log.error({ id: t.idHex, err: (e as Error).message }, 'could not store an outgoing message');
      return busError('store-failed', `could not store the message: ${(e as Error).message}`);
    }
  }

  private transferFinished(t: OutboundTransfer): void {
    this.counters.chunkRetransmits += t.retransmits;
    this.counters.timeouts += t.timeouts;
    if (t.phase === 'aborted') {
      this.counters.aborted++;
      this.log.debug({ id: t.idHex, dst: t.dstText }, 'message aborted at its deadline');
    } else {
      this.counters.delivered++;
      if (t.phase === 'read') this.counters.read++;
    }
  }

  private waitForReply(idHex: string, dst: Uint8Array, timeoutMs: number, signal: AbortSignal | undefined): Promise<ReceivedMessage | null | 'stopped'> {
    return new Promise((resolve) => {
      const onAbort = (): void => w.finish(null);
      const timer = this.clock.setTimeout(() => w.finish(null), timeoutMs);
      const w: ReplyWaiter = {
        dstHex: toHex(dst),
        finish: (m) => {
          if (this.replyWaiters.get(idHex) !== w) return;
          this.replyWaiters.delete(idHex);
          timer.cancel();
          signal?.removeEventListener('abort', onAbort);
          resolve(m);
        },
      };
      this.replyWaiters.set(idHex, w);
      if (signal?.aborted) w.finish(null);
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private send(dst: Uint8Array, packet: Uint8Array): void {
    if (this.stopped) return;
    this.counters.packetsSent++;
    if (subnetContains(this.router.subnet, dst)) {
      // To ourselves: deliver on the next turn of the clock, never re-entrantly.
      if (this.local.length >= MAX_LOCAL_QUEUE) {
        this.counters.sendDropped++;
        return;
      }
      this.local.push(packet);
      this.localTimer ??= this.clock.setTimeout(() => this.drainLocal(), 0);
      return;
    }
    if (!this.dataplane.sendMessage(dst, packet)) this.counters.sendDropped++;
  }

  private drainLocal(): void {
    this.localTimer = undefined;
    const batch = this.local;
    this.local = [];
    for (const p of batch) this.receivePacket(p, this.router.address, this.router.address);
  }

  // -------------------------------------------------------------------------------------------
  // Receiving

  /** A decrypted message-bus packet from the data plane (installed as its onMessage hook by start()). */
  receivePacket(payload: Uint8Array, src: Uint8Array, dst: Uint8Array): void {
    if (this.stopped) return;
    this.counters.packetsReceived++;
    const r = decodeMessagePacket(payload);
    if (!r.ok) {
      this.counters.malformed++;
      this.log.debug({ src: formatIpv6(src), reason: r.error.message }, 'dropping a malformed message packet');
      return;
    }
    const p = r.value;
    if (isAck(p)) this.handleAck(p, src);
    else this.handleData(p, src, dst);
  }

  private completedKey(src: Uint8Array, idHex: string, reply: boolean): string {
    return `${toHex(src)}:${idHex}:${reply ? 'r' : 'o'}`;
  }

  private findCompleted(src: Uint8Array, idHex: string): Completed | undefined {
    return this.completed.get(this.completedKey(src, idHex, false)) ?? this.completed.get(this.completedKey(src, idHex, true));
  }

  /** Transfers of ours that an ACK or READ from `src` may be about. */
  private transfersFor(idHex: string, src: Uint8Array, preferReply?: boolean): OutboundTransfer[] {
    const out: OutboundTransfer[] = [];
    const order = preferReply === true ? [true, false] : [false, true];
    for (const reply of order) {
      const t = this.outbox.get(idHex, reply);
      if (t !== undefined && bytesEqual(t.dst, src)) out.push(t);
    }
    return out;
  }

  private handleAck(p: MessagePacket, src: Uint8Array): void {
    const idHex = toHex(p.id);
    switch (p.kind) {
      case 'init': {
        const t = this.transfersFor(idHex, src, isReply(p))[0];
        t?.onInitAck();
        return;
      }
      case 'chunk':
        for (const t of this.transfersFor(idHex, src)) t.onChunkAck(p.index);
        return;
      case 'done':
        for (const t of this.transfersFor(idHex, src)) t.onDoneAck(p.checksum);
        return;
      default:
        // READ-ACK and ABORTED-ACK carry nothing to act on (Mycelium does not send them either).
        return;
    }
  }

  private handleData(p: MessagePacket, src: Uint8Array, dst: Uint8Array): void {
    switch (p.kind) {
      case 'init':
        this.handleInit(p, src, dst);
        return;
      case 'chunk':
        this.handleChunk(p, src);
        return;
      case 'done':
        this.handleDone(p, src);
        return;
      case 'read': {
        const idHex = toHex(p.id);
        const ts = this.transfersFor(idHex, src);
        for (const t of ts) t.onRead();
        if (ts.length === 0) {
          const from = formatIpv6(src);
          if (!this.outbox.markRead(idHex, false, from)) this.outbox.markRead(idHex, true, from);
        }
        return;
      }
      case 'aborted': {
        const key = `${toHex(src)}:${toHex(p.id)}`;
        const part = this.partials.get(key);
        if (part !== undefined) {
          this.dropPartial(key, part);
          this.log.debug({ id: toHex(p.id), src: formatIpv6(src) }, 'sender aborted a message being received');
        }
        return;
      }
    }
  }

  private handleInit(p: InitPacket, src: Uint8Array, dst: Uint8Array): void {
    const idHex = toHex(p.id);
    const reply = isReply(p);
    if (!reply && !this.topicTable.allowed(p.topic, src)) {
      this.counters.refusedAcl++;
      this.log.debug({ id: idHex, src: formatIpv6(src), topic: base64(p.topic) }, 'message refused: source not allowed for its topic');
      return;
    }
    const initAck = (): void =>
      this.send(src, encodeMessagePacket({ kind: 'init', id: p.id, flags: p.flags | MSG_FLAG_ACK, length: p.length, topic: EMPTY, topicLength: p.topicLength }));
    const done = this.completed.get(this.completedKey(src, idHex, reply));
    if (done !== undefined) {
      // We have this message already: acknowledge, and prove it with the checksum, but take it only once.
      this.counters.duplicates++;
      if (!done.committed) return;
      initAck();
      this.sendDoneAck(src, p.id, done);
      return;
    }
    const key = `${toHex(src)}:${idHex}`;
    const old = this.partials.get(key);
    if (old !== undefined) {
      this.counters.initResets++;
      this.dropPartial(key, old);
    }
    if (p.length > this.limits.maxMessageBytes) {
      this.counters.refusedTooLarge++;
      this.log.debug({ id: idHex, src: formatIpv6(src), length: p.length }, 'message refused: larger than the limit');
      return;
    }
    const now = this.clock.now();
    if (this.partials.size >= this.limits.maxPartialMessages || this.partialBytes + p.length > this.limits.maxPartialBytes) this.expirePartials(now - PARTIAL_IDLE_MS / 4);
    // A reply someone is waiting for does not need room in the inbox.
    const forWaiter = reply && this.replyWaiters.get(idHex)?.dstHex === toHex(src);
    if (this.partials.size >= this.limits.maxPartialMessages || this.partialBytes + p.length > this.limits.maxPartialBytes || (!forWaiter && !this.inbox.hasRoom(p.length))) {
      // No ACK: the sender retries, and gets in once room frees up (or gives up at its deadline).
      this.counters.refusedFull++;
      this.log.debug({ id: idHex, src: formatIpv6(src), length: p.length }, 'message deferred: inbox or receive buffers full');
      return;
    }
    this.partials.set(key, new PartialMessage({ id: p.id, src: Uint8Array.from(src), dst: Uint8Array.from(dst), isReply: reply, topic: p.topic, length: p.length, now }));
    this.partialBytes += p.length;
    initAck();
  }

  private handleChunk(p: ChunkPacket, src: Uint8Array): void {
    const idHex = toHex(p.id);
    const key = `${toHex(src)}:${idHex}`;
    const part = this.partials.get(key);
    const ack = (): void =>
      this.send(src, encodeMessagePacket({ kind: 'chunk', id: p.id, flags: MSG_FLAG_CHUNK | MSG_FLAG_ACK, index: p.index, offset: p.offset, size: p.size, data: EMPTY }));
    if (part === undefined) {
      if (this.findCompleted(src, idHex)?.committed) ack();
      return;
    }
    const problem = part.addChunk(p.index, p.offset, p.data, this.clock.now());
    if (problem !== undefined) {
      this.counters.badChunks++;
      this.log.debug({ id: idHex, src: formatIpv6(src), reason: problem.message }, 'dropping an invalid chunk');
      return;
    }
    ack();
  }

  private sendDoneAck(to: Uint8Array, id: Uint8Array, c: Completed): void {
    this.send(to, encodeMessagePacket({ kind: 'done', id, flags: MSG_FLAG_DONE | MSG_FLAG_ACK, chunkCount: c.chunkCount, checksum: c.checksum }));
  }

  private handleDone(p: DonePacket, src: Uint8Array): void {
    const idHex = toHex(p.id);
    const key = `${toHex(src)}:${idHex}`;
    const part = this.partials.get(key);
    if (part === undefined) {
      const c = this.findCompleted(src, idHex);
      if (c?.committed) this.sendDoneAck(src, p.id, c);
      return;
    }
    const check = part.complete(p.chunkCount, p.checksum);
    if (!check.ok) {
      this.counters.badDone++;
      this.log.debug({ id: idHex, src: formatIpv6(src), reason: check.message }, 'DONE does not complete the message yet');
      return;
    }
    const srcPk = this.router.publicKeyFor(src);
    if (srcPk === undefined) {
      this.log.warn({ id: idHex, src: formatIpv6(src) }, 'no public key known for the sender of a complete message; waiting for its DONE again');
      return;
    }
    const isReplyToUs = part.isReply;
    const waiter = isReplyToUs ? this.replyWaiters.get(idHex) : undefined;
    const toWaiter = waiter !== undefined && waiter.dstHex === toHex(src);
    if (!toWaiter && !this.inbox.hasRoom(part.length)) {
      this.counters.refusedFull++;
      return;
    }
    this.dropPartial(key, part);
    const msg: ReceivedMessage = {
      id: idHex,
      isReply: part.isReply,
      srcIp: formatIpv6(src),
      srcPk: toHex(srcPk),
      dstIp: formatIpv6(part.dst),
      dstPk: toHex(this.router.publicKey),
      topic: part.topic,
      payload: check.data,
      receivedAt: this.clock.now(),
    };
    const c: Completed = { chunkCount: p.chunkCount, checksum: Uint8Array.from(p.checksum), committed: false };
    const ckey = this.completedKey(src, idHex, part.isReply);
    this.completed.set(ckey, c);
    this.counters.accepted++;
    if (toWaiter) {
      c.committed = true;
      this.sendDoneAck(src, p.id, c);
      this.sendRead(msg);
      waiter.finish(msg);
      return;
    }
    const socket = msg.isReply ? undefined : this.topicTable.forwardSocketOf(msg.topic);
    const { entry, durable } = this.inbox.add(msg, p.chunkCount, p.checksum, socket !== undefined);
    durable.then(
      () => {
        if (this.stopped) return;
        c.committed = true;
        this.sendDoneAck(src, p.id, c);
        if (socket !== undefined) void this.forward(entry, msg, socket);
        else this.inbox.publish(entry);
      },
      (e: unknown) => {
        this.counters.storeFailures++;
        this.log.error({ id: idHex, err: (e as Error).message }, 'could not store a received message; it is not acknowledged');
        this.completed.delete(ckey);
        this.inbox.remove(entry);
      },
    );
  }

  private async forward(entry: InboxEntry, msg: ReceivedMessage, path: string): Promise<void> {
    const r = await forwardToSocket(path, msg.payload, {
      clock: this.clock,
      ...this.forwardOpts,
      maxReplyBytes: this.limits.maxMessageBytes,
      signal: this.stopping.signal,
    });
    if (this.stopped) return;
    if (r.ok) {
      this.counters.forwarded++;
      this.inbox.remove(entry);
      const sent = await this.reply(msg.id, { ip: msg.srcIp }, r.value);
      if (!sent.ok) this.log.warn({ id: msg.id, reason: sent.error.message }, 'could not send the forward socket\'s reply');
      return;
    }
    this.counters.forwardFailed++;
    this.log.warn({ id: msg.id, topic: base64(msg.topic), reason: r.error.message }, 'forward socket failed; the message goes to the inbox');
    this.inbox.unforward(entry);
  }

  /** A message left the inbox for a caller: tell its sender (READ), once. */
  private taken(m: ReceivedMessage, e: InboxEntry): void {
    this.counters.popped++;
    if (e.readSent) return;
    e.readSent = true;
    this.sendRead(m);
  }

  private sendRead(m: ReceivedMessage): void {
    const to = parseIpv6(m.srcIp);
    const id = fromHex(m.id);
    if (to === undefined || id === undefined) return;
    this.send(to, encodeMessagePacket({ kind: 'read', id, flags: MSG_FLAG_READ }));
  }

  private dropPartial(key: string, part: PartialMessage): void {
    if (this.partials.get(key) !== part) return;
    this.partials.delete(key);
    this.partialBytes -= part.length;
  }

  /** Drops partial messages idle since before `cutoff`. */
  private expirePartials(cutoff: number): void {
    for (const [key, part] of this.partials) {
      if (part.lastActivityAt < cutoff) {
        this.dropPartial(key, part);
        this.counters.partialsExpired++;
      }
    }
  }

  private sweep(): void {
    this.expirePartials(this.clock.now() - PARTIAL_IDLE_MS);
    this.outbox.sweep();
  }

  private track(p: Promise<unknown>): void {
    this.writes.add(p);
    p.then(
      () => this.writes.delete(p),
      (e: unknown) => {
        this.writes.delete(p);
        this.counters.storeFailures++;
        this.log.error({ err: (e as Error).message }, 'message store write failed');
      },
    );
  }
}
