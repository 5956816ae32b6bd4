// A hand-driven Micelio client for tests: it completes (or deliberately breaks) the Noise handshake on
// a raw socket and can then send arbitrary plaintext, so tests can play a misbehaving peer.
import { connect, type Socket } from 'node:net';
import { NoiseXXHandshake, type NoiseSession } from '../../src/crypto/noise.ts';
import type { NodeIdentity } from '../../src/identity/identity.ts';
import { FrameReader, encodeFrame } from '../../src/wire/micelio/frame.ts';

export interface RawNoiseClient {
  socket: Socket;
  session: NoiseSession;
  /** Encrypts `plaintext` as one transport message. */
  sendPlain(plaintext: Uint8Array): void;
  /** Sends `payload` in one frame in one transport message. */
  sendFrame(payload: Uint8Array): void;
  /** Frame payloads received so far. */
  received: Uint8Array[];
  /** Resolves when the server closes the socket. */
  closed: Promise<void>;
  isClosed(): boolean;
}

export function connectRaw(address: string): Promise<Socket> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  return new Promise((resolve, reject) => {
    const s = connect({ host, port }, () => resolve(s));
    s.once('error', reject);
  });
}

export function closedPromise(s: Socket): Promise<void> {
  return new Promise((resolve) => {
    if (s.destroyed) resolve();
    s.once('close', () => resolve());
    // A paused socket never sees the FIN: keep reading (and discarding) until it closes.
    if (s.listenerCount('data') === 0) s.resume();
  });
}

export async function rawNoiseClient(address: string, id: NodeIdentity, opts: { staticKey?: { privateKey: Uint8Array; publicKey: Uint8Array } } = {}): Promise<RawNoiseClient> {
  const socket = await connectRaw(address);
  socket.on('error', () => {});
  const closed = closedPromise(socket);
  let isClosed = false;
  void closed.then(() => (isClosed = true));
  const hs = new NoiseXXHandshake({ initiator: true, staticKey: opts.staticKey ?? { privateKey: id.x25519Private, publicKey: id.x25519Public } });
  let buf = Buffer.alloc(0);
  const write16 = (m: Uint8Array): void => {
    const b = Buffer.alloc(2 + m.length);
    b.writeUInt16BE(m.length);
    b.set(m, 2);
    socket.write(b);
  };
  const m1 = hs.writeMessage();
  if (!m1.ok) throw new Error(m1.error.message);
  write16(m1.value);
  const session = await new Promise<NoiseSession>((resolve, reject) => {
    const onData = (c: Buffer): void => {
      buf = Buffer.concat([buf, c]);
      if (buf.length < 2) return;
      const len = buf.readUInt16BE(0);
      if (buf.length < 2 + len) return;
      const r = hs.readMessage(buf.subarray(2, 2 + len));
      buf = buf.subarray(2 + len);
      socket.off('data', onData);
      if (!r.ok) return reject(new Error(r.error.message));
      const m3 = hs.writeMessage();
      if (!m3.ok) return reject(new Error(m3.error.message));
      write16(m3.value);
      resolve(hs.result() as NoiseSession);
    };
    socket.on('data', onData);
    void closed.then(() => reject(new Error('closed during handshake')));
  });
  const received: Uint8Array[] = [];
  const frames = new FrameReader();
  let rx = buf;
  socket.on('data', (c: Buffer) => {
    rx = Buffer.concat([rx, c]);
    while (rx.length >= 4 && rx.length >= 4 + rx.readUInt32BE(0)) {
      const len = rx.readUInt32BE(0);
      const pt = session.recv.decrypt(rx.subarray(4, 4 + len));
      rx = rx.subarray(4 + len);
      if (!pt.ok) return;
      frames.push(pt.value, (f) => received.push(f));
    }
  });
  const sendPlain = (pt: Uint8Array): void => {
    const ct = session.send.encrypt(pt);
    const h = Buffer.alloc(4);
    h.writeUInt32BE(ct.length);
    socket.write(Buffer.concat([h, ct]));
  };
  return {
    socket,
    session,
    sendPlain,
    sendFrame: (payload) => {
      const f = encodeFrame(payload);
      if (!f.ok) throw new Error(f.error.message);
      sendPlain(f.value);
    },
    received,
    closed,
    isClosed: () => isClosed,
  };
}

/** Polls `cond` until it holds; fails after `timeoutMs` with `what`. Real-time helper for socket tests. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
