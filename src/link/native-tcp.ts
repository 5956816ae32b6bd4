// Native (Micelio) links over TCP: dial and listen, run the Noise XX handshake (dialer = initiator)
// with u16-framed handshake messages, then carry frames in u32-framed ChaCha20-Poly1305 messages.
// What Hypha adds over Micelio: a handshake timeout, a cap on concurrent inbound handshakes, a
// pre-check hook that refuses before any crypto, a bounded send queue and a write deadline.
//
// Hot path: a message is framed and encrypted where it will be written — [u32 length][frame header ‖
// message ‖ tag] back to back in a chunk (link/out-chunks.ts), encrypted in place — and everything sent
// in one turn of the event loop goes to the socket as one write. Received messages are decrypted in
// place in the socket's chunk and a frame lying wholly inside one is handed on as a view.
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { Clock, Timer } from '../base/clock.ts';
import type { Logger } from '../base/log.ts';
import { err, ok, type Result } from '../base/result.ts';
import { NoiseXXHandshake, NOISE_TAG_BYTES, type CipherState, type NoiseKeyPair, type NoiseSession } from '../crypto/noise.ts';
import { FRAME_HEADER_BYTES, FrameReader, MAX_FRAME_BYTES, MAX_FRAME_PAYLOAD_BYTES, writeFrameHeader } from '../wire/micelio/frame.ts';
import { formatHostPort, parseHostPort } from './endpoint.ts';
import {
  allocateLinkId,
  type AcceptHandlers,
  type Link,
  type LinkDirection,
  type LinkError,
  type LinkEvents,
  type LinkFactory,
  type LinkListener,
  type LinkStats,
} from './link.ts';
import { OutChunks } from './out-chunks.ts';

export const DEFAULT_NOISE_HANDSHAKE_TIMEOUT_MS = 10_000;
export const DEFAULT_DIAL_TIMEOUT_MS = 10_000;
export const DEFAULT_WRITE_TIMEOUT_MS = 10_000;
export const DEFAULT_SEND_QUEUE_MESSAGES = 64;
export const DEFAULT_MAX_PENDING_HANDSHAKES = 64;
/** Micelio's handshake messages are 32, 96 and 64 bytes; anything much longer is not a peer. */
export const MAX_HANDSHAKE_MESSAGE_BYTES = 1024;
/** Largest transport message accepted: a maximal frame plus the Poly1305 tag (1,048,600). */
export const MAX_TRANSPORT_MESSAGE_BYTES = MAX_FRAME_BYTES + NOISE_TAG_BYTES;
/** Messages received before the owner attaches are held, up to this many. */
const MAX_EARLY_MESSAGES = 256;
/** Bytes framed and encrypted but not yet handed to the socket, whatever the socket's state. */
const MAX_UNFLUSHED_BYTES = 4 * 1024 * 1024;
/** u32 BE length of each transport message. */
const LENGTH_PREFIX_BYTES = 4;
const NO_AD = new Uint8Array(0);

export interface NativeTcpOptions {
  clock: Clock;
  logger: Logger;
  /** The node's X25519 static pair (Noise `s`). */
  staticKey: NoiseKeyPair;
  handshakeTimeoutMs?: number;
  dialTimeoutMs?: number;
  writeTimeoutMs?: number;
  /** Messages waiting for the socket to drain before send() refuses (drop + count). */
  sendQueueMessages?: number;
  /** Inbound connections allowed in the Noise handshake at once; more are closed at accept. */
  maxPendingHandshakes?: number;
}

export type NativeAcceptHandlers = AcceptHandlers;
export type NativeListener = LinkListener;

/** Collects socket chunks and hands out exact byte counts without re-copying on every chunk. */
class ByteQueue {
  private chunks: Uint8Array[] = [];
  length = 0;

  push(c: Uint8Array): void {
    if (c.length === 0) return;
    this.chunks.push(c);
    this.length += c.length;
  }

  /** Reads a big-endian integer of `n` (2 or 4) bytes without consuming it. */
  peekUint(n: number): number {
    let v = 0;
    let need = n;
    for (const c of this.chunks) {
      for (let i = 0; i < c.length && need > 0; i++, need--) v = v * 256 + c[i];
      if (need === 0) break;
    }
    return v;
  }

  take(n: number): Uint8Array {
    const first = this.chunks[0];
    if (first.length >= n) {
      const out = first.subarray(0, n);
      if (first.length === n) this.chunks.shift();
      else this.chunks[0] = first.subarray(n);
      this.length -= n;
      return out;
    }
    const out = new Uint8Array(n);
    let o = 0;
    while (o < n) {
      const c = this.chunks[0];
      const k = Math.min(c.length, n - o);
      out.set(c.subarray(0, k), o);
      o += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.length -= n;
    return out;
  }

  drain(): Uint8Array[] {
    const c = this.chunks;
    this.chunks = [];
    this.length = 0;
    return c;
  }
}

function socketAddress(addr: string | undefined, port: number | undefined): string {
  return formatHostPort(addr ?? '?', port ?? 0);
}

/** An established native link: Noise transport over one TCP socket. */
class NativeTcpLink implements Link {
  readonly id = allocateLinkId();
  readonly protocol = 'native' as const;
  readonly transport = 'tcp' as const;
  readonly direction: LinkDirection;
  readonly localAddress: string;
  readonly remoteAddress: string;
  readonly remoteStatic: Uint8Array;
  readonly handshakeHash: Uint8Array;
  private readonly socket: Socket;
  private readonly clock: Clock;
  private readonly send_: CipherState;
  private readonly recv: CipherState;
  private readonly rx = new ByteQueue();
  private readonly frames = new FrameReader();
  private readonly out = new OutChunks();
  /** Messages handed to the socket that it has not yet passed to the kernel. */
  private socketMessages = 0;
  private flushScheduled = false;
  private readonly queueMax: number;
  private readonly writeTimeoutMs: number;
  private writeTimer: Timer | undefined;
  private idleTimer: Timer | undefined;
  private events: LinkEvents | undefined;
  private early: Uint8Array[] = [];
  private isClosed = false;
  private closeReason = '';
  private readonly st: LinkStats;

  constructor(socket: Socket, session: NoiseSession, direction: LinkDirection, o: Required<Pick<NativeTcpOptions, 'clock' | 'writeTimeoutMs' | 'sendQueueMessages'>>, leftover: Uint8Array[]) {
    this.socket = socket;
    this.clock = o.clock;
    this.direction = direction;
    this.localAddress = socketAddress(socket.localAddress, socket.localPort);
    this.remoteAddress = socketAddress(socket.remoteAddress, socket.remotePort);
    this.remoteStatic = session.remoteStatic;
    this.handshakeHash = session.handshakeHash;
    this.send_ = session.send;
    this.recv = session.recv;
    this.queueMax = o.sendQueueMessages;
    this.writeTimeoutMs = o.writeTimeoutMs;
    const now = o.clock.now();
    this.st = { txBytes: 0, rxBytes: 0, txMessages: 0, rxMessages: 0, dropped: 0, lastRxMs: now, lastTxMs: now };
    socket.on('data', (c: Buffer) => this.onData(c));
    socket.on('drain', () => {
      this.writeTimer?.cancel();
      this.writeTimer = undefined;
    });
    socket.on('end', () => this.close('remote closed the connection'));
    socket.on('error', (e) => this.close(`socket error: ${e.message}`));
    socket.on('close', () => this.close('connection closed'));
    for (const c of leftover) this.onData(c);
    if (socket.destroyed) this.close('connection closed');
  }

  get closed(): boolean {
    return this.isClosed;
  }

  attach(events: LinkEvents): void {
    this.events = events;
    if (this.isClosed) {
      // Closed before anyone listened (e.g. the peer hung up right after the handshake).
      events.onClose(this.closeReason);
      return;
    }
    const early = this.early;
    this.early = [];
    for (const m of early) {
      if (this.isClosed) return;
      events.onMessage(m);
    }
  }

  private onData(chunk: Uint8Array): void {
    if (this.isClosed) return;
    this.rx.push(chunk);
    while (!this.isClosed && this.rx.length >= 4) {
      const len = this.rx.peekUint(4);
      if (len > MAX_TRANSPORT_MESSAGE_BYTES) {
        this.close(`noise message too large (${len} bytes, limit ${MAX_TRANSPORT_MESSAGE_BYTES})`);
        return;
      }
      if (this.rx.length < 4 + len) return;
      this.rx.take(4);
      if (len < NOISE_TAG_BYTES) {
        this.close(`noise transport: message of ${len} bytes is shorter than its tag`);
        return;
      }
      // Ours to change: a view of a socket chunk, or a buffer the queue assembled.
      const msg = this.rx.take(len);
      const ptLen = len - NOISE_TAG_BYTES;
      const pt = this.recv.decryptInto(NO_AD, msg, 0, ptLen, msg, 0);
      if (!pt.ok) {
        this.close(`noise transport: ${pt.error.message}`);
        return;
      }
      // A plain Uint8Array view (not a Buffer): receivers see the type they always did.
      const res = this.frames.push(new Uint8Array(msg.buffer, msg.byteOffset, ptLen), (payload) => this.deliver(payload));
      if (!res.ok) {
        this.close(res.error.message);
        return;
      }
    }
  }

  private deliver(msg: Uint8Array): void {
    if (this.isClosed) return;
    this.st.rxBytes += msg.length;
    this.st.rxMessages++;
    this.st.lastRxMs = this.clock.now();
    this.idleTimer?.reset();
    if (this.events) {
      this.events.onMessage(msg);
    } else if (this.early.length < MAX_EARLY_MESSAGES) {
      this.early.push(msg);
    } else {
      this.close('receive backlog overflow before the link was attached');
    }
  }

  send(msg: Uint8Array): boolean {
    if (this.isClosed || msg.length > MAX_FRAME_PAYLOAD_BYTES) {
      this.st.dropped++;
      return false;
    }
    const out = this.out;
    const plainLength = FRAME_HEADER_BYTES + msg.length;
    const total = LENGTH_PREFIX_BYTES + plainLength + NOISE_TAG_BYTES;
    // The queue is what the kernel has not taken yet; while the socket keeps up, a turn's messages pass.
    const backlog = out.pendingFrames + this.socketMessages;
    if ((this.socket.writableNeedDrain && backlog >= this.queueMax) || out.pendingBytes + total > MAX_UNFLUSHED_BYTES) {
      this.st.dropped++;
      return false;
    }
    out.ensure(total);
    const buf = out.chunk;
    const at = out.end;
    buf.writeUInt32BE(plainLength + NOISE_TAG_BYTES, at);
    writeFrameHeader(buf, msg.length, at + LENGTH_PREFIX_BYTES);
    buf.set(msg, at + LENGTH_PREFIX_BYTES + FRAME_HEADER_BYTES);
    // Encrypted now, so nonces follow the order of the stream.
    this.send_.encryptInto(NO_AD, buf, at + LENGTH_PREFIX_BYTES, plainLength, buf, at + LENGTH_PREFIX_BYTES);
    out.commit(total);
    this.st.txBytes += msg.length;
    this.st.txMessages++;
    this.st.lastTxMs = this.clock.now();
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
    return true;
  }

  /** Hands everything sent this turn to the socket: one write (a few if chunks filled up). */
  private readonly flush = (): void => {
    this.flushScheduled = false;
    if (this.isClosed) return;
    const messages = this.out.pendingFrames;
    const bufs = this.out.take();
    if (bufs.length === 0) return;
    this.socketMessages += messages;
    const done = (): void => {
      this.socketMessages -= messages;
    };
    let flushed: boolean;
    if (bufs.length === 1) {
      flushed = this.socket.write(bufs[0], done);
    } else {
      this.socket.cork();
      for (let i = 0; i < bufs.length - 1; i++) this.socket.write(bufs[i]);
      flushed = this.socket.write(bufs[bufs.length - 1], done);
      this.socket.uncork();
    }
    if (!flushed && this.writeTimer === undefined) {
      // The kernel buffer is full: the peer must read within the write deadline or the link goes.
      this.writeTimer = this.clock.setTimeout(() => this.close(`write timeout (${this.writeTimeoutMs} ms)`), this.writeTimeoutMs);
    }
  };

  setIdleTimeout(ms: number): void {
    this.idleTimer?.cancel();
    this.idleTimer = undefined;
    if (ms > 0 && !this.isClosed) this.idleTimer = this.clock.setTimeout(() => this.close(`idle timeout (${ms} ms without a message)`), ms);
  }

  close(reason: string): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.closeReason = reason;
    this.writeTimer?.cancel();
    this.idleTimer?.cancel();
    this.out.clear();
    this.early = [];
    this.socket.destroy();
    this.events?.onClose(reason);
  }

  stats(): LinkStats {
    return { ...this.st };
  }

  /** Messages the kernel has not taken yet (framed in our chunks, or in the socket's buffer). */
  get queuedMessages(): number {
    return this.out.pendingFrames + this.socketMessages;
  }
}

type HandshakeOutcome = { ok: true; session: NoiseSession; leftover: Uint8Array[] } | { ok: false; reason: string };

/**
 * Runs the three handshake messages over `socket` with u16 BE framing. Resolves once, on success,
 * failure, timeout or a socket that closes early; on failure the socket is destroyed.
 */
function runHandshake(socket: Socket, initiator: boolean, o: ResolvedOptions, ephemeralPrivate?: Uint8Array): Promise<HandshakeOutcome> {
  return new Promise((resolve) => {
    const hs = new NoiseXXHandshake({ initiator, staticKey: o.staticKey, ephemeralPrivate });
    const rx = new ByteQueue();
    let done = false;
    const timer = o.clock.setTimeout(() => finish({ ok: false, reason: `noise handshake timeout (${o.handshakeTimeoutMs} ms)` }), o.handshakeTimeoutMs);
    const onData = (c: Buffer): void => {
      rx.push(c);
      pump();
    };
    const onEnd = (): void => finish({ ok: false, reason: `connection closed during noise handshake (truncated handshake, ${rx.length} bytes pending)` });
    const onError = (e: Error): void => finish({ ok: false, reason: `socket error during noise handshake: ${e.message}` });
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('close', onEnd);
    socket.on('error', onError);

    function finish(out: HandshakeOutcome): void {
      if (done) return;
      done = true;
      timer.cancel();
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('close', onEnd);
      socket.off('error', onError);
      if (!out.ok) socket.destroy();
      resolve(out);
    }

    function writeNext(): boolean {
      const m = hs.writeMessage();
      if (!m.ok) {
        finish({ ok: false, reason: `noise handshake: ${m.error.message}` });
        return false;
      }
      const framed = Buffer.allocUnsafe(2 + m.value.length);
      framed.writeUInt16BE(m.value.length, 0);
      framed.set(m.value, 2);
      socket.write(framed);
      return true;
    }

    function pump(): void {
      while (!done && !hs.complete && !hs.writing && rx.length >= 2) {
        const len = rx.peekUint(2);
        if (len > MAX_HANDSHAKE_MESSAGE_BYTES) {
          finish({ ok: false, reason: `noise handshake message too large (${len} bytes): not a Micelio peer` });
          return;
        }
        if (rx.length < 2 + len) return;
        rx.take(2);
        const r = hs.readMessage(rx.take(len).slice());
        if (!r.ok) {
          finish({ ok: false, reason: `noise handshake: ${r.error.message}` });
          return;
        }
        if (hs.writing && !writeNext()) return;
      }
      if (!done && hs.complete) {
        socket.pause();
        finish({ ok: true, session: hs.result() as NoiseSession, leftover: rx.drain() });
      }
    }

    if (initiator) writeNext();
  });
}

type ResolvedOptions = Required<NativeTcpOptions>;

function resolveOptions(o: NativeTcpOptions): ResolvedOptions {
  return {
    clock: o.clock,
    logger: o.logger,
    staticKey: o.staticKey,
    handshakeTimeoutMs: o.handshakeTimeoutMs ?? DEFAULT_NOISE_HANDSHAKE_TIMEOUT_MS,
    dialTimeoutMs: o.dialTimeoutMs ?? DEFAULT_DIAL_TIMEOUT_MS,
    writeTimeoutMs: o.writeTimeoutMs ?? DEFAULT_WRITE_TIMEOUT_MS,
    sendQueueMessages: o.sendQueueMessages ?? DEFAULT_SEND_QUEUE_MESSAGES,
    maxPendingHandshakes: o.maxPendingHandshakes ?? DEFAULT_MAX_PENDING_HANDSHAKES,
  };
}

/** Counters for metrics: what the listener refused and why. */
export interface NativeTcpStats {
  pendingHandshakes: number;
  handshakesCompleted: number;
  handshakesFailed: number;
  refusedByPreCheck: number;
  refusedPendingCap: number;
}

/** Makes native TCP links: `dial` (we are the Noise initiator) and `listen` (responder). */
export class NativeTcpTransport implements LinkFactory {
  private readonly o: ResolvedOptions;
  private readonly log: Logger;
  private readonly servers = new Set<Server>();
  private readonly pending = new Set<Socket>();
  /** Outbound sockets from connect() until their handshake ends, so close() can abort them. */
  private readonly dialing = new Set<Socket>();
  private closed = false;
  private readonly counters = { handshakesCompleted: 0, handshakesFailed: 0, refusedByPreCheck: 0, refusedPendingCap: 0 };
  /** Test hook: fixed ephemeral keys for the next handshakes (reproduces vectors over real sockets). */
  ephemeralForTests: (() => Uint8Array | undefined) | undefined;

  constructor(opts: NativeTcpOptions) {
    this.o = resolveOptions(opts);
    this.log = opts.logger.child({ component: 'link' });
  }

  stats(): NativeTcpStats {
    return { pendingHandshakes: this.pending.size, ...this.counters };
  }

  /** Connects to `host:port` (or `micelio://host:port`) and completes the Noise handshake as initiator. */
  dial(address: string): Promise<Result<Link, LinkError>> {
    const hp = parseHostPort(address);
    if (!hp.ok) return Promise.resolve(hp);
    if (this.closed) return Promise.resolve(err('closed', 'link factory closed'));
    const o = this.o;
    return new Promise((resolve) => {
      const socket = connect({ host: hp.value.host, port: hp.value.port, noDelay: true });
      this.dialing.add(socket);
      // Errors are reported through the handshake or the link; this keeps a late one from crashing the process.
      socket.on('error', () => {});
      let settled = false;
      const fail = (code: string, message: string): void => {
        if (settled) return;
        settled = true;
        timer.cancel();
        socket.destroy();
        this.dialing.delete(socket);
        resolve(err(code, message));
      };
      const timer = o.clock.setTimeout(() => fail('dial-timeout', `dial ${address}: timeout after ${o.dialTimeoutMs} ms`), o.dialTimeoutMs);
      socket.once('error', (e) => fail('dial-failed', `dial ${address}: ${e.message}`));
      socket.once('close', () => fail('dial-failed', `dial ${address}: connection closed`));
      socket.once('connect', () => {
        if (settled) return;
        timer.cancel();
        settled = true;
        void runHandshake(socket, true, o, this.ephemeralForTests?.()).then((out) => {
          this.dialing.delete(socket);
          if (!out.ok) {
            this.counters.handshakesFailed++;
            this.log.warn({ remote: address, reason: out.reason }, 'outbound noise handshake failed');
            resolve(err('handshake-failed', `${address}: ${out.reason}`));
            return;
          }
          this.counters.handshakesCompleted++;
          const link = new NativeTcpLink(socket, out.session, 'outbound', o, out.leftover);
          socket.resume();
          resolve(ok(link));
        });
      });
    });
  }

  /** Listens on `host:port` (port 0 picks one). Resolves once bound. */
  listen(address: string, handlers: NativeAcceptHandlers): Promise<Result<NativeListener, LinkError>> {
    const hp = parseHostPort(address, true);
    if (!hp.ok) return Promise.resolve(hp);
    const server = createServer({ noDelay: true }, (socket) => this.accept(socket, handlers));
    return new Promise((resolve) => {
      const onError = (e: Error): void => resolve(err('listen-failed', `listen ${address}: ${e.message}`));
      server.once('error', onError);
      server.listen({ host: hp.value.host, port: hp.value.port }, () => {
        server.off('error', onError);
        server.on('error', (e) => this.log.error({ err: e.message, address }, 'listener error'));
        this.servers.add(server);
        const bound = server.address();
        const host = typeof bound === 'object' && bound ? bound.address : hp.value.host;
        const port = typeof bound === 'object' && bound ? bound.port : hp.value.port;
        resolve(
          ok({
            address: formatHostPort(host, port),
            host,
            port,
            close: () => this.closeServer(server),
          }),
        );
      });
    });
  }

  private closeServer(server: Server): Promise<void> {
    if (!this.servers.delete(server)) return Promise.resolve();
    return new Promise((resolve) => server.close(() => resolve()));
  }

  private accept(socket: Socket, handlers: NativeAcceptHandlers): void {
    const remote = socketAddress(socket.remoteAddress, socket.remotePort);
    socket.on('error', () => {}); // reported through the handshake or the link
    const refusal = handlers.preCheck?.(remote);
    if (refusal !== undefined) {
      this.counters.refusedByPreCheck++;
      this.log.info({ remote, reason: refusal }, 'inbound connection refused');
      socket.destroy();
      return;
    }
    if (this.pending.size >= this.o.maxPendingHandshakes) {
      this.counters.refusedPendingCap++;
      this.log.warn({ remote, reason: `too many pending handshakes (${this.pending.size})` }, 'inbound connection refused');
      socket.destroy();
      return;
    }
    this.pending.add(socket);
    void runHandshake(socket, false, this.o, this.ephemeralForTests?.()).then((out) => {
      this.pending.delete(socket);
      if (!out.ok) {
        this.counters.handshakesFailed++;
        this.log.warn({ remote, reason: out.reason }, 'inbound noise handshake failed');
        return;
      }
      this.counters.handshakesCompleted++;
      const link = new NativeTcpLink(socket, out.session, 'inbound', this.o, out.leftover);
      handlers.onLink(link);
      socket.resume();
    });
  }

  /** Stops every listener, aborts dials and handshakes in progress. Established links belong to their owners. */
  async close(): Promise<void> {
    this.closed = true;
    for (const s of [...this.pending, ...this.dialing]) s.destroy();
    this.pending.clear();
    this.dialing.clear();
    await Promise.all([...this.servers].map((s) => this.closeServer(s)));
  }
}
