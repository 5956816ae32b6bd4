// A node's one identity (DESIGN.md, "One identity"): everything derives from the Ed25519 seed.
import { createHash, type KeyObject } from 'node:crypto';
import {
  ed25519PrivateKeyObject,
  ed25519PublicFromSeed,
  ed25519PublicToX25519,
  ed25519SeedToX25519,
} from '../crypto/ed25519.ts';
import { x25519PrivateKeyObject } from '../crypto/x25519.ts';
import { toHex } from '../base/bytes.ts';
import { nodeSubnet, overlayAddress } from './address.ts';
import { formatIpv6 } from '../wire/ipv6.ts';

export interface NodeIdentity {
  /** 32-byte Ed25519 seed (secret). */
  readonly seed: Uint8Array;
  readonly ed25519Public: Uint8Array;
  /** Signing key for envelopes and the SSH host key. */
  readonly signingKey: KeyObject;
  /** hex(SHA-256(ed25519Public)), 64 lowercase characters: the Micelio node id. */
  readonly nodeId: string;
  /** SHA-512(seed)[0..32]: the Noise static key and the Mycelium key. */
  readonly x25519Private: Uint8Array;
  readonly x25519PrivateKey: KeyObject;
  readonly x25519Public: Uint8Array;
  /** Overlay address in 400::/7 and its /64. */
  readonly address: Uint8Array;
  readonly subnet: Uint8Array;
  readonly addressText: string;
}

export function nodeIdOf(ed25519Public: Uint8Array): string {
  return createHash('sha256').update(ed25519Public).digest('hex');
}

export function identityFromSeed(seed: Uint8Array): NodeIdentity {
  const ed25519Public = ed25519PublicFromSeed(seed);
  const x25519Public = ed25519PublicToX25519(ed25519Public);
  // A public key derived from a seed is always a valid point; this guards against a broken conversion.
  if (!x25519Public) throw new Error('internal: Ed25519 public key of a seed is not a curve point');
  const x25519Private = ed25519SeedToX25519(seed);
  const address = overlayAddress(x25519Public);
  return {
    seed: Uint8Array.from(seed),
    ed25519Public,
    signingKey: ed25519PrivateKeyObject(seed),
    nodeId: nodeIdOf(ed25519Public),
    x25519Private,
    x25519PrivateKey: x25519PrivateKeyObject(x25519Private),
    x25519Public,
    address,
    subnet: nodeSubnet(x25519Public),
    addressText: formatIpv6(address),
  };
}

/** Short form for logs: the first 12 characters of a node id, as Micelio's `/get` prints it. */
export function shortId(nodeIdHex: string): string {
  return nodeIdHex.slice(0, 12);
}

export { toHex };
