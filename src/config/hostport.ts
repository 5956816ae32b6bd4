// host:port text as Micelio's config holds it (net.SplitHostPort rules: IPv6 literals in brackets), with
// the checks of reference §6: a listen address may use a wildcard host, a peer address may not.
import { err, ok, type Result } from '../base/result.ts';
import { parseIpv6 } from '../wire/ipv6.ts';

export interface HostPort {
  /** Host without brackets: a name, an IPv4 literal or an IPv6 literal. */
  host: string;
  port: number;
}

const MAX_ADDRESS_CHARS = 300;
const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
// Host names as resolvers accept them; underscores are tolerated because real DNS names carry them.
const HOSTNAME = /^(?=.{1,253}\.?$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

function isIpv4(host: string): boolean {
  const m = IPV4.exec(host);
  return m !== null && m.slice(1).every((o) => Number(o) <= 255);
}

/** Splits `host:port` / `[v6]:port`; the host may be empty (":4000"). The port must be 0–65535. */
export function splitHostPort(text: string): Result<HostPort> {
  const fail = (why: string) => err('bad-address', why);
  if (text.length > MAX_ADDRESS_CHARS) return fail('address is too long');
  const s = text.trim();
  let host: string;
  let portText: string;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) return fail(`missing "]" in ${JSON.stringify(s)}`);
    host = s.slice(1, close);
    if (s[close + 1] !== ':') return fail(`missing port in ${JSON.stringify(s)} (write [host]:port)`);
    portText = s.slice(close + 2);
    if (parseIpv6(host) === undefined) return fail(`${JSON.stringify(host)} is not an IPv6 address`);
  } else {
    const colon = s.lastIndexOf(':');
    if (colon < 0) return fail(`missing port in ${JSON.stringify(s)} (write host:port)`);
    host = s.slice(0, colon);
    portText = s.slice(colon + 1);
    if (host.includes(':')) return fail(`IPv6 addresses need brackets: write [${host}]:${portText}`);
    if (host !== '' && !isIpv4(host) && !HOSTNAME.test(host)) return fail(`${JSON.stringify(host)} is not a valid host name or IP address`);
  }
  if (portText === '') return fail(`missing port in ${JSON.stringify(s)}`);
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) return fail(`port ${JSON.stringify(portText)} is not a number from 0 to 65535`);
  return ok({ host, port: Number(portText) });
}

/** True for the unspecified addresses (0.0.0.0, ::, and their spellings), which no peer can dial. */
export function isWildcardHost(host: string): boolean {
  if (isIpv4(host)) return host.split('.').every((o) => Number(o) === 0);
  const v6 = parseIpv6(host);
  if (!v6) return false;
  // :: or ::ffff:0.0.0.0 (Go's IsUnspecified sees the latter as 0.0.0.0).
  const mapped = v6.subarray(0, 10).every((b) => b === 0) && v6[10] === 0xff && v6[11] === 0xff;
  return v6.every((b, i) => b === 0 || (mapped && (i === 10 || i === 11)));
}

export function formatHostPort(hp: HostPort): string {
  return hp.host.includes(':') ? `[${hp.host}]:${hp.port}` : `${hp.host}:${hp.port}`;
}
