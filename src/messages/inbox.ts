// Accepted inbound messages, persisted: a message is written (durably) before its DONE-ACK goes out, and
// stays until a pop takes it, so a restart loses none. Payloads live in the store and are read when
// popped, so a full inbox costs disk, not memory. pop() is a long-poll that waits without holding
// anything up: any number of callers (up to a bound) wait at once, each with its own timeout, topic
// filter and AbortSignal, while every other call goes on.
import type { Clock, Timer } from '../base/clock.ts';
import { bytesEqual, toHex } from '../base/bytes.ts';
import type { Logger } from '../base/log.ts';
import { bytesBucket, jsonBucket, type Bucket, type Store } from '../store/store.ts';
import { base64, busError, fromBase64, type BusResult, type ReceivedMessage } from './types.ts';

interface InboxRecord {
  v: 1;
  id: string;
  reply: boolean;
  srcIp: string;
  srcPk: string;
  dstIp: string;
  dstPk: string;
  /** base64 */
  topic: string;
  len: number;
  /** Chunk count and BLAKE3 (hex) as the sender's DONE had them, to answer a repeated DONE. */
  chunks: number;
  checksum: string;
  receivedAt: number;
  /** Being handed to a forward socket; shown in the inbox if that fails (or the node restarts). */
  forwarding: boolean;
}

export const INBOX_META_BUCKET = jsonBucket<InboxRecord>('msg-in');
export const INBOX_DATA_BUCKET = bytesBucket('msg-in-data');

export interface InboxEntry {
  readonly key: string;
  record: InboxRecord;
  topic: Uint8Array;
  /** Poppable (durable and not being forwarded). */
  visible: boolean;
  readSent: boolean;
}

export interface PopOptions {
  /** Leave the message in the inbox. */
  peek?: boolean;
  /** Wait this long for a message when none is there; 0 (default) answers at once. */
  timeoutMs?: number;
  /** Only a message with exactly this topic. */
  topic?: Uint8Array;
  /** Ends the wait early (the caller went away); the result is then null. */
  signal?: AbortSignal;
}

interface Waiter {
  peek: boolean;
  topic: Uint8Array | undefined;
  resolve(r: BusResult<ReceivedMessage | null>): void;
  timer: Timer | undefined;
  cleanup(): void;
}

export interface InboxLimits {
  maxMessages: number;
  maxBytes: number;
  maxWaiters: number;
}

export class Inbox {
  private readonly meta: Bucket<InboxRecord>;
  private readonly data: Bucket<Uint8Array>;
  private readonly entries = new Map<string, InboxEntry>();
  private readonly waiters: Waiter[] = [];
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly limits: InboxLimits;
  private readonly onTaken: (m: ReceivedMessage, e: InboxEntry) => void;
  private readonly track: (p: Promise<unknown>) => void;
  private seq = 0;
  bytes = 0;

  constructor(opts: {
    store: Store;
    clock: Clock;
    logger: Logger;
    limits: InboxLimits;
    /** A message was popped or peeked (the bus sends READ). */
    onTaken: (m: ReceivedMessage, e: InboxEntry) => void;
    /** Store writes the bus waits for at stop. */
    track: (p: Promise<unknown>) => void;
  }) {
    this.meta = opts.store.bucket(INBOX_META_BUCKET);
    this.data = opts.store.bucket(INBOX_DATA_BUCKET);
    this.clock = opts.clock;
    this.log = opts.logger;
    this.limits = opts.limits;
    this.onTaken = opts.onTaken;
    this.track = opts.track;
    for (const [key, record] of this.meta.entries()) {
      const topic = fromBase64(record.topic);
      if (topic === undefined || !this.data.has(key)) {
        this.log.warn({ key }, 'dropping an inbox record whose payload or topic is unreadable');
        this.track(this.meta.delete(key));
        continue;
      }
      // A forward that was under way when the node stopped: show the message instead (the socket may be gone).
      if (record.forwarding) {
        record.forwarding = false;
        this.track(this.meta.put(key, record));
      }
      this.entries.set(key, { key, record, topic, visible: true, readSent: false });
      this.bytes += record.len;
      this.seq = Math.max(this.seq, Number.parseInt(key, 10) || 0);
    }
  }

  /** Every entry, including those still being stored or forwarded (what the limits count). */
  get count(): number {
    return this.entries.size;
  }

  /** Entries a pop can take. */
  get visibleCount(): number {
    let n = 0;
    for (const e of this.entries.values()) if (e.visible) n++;
    return n;
  }

  /** Every entry (for the bus to rebuild its table of completed messages). */
  all(): IterableIterator<InboxEntry> {
    return this.entries.values();
  }

  hasRoom(len: number): boolean {
    return this.entries.size < this.limits.maxMessages && this.bytes + len <= this.limits.maxBytes;
  }

  /**
   * Stores an accepted message. It becomes poppable with publish(); `durable` resolves once it is on
   * disk (the bus acknowledges DONE then).
   */
  add(m: ReceivedMessage, chunks: number, checksum: Uint8Array, forwarding: boolean): { entry: InboxEntry; durable: Promise<void> } {
    const key = String(++this.seq).padStart(16, '0');
    const record: InboxRecord = {
      v: 1,
      id: m.id,
      reply: m.isReply,
      srcIp: m.srcIp,
      srcPk: m.srcPk,
      dstIp: m.dstIp,
      dstPk: m.dstPk,
      topic: base64(m.topic),
      len: m.payload.length,
      chunks,
      checksum: toHex(checksum),
      receivedAt: m.receivedAt,
      forwarding,
    };
    const entry: InboxEntry = { key, record, topic: m.topic, visible: false, readSent: false };
    this.entries.set(key, entry);
    this.bytes += m.payload.length;
    const durable = Promise.all([this.data.put(key, m.payload), this.meta.put(key, record)]).then(() => undefined);
    this.track(durable);
    return { entry, durable };
  }

  /** Makes an entry poppable and serves waiting pops in arrival order. */
  publish(entry: InboxEntry): void {
    if (!this.entries.has(entry.key)) return;
    entry.visible = true;
    for (const w of [...this.waiters]) {
      if (!this.entries.has(entry.key)) break;
      if (w.topic !== undefined && !bytesEqual(w.topic, entry.topic)) continue;
      w.cleanup();
      const m = this.take(entry, w.peek);
      w.resolve(m === undefined ? { ok: true, value: null } : { ok: true, value: m });
      if (!w.peek) break;
    }
  }

  /** A forward failed: the message goes to the inbox after all. */
  unforward(entry: InboxEntry): void {
    if (!this.entries.has(entry.key)) return;
    entry.record.forwarding = false;
    this.track(this.meta.put(entry.key, entry.record));
    this.publish(entry);
  }

  /** Removes an entry (forwarded, popped, or never made durable). */
  remove(entry: InboxEntry): void {
    if (!this.entries.delete(entry.key)) return;
    this.bytes -= entry.record.len;
    this.track(this.meta.delete(entry.key));
    this.track(this.data.delete(entry.key));
  }

  /** The message of an entry, read back from the store. */
  message(entry: InboxEntry): ReceivedMessage | undefined {
    const payload = this.data.get(entry.key);
    if (payload === undefined) return undefined;
    const r = entry.record;
    return { id: r.id, isReply: r.reply, srcIp: r.srcIp, srcPk: r.srcPk, dstIp: r.dstIp, dstPk: r.dstPk, topic: Uint8Array.from(entry.topic), payload, receivedAt: r.receivedAt };
  }

  private take(entry: InboxEntry, peek: boolean): ReceivedMessage | undefined {
    const m = this.message(entry);
    if (!peek) this.remove(entry);
    if (m !== undefined) this.onTaken(m, entry);
    return m;
  }

  private find(topic: Uint8Array | undefined): InboxEntry | undefined {
    for (const e of this.entries.values()) {
      if (!e.visible) continue;
      if (topic === undefined || bytesEqual(topic, e.topic)) return e;
    }
    return undefined;
  }

  pop(opts: PopOptions = {}): Promise<BusResult<ReceivedMessage | null>> {
    const peek = opts.peek ?? false;
    const hit = this.find(opts.topic);
    if (hit !== undefined) return Promise.resolve({ ok: true, value: this.take(hit, peek) ?? null });
    const timeoutMs = opts.timeoutMs ?? 0;
    if (!(timeoutMs > 0) || opts.signal?.aborted) return Promise.resolve({ ok: true, value: null });
    if (this.waiters.length >= this.limits.maxWaiters) {
      return Promise.resolve(busError('too-many-waiters', `${this.limits.maxWaiters} callers are waiting for messages already; try again later`));
    }
    return new Promise((resolve) => {
      const onAbort = (): void => {
        w.cleanup();
        resolve({ ok: true, value: null });
      };
      const w: Waiter = {
        peek,
        topic: opts.topic === undefined ? undefined : Uint8Array.from(opts.topic),
        resolve,
        timer: undefined,
        cleanup: () => {
          w.timer?.cancel();
          opts.signal?.removeEventListener('abort', onAbort);
          const i = this.waiters.indexOf(w);
          if (i >= 0) this.waiters.splice(i, 1);
        },
      };
      w.timer = this.clock.setTimeout(() => {
        w.cleanup();
        resolve({ ok: true, value: null });
      }, timeoutMs);
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(w);
    });
  }

  /** Ends every wait (the node is stopping). */
  stop(): void {
    for (const w of [...this.waiters]) {
      w.cleanup();
      w.resolve(busError('stopped', 'the node is shutting down'));
    }
  }
}
