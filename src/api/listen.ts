// What the node's listeners (HTTP API, JSON-RPC, metrics) share: binding with an error that says what to
// change, the bound address as text, and the token comparison.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** What a listener serves and the flag that moves it, for the error text. */
export interface ListenerName {
  /** "the HTTP API", "JSON-RPC", "metrics" */
  what: string;
  /** "--api-addr" */
  flag: string;
  /** 'the API': `or "" to turn <off> off` */
  off: string;
}

/** Turns a bind failure into a message naming the address, the cause, and the flag to change. */
export function listenError(e: unknown, host: string, port: number, name: ListenerName): Error {
  const code = (e as { code?: string }).code;
  const where = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const why = code === 'EADDRINUSE' ? 'the address is in use (another node running?)'
    : code === 'EADDRNOTAVAIL' ? 'no interface has this address'
      : code === 'EACCES' ? 'permission denied (ports below 1024 need privileges)'
        : (e as Error).message;
  return new Error(`cannot listen for ${name.what} on ${where}: ${why}; choose another ${name.flag}, or "" to turn ${name.off} off`, { cause: e });
}

/** Binds a node:http server; rejects with listenError's message. */
export async function listenHttp(server: Server, host: string, port: number, name: ListenerName): Promise<AddressInfo> {
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (e) {
    throw listenError(e, host, port, name);
  }
  return server.address() as AddressInfo;
}

/** "127.0.0.1:8989" or "[::1]:8989". */
export function addressText(b: AddressInfo | undefined): string | undefined {
  if (b === undefined) return undefined;
  return b.family === 'IPv6' || b.address.includes(':') ? `[${b.address}]:${b.port}` : `${b.address}:${b.port}`;
}

/** Compares in constant time: hashing first makes the lengths equal. */
export function sameToken(a: string, b: string): boolean {
  const h = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(h(a), h(b));
}
