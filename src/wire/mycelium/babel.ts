// Babel as Mycelium puts it on the wire (reference §3.1): a 4-byte Babel header (magic 42, version 3,
// body length) followed by exactly one TLV. Mycelium's TLVs differ from RFC 8966: Update and
// SeqnoRequest carry a 40-byte router id, RouteRequest starts with a generation byte.
//
// The Rust decoder trusts TLV lengths and, on anything it "skips" (unknown TLV, bad AE, bad magic),
// loses track of its stream. So the decoder here checks every length against the content and
// reports a typed error, and the encoder refuses (throws) anything the Rust side would skip: one TLV
// per packet, only types 4/5/8/9/10, only AE 0/1/2, hop count ≥ 1, intervals ≥ 1.
import { err, ok, type Result } from '../../base/result.ts';
import { ROUTER_ID_BYTES } from './router-id.ts';

export const BABEL_MAGIC = 42;
export const BABEL_VERSION = 3;
export const BABEL_HEADER_BYTES = 4;
export const TLV_HEADER_BYTES = 2;

export const TLV_TYPE_HELLO = 4;
export const TLV_TYPE_IHU = 5;
export const TLV_TYPE_UPDATE = 8;
export const TLV_TYPE_ROUTE_REQUEST = 9;
export const TLV_TYPE_SEQNO_REQUEST = 10;

export const AE_WILDCARD = 0;
export const AE_IPV4 = 1;
export const AE_IPV6 = 2;
/** Link-local IPv6: 8 bytes on the wire, fe80::/64 implied. Decoded, never encoded. */
export const AE_IPV6_LL = 3;

export const HELLO_FLAG_UNICAST = 0x8000;
const HELLO_FLAG_MASK = 0x8000;
const UPDATE_FLAG_MASK = 0xc0;

const HELLO_BODY_BYTES = 6;
const IHU_BASE_BYTES = 6;
const UPDATE_BASE_BYTES = 10 + ROUTER_ID_BYTES;
const ROUTE_REQUEST_BASE_BYTES = 3;
const SEQNO_REQUEST_BASE_BYTES = 6 + ROUTER_ID_BYTES;

/**
 * An address prefix. `address` is 16 bytes for IPv6, 4 for IPv4; bytes past the transmitted prefix
 * are zero. Mycelium writes prefix bytes from the address unmasked, so bits past `len` inside the last
 * transmitted byte are kept as received.
 */
export interface Prefix {
  family: 4 | 6;
  len: number;
  address: Uint8Array;
}

export interface IpAddress {
  family: 4 | 6;
  bytes: Uint8Array;
}

export interface HelloTlv {
  kind: 'hello';
  /** Only the unicast bit (0x8000) survives decoding, as in Mycelium. */
  flags: number;
  seqno: number;
  /** Centiseconds. */
  intervalCs: number;
}

export interface IhuTlv {
  kind: 'ihu';
  rxCost: number;
  /** Centiseconds. */
  intervalCs: number;
  address: IpAddress | undefined;
}

export interface UpdateTlv {
  kind: 'update';
  /** Only bits 0xC0 survive decoding; Mycelium always sends 0. */
  flags: number;
  /** Centiseconds. */
  intervalCs: number;
  seqno: number;
  metric: number;
  prefix: Prefix;
  routerId: Uint8Array;
}

export interface RouteRequestTlv {
  kind: 'route-request';
  generation: number;
  /** undefined = wildcard (a full table dump is requested). */
  prefix: Prefix | undefined;
}

export interface SeqnoRequestTlv {
  kind: 'seqno-request';
  seqno: number;
  hopCount: number;
  routerId: Uint8Array;
  prefix: Prefix;
}

export type Tlv = HelloTlv | IhuTlv | UpdateTlv | RouteRequestTlv | SeqnoRequestTlv;

// ---------------------------------------------------------------------------------------------
// Encoding

function prefixBytes(len: number): number {
  return (len + 7) >> 3;
}

function aeOf(p: Prefix): number {
  return p.family === 6 ? AE_IPV6 : AE_IPV4;
}

function checkPrefix(p: Prefix, what: string): void {
  const max = p.family === 6 ? 128 : 32;
  if (!Number.isInteger(p.len) || p.len < 0 || p.len > max) throw new RangeError(`${what}: prefix length ${p.len} out of range for IPv${p.family}`);
  if (p.address.length !== (p.family === 6 ? 16 : 4)) throw new RangeError(`${what}: IPv${p.family} address must be ${p.family === 6 ? 16 : 4} bytes`);
}

function checkU16(v: number, what: string, min = 0): void {
  if (!Number.isInteger(v) || v < min || v > 0xffff) throw new RangeError(`${what} ${v} is not a u16${min > 0 ? ` ≥ ${min}` : ''}`);
}

function checkU8(v: number, what: string, min = 0): void {
  if (!Number.isInteger(v) || v < min || v > 0xff) throw new RangeError(`${what} ${v} is not a u8${min > 0 ? ` ≥ ${min}` : ''}`);
}

/** Length of the TLV body (without the 2-byte TLV header). Throws on a TLV Mycelium would not accept. */
export function tlvBodyLength(tlv: Tlv): number {
  switch (tlv.kind) {
    case 'hello':
      checkU16(tlv.flags, 'hello flags');
      checkU16(tlv.seqno, 'hello seqno');
      checkU16(tlv.intervalCs, 'hello interval');
      return HELLO_BODY_BYTES;
    case 'ihu':
      checkU16(tlv.rxCost, 'ihu rxcost');
      // Mycelium refuses to build an IHU with interval 0 (it is the receiver's hold time).
      checkU16(tlv.intervalCs, 'ihu interval', 1);
      if (tlv.address === undefined) return IHU_BASE_BYTES;
      if (tlv.address.bytes.length !== (tlv.address.family === 6 ? 16 : 4)) throw new RangeError('ihu address length does not match its family');
      return IHU_BASE_BYTES + tlv.address.bytes.length;
    case 'update':
      checkU8(tlv.flags, 'update flags');
      checkU16(tlv.intervalCs, 'update interval');
      checkU16(tlv.seqno, 'update seqno');
      checkU16(tlv.metric, 'update metric');
      checkPrefix(tlv.prefix, 'update');
      if (tlv.routerId.length !== ROUTER_ID_BYTES) throw new RangeError(`update router id must be ${ROUTER_ID_BYTES} bytes`);
      return UPDATE_BASE_BYTES + prefixBytes(tlv.prefix.len);
    case 'route-request':
      checkU8(tlv.generation, 'route request generation');
      if (tlv.prefix === undefined) return ROUTE_REQUEST_BASE_BYTES;
      checkPrefix(tlv.prefix, 'route request');
      return ROUTE_REQUEST_BASE_BYTES + prefixBytes(tlv.prefix.len);
    case 'seqno-request':
      checkU16(tlv.seqno, 'seqno request seqno');
      // A hop count of 0 makes Mycelium drop the TLV and lose its stream position.
      checkU8(tlv.hopCount, 'seqno request hop count', 1);
      checkPrefix(tlv.prefix, 'seqno request');
      if (tlv.routerId.length !== ROUTER_ID_BYTES) throw new RangeError(`seqno request router id must be ${ROUTER_ID_BYTES} bytes`);
      return SEQNO_REQUEST_BASE_BYTES + prefixBytes(tlv.prefix.len);
  }
}

function put16(out: Uint8Array, o: number, v: number): void {
  out[o] = v >>> 8;
  out[o + 1] = v & 0xff;
}

function get16(b: Uint8Array, o: number): number {
  return (b[o] << 8) | b[o + 1];
}

function tlvType(tlv: Tlv): number {
  switch (tlv.kind) {
    case 'hello':
      return TLV_TYPE_HELLO;
    case 'ihu':
      return TLV_TYPE_IHU;
    case 'update':
      return TLV_TYPE_UPDATE;
    case 'route-request':
      return TLV_TYPE_ROUTE_REQUEST;
    case 'seqno-request':
      return TLV_TYPE_SEQNO_REQUEST;
  }
}

/** Writes TLV header + body at `o`; returns the offset after it. `bodyLen` must be tlvBodyLength(tlv). */
export function writeTlv(out: Uint8Array, o: number, tlv: Tlv, bodyLen: number): number {
  out[o] = tlvType(tlv);
  out[o + 1] = bodyLen;
  let p = o + 2;
  switch (tlv.kind) {
    case 'hello':
      put16(out, p, tlv.flags);
      put16(out, p + 2, tlv.seqno);
      put16(out, p + 4, tlv.intervalCs);
      p += 6;
      break;
    case 'ihu':
      out[p] = tlv.address === undefined ? AE_WILDCARD : tlv.address.family === 6 ? AE_IPV6 : AE_IPV4;
      out[p + 1] = 0;
      put16(out, p + 2, tlv.rxCost);
      put16(out, p + 4, tlv.intervalCs);
      p += 6;
      if (tlv.address !== undefined) {
        out.set(tlv.address.bytes, p);
        p += tlv.address.bytes.length;
      }
      break;
    case 'update': {
      const n = prefixBytes(tlv.prefix.len);
      out[p] = aeOf(tlv.prefix);
      out[p + 1] = tlv.flags;
      out[p + 2] = tlv.prefix.len;
      out[p + 3] = 0; // omitted: never used
      put16(out, p + 4, tlv.intervalCs);
      put16(out, p + 6, tlv.seqno);
      put16(out, p + 8, tlv.metric);
      p += 10;
      out.set(tlv.prefix.address.subarray(0, n), p);
      p += n;
      out.set(tlv.routerId, p);
      p += ROUTER_ID_BYTES;
      break;
    }
    case 'route-request':
      out[p] = tlv.generation;
      if (tlv.prefix === undefined) {
        out[p + 1] = AE_WILDCARD;
        out[p + 2] = 0;
        p += 3;
      } else {
        const n = prefixBytes(tlv.prefix.len);
        out[p + 1] = aeOf(tlv.prefix);
        out[p + 2] = tlv.prefix.len;
        p += 3;
        out.set(tlv.prefix.address.subarray(0, n), p);
        p += n;
      }
      break;
    case 'seqno-request': {
      const n = prefixBytes(tlv.prefix.len);
      out[p] = aeOf(tlv.prefix);
      out[p + 1] = tlv.prefix.len;
      put16(out, p + 2, tlv.seqno);
      out[p + 4] = tlv.hopCount;
      out[p + 5] = 0;
      p += 6;
      out.set(tlv.routerId, p);
      p += ROUTER_ID_BYTES;
      out.set(tlv.prefix.address.subarray(0, n), p);
      p += n;
      break;
    }
  }
  return p;
}

/** One TLV with its 2-byte header. */
export function encodeTlv(tlv: Tlv): Uint8Array {
  const n = tlvBodyLength(tlv);
  const out = new Uint8Array(TLV_HEADER_BYTES + n);
  writeTlv(out, 0, tlv, n);
  return out;
}

/** A Babel packet (header + exactly one TLV). */
export function encodeBabelPacket(tlv: Tlv): Uint8Array {
  const n = tlvBodyLength(tlv);
  const out = new Uint8Array(BABEL_HEADER_BYTES + TLV_HEADER_BYTES + n);
  writeBabelPacket(out, 0, tlv, n);
  return out;
}

/** Writes Babel header + TLV at `o`; returns the offset after it. */
export function writeBabelPacket(out: Uint8Array, o: number, tlv: Tlv, bodyLen: number): number {
  out[o] = BABEL_MAGIC;
  out[o + 1] = BABEL_VERSION;
  put16(out, o + 2, TLV_HEADER_BYTES + bodyLen);
  return writeTlv(out, o + BABEL_HEADER_BYTES, tlv, bodyLen);
}

// ---------------------------------------------------------------------------------------------
// Decoding

/**
 * Reads a prefix for `ae`/`plen` from `b[o..o+avail]`. Returns the prefix and how many bytes it
 * took, or an error. Wildcard yields `::/0` (as Mycelium does in Update and SeqnoRequest).
 */
function readPrefix(b: Uint8Array, o: number, avail: number, ae: number, plen: number, tlvName: string): Result<{ prefix: Prefix; used: number }> {
  switch (ae) {
    case AE_WILDCARD:
      if (plen !== 0) return err('bad-prefix', `${tlvName}: wildcard AE with prefix length ${plen}`);
      return ok({ prefix: { family: 6, len: 0, address: new Uint8Array(16) }, used: 0 });
    case AE_IPV4:
    case AE_IPV6: {
      const max = ae === AE_IPV4 ? 32 : 128;
      if (plen > max) return err('bad-prefix', `${tlvName}: prefix length ${plen} exceeds ${max}`);
      const n = prefixBytes(plen);
      if (avail < n) return err('truncated', `${tlvName}: prefix needs ${n} bytes, ${avail} left`);
      const address = new Uint8Array(ae === AE_IPV4 ? 4 : 16);
      address.set(b.subarray(o, o + n));
      return ok({ prefix: { family: ae === AE_IPV4 ? 4 : 6, len: plen, address }, used: n });
    }
    case AE_IPV6_LL: {
      if (plen !== 64) return err('bad-prefix', `${tlvName}: link-local prefix must be /64, got /${plen}`);
      if (avail < 8) return err('truncated', `${tlvName}: link-local prefix needs 8 bytes, ${avail} left`);
      const address = new Uint8Array(16);
      address[0] = 0xfe;
      address[1] = 0x80;
      address.set(b.subarray(o, o + 8), 8);
      return ok({ prefix: { family: 6, len: 64, address }, used: 8 });
    }
    default:
      return err('bad-ae', `${tlvName}: unknown address encoding ${ae}`);
  }
}

function exact(len: number, want: number, name: string): ReturnType<typeof err> | undefined {
  if (len !== want) return err('bad-length', `${name} TLV body is ${len} bytes, its content needs ${want}`);
  return undefined;
}

/** Decodes a TLV body of type `type` (`body` is exactly the TLV's announced length). */
export function decodeTlvBody(type: number, body: Uint8Array): Result<Tlv> {
  const len = body.length;
  switch (type) {
    case TLV_TYPE_HELLO: {
      const e = exact(len, HELLO_BODY_BYTES, 'Hello');
      if (e) return e;
      return ok({ kind: 'hello', flags: get16(body, 0) & HELLO_FLAG_MASK, seqno: get16(body, 2), intervalCs: get16(body, 4) });
    }
    case TLV_TYPE_IHU: {
      if (len < IHU_BASE_BYTES) return err('truncated', `IHU TLV body is ${len} bytes, needs at least ${IHU_BASE_BYTES}`);
      const ae = body[0];
      let address: IpAddress | undefined;
      let need: number;
      if (ae === AE_WILDCARD) need = 0;
      else if (ae === AE_IPV4) need = 4;
      else if (ae === AE_IPV6) need = 16;
      else if (ae === AE_IPV6_LL) need = 8;
      else return err('bad-ae', `IHU: unknown address encoding ${ae}`);
      const e = exact(len, IHU_BASE_BYTES + need, 'IHU');
      if (e) return e;
      if (ae === AE_IPV4) address = { family: 4, bytes: body.slice(6, 10) };
      else if (ae === AE_IPV6) address = { family: 6, bytes: body.slice(6, 22) };
      else if (ae === AE_IPV6_LL) {
        const bytes = new Uint8Array(16);
        bytes[0] = 0xfe;
        bytes[1] = 0x80;
        bytes.set(body.subarray(6, 14), 8);
        address = { family: 6, bytes };
      }
      const intervalCs = get16(body, 4);
      // RFC 8966 §4.6.10: the IHU interval MUST NOT be 0 (Mycelium never builds one), and we could not send it back.
      if (intervalCs === 0) return err('invalid', 'IHU interval is 0');
      return ok({ kind: 'ihu', rxCost: get16(body, 2), intervalCs, address });
    }
    case TLV_TYPE_UPDATE: {
      if (len < UPDATE_BASE_BYTES) return err('truncated', `Update TLV body is ${len} bytes, needs at least ${UPDATE_BASE_BYTES}`);
      const ae = body[0];
      const flags = body[1] & UPDATE_FLAG_MASK;
      const plen = body[2];
      if (body[3] !== 0) return err('unsupported', `Update: omitted byte count ${body[3]} is not supported`);
      const p = readPrefix(body, 10, len - UPDATE_BASE_BYTES, ae, plen, 'Update');
      if (!p.ok) return p;
      const e = exact(len, UPDATE_BASE_BYTES + p.value.used, 'Update');
      if (e) return e;
      const ridAt = 10 + p.value.used;
      return ok({
        kind: 'update',
        flags,
        intervalCs: get16(body, 4),
        seqno: get16(body, 6),
        metric: get16(body, 8),
        prefix: p.value.prefix,
        routerId: body.slice(ridAt, ridAt + ROUTER_ID_BYTES),
      });
    }
    case TLV_TYPE_ROUTE_REQUEST: {
      if (len < ROUTE_REQUEST_BASE_BYTES) return err('truncated', `RouteRequest TLV body is ${len} bytes, needs at least ${ROUTE_REQUEST_BASE_BYTES}`);
      const generation = body[0];
      const ae = body[1];
      const plen = body[2];
      if (ae === AE_WILDCARD) {
        if (plen !== 0) return err('bad-prefix', `RouteRequest: wildcard AE with prefix length ${plen}`);
        const e = exact(len, ROUTE_REQUEST_BASE_BYTES, 'RouteRequest');
        if (e) return e;
        return ok({ kind: 'route-request', generation, prefix: undefined });
      }
      const p = readPrefix(body, 3, len - ROUTE_REQUEST_BASE_BYTES, ae, plen, 'RouteRequest');
      if (!p.ok) return p;
      const e = exact(len, ROUTE_REQUEST_BASE_BYTES + p.value.used, 'RouteRequest');
      if (e) return e;
      return ok({ kind: 'route-request', generation, prefix: p.value.prefix });
    }
    case TLV_TYPE_SEQNO_REQUEST: {
      if (len < SEQNO_REQUEST_BASE_BYTES) return err('truncated', `SeqnoRequest TLV body is ${len} bytes, needs at least ${SEQNO_REQUEST_BASE_BYTES}`);
      const ae = body[0];
      const plen = body[1];
      const seqno = get16(body, 2);
      const hopCount = body[4];
      const p = readPrefix(body, SEQNO_REQUEST_BASE_BYTES, len - SEQNO_REQUEST_BASE_BYTES, ae, plen, 'SeqnoRequest');
      if (!p.ok) return p;
      const e = exact(len, SEQNO_REQUEST_BASE_BYTES + p.value.used, 'SeqnoRequest');
      if (e) return e;
      if (hopCount === 0) return err('bad-hop-count', 'SeqnoRequest with hop count 0');
      return ok({ kind: 'seqno-request', seqno, hopCount, routerId: body.slice(6, 6 + ROUTER_ID_BYTES), prefix: p.value.prefix });
    }
    default:
      return err('unknown-tlv', `unknown TLV type ${type}`);
  }
}

/** Decodes exactly one TLV (header + body, nothing after it). */
export function decodeTlv(b: Uint8Array): Result<Tlv> {
  if (b.length < TLV_HEADER_BYTES) return err('truncated', `TLV of ${b.length} bytes is shorter than its header`);
  const type = b[0];
  const len = b[1];
  if (b.length !== TLV_HEADER_BYTES + len) {
    return err('bad-length', `TLV announces ${len} body bytes but ${b.length - TLV_HEADER_BYTES} follow (exactly one TLV per packet)`);
  }
  return decodeTlvBody(type, b.subarray(TLV_HEADER_BYTES));
}

/** Decodes a Babel packet: header + exactly one TLV, nothing after it. */
export function decodeBabelPacket(b: Uint8Array): Result<Tlv> {
  if (b.length < BABEL_HEADER_BYTES) return err('truncated', `Babel packet of ${b.length} bytes is shorter than its header`);
  if (b[0] !== BABEL_MAGIC) return err('bad-magic', `Babel magic ${b[0]}, expected ${BABEL_MAGIC}`);
  if (b[1] !== BABEL_VERSION) return err('bad-version', `Babel version ${b[1]}, expected ${BABEL_VERSION}`);
  const bodyLen = get16(b, 2);
  if (b.length !== BABEL_HEADER_BYTES + bodyLen) {
    return err('bad-length', `Babel header announces ${bodyLen} body bytes but ${b.length - BABEL_HEADER_BYTES} follow`);
  }
  return decodeTlv(b.subarray(BABEL_HEADER_BYTES));
}
