// Source allow-list entries of a topic (reference §5.4): an IP address or a CIDR, IPv4 or IPv6, as
// Mycelium accepts them. A bare address is a /32 or /128. Messages only ever come from IPv6 overlay
// addresses, so an IPv4 entry is kept (a file may list one) but never matches.
import { formatIpv6, maskPrefix, parseIpv6, prefixContains } from '../wire/ipv6.ts';

export interface Cidr {
  family: 4 | 6;
  /** 4 or 16 bytes, as written (host bits kept, as Mycelium displays them). */
  address: Uint8Array;
  len: number;
}

function parseIpv4(s: string): Uint8Array | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    if (!/^\d{1,3}$/.test(parts[i])) return undefined;
    const n = Number(parts[i]);
    if (n > 255) return undefined;
    out[i] = n;
  }
  return out;
}

/** Parses "400::/7", "503:5478:df06:d79a::1" or "10.0.0.0/8"; the error says what is wrong. */
export function parseCidr(text: string): { ok: true; value: Cidr } | { ok: false; message: string } {
  if (typeof text !== 'string' || text.length === 0) return { ok: false, message: 'empty subnet: give an IP address or a CIDR such as 400::/7' };
  if (text.length > 64) return { ok: false, message: `"${text.slice(0, 64)}…" is too long to be an IP address or CIDR` };
  const slash = text.indexOf('/');
  const addrText = slash < 0 ? text : text.slice(0, slash);
  const v4 = parseIpv4(addrText);
  const v6 = v4 === undefined && !addrText.startsWith('[') ? parseIpv6(addrText) : undefined;
  if (v4 === undefined && v6 === undefined) return { ok: false, message: `"${text}" is not an IP address or CIDR (e.g. 400::/7 or 503:5478:df06:d79a::1)` };
  const family: 4 | 6 = v4 ? 4 : 6;
  const max = family === 4 ? 32 : 128;
  let len = max;
  if (slash >= 0) {
    const lenText = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(lenText) || Number(lenText) > max) return { ok: false, message: `"${text}": prefix length must be 0 to ${max}` };
    len = Number(lenText);
  }
  return { ok: true, value: { family, address: (v4 ?? v6) as Uint8Array, len } };
}

export function formatCidr(c: Cidr): string {
  const a = c.family === 4 ? [...c.address].join('.') : formatIpv6(c.address);
  return `${a}/${c.len}`;
}

/** Same network: same family, length and masked prefix ("400::1/64" equals "400::/64"). */
export function sameCidr(a: Cidr, b: Cidr): boolean {
  if (a.family !== b.family || a.len !== b.len) return false;
  if (a.family === 4) return prefixContains(a.address, a.len, b.address);
  const ma = maskPrefix(a.address, a.len);
  const mb = maskPrefix(b.address, b.len);
  for (let i = 0; i < 16; i++) if (ma[i] !== mb[i]) return false;
  return true;
}

/** True if the 16-byte IPv6 address `ip` lies in `c`. */
export function cidrContains(c: Cidr, ip: Uint8Array): boolean {
  return c.family === 6 && prefixContains(c.address, c.len, ip);
}
