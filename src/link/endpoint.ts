// host:port endpoints as Micelio writes them (Go's net.SplitHostPort rules: an IPv6 host must be in
// brackets), with an optional `micelio://` scheme.
import { isIPv4, isIPv6 } from 'node:net';
import { err, ok, type Result } from '../base/result.ts';
import { parseIpv6 } from '../wire/ipv6.ts';

export interface HostPort {
  host: string;
  port: number;
}

const NATIVE_SCHEME = 'micelio://';

/** Splits `host:port`, `[v6]:port` or `micelio://host:port`. Port 0 only with `allowPortZero` (listening). */
export function parseHostPort(text: string, allowPortZero = false): Result<HostPort> {
  let s = text.trim();
  if (s.startsWith(NATIVE_SCHEME)) s = s.slice(NATIVE_SCHEME.length);
  let host: string;
  let portText: string;
  if (s.startsWith('[')) {
    const end = s.indexOf(']');
    if (end < 0 || s[end + 1] !== ':') return err('bad-address', `"${text}": missing "]:" after IPv6 host`);
    host = s.slice(1, end);
    portText = s.slice(end + 2);
    if (!isIPv6(host)) return err('bad-address', `"${text}": "${host}" is not an IPv6 address`);
  } else {
    const colon = s.lastIndexOf(':');
    if (colon < 0) return err('bad-address', `"${text}": missing port`);
    host = s.slice(0, colon);
    portText = s.slice(colon + 1);
    if (host.includes(':')) return err('bad-address', `"${text}": too many colons (put an IPv6 host in brackets)`);
  }
  if (!/^[0-9]{1,5}$/.test(portText)) return err('bad-address', `"${text}": bad port "${portText}"`);
  const port = Number(portText);
  if (port > 65535 || (port === 0 && !allowPortZero)) return err('bad-address', `"${text}": port ${port} out of range`);
  return ok({ host, port });
}

export function formatHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** The empty host and the unspecified addresses (0.0.0.0, ::) — where no peer can be dialled. */
export function isWildcardHost(host: string): boolean {
  if (host === '') return true;
  if (isIPv4(host)) return host === '0.0.0.0';
  if (isIPv6(host)) {
    const b = parseIpv6(host);
    return b !== undefined && b.every((x) => x === 0);
  }
  return false;
}

/** A peer address worth storing, advertising or dialling: valid host:port, host not a wildcard. */
export function isDialableAddress(text: string): boolean {
  const hp = parseHostPort(text);
  return hp.ok && !isWildcardHost(hp.value.host);
}
