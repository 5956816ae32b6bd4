// Dialling and listening for Mycelium links: plain TCP, or, in a private network, TLS 1.3 with an
// external pre-shared key (reference §2.4): identity = network name (2–64 bytes), key = 32 raw
// bytes, SHA-256 suites only, no certificates. In private mode every connection is TLS, so a plain
// TCP peer, or one with another key, fails the handshake and is refused.
import net from 'node:net';
import tls from 'node:tls';
import type { Clock } from '../base/clock.ts';
import type { Logger } from '../base/log.ts';
import { err, ok, type Result } from '../base/result.ts';
import { formatEndpoint, type Endpoint } from './mycelium-endpoint.ts';
import { StreamLink } from './mycelium-stream.ts';
import { NETWORK_NAME_MAX_BYTES, NETWORK_NAME_MIN_BYTES } from './network-name.ts';

export { NETWORK_NAME_MAX_BYTES, NETWORK_NAME_MIN_BYTES };
export const NETWORK_KEY_BYTES = 32;
/** What OpenSSL's legacy PSK callbacks negotiate in TLS 1.3 (they assume a SHA-256 PSK). */
export const PSK_CIPHERSUITES = 'TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256';
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const HANDSHAKE_TIMEOUT_MS = 10_000;

export interface PrivateNetwork {
  readonly name: string;
  readonly key: Uint8Array;
}

export function privateNetwork(name: string, key: Uint8Array): Result<PrivateNetwork> {
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes < NETWORK_NAME_MIN_BYTES || bytes > NETWORK_NAME_MAX_BYTES) {
    return err('bad-network-name', `network name must be ${NETWORK_NAME_MIN_BYTES}–${NETWORK_NAME_MAX_BYTES} bytes, got ${bytes}`);
  }
  if (name.includes('\0')) return err('bad-network-name', 'network name must not contain NUL');
  if (key.length < NETWORK_KEY_BYTES) return err('bad-network-key', `network key must be ${NETWORK_KEY_BYTES} bytes, got ${key.length}`);
  // As Mycelium: the first 32 bytes of the key file are the key.
  return ok({ name, key: Uint8Array.from(key.subarray(0, NETWORK_KEY_BYTES)) });
}

export interface LinkLimits {
  maxQueueFrames?: number;
  maxQueueBytes?: number;
}

export interface DialOptions {
  clock: Clock;
  logger: Logger;
  privateNetwork?: PrivateNetwork;
  timeoutMs?: number;
  limits?: LinkLimits;
}

const TLS_COMMON: { minVersion: tls.SecureVersion; maxVersion: tls.SecureVersion; ciphers: string } = {
  minVersion: 'TLSv1.3',
  maxVersion: 'TLSv1.3',
  ciphers: PSK_CIPHERSUITES,
};

/**
 * Connects to a Mycelium peer. `tls://` needs a private network; in a private network `tcp://` is
 * upgraded to TLS. Resolves to a link or the reason it could not be made.
 */
export function dialMycelium(ep: Endpoint, opts: DialOptions): Promise<Result<StreamLink, { code: string; message: string }>> {
  const pn = opts.privateNetwork;
  if (ep.proto === 'quic') return Promise.resolve(err('unsupported', `QUIC is not supported: ${formatEndpoint(ep)}`));
  if (ep.proto === 'tls' && pn === undefined) return Promise.resolve(err('not-private', `${formatEndpoint(ep)} needs a private network (network name and key)`));
  const timeoutMs = opts.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  return new Promise((resolve) => {
    let done = false;
    let socket: net.Socket;
    const finish = (r: Result<StreamLink, { code: string; message: string }>): void => {
      if (done) return;
      done = true;
      timer.cancel();
      if (!r.ok) socket.destroy();
      resolve(r);
    };
    const timer = opts.clock.setTimeout(() => finish(err('timeout', `no connection to ${formatEndpoint(ep)} within ${timeoutMs} ms`)), timeoutMs);
    if (pn !== undefined) {
      socket = tls.connect({
        host: ep.host,
        port: ep.port,
        ...TLS_COMMON,
        pskCallback: () => ({ psk: Buffer.from(pn.key), identity: pn.name }),
        // There is no certificate: the PSK authenticates both sides.
        checkServerIdentity: () => undefined,
      });
      socket.once('secureConnect', () => finish(ok(new StreamLink(socket, { clock: opts.clock, logger: opts.logger, direction: 'outbound', transport: 'tls', ...opts.limits }))));
    } else {
      socket = net.connect({ host: ep.host, port: ep.port });
      socket.once('connect', () => finish(ok(new StreamLink(socket, { clock: opts.clock, logger: opts.logger, direction: 'outbound', transport: 'tcp', ...opts.limits }))));
    }
    socket.once('error', (e: Error) => finish(err('connect-failed', `${formatEndpoint(ep)}: ${e.message}`)));
    socket.once('close', () => finish(err('connect-failed', `${formatEndpoint(ep)}: connection closed during setup`)));
  });
}

export interface ListenOptions {
  clock: Clock;
  logger: Logger;
  /** Default `::` (all interfaces, IPv4 too where the OS maps it). */
  host?: string;
  port: number;
  privateNetwork?: PrivateNetwork;
  limits?: LinkLimits;
  onLink: (link: StreamLink) => void;
  /** A connection that failed before becoming a link (e.g. wrong PSK, plain TCP in private mode). */
  onRefused?: (remote: string, reason: string) => void;
}

export interface MyceliumListener {
  readonly port: number;
  readonly host: string;
  close(): Promise<void>;
}

export function listenMycelium(opts: ListenOptions): Promise<MyceliumListener> {
  const pn = opts.privateNetwork;
  const host = opts.host ?? '::';
  const makeLink = (s: net.Socket, transport: 'tcp' | 'tls'): void => {
    opts.onLink(new StreamLink(s, { clock: opts.clock, logger: opts.logger, direction: 'inbound', transport, ...opts.limits }));
  };
  let server: net.Server;
  if (pn !== undefined) {
    const nameBytes = Buffer.from(pn.name, 'utf8');
    const ts = tls.createServer({
      ...TLS_COMMON,
      // A connection that never completes a handshake (e.g. a plain TCP peer that stays silent).
      handshakeTimeout: HANDSHAKE_TIMEOUT_MS,
      pskCallback: (_socket: tls.TLSSocket, identity: string) => (Buffer.from(identity, 'utf8').equals(nameBytes) ? Buffer.from(pn.key) : null),
    });
    ts.on('secureConnection', (s: tls.TLSSocket) => makeLink(s, 'tls'));
    ts.on('tlsClientError', (e: Error, s: tls.TLSSocket) => {
      opts.onRefused?.(`${s.remoteAddress ?? '?'}:${s.remotePort ?? '?'}`, e.message);
      s.destroy();
    });
    server = ts;
  } else {
    server = net.createServer((s) => makeLink(s, 'tcp'));
  }
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: opts.port, ipv6Only: false }, () => {
      server.off('error', reject);
      server.on('error', (e) => opts.logger.error({ err: e.message }, 'listener error'));
      const addr = server.address() as net.AddressInfo;
      resolve({
        port: addr.port,
        host,
        close: () =>
          new Promise<void>((res) => {
            server.close(() => res());
          }),
      });
    });
  });
}
