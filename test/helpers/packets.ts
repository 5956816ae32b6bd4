// Hand-built IPv6 packets for TUN tests and benchmarks: UDP datagrams and ICMPv6 echo replies with
// correct checksums (the kernel drops packets whose checksum is wrong, so a test that gets this wrong
// fails loudly rather than passing by accident).
import { parseIpv6 } from '../../src/wire/ipv6.ts';

export const IPV6_HEADER_BYTES = 40;
export const NEXT_HEADER_UDP = 17;
export const NEXT_HEADER_ICMPV6 = 58;
export const ICMPV6_ECHO_REQUEST = 128;
export const ICMPV6_ECHO_REPLY = 129;

export function ipv6(text: string): Uint8Array {
  const a = parseIpv6(text);
  if (a === undefined) throw new Error(`not an IPv6 address: ${text}`);
  return a;
}

/** RFC 1071 ones' complement sum over the IPv6 pseudo-header and the upper-layer packet. */
export function upperLayerChecksum(src: Uint8Array, dst: Uint8Array, nextHeader: number, upper: Uint8Array): number {
  let sum = 0;
  const add = (b: Uint8Array): void => {
    for (let i = 0; i + 1 < b.length; i += 2) sum += (b[i] << 8) | b[i + 1];
    if (b.length % 2 === 1) sum += b[b.length - 1] << 8;
  };
  add(src);
  add(dst);
  sum += upper.length >>> 16;
  sum += upper.length & 0xffff;
  sum += nextHeader;
  add(upper);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

function header(src: Uint8Array, dst: Uint8Array, nextHeader: number, payloadLen: number, hopLimit: number): Uint8Array {
  const p = new Uint8Array(IPV6_HEADER_BYTES + payloadLen);
  p[0] = 0x60;
  p[4] = payloadLen >> 8;
  p[5] = payloadLen & 0xff;
  p[6] = nextHeader;
  p[7] = hopLimit;
  p.set(src, 8);
  p.set(dst, 24);
  return p;
}

/** A complete IPv6/UDP packet of `totalBytes` (payload filled with a pattern). */
export function buildUdp6(opts: { src: Uint8Array; dst: Uint8Array; srcPort: number; dstPort: number; totalBytes: number; hopLimit?: number }): Uint8Array {
  const udpLen = opts.totalBytes - IPV6_HEADER_BYTES;
  if (udpLen < 8) throw new RangeError(`a UDP packet needs at least 48 bytes, asked for ${opts.totalBytes}`);
  const p = header(opts.src, opts.dst, NEXT_HEADER_UDP, udpLen, opts.hopLimit ?? 64);
  const udp = p.subarray(IPV6_HEADER_BYTES);
  udp[0] = opts.srcPort >> 8;
  udp[1] = opts.srcPort & 0xff;
  udp[2] = opts.dstPort >> 8;
  udp[3] = opts.dstPort & 0xff;
  udp[4] = udpLen >> 8;
  udp[5] = udpLen & 0xff;
  for (let i = 8; i < udpLen; i++) udp[i] = i & 0xff;
  const c = upperLayerChecksum(opts.src, opts.dst, NEXT_HEADER_UDP, udp) || 0xffff;
  udp[6] = c >> 8;
  udp[7] = c & 0xff;
  return p;
}

/** The echo reply the addressee of an ICMPv6 echo request would send, or undefined if it is not one. */
export function echoReplyFor(request: Uint8Array): Uint8Array | undefined {
  if (request.length < IPV6_HEADER_BYTES + 8 || request[0] >> 4 !== 6) return undefined;
  if (request[6] !== NEXT_HEADER_ICMPV6 || request[IPV6_HEADER_BYTES] !== ICMPV6_ECHO_REQUEST) return undefined;
  const payloadLen = (request[4] << 8) | request[5];
  if (payloadLen !== request.length - IPV6_HEADER_BYTES) return undefined;
  const src = request.slice(24, 40);
  const dst = request.slice(8, 24);
  const reply = header(src, dst, NEXT_HEADER_ICMPV6, payloadLen, 64);
  reply.set(request.subarray(IPV6_HEADER_BYTES), IPV6_HEADER_BYTES);
  const icmp = reply.subarray(IPV6_HEADER_BYTES);
  icmp[0] = ICMPV6_ECHO_REPLY;
  icmp[2] = 0;
  icmp[3] = 0;
  const c = upperLayerChecksum(src, dst, NEXT_HEADER_ICMPV6, icmp);
  icmp[2] = c >> 8;
  icmp[3] = c & 0xff;
  return reply;
}
