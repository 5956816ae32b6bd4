// Mycelium peer endpoints: `tcp://IP:PORT`, `tcp://[IPv6]:PORT`, `tls://…` (private networks),
// `quic://…` (recognised, not supported here). Like Mycelium, only IP literals are accepted; a
// link-local IPv6 may carry its interface (`[fe80::1%eth0]`).
import { isIPv4, isIPv6 } from 'node:net';
import { err, ok, type Result } from '../base/result.ts';

export type MyceliumProto = 'tcp' | 'tls' | 'quic';

export interface Endpoint {
  proto: MyceliumProto;
  /** IP literal without brackets; may end in `%zone` for link-local IPv6. */
  host: string;
  port: number;
}

export function parseEndpoint(text: string): Result<Endpoint> {
  const m = /^([a-z]+):\/\/(.+)$/.exec(text.trim());
  if (m === null) return err('bad-endpoint', `"${text}" is not an endpoint (expected tcp://IP:PORT)`);
  const proto = m[1];
  if (proto !== 'tcp' && proto !== 'tls' && proto !== 'quic') return err('bad-protocol', `unknown protocol "${proto}" in "${text}" (tcp, tls or quic)`);
  let host: string;
  let portText: string;
  const rest = m[2];
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0 || rest[close + 1] !== ':') return err('bad-endpoint', `"${text}": IPv6 must be written [addr]:port`);
    host = rest.slice(1, close);
    portText = rest.slice(close + 2);
    const bare = host.split('%')[0];
    if (!isIPv6(bare)) return err('bad-address', `"${host}" is not an IPv6 address`);
  } else {
    const colon = rest.lastIndexOf(':');
    if (colon < 0) return err('bad-endpoint', `"${text}" has no port`);
    host = rest.slice(0, colon);
    portText = rest.slice(colon + 1);
    if (!isIPv4(host)) return err('bad-address', `"${host}" is not an IPv4 address (IPv6 goes in brackets; host names are not accepted)`);
  }
  if (!/^\d{1,5}$/.test(portText) || Number(portText) < 1 || Number(portText) > 65535) return err('bad-port', `bad port "${portText}" in "${text}"`);
  return ok({ proto, host, port: Number(portText) });
}

export function formatEndpoint(e: Endpoint): string {
  return `${e.proto}://${formatSocketAddress(e.host, e.port)}`;
}

export function formatSocketAddress(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}
