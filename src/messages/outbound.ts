// One message being sent: the sender side of reference §5.2, with a window and RTT-based retransmission
// where Mycelium bursts every chunk and resends whatever is unacknowledged every 100 ms.
//
//   INIT ──INIT-ACK──▶ CHUNKs (window) ──all CHUNK-ACKs──▶ DONE ──DONE-ACK──▶ received ──READ──▶ read
//                                         any phase, at the caller's deadline ──▶ ABORTED sent, aborted
//
// - Window: slow start from initialWindow chunks, +1 per ACK up to ssthresh, then +1 per window; cut by
//   30 % (CUBIC's factor: overlay loss is often not congestion) once per loss episode, to minWindow after a
//   timeout. Every CHUNK-ACK is selective, so losses are found as TCP's RACK finds them: a chunk is lost
//   once a chunk sent after it has been acknowledged and it has been out for more than a round trip plus
//   a quarter. When no ACK comes for two round trips, one probe (the next chunk beyond the window, or the
//   newest one again) brings the ACK that shows which were lost. The retransmission timeout (rtt.ts) is
//   the last resort.
// - A message of at most burstChunks chunks goes out whole — INIT, every chunk, DONE — and comes back
//   acknowledged in one round trip instead of three. Receivers process a path's packets in order; if
//   anything is lost the normal rules take over. Until some ACK arrives, a resend repeats the whole round.
// - A DONE-ACK whose checksum matches ends the transfer in any phase: it proves the receiver holds the
//   whole message (Hypha receivers answer a repeated INIT for a message they already have that way).
// - Stalls: DONE unanswered for doneStallMs (three timeouts at least; a receiver verifies and stores a
//   large message before it answers) sends every chunk again (the receiver may have reset on a late
//   duplicate INIT); stallRestartMs without any ACK, or three timeouts without one after a restart of
//   this node, starts the transfer over with INIT.
import type { Clock, Timer } from '../base/clock.ts';
import { bytesEqual, toHex } from '../base/bytes.ts';
import { formatIpv6 } from '../wire/ipv6.ts';
import {
  encodeMessagePacket,
  MSG_FLAG_ABORTED,
  MSG_FLAG_CHUNK,
  MSG_FLAG_DONE,
  MSG_FLAG_INIT,
  MSG_FLAG_REPLY,
} from '../wire/mycelium/message.ts';
import { chunkCount, chunkOffset, chunkSize } from './chunks.ts';
import type { RttEstimator } from './rtt.ts';
import type { TransmissionState } from './types.ts';

export type OutboundPhase = 'queued' | 'init' | 'sending' | 'done' | 'received' | 'read' | 'aborted';

export interface WindowTuning {
  initialWindow: number;
  minWindow: number;
  maxWindow: number;
  /** Messages of at most this many chunks are sent whole (see the header). */
  burstChunks: number;
  doneStallMs: number;
  stallRestartMs: number;
}

export const DEFAULT_WINDOW_TUNING: WindowTuning = Object.freeze({
  initialWindow: 10,
  minWindow: 4,
  maxWindow: 256,
  burstChunks: 8,
  doneStallMs: 10_000,
  stallRestartMs: 30_000,
});

/** Multiplicative decrease of the window on loss. */
const DECREASE = 0.7;
/** Floor of RACK's reordering window and of the probe timeout. */
const MIN_REORDER_MS = 2;
const MIN_PROBE_MS = 10;
/** Timeouts without progress before the DONE stall and resume rules act. */
const STALL_TIMEOUTS = 3;

const UNSENT = 0;
const IN_FLIGHT = 1;
const ACKED = 2;
const LOST = 3;

export interface TransferHost {
  readonly clock: Clock;
  /** Sends one encoded message packet to `dst`. */
  send(dst: Uint8Array, packet: Uint8Array): void;
  /** The transfer changed: a new phase (persist now) or progress (persist when convenient). */
  changed(t: OutboundTransfer, phaseChanged: boolean): void;
}

export interface OutboundSpec {
  id: Uint8Array;
  reply: boolean;
  dst: Uint8Array;
  topic: Uint8Array;
  data: Uint8Array;
  /** BLAKE3-256 of data. */
  checksum: Uint8Array;
  createdAt: number;
  deadlineAt: number;
}

export class OutboundTransfer {
  readonly id: Uint8Array;
  readonly idHex: string;
  readonly reply: boolean;
  readonly dst: Uint8Array;
  readonly dstText: string;
  readonly topic: Uint8Array;
  readonly checksum: Uint8Array;
  readonly length: number;
  readonly createdAt: number;
  readonly deadlineAt: number;
  readonly count: number;
  phase: OutboundPhase = 'queued';
  finishedAt: number | undefined;
  /** Chunk transmissions beyond the first. */
  retransmits = 0;
  timeouts = 0;

  private data: Uint8Array;
  private readonly host: TransferHost;
  private readonly rtt: RttEstimator;
  private readonly tune: WindowTuning;
  /** Sent whole in one round (see the header); such a transfer restarts from INIT after a node restart. */
  readonly burst: boolean;
  private readonly state: Uint8Array;
  private readonly serialOf: Float64Array;
  private readonly sentAt: Float64Array;
  private readonly tx: Uint8Array;
  private nUnsent: number;
  private nFlight = 0;
  private nLost = 0;
  private nAcked = 0;
  private order: number[] = [];
  private orderSerial: number[] = [];
  private orderHead = 0;
  private lost: number[] = [];
  private lostHead = 0;
  private nextUnsent = 0;
  private serial = 0;
  private cwnd: number;
  private ssthresh = Number.POSITIVE_INFINITY;
  private recoverySerial = 0;
  private initSentAt = 0;
  private initTx = 0;
  private doneSerial = 0;
  private doneSentAt = 0;
  private lastChunkSerial = 0;
  private lastChunkSentAt = 0;
  /** Serial of the newest chunk transmission known delivered (RACK). */
  private rackSerial = 0;
  private reorderDueAt = Number.POSITIVE_INFINITY;
  private probeSent = false;
  private lastProgressAt = 0;
  private noProgress = 0;
  private resentAll = false;
  private resumed = false;
  private rtoTimer: Timer | undefined;
  private rtoDueAt = Number.POSITIVE_INFINITY;
  private deadlineTimer: Timer | undefined;

  constructor(spec: OutboundSpec, host: TransferHost, rtt: RttEstimator, tune: WindowTuning) {
    this.id = spec.id;
    this.idHex = toHex(spec.id);
    this.reply = spec.reply;
    this.dst = spec.dst;
    this.dstText = formatIpv6(spec.dst);
    this.topic = spec.topic;
    this.data = spec.data;
    this.checksum = spec.checksum;
    this.length = spec.data.length;
    this.createdAt = spec.createdAt;
    this.deadlineAt = spec.deadlineAt;
    this.host = host;
    this.rtt = rtt;
    this.tune = tune;
    this.count = chunkCount(this.length);
    this.burst = this.count <= tune.burstChunks;
    this.state = new Uint8Array(this.count);
    this.serialOf = new Float64Array(this.count);
    this.sentAt = new Float64Array(this.count);
    this.tx = new Uint8Array(this.count);
    this.nUnsent = this.count;
    this.cwnd = tune.initialWindow;
  }

  get finished(): boolean {
    return this.phase === 'received' || this.phase === 'read' || this.phase === 'aborted';
  }

  /** Mycelium's view of the transfer. */
  transmissionState(): TransmissionState {
    switch (this.phase) {
      case 'queued':
      case 'init':
        return 'pending';
      case 'sending':
      case 'done':
        return { sending: { pending: this.nUnsent, sent: this.nFlight + this.nLost, acked: this.nAcked } };
      default:
        return this.phase;
    }
  }

  /** One bit per chunk, set when acknowledged (persisted so a restarted node resumes). */
  ackedBitmap(): Uint8Array {
    const out = new Uint8Array(Math.ceil(this.count / 8));
    for (let i = 0; i < this.count; i++) if (this.state[i] === ACKED) out[i >> 3] |= 1 << (i & 7);
    return out;
  }

  /** Gives up at the deadline; called once when the transfer is created (or reloaded). */
  armDeadline(): void {
    const now = this.host.clock.now();
    this.deadlineTimer = this.host.clock.setTimeout(() => this.expire(), Math.max(0, this.deadlineAt - now));
  }

  /** Starts sending from INIT. */
  start(): void {
    if (this.finished) return;
    this.phase = 'init';
    this.lastProgressAt = this.host.clock.now();
    this.host.changed(this, true);
    if (this.burst) this.sendRound(true);
    else this.sendInit();
    this.armRto();
  }

  /**
   * Continues a transfer this node had under way before it restarted: the receiver acknowledged INIT
   * and the chunks in `acked`, so only the rest is sent (no INIT, which would make it drop what it has).
   */
  resume(acked: Uint8Array | undefined): void {
    if (this.finished) return;
    if (this.burst || acked === undefined) {
      this.start();
      return;
    }
    for (let i = 0; i < this.count; i++) {
      if ((acked[i >> 3] >> (i & 7)) & 1) {
        this.state[i] = ACKED;
        this.nAcked++;
        this.nUnsent--;
      }
    }
    this.resumed = true;
    this.phase = 'sending';
    this.lastProgressAt = this.host.clock.now();
    if (this.nAcked === this.count) this.enterDone();
    else this.pump();
    this.armRto();
  }

  /** Stops the timers without changing state (the node is stopping; the store keeps the rest). */
  stop(): void {
    this.rtoTimer?.cancel();
    this.rtoTimer = undefined;
    this.rtoDueAt = Number.POSITIVE_INFINITY;
    this.deadlineTimer?.cancel();
    this.deadlineTimer = undefined;
  }

  // -------------------------------------------------------------------------------------------
  // ACKs and READ from the receiver

  onInitAck(): void {
    if (this.phase !== 'init') return;
    if (this.initTx === 1) this.rtt.sample(this.host.clock.now() - this.initSentAt);
    this.enterSending();
  }

  onChunkAck(index: number): void {
    if (index >= this.count || this.finished) return;
    // A CHUNK-ACK means the receiver took INIT, even if its INIT-ACK was lost.
    if (this.phase === 'init') this.enterSending();
    if (this.phase !== 'sending') return;
    const st = this.state[index];
    if (st === ACKED) return;
    const now = this.host.clock.now();
    if (st === IN_FLIGHT) {
      this.nFlight--;
      if (this.tx[index] === 1) this.rtt.sample(now - this.sentAt[index]);
    } else if (st === LOST) this.nLost--;
    else this.nUnsent--;
    this.state[index] = ACKED;
    this.nAcked++;
    this.progress(now);
    this.cwnd = Math.min(this.tune.maxWindow, this.cwnd + (this.cwnd < this.ssthresh ? 1 : 1 / this.cwnd));
    if (this.serialOf[index] > this.rackSerial) this.rackSerial = this.serialOf[index];
    this.detectLoss(now);
    this.host.changed(this, false);
    if (this.nAcked === this.count) this.enterDone();
    else this.pump();
    this.armRto();
  }

  /** A DONE-ACK: only one that carries our checksum counts. */
  onDoneAck(checksum: Uint8Array): void {
    if (this.finished || this.phase === 'queued' || !bytesEqual(checksum, this.checksum)) return;
    this.finish('received');
  }

  onRead(): void {
    if (this.phase === 'queued' || this.phase === 'read' || this.phase === 'aborted') return;
    this.finish('read');
  }

  // -------------------------------------------------------------------------------------------

  private expire(): void {
    this.deadlineTimer = undefined;
    if (this.finished) return;
    const started = this.phase !== 'queued';
    this.finish('aborted');
    if (started) this.host.send(this.dst, encodeMessagePacket({ kind: 'aborted', id: this.id, flags: MSG_FLAG_ABORTED }));
  }

  private finish(phase: 'received' | 'read' | 'aborted'): void {
    this.phase = phase;
    this.finishedAt = this.host.clock.now();
    this.stop();
    // The bytes are no longer needed; the status is.
    this.data = new Uint8Array(0);
    this.host.changed(this, true);
  }

  private enterSending(): void {
    this.progress(this.host.clock.now());
    this.phase = 'sending';
    this.host.changed(this, true);
    if (this.nAcked === this.count) this.enterDone();
    else this.pump();
    this.armRto();
  }

  private enterDone(): void {
    this.phase = 'done';
    this.host.changed(this, true);
    // DONE already went out after the last chunk (a burst round): wait for its ACK.
    if (this.doneSerial <= this.lastChunkSerial) this.sendDone();
  }

  private progress(now: number): void {
    this.lastProgressAt = now;
    this.noProgress = 0;
    this.probeSent = false;
    this.resumed = false;
    this.resentAll = false;
  }

  private sendInit(): void {
    this.initTx++;
    this.initSentAt = this.host.clock.now();
    const flags = MSG_FLAG_INIT | (this.reply ? MSG_FLAG_REPLY : 0);
    this.host.send(this.dst, encodeMessagePacket({ kind: 'init', id: this.id, flags, length: this.length, topic: this.topic, topicLength: this.topic.length }));
  }

  /** INIT (if asked), every chunk not yet acknowledged, DONE. */
  private sendRound(withInit: boolean): void {
    if (withInit) this.sendInit();
    for (let i = 0; i < this.count; i++) if (this.state[i] !== ACKED) this.sendChunk(i);
    this.sendDone();
  }

  private sendChunk(i: number): void {
    const st = this.state[i];
    if (st === UNSENT) this.nUnsent--;
    else if (st === LOST) this.nLost--;
    else if (st === IN_FLIGHT) this.nFlight--;
    this.state[i] = IN_FLIGHT;
    this.nFlight++;
    const serial = ++this.serial;
    this.serialOf[i] = serial;
    this.sentAt[i] = this.host.clock.now();
    if (this.tx[i] > 0) this.retransmits++;
    if (this.tx[i] < 255) this.tx[i]++;
    this.order.push(i);
    this.orderSerial.push(serial);
    this.lastChunkSerial = serial;
    this.lastChunkSentAt = this.sentAt[i];
    const offset = chunkOffset(this.length, this.count, i);
    const size = chunkSize(this.length, this.count, i);
    this.host.send(
      this.dst,
      encodeMessagePacket({ kind: 'chunk', id: this.id, flags: MSG_FLAG_CHUNK, index: i, offset, size, data: this.data.subarray(offset, offset + size) }),
    );
  }

  private sendDone(): void {
    this.doneSerial = ++this.serial;
    this.doneSentAt = this.host.clock.now();
    this.host.send(this.dst, encodeMessagePacket({ kind: 'done', id: this.id, flags: MSG_FLAG_DONE, chunkCount: this.count, checksum: this.checksum }));
  }

  private nextToSend(): number {
    while (this.lostHead < this.lost.length) {
      const i = this.lost[this.lostHead++];
      if (this.state[i] === LOST) return i;
    }
    if (this.lostHead > 0) {
      this.lost = [];
      this.lostHead = 0;
    }
    while (this.nextUnsent < this.count) {
      const i = this.nextUnsent++;
      if (this.state[i] === UNSENT) return i;
    }
    return -1;
  }

  private pump(): void {
    if (this.phase !== 'sending') return;
    const window = Math.max(1, Math.floor(this.cwnd));
    while (this.nFlight < window) {
      const i = this.nextToSend();
      if (i < 0) break;
      this.sendChunk(i);
    }
  }

  private markLost(i: number): void {
    this.state[i] = LOST;
    this.nFlight--;
    this.nLost++;
    this.lost.push(i);
  }

  /** The oldest chunk still in flight, dropping stale entries of the send order on the way. */
  private oldestInFlight(): number {
    while (this.orderHead < this.order.length) {
      const i = this.order[this.orderHead];
      if (this.state[i] === IN_FLIGHT && this.serialOf[i] === this.orderSerial[this.orderHead]) return this.orderHead;
      this.orderHead++;
    }
    this.compactOrder();
    return -1;
  }

  private compactOrder(): void {
    if (this.orderHead > 1024 && this.orderHead * 2 > this.order.length) {
      this.order = this.order.slice(this.orderHead);
      this.orderSerial = this.orderSerial.slice(this.orderHead);
      this.orderHead = 0;
    }
  }

  private get srttMs(): number {
    return this.rtt.srttMs ?? this.rtt.rtoMs / 2;
  }

  /**
   * RACK: in-flight chunks sent before the newest delivered one, and out for longer than a round trip
   * plus a reordering window, are lost. Otherwise remember when the oldest such chunk will be.
   */
  private detectLoss(now: number): void {
    const srtt = this.srttMs;
    const age = srtt + Math.max(MIN_REORDER_MS, srtt / 4);
    this.reorderDueAt = Number.POSITIVE_INFINITY;
    for (let h = this.oldestInFlight(); h >= 0; h = this.oldestInFlight()) {
      const serial = this.orderSerial[h];
      if (serial >= this.rackSerial) break;
      const i = this.order[h];
      if (now < this.sentAt[i] + age) {
        this.reorderDueAt = this.sentAt[i] + age;
        break;
      }
      this.markLost(i);
      this.orderHead++;
      if (serial > this.recoverySerial) {
        // One reduction per loss episode: losses among chunks sent before it count as the same one.
        this.ssthresh = Math.max(Math.floor(this.cwnd * DECREASE), this.tune.minWindow);
        this.cwnd = this.ssthresh;
        this.recoverySerial = this.serial;
      }
    }
    this.compactOrder();
  }

  /** Chunks in flight, no ACK for two round trips, no probe out yet: a probe is due. */
  private probeDueAt(): number {
    if (this.probeSent || this.nFlight === 0) return Number.POSITIVE_INFINITY;
    return Math.max(this.lastChunkSentAt, this.lastProgressAt) + Math.max(MIN_PROBE_MS, 2 * this.srttMs);
  }

  /** One chunk beyond the window (or the newest in flight again): its ACK shows which older ones were lost. */
  private probe(): void {
    this.probeSent = true;
    const next = this.nextToSend();
    if (next >= 0) {
      this.sendChunk(next);
      return;
    }
    for (let h = this.order.length - 1; h >= this.orderHead; h--) {
      const i = this.order[h];
      if (this.state[i] === IN_FLIGHT && this.serialOf[i] === this.orderSerial[h]) {
        this.sendChunk(i);
        return;
      }
    }
  }

  private armRto(): void {
    if (this.finished || this.phase === 'queued') return;
    let due: number;
    if (this.phase === 'init') due = this.initSentAt + this.rtt.rtoMs;
    else if (this.phase === 'done') due = this.doneSentAt + this.rtt.rtoMs;
    else {
      const h = this.oldestInFlight();
      due = h < 0 ? Number.POSITIVE_INFINITY : this.sentAt[this.order[h]] + this.rtt.rtoMs;
      due = Math.min(due, this.reorderDueAt, this.probeDueAt());
    }
    if (due === Number.POSITIVE_INFINITY) return;
    if (this.rtoTimer !== undefined && this.rtoDueAt <= due) return;
    this.rtoTimer?.cancel();
    this.rtoDueAt = due;
    this.rtoTimer = this.host.clock.setTimeout(() => this.onTimer(), Math.max(0, due - this.host.clock.now()));
  }

  private onTimer(): void {
    this.rtoTimer = undefined;
    this.rtoDueAt = Number.POSITIVE_INFINITY;
    if (this.finished) return;
    const now = this.host.clock.now();
    const rto = this.rtt.rtoMs;
    if (this.phase === 'init') {
      if (now >= this.initSentAt + rto) {
        this.timeout();
        if (this.burst) this.sendRound(true);
        else this.sendInit();
      }
    } else if (this.phase === 'sending') {
      this.detectLoss(now);
      const h = this.oldestInFlight();
      if (h >= 0 && now >= this.sentAt[this.order[h]] + rto) {
        const inFlight = this.nFlight;
        for (let k = this.oldestInFlight(); k >= 0 && now >= this.sentAt[this.order[k]] + rto; k = this.oldestInFlight()) {
          this.markLost(this.order[k]);
          this.orderHead++;
        }
        this.timeout();
        this.ssthresh = Math.max(Math.floor(inFlight * DECREASE), this.tune.minWindow);
        this.cwnd = this.tune.minWindow;
        this.recoverySerial = this.serial;
        if (this.escalate(now)) {
          this.armRto();
          return;
        }
      } else if (now >= this.probeDueAt()) {
        this.probe();
      }
      this.pump();
    } else if (this.phase === 'done') {
      if (now >= this.doneSentAt + rto) {
        this.timeout();
        if (!this.escalate(now)) this.sendDone();
      }
    }
    this.armRto();
  }

  private timeout(): void {
    this.timeouts++;
    this.noProgress++;
    this.rtt.backoff();
  }

  /** The stall rules of the header; true if the transfer changed course. */
  private escalate(now: number): boolean {
    if (now - this.lastProgressAt >= this.tune.stallRestartMs || (this.resumed && this.noProgress >= STALL_TIMEOUTS)) {
      this.restart();
      return true;
    }
    if (this.phase === 'done' && this.noProgress >= STALL_TIMEOUTS && now - this.lastProgressAt >= this.tune.doneStallMs && !this.resentAll) {
      this.resentAll = true;
      this.resetChunks();
      this.phase = 'sending';
      this.pump();
      return true;
    }
    return false;
  }

  private resetChunks(): void {
    this.state.fill(UNSENT);
    this.nUnsent = this.count;
    this.nFlight = 0;
    this.nLost = 0;
    this.nAcked = 0;
    this.order = [];
    this.orderSerial = [];
    this.orderHead = 0;
    this.lost = [];
    this.lostHead = 0;
    this.nextUnsent = 0;
    this.cwnd = this.tune.initialWindow;
    this.ssthresh = Number.POSITIVE_INFINITY;
    this.rackSerial = 0;
    this.reorderDueAt = Number.POSITIVE_INFINITY;
    this.probeSent = false;
  }

  private restart(): void {
    this.resetChunks();
    this.resumed = false;
    this.resentAll = false;
    this.noProgress = 0;
    this.phase = 'init';
    this.lastProgressAt = this.host.clock.now();
    this.host.changed(this, true);
    if (this.burst) this.sendRound(true);
    else this.sendInit();
  }
}
