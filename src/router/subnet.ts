// Subnets as the router keys them: 16 masked bytes and a prefix length, with a compact string key
// for maps. Only IPv6 reaches the routing table (updates for anything else are filtered out).
import { formatIpv6, maskPrefix, prefixContains } from '../wire/ipv6.ts';
import type { Prefix } from '../wire/mycelium/babel.ts';

export interface Subnet {
  /** 16 bytes, bits past `len` cleared. */
  readonly address: Uint8Array;
  readonly len: number;
  /** Map key: masked prefix bytes (latin1) + length. */
  readonly key: string;
}

export function subnetKey(address: Uint8Array, len: number): string {
  const n = (len + 7) >> 3;
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(address[i]);
  return `${s}/${len}`;
}

export function makeSubnet(address: Uint8Array, len: number): Subnet {
  const masked = maskPrefix(address, len);
  return { address: masked, len, key: subnetKey(masked, len) };
}

/** The /64 an address belongs to. */
export function subnet64(ip: Uint8Array): Subnet {
  return makeSubnet(ip, 64);
}

export function subnetFromPrefix(p: Prefix): Subnet | undefined {
  if (p.family !== 6) return undefined;
  return makeSubnet(p.address, p.len);
}

export function subnetToPrefix(s: Subnet): Prefix {
  return { family: 6, len: s.len, address: s.address };
}

export function subnetContains(s: Subnet, ip: Uint8Array): boolean {
  return prefixContains(s.address, s.len, ip);
}

/** True if `inner` lies inside `outer`. */
export function subnetContainsSubnet(outer: Subnet, inner: Subnet): boolean {
  return inner.len >= outer.len && prefixContains(outer.address, outer.len, inner.address);
}

export function subnetText(s: Subnet): string {
  return `${formatIpv6(s.address)}/${s.len}`;
}
