// A Mycelium link over a byte stream (TCP, or TLS on top of it): incoming bytes are split into whole
// frames by their announced length; outgoing frames are copied back to back into large chunks and
// everything sent in one turn of the event loop goes to the socket as one write (Mycelium coalesces up
// to 50 packets per flush), with Nagle off. The queue — frames not yet taken by the kernel, in our
// chunks or in the socket's buffer — is bounded in frames and bytes; send() refuses beyond.
// A stream that stops framing correctly closes the link.
import type { Socket } from 'node:net';
import type { Clock, Timer } from '../base/clock.ts';
import type { Logger } from '../base/log.ts';
import { MyceliumFrameReader } from '../wire/mycelium/stream.ts';
import { allocateLinkId, type Link, type LinkDirection, type LinkEvents, type LinkStats } from './link.ts';
import { OutChunks } from './out-chunks.ts';

export interface StreamLinkOptions {
  clock: Clock;
  logger: Logger;
  direction: LinkDirection;
  transport: 'tcp' | 'tls';
  /** Frames waiting to be written before send() refuses (default 4,096). */
  maxQueueFrames?: number;
  /** Bytes waiting to be written before send() refuses (default 4 MiB). */
  maxQueueBytes?: number;
}

export function socketAddressText(host: string | undefined, port: number | undefined): string {
  if (host === undefined) return 'unknown';
  const h = host.startsWith('::ffff:') && host.includes('.') ? host.slice(7) : host;
  return h.includes(':') ? `[${h}]:${port}` : `${h}:${port}`;
}

export class StreamLink implements Link {
  readonly id = allocateLinkId();
  readonly protocol = 'mycelium' as const;
  readonly transport: 'tcp' | 'tls';
  readonly direction: LinkDirection;
  readonly localAddress: string;
  readonly remoteAddress: string;
  readonly remoteStatic = undefined;
  private readonly socket: Socket;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly reader = new MyceliumFrameReader();
  private events: LinkEvents | undefined;
  private isClosed = false;
  private closeReason = '';
  private readonly out = new OutChunks();
  /** Frames and bytes handed to the socket that it has not yet passed to the kernel. */
  private socketFrames = 0;
  private socketBytes = 0;
  private readonly maxQueueFrames: number;
  private readonly maxQueueBytes: number;
  private flushScheduled = false;
  private idleMs = 0;
  private idleTimer: Timer | undefined;
  private readonly st: LinkStats;
  private readonly closeWatchers: ((reason: string) => void)[] = [];

  constructor(socket: Socket, opts: StreamLinkOptions) {
    this.socket = socket;
    this.clock = opts.clock;
    this.transport = opts.transport;
    this.direction = opts.direction;
    this.maxQueueFrames = opts.maxQueueFrames ?? 4_096;
    this.maxQueueBytes = opts.maxQueueBytes ?? 4 * 1024 * 1024;
    this.localAddress = socketAddressText(socket.localAddress, socket.localPort);
    this.remoteAddress = socketAddressText(socket.remoteAddress, socket.remotePort);
    this.log = opts.logger.child({ component: 'link', link: this.id, remote: this.remoteAddress });
    const now = this.clock.now();
    this.st = { txBytes: 0, rxBytes: 0, txMessages: 0, rxMessages: 0, dropped: 0, lastRxMs: now, lastTxMs: now };
    socket.setNoDelay(true);
    // Nothing is read until someone attaches, so early frames cannot pile up.
    socket.pause();
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('error', (e: Error) => this.close(`socket error: ${e.message}`));
    socket.on('close', () => this.close('connection closed by peer'));
    socket.on('end', () => this.close('connection closed by peer'));
  }

  get closed(): boolean {
    return this.isClosed;
  }

  /** Also tells `cb` when the link closes (after the attached receiver); at once if it already has. */
  whenClosed(cb: (reason: string) => void): void {
    if (this.isClosed) cb(this.closeReason);
    else this.closeWatchers.push(cb);
  }

  attach(events: LinkEvents): void {
    this.events = events;
    if (this.isClosed) events.onClose(this.closeReason);
    else this.socket.resume();
  }

  private onData(chunk: Buffer): void {
    if (this.isClosed) return;
    this.st.rxBytes += chunk.length;
    this.st.lastRxMs = this.clock.now();
    this.idleTimer?.reset();
    const r = this.reader.push(chunk, (frame) => {
      if (this.isClosed) return;
      this.st.rxMessages++;
      this.events?.onMessage(frame);
    });
    if (!r.ok) {
      this.log.warn({ reason: r.error.code, detail: r.error.message }, 'malformed Mycelium stream, closing link');
      this.close(`malformed stream: ${r.error.code}`);
    }
  }

  send(msg: Uint8Array): boolean {
    const out = this.out;
    if (this.isClosed || out.pendingFrames + this.socketFrames >= this.maxQueueFrames || out.pendingBytes + this.socketBytes + msg.length > this.maxQueueBytes) {
      this.st.dropped++;
      return false;
    }
    out.push(msg);
    this.st.txMessages++;
    this.st.txBytes += msg.length;
    this.st.lastTxMs = this.clock.now();
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      // Everything sent in this turn of the event loop goes out in one write.
      setImmediate(this.flush);
    }
    return true;
  }

  private readonly flush = (): void => {
    this.flushScheduled = false;
    if (this.isClosed) return;
    const frames = this.out.pendingFrames;
    const bytes = this.out.pendingBytes;
    const bufs = this.out.take();
    if (bufs.length === 0) return;
    this.socketFrames += frames;
    this.socketBytes += bytes;
    const done = (): void => {
      this.socketFrames -= frames;
      this.socketBytes -= bytes;
    };
    if (bufs.length === 1) {
      this.socket.write(bufs[0], done);
      return;
    }
    this.socket.cork();
    for (let i = 0; i < bufs.length - 1; i++) this.socket.write(bufs[i]);
    this.socket.write(bufs[bufs.length - 1], done);
    this.socket.uncork();
  };

  setIdleTimeout(ms: number): void {
    this.idleMs = ms;
    this.idleTimer?.cancel();
    this.idleTimer = undefined;
    if (ms > 0 && !this.isClosed) this.idleTimer = this.clock.setTimeout(() => this.close('idle timeout'), ms);
  }

  get idleTimeoutMs(): number {
    return this.idleMs;
  }

  close(reason: string): void {
    if (this.isClosed) return;
    this.isClosed = true;
    this.closeReason = reason;
    this.idleTimer?.cancel();
    this.out.clear();
    this.socket.destroy();
    this.log.debug({ reason }, 'link closed');
    this.events?.onClose(reason);
    for (const cb of this.closeWatchers.splice(0)) cb(reason);
  }

  stats(): LinkStats {
    return { ...this.st };
  }
}
