// The overlay address of a node, derived from its X25519 public key exactly as Mycelium ≥ 0.5.0 does:
// BLAKE3(pubkey)[0..16] with the first byte forced into 400::/7 (0x04 | parity of its popcount).
import { blake3 } from '@noble/hashes/blake3.js';
import { formatIpv6, maskPrefix } from '../wire/ipv6.ts';

export const OVERLAY_PREFIX_LEN = 7;
export const NODE_SUBNET_LEN = 64;

function popcount8(x: number): number {
  let n = 0;
  for (let v = x; v !== 0; v &= v - 1) n++;
  return n;
}

/** 16-byte overlay address of an X25519 public key. */
export function overlayAddress(x25519Pub: Uint8Array): Uint8Array {
  if (x25519Pub.length !== 32) throw new RangeError(`X25519 public key must be 32 bytes, got ${x25519Pub.length}`);
  const h = blake3(x25519Pub).slice(0, 16);
  h[0] = 0x04 | (popcount8(h[0]) & 1);
  return h;
}

/** The node's /64: the address with its interface identifier zeroed. */
export function nodeSubnet(x25519Pub: Uint8Array): Uint8Array {
  return maskPrefix(overlayAddress(x25519Pub), NODE_SUBNET_LEN);
}

export function overlayAddressText(x25519Pub: Uint8Array): string {
  return formatIpv6(overlayAddress(x25519Pub));
}

export function nodeSubnetText(x25519Pub: Uint8Array): string {
  return `${formatIpv6(nodeSubnet(x25519Pub))}/${NODE_SUBNET_LEN}`;
}
