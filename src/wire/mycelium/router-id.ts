// A Mycelium router id: the node's X25519 public key, a 2-byte zone (always zero) and 6 random bytes
// chosen at every start. It travels inside Update and SeqnoRequest TLVs. Because the random tail
// changes on restart, a restarted node is a new Babel source and may start its seqno at 0 again.
import { toHex } from '../../base/bytes.ts';

export const ROUTER_ID_BYTES = 40;
export const ROUTER_ID_PUBKEY_BYTES = 32;
export const ROUTER_ID_ZONE_BYTES = 2;
export const ROUTER_ID_RANDOM_BYTES = 6;

/** Builds a router id from a public key and the per-start random tail (zone 0). */
export function makeRouterId(x25519Public: Uint8Array, random6: Uint8Array): Uint8Array {
  if (x25519Public.length !== ROUTER_ID_PUBKEY_BYTES) throw new RangeError(`public key must be 32 bytes, got ${x25519Public.length}`);
  if (random6.length !== ROUTER_ID_RANDOM_BYTES) throw new RangeError(`router id tail must be 6 bytes, got ${random6.length}`);
  const rid = new Uint8Array(ROUTER_ID_BYTES);
  rid.set(x25519Public, 0);
  rid.set(random6, ROUTER_ID_PUBKEY_BYTES + ROUTER_ID_ZONE_BYTES);
  return rid;
}

/** The X25519 public key inside a router id (a view, not a copy). */
export function routerIdPubkey(rid: Uint8Array): Uint8Array {
  return rid.subarray(0, ROUTER_ID_PUBKEY_BYTES);
}

/** Mycelium's text form: `<pubkey hex>-<zone hex>-<random hex>`. */
export function routerIdText(rid: Uint8Array): string {
  return `${toHex(rid.subarray(0, 32))}-${toHex(rid.subarray(32, 34))}-${toHex(rid.subarray(34, 40))}`;
}

/**
 * A string usable as a map key: the 40 bytes as 40 latin1 characters. Not for display (routerIdText
 * is); half the length of hex and built without a Buffer, because the router makes one per Update.
 */
export function routerIdKey(rid: Uint8Array): string {
  return String.fromCharCode.apply(null, rid as unknown as number[]);
}
