// Messages being sent and the status of those sent, persisted. A message is in the store (payload and
// record) before push() returns its id; its record follows every phase change, and its progress (which
// chunks the receiver acknowledged) at most once per PROGRESS_PERSIST_MS and at stop, so a restarted
// node resumes where it was. Once received, read or aborted the payload is deleted and the status kept for
// STATUS_RETENTION_MS. Bounded by count and bytes; a few transfers per destination run at once, the
// rest wait their turn (status "pending").
import { fromHex, toHex } from '../base/bytes.ts';
import type { Clock } from '../base/clock.ts';
import type { Logger } from '../base/log.ts';
import { bytesBucket, jsonBucket, type Bucket, type Store } from '../store/store.ts';
import { formatIpv6, parseIpv6 } from '../wire/ipv6.ts';
import type { OutboundPhase, OutboundSpec, OutboundTransfer } from './outbound.ts';
import { base64, fromBase64, type MessageInfo } from './types.ts';

export const PROGRESS_PERSIST_MS = 1_000;
export const STATUS_RETENTION_MS = 60 * 60 * 1000;

interface OutboxRecord {
  v: 1;
  id: string;
  reply: boolean;
  dst: string;
  /** base64 */
  topic: string;
  len: number;
  checksum: string;
  created: number;
  deadline: number;
  phase: OutboundPhase;
  /** base64 bitmap of acknowledged chunks while sending. */
  acked: string | null;
  finishedAt: number | null;
}

export const OUTBOX_META_BUCKET = jsonBucket<OutboxRecord>('msg-out');
export const OUTBOX_DATA_BUCKET = bytesBucket('msg-out-data');

/** What is left of a message once it is received, read or aborted. */
interface FinishedEntry {
  record: OutboxRecord;
}

export interface OutboxLimits {
  maxMessages: number;
  maxBytes: number;
  maxActivePerDestination: number;
  maxActiveTotal: number;
}

export function outboxKey(idHex: string, reply: boolean): string {
  return reply ? `${idHex}.r` : idHex;
}

export class Outbox {
  readonly active = new Map<string, OutboundTransfer>();
  private readonly finished = new Map<string, FinishedEntry>();
  /** Transfers waiting for a slot, per destination, in push order. */
  private readonly queues = new Map<string, OutboundTransfer[]>();
  private readonly running = new Map<string, number>();
  private runningTotal = 0;
  private readonly persistedAt = new Map<OutboundTransfer, number>();
  private readonly resumeFrom = new Map<OutboundTransfer, Uint8Array>();
  private readonly meta: Bucket<OutboxRecord>;
  private readonly data: Bucket<Uint8Array>;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly limits: OutboxLimits;
  private readonly track: (p: Promise<unknown>) => void;
  private readonly onFinished: (t: OutboundTransfer) => void;
  bytes = 0;

  constructor(opts: {
    store: Store;
    clock: Clock;
    logger: Logger;
    limits: OutboxLimits;
    track: (p: Promise<unknown>) => void;
    onFinished: (t: OutboundTransfer) => void;
  }) {
    this.meta = opts.store.bucket(OUTBOX_META_BUCKET);
    this.data = opts.store.bucket(OUTBOX_DATA_BUCKET);
    this.clock = opts.clock;
    this.log = opts.logger;
    this.limits = opts.limits;
    this.track = opts.track;
    this.onFinished = opts.onFinished;
  }

  /** Reloads what the store holds; unfinished transfers are returned, to be begun by start(). */
  load(make: (spec: OutboundSpec) => OutboundTransfer): OutboundTransfer[] {
    const out: OutboundTransfer[] = [];
    for (const [key, r] of this.meta.entries()) {
      if (r.phase === 'received' || r.phase === 'read' || r.phase === 'aborted') {
        this.finished.set(key, { record: r });
        continue;
      }
      const payload = this.data.get(key);
      const id = fromHex(r.id);
      const dst = parseIpv6(r.dst);
      const topic = fromBase64(r.topic);
      const checksum = fromHex(r.checksum);
      if (payload === undefined || id === undefined || dst === undefined || topic === undefined || checksum === undefined || payload.length !== r.len) {
        this.log.warn({ key }, 'outbox record without a readable payload: marking it aborted');
        this.finished.set(key, { record: { ...r, phase: 'aborted', acked: null, finishedAt: this.clock.now() } });
        this.track(this.meta.put(key, this.finished.get(key)!.record));
        this.track(this.data.delete(key));
        continue;
      }
      const t = make({ id, reply: r.reply, dst, topic, data: payload, checksum, createdAt: r.created, deadlineAt: r.deadline });
      if ((r.phase === 'sending' || r.phase === 'done') && r.acked !== null) {
        const bitmap = fromBase64(r.acked);
        if (bitmap !== undefined) this.resumeFrom.set(t, bitmap);
      }
      this.active.set(key, t);
      this.bytes += r.len;
      out.push(t);
    }
    return out;
  }

  get count(): number {
    return this.active.size + this.finished.size;
  }

  /** Makes room for one more message of `len` bytes (dropping the oldest finished statuses), or says why not. */
  makeRoom(len: number): string | undefined {
    if (this.bytes + len > this.limits.maxBytes) return `${this.bytes} bytes are waiting to be sent already; the outbox holds at most ${this.limits.maxBytes}`;
    while (this.count >= this.limits.maxMessages) {
      const oldest = this.finished.keys().next();
      if (oldest.done) return `${this.active.size} messages are waiting to be sent already; the outbox holds at most ${this.limits.maxMessages}`;
      this.forget(oldest.value);
    }
    return undefined;
  }

  /** Registers a new transfer and stores it; resolves when durable. */
  add(t: OutboundTransfer, data: Uint8Array): Promise<void> {
    const key = outboxKey(t.idHex, t.reply);
    this.active.set(key, t);
    this.finished.delete(key);
    this.bytes += t.length;
    const p = Promise.all([this.data.put(key, data), this.meta.put(key, this.record(t))]).then(() => undefined);
    this.track(p);
    this.persistedAt.set(t, this.clock.now());
    return p;
  }

  /** Starts `t` now if a slot is free, else queues it. */
  schedule(t: OutboundTransfer): void {
    t.armDeadline();
    if (this.slotFree(t.dstText)) {
      this.begin(t);
      return;
    }
    const q = this.queues.get(t.dstText);
    if (q === undefined) this.queues.set(t.dstText, [t]);
    else q.push(t);
  }

  private slotFree(dst: string): boolean {
    return this.runningTotal < this.limits.maxActiveTotal && (this.running.get(dst) ?? 0) < this.limits.maxActivePerDestination;
  }

  /** Starts the next waiting transfer for `dst`, if any; true if one started. */
  private startNext(dst: string): boolean {
    const q = this.queues.get(dst);
    if (q === undefined || !this.slotFree(dst)) return false;
    const t = q.shift()!;
    if (q.length === 0) this.queues.delete(dst);
    this.begin(t);
    return true;
  }

  private begin(t: OutboundTransfer): void {
    this.running.set(t.dstText, (this.running.get(t.dstText) ?? 0) + 1);
    this.runningTotal++;
    const bitmap = this.resumeFrom.get(t);
    this.resumeFrom.delete(t);
    if (bitmap !== undefined) t.resume(bitmap);
    else t.start();
  }

  get(idHex: string, reply: boolean): OutboundTransfer | undefined {
    return this.active.get(outboxKey(idHex, reply));
  }

  /** Status of a message, original first, then a reply with that id. */
  info(idHex: string): MessageInfo | undefined {
    for (const reply of [false, true]) {
      const key = outboxKey(idHex, reply);
      const t = this.active.get(key);
      if (t !== undefined) return { dst: t.dstText, state: t.transmissionState(), created: Math.floor(t.createdAt / 1000), deadline: Math.floor(t.deadlineAt / 1000), msgLen: t.length };
      const f = this.finished.get(key);
      if (f !== undefined) {
        const r = f.record;
        return { dst: r.dst, state: r.phase === 'received' || r.phase === 'read' ? r.phase : 'aborted', created: Math.floor(r.created / 1000), deadline: Math.floor(r.deadline / 1000), msgLen: r.len };
      }
    }
    return undefined;
  }

  /** READ for a message already received: the status moves to read. */
  markRead(idHex: string, reply: boolean, from: string): boolean {
    const key = outboxKey(idHex, reply);
    const f = this.finished.get(key);
    if (f === undefined || f.record.phase !== 'received' || f.record.dst !== from) return false;
    f.record.phase = 'read';
    this.track(this.meta.put(key, f.record));
    return true;
  }

  /** TransferHost.changed: persist phase changes at once, progress at most every PROGRESS_PERSIST_MS. */
  changed(t: OutboundTransfer, phaseChanged: boolean): void {
    const key = outboxKey(t.idHex, t.reply);
    if (this.active.get(key) !== t) return;
    const now = this.clock.now();
    if (t.finished) {
      this.active.delete(key);
      this.persistedAt.delete(t);
      this.resumeFrom.delete(t);
      this.bytes -= t.length;
      const record = this.record(t);
      this.finished.set(key, { record });
      this.track(this.meta.put(key, record));
      this.track(this.data.delete(key));
      const q = this.queues.get(t.dstText);
      const qi = q === undefined ? -1 : q.indexOf(t);
      if (qi >= 0) {
        q!.splice(qi, 1);
        if (q!.length === 0) this.queues.delete(t.dstText);
      } else this.release(t);
      this.onFinished(t);
      return;
    }
    // Only the progress of a transfer too large to go out in one round is worth keeping (a burst simply
    // starts again after a restart, as does a record still saying "queued").
    if (t.burst || t.phase === 'queued') return;
    if (!phaseChanged && now - (this.persistedAt.get(t) ?? 0) < PROGRESS_PERSIST_MS) return;
    this.persistedAt.set(t, now);
    this.track(this.meta.put(key, this.record(t)));
  }

  private release(t: OutboundTransfer): void {
    const n = (this.running.get(t.dstText) ?? 1) - 1;
    if (n <= 0) this.running.delete(t.dstText);
    else this.running.set(t.dstText, n);
    this.runningTotal--;
    // The freed slot goes to the same destination first, else to another one held back by the total.
    if (this.startNext(t.dstText)) return;
    for (const dst of this.queues.keys()) if (this.startNext(dst)) return;
  }

  /** Drops statuses of messages finished longer than STATUS_RETENTION_MS ago. */
  sweep(): void {
    const cutoff = this.clock.now() - STATUS_RETENTION_MS;
    for (const [key, f] of this.finished) if ((f.record.finishedAt ?? 0) < cutoff) this.forget(key);
  }

  private forget(key: string): void {
    this.finished.delete(key);
    this.track(this.meta.delete(key));
  }

  /** Stops every timer and saves every transfer's progress for the next start. */
  stop(): void {
    for (const [key, t] of this.active) {
      t.stop();
      if (t.phase === 'sending' || t.phase === 'done') this.track(this.meta.put(key, this.record(t)));
    }
  }

  private record(t: OutboundTransfer): OutboxRecord {
    const sending = t.phase === 'sending' || t.phase === 'done';
    return {
      v: 1,
      id: t.idHex,
      reply: t.reply,
      dst: formatIpv6(t.dst),
      topic: base64(t.topic),
      len: t.length,
      checksum: toHex(t.checksum),
      created: t.createdAt,
      deadline: t.deadlineAt,
      phase: t.phase,
      acked: sending ? base64(t.ackedBitmap()) : null,
      finishedAt: t.finishedAt ?? null,
    };
  }
}

