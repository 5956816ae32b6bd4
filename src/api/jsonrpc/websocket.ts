// The server side of WebSocket (RFC 6455), as much as JSON-RPC needs: the opening handshake, frames from
// clients (masked, possibly fragmented), text and binary messages up to a size bound, ping/pong and the
// closing handshake. The frame decoder is a pure function over bytes that never throws: a protocol error
// becomes a close code and a reason, and closes that connection only.
import { createHash } from 'node:crypto';
import type { Duplex } from 'node:stream';

const HANDSHAKE_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export const OP_CONTINUATION = 0x0;
export const OP_TEXT = 0x1;
export const OP_BINARY = 0x2;
export const OP_CLOSE = 0x8;
export const OP_PING = 0x9;
export const OP_PONG = 0xa;

export const CLOSE_NORMAL = 1000;
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_PROTOCOL_ERROR = 1002;
export const CLOSE_INVALID_DATA = 1007;
export const CLOSE_TOO_BIG = 1009;

/** Largest payload of a control frame (RFC 6455 §5.5). */
const MAX_CONTROL_PAYLOAD = 125;

export interface WsFrame {
  fin: boolean;
  opcode: number;
  /** Unmasked. */
  payload: Uint8Array;
}

export type FrameParse =
  | { kind: 'frame'; frame: WsFrame; used: number }
  /** `need`: the whole frame's size once its header is in, so a caller can wait for that many bytes. */
  | { kind: 'need-more'; need?: number }
  | { kind: 'error'; closeCode: number; reason: string };

/** The Sec-WebSocket-Accept value for a client's Sec-WebSocket-Key. */
export function acceptKey(key: string): string {
  return createHash('sha1').update(key + HANDSHAKE_GUID).digest('base64');
}

/** Reads one client frame from the start of `buf`; payloads over `maxPayload` bytes are refused before they are buffered. */
export function parseClientFrame(buf: Uint8Array, maxPayload: number): FrameParse {
  if (buf.length < 2) return { kind: 'need-more' };
  const b0 = buf[0];
  const b1 = buf[1];
  const fin = (b0 & 0x80) !== 0;
  const opcode = b0 & 0x0f;
  if ((b0 & 0x70) !== 0) return { kind: 'error', closeCode: CLOSE_PROTOCOL_ERROR, reason: 'reserved bits set (no extension was negotiated)' };
  if (![OP_CONTINUATION, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG].includes(opcode)) {
    return { kind: 'error', closeCode: CLOSE_PROTOCOL_ERROR, reason: `unknown opcode ${opcode}` };
  }
  if ((b1 & 0x80) === 0) return { kind: 'error', closeCode: CLOSE_PROTOCOL_ERROR, reason: 'a client frame must be masked' };
  let len = b1 & 0x7f;
  let at = 2;
  if (len === 126) {
    if (buf.length < 4) return { kind: 'need-more' };
    len = (buf[2] << 8) | buf[3];
    at = 4;
  } else if (len === 127) {
    if (buf.length < 10) return { kind: 'need-more' };
    const view = new DataView(buf.buffer, buf.byteOffset + 2, 8);
    // Payloads of 4 GiB or more are never acceptable; below that the low word is the length.
    if (view.getUint32(0) !== 0) return { kind: 'error', closeCode: CLOSE_TOO_BIG, reason: `a frame of 4 GiB or more; at most ${maxPayload} bytes` };
    len = view.getUint32(4);
    at = 10;
  }
  if (opcode >= OP_CLOSE) {
    if (!fin) return { kind: 'error', closeCode: CLOSE_PROTOCOL_ERROR, reason: 'a fragmented control frame' };
    if (len > MAX_CONTROL_PAYLOAD) return { kind: 'error', closeCode: CLOSE_PROTOCOL_ERROR, reason: `a control frame of ${len} bytes (at most ${MAX_CONTROL_PAYLOAD})` };
  }
  if (len > maxPayload) return { kind: 'error', closeCode: CLOSE_TOO_BIG, reason: `a frame of ${len} bytes; at most ${maxPayload}` };
  if (buf.length < at + 4 + len) return { kind: 'need-more', need: at + 4 + len };
  const mask = buf.subarray(at, at + 4);
  const payload = new Uint8Array(len);
  const data = buf.subarray(at + 4, at + 4 + len);
  for (let i = 0; i < len; i++) payload[i] = data[i] ^ mask[i & 3];
  return { kind: 'frame', frame: { fin, opcode, payload }, used: at + 4 + len };
}

/** A server frame (unmasked, unfragmented). */
export function encodeServerFrame(opcode: number, payload: Uint8Array): Uint8Array {
  const len = payload.length;
  const head = len < 126 ? 2 : len < 65_536 ? 4 : 10;
  const out = new Uint8Array(head + len);
  out[0] = 0x80 | opcode;
  if (len < 126) out[1] = len;
  else if (len < 65_536) {
    out[1] = 126;
    out[2] = len >>> 8;
    out[3] = len & 0xff;
  } else {
    out[1] = 127;
    const hi = Math.floor(len / 2 ** 32);
    new DataView(out.buffer).setUint32(2, hi);
    new DataView(out.buffer).setUint32(6, len >>> 0);
  }
  out.set(payload, head);
  return out;
}

function closePayload(code: number, reason: string): Uint8Array {
  const r = Buffer.from(reason.slice(0, 100), 'utf8').subarray(0, MAX_CONTROL_PAYLOAD - 2);
  const out = new Uint8Array(2 + r.length);
  out[0] = code >>> 8;
  out[1] = code & 0xff;
  out.set(r, 2);
  return out;
}

export interface WsConnectionOptions {
  /** Largest message (all fragments together). */
  maxMessageBytes: number;
  /** A complete text (or binary) message. */
  onMessage(text: string): void;
  onClose(): void;
}

/** One accepted WebSocket on a socket whose handshake was answered. */
export class WsConnection {
  private readonly socket: Duplex;
  private readonly opts: WsConnectionOptions;
  /** Bytes received and not yet parsed, and how many a frame needs before it is worth parsing again. */
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private need = 0;
  private fragments: Uint8Array[] = [];
  private fragmentBytes = 0;
  private closing = false;
  private closed = false;
  private readonly utf8 = new TextDecoder('utf-8', { fatal: true });

  constructor(socket: Duplex, head: Uint8Array, opts: WsConnectionOptions) {
    this.socket = socket;
    this.opts = opts;
    socket.on('data', (d: Buffer) => this.receive(d));
    socket.on('error', () => this.finish());
    socket.on('close', () => this.finish());
    if (head.length > 0) this.receive(head);
  }

  get isOpen(): boolean {
    return !this.closing && !this.closed;
  }

  sendText(text: string): void {
    if (!this.isOpen) return;
    this.socket.write(encodeServerFrame(OP_TEXT, Buffer.from(text, 'utf8')));
  }

  /** Starts the closing handshake; the socket ends once the client answers (or at once after an error). */
  close(code: number, reason: string): void {
    if (this.closed) return;
    if (!this.closing) {
      this.closing = true;
      this.socket.write(encodeServerFrame(OP_CLOSE, closePayload(code, reason)));
    }
    this.socket.end();
  }

  private receive(d: Uint8Array): void {
    if (this.closed) return;
    this.chunks.push(d);
    this.buffered += d.length;
    // A large frame arrives in many pieces: they are joined once it is complete, not once per piece.
    while (this.buffered > 0 && this.buffered >= this.need) {
      const buf = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks);
      this.chunks = [buf];
      const r = parseClientFrame(buf, this.opts.maxMessageBytes);
      if (r.kind === 'need-more') {
        this.need = r.need ?? this.buffered + 1;
        return;
      }
      if (r.kind === 'error') {
        this.chunks = [];
        this.buffered = 0;
        this.close(r.closeCode, r.reason);
        return;
      }
      const rest = buf.subarray(r.used);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
      this.need = 0;
      if (!this.frame(r.frame)) return;
    }
  }

  /** Handles one frame; false when the connection is closing. */
  private frame(f: WsFrame): boolean {
    switch (f.opcode) {
      case OP_PING:
        if (this.isOpen) this.socket.write(encodeServerFrame(OP_PONG, f.payload));
        return true;
      case OP_PONG:
        return true;
      case OP_CLOSE:
        // Answer the closing handshake; the client's code needs no reply of its own.
        this.close(CLOSE_NORMAL, '');
        return false;
      case OP_CONTINUATION:
        if (this.fragments.length === 0) {
          this.close(CLOSE_PROTOCOL_ERROR, 'a continuation frame without a message to continue');
          return false;
        }
        return this.addFragment(f);
      default: // text or binary
        if (this.fragments.length > 0) {
          this.close(CLOSE_PROTOCOL_ERROR, 'a new message inside a fragmented one');
          return false;
        }
        return this.addFragment(f);
    }
  }

  private addFragment(f: WsFrame): boolean {
    this.fragmentBytes += f.payload.length;
    if (this.fragmentBytes > this.opts.maxMessageBytes) {
      this.close(CLOSE_TOO_BIG, `a message of more than ${this.opts.maxMessageBytes} bytes`);
      return false;
    }
    this.fragments.push(f.payload);
    if (!f.fin) return true;
    const whole = this.fragments.length === 1 ? this.fragments[0] : Buffer.concat(this.fragments);
    this.fragments = [];
    this.fragmentBytes = 0;
    let text: string;
    try {
      text = this.utf8.decode(whole);
    } catch {
      this.close(CLOSE_INVALID_DATA, 'the message is not UTF-8');
      return false;
    }
    if (this.isOpen) this.opts.onMessage(text);
    return this.isOpen;
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.destroy();
    this.opts.onClose();
  }
}
