// ICMPv6 error messages (RFC 4443) in an IPv6 packet, for the data plane: Destination Unreachable
// and Time Exceeded, with the checksum over the IPv6 pseudo-header. Pure functions, no I/O.

export const IPV6_HEADER_BYTES = 40;
export const ICMPV6_HEADER_BYTES = 8;
export const NEXT_HEADER_ICMPV6 = 58;
/** An ICMPv6 error must fit the IPv6 minimum MTU. */
export const MIN_IPV6_MTU = 1280;
/** Most of an offending packet an error may quote: 1280 − 40 − 8. */
export const MAX_ICMP_QUOTE_BYTES = MIN_IPV6_MTU - IPV6_HEADER_BYTES - ICMPV6_HEADER_BYTES;

export const ICMPV6_DEST_UNREACHABLE = 1;
export const ICMPV6_TIME_EXCEEDED = 3;
export const DEST_UNREACHABLE_NO_ROUTE = 0;
export const DEST_UNREACHABLE_ADDRESS = 3;
export const DEST_UNREACHABLE_SOURCE_POLICY = 5;
export const TIME_EXCEEDED_HOP_LIMIT = 0;

/** One's-complement sum of `b[o..o+n]` added to `acc` (16-bit words, big-endian, odd tail padded). */
function sum16(b: Uint8Array, o: number, n: number, acc: number): number {
  let s = acc;
  const end = o + n - 1;
  let i = o;
  for (; i < end; i += 2) s += (b[i] << 8) | b[i + 1];
  if (i === end) s += b[i] << 8;
  return s;
}

function fold(s: number): number {
  let x = s;
  while (x > 0xffff) x = (x & 0xffff) + (x >>> 16);
  return x;
}

/** ICMPv6 checksum of the message at `packet[40..]` inside a whole IPv6 packet. */
export function icmpv6Checksum(packet: Uint8Array): number {
  const len = packet.length - IPV6_HEADER_BYTES;
  let s = sum16(packet, 8, 32, 0); // source + destination
  s += (len >>> 16) + (len & 0xffff) + NEXT_HEADER_ICMPV6;
  const c = packet[IPV6_HEADER_BYTES + 2];
  const d = packet[IPV6_HEADER_BYTES + 3];
  packet[IPV6_HEADER_BYTES + 2] = 0;
  packet[IPV6_HEADER_BYTES + 3] = 0;
  s = sum16(packet, IPV6_HEADER_BYTES, len, s);
  packet[IPV6_HEADER_BYTES + 2] = c;
  packet[IPV6_HEADER_BYTES + 3] = d;
  const r = ~fold(s) & 0xffff;
  return r === 0 ? 0xffff : r;
}

/**
 * An IPv6 packet carrying an ICMPv6 error of `type`/`code` that quotes `body` (which the caller has
 * already cut to MAX_ICMP_QUOTE_BYTES where the quote is the offending packet).
 */
export function buildIcmpv6(src: Uint8Array, dst: Uint8Array, hopLimit: number, type: number, code: number, body: Uint8Array): Uint8Array {
  const payloadLen = ICMPV6_HEADER_BYTES + body.length;
  const p = new Uint8Array(IPV6_HEADER_BYTES + payloadLen);
  p[0] = 0x60;
  p[4] = payloadLen >>> 8;
  p[5] = payloadLen & 0xff;
  p[6] = NEXT_HEADER_ICMPV6;
  p[7] = hopLimit;
  p.set(src.subarray(0, 16), 8);
  p.set(dst.subarray(0, 16), 24);
  p[40] = type;
  p[41] = code;
  p.set(body, IPV6_HEADER_BYTES + ICMPV6_HEADER_BYTES);
  const c = icmpv6Checksum(p);
  p[42] = c >>> 8;
  p[43] = c & 0xff;
  return p;
}

/** True if the checksum of an ICMPv6 packet verifies. */
export function icmpv6ChecksumOk(packet: Uint8Array): boolean {
  if (packet.length < IPV6_HEADER_BYTES + ICMPV6_HEADER_BYTES) return false;
  return icmpv6Checksum(packet) === ((packet[42] << 8) | packet[43]);
}
