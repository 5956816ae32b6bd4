// Ed25519 on node:crypto over raw 32-byte seeds and public keys, and the Ed25519 → X25519 conversion
// Micelio uses to turn the signing key into the Noise static key. Node has no Edwards→Montgomery map,
// so it is done here with BigInt field arithmetic (not on any hot path: once per key).
import { createHash, createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { spkiPem } from './x25519.ts';

const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export function ed25519PrivateKeyObject(seed: Uint8Array): KeyObject {
  if (seed.length !== 32) throw new RangeError(`Ed25519 seed must be 32 bytes, got ${seed.length}`);
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519_PREFIX, seed]), format: 'der', type: 'pkcs8' });
}

export function ed25519PublicKeyObject(pub: Uint8Array): KeyObject {
  if (pub.length !== 32) throw new RangeError(`Ed25519 public key must be 32 bytes, got ${pub.length}`);
  // PEM text: a third of the CPU time of a DER options object in Node 24 (see x25519PublicKeyObject).
  return createPublicKey(spkiPem(SPKI_ED25519_PREFIX, pub));
}

export function ed25519PublicFromSeed(seed: Uint8Array): Uint8Array {
  const spki = createPublicKey(ed25519PrivateKeyObject(seed)).export({ format: 'der', type: 'spki' });
  return new Uint8Array(spki.subarray(spki.length - 32));
}

/** Pure Ed25519 (RFC 8032) signature, 64 bytes. */
export function ed25519Sign(key: KeyObject, data: Uint8Array): Uint8Array {
  return new Uint8Array(sign(null, data, key));
}

/**
 * Verifies a signature; false (never a throw) for a key or signature of the wrong size, an invalid key
 * encoding, or a bad signature. OpenSSL, like Go, rejects non-canonical S.
 */
export function ed25519Verify(pub: Uint8Array | KeyObject, data: Uint8Array, sig: Uint8Array): boolean {
  if (sig.length !== 64) return false;
  let key: KeyObject;
  if (pub instanceof Uint8Array) {
    if (pub.length !== 32) return false;
    try {
      key = ed25519PublicKeyObject(pub);
    } catch {
      return false;
    }
  } else key = pub;
  try {
    return verify(null, data, key, sig);
  } catch {
    return false;
  }
}

const P = (1n << 255n) - 19n;
const D = mod(-121665n * inv(121666n));

function mod(a: bigint): bigint {
  const r = a % P;
  return r >= 0n ? r : r + P;
}

function pow(base: bigint, exp: bigint): bigint {
  let r = 1n;
  let b = mod(base);
  for (let e = exp; e > 0n; e >>= 1n) {
    if (e & 1n) r = (r * b) % P;
    b = (b * b) % P;
  }
  return r;
}

/** Field inverse; 0 maps to 0, as in the reference (Go's edwards25519 Invert). */
function inv(a: bigint): bigint {
  return pow(a, P - 2n);
}

function isSquare(a: bigint): boolean {
  if (a === 0n) return true;
  return pow(a, (P - 1n) / 2n) === 1n;
}

function leToBigint(b: Uint8Array): bigint {
  let x = 0n;
  for (let i = b.length - 1; i >= 0; i--) x = (x << 8n) | BigInt(b[i]);
  return x;
}

/**
 * X25519 public key (Montgomery u = (1 + y) / (1 − y)) of an Ed25519 public key, or undefined if the
 * bytes are not a point on the curve. Non-canonical y encodings are accepted, as Go's edwards25519
 * SetBytes accepts them.
 */
export function ed25519PublicToX25519(edPub: Uint8Array): Uint8Array | undefined {
  if (edPub.length !== 32) return undefined;
  const bytes = Uint8Array.from(edPub);
  bytes[31] &= 0x7f;
  const y = mod(leToBigint(bytes));
  const y2 = (y * y) % P;
  // The point exists iff x² = (y² − 1) / (d·y² + 1) has a root.
  if (!isSquare(mod((y2 - 1n) * inv(mod(D * y2 + 1n))))) return undefined;
  let u = mod((1n + y) * inv(mod(1n - y)));
  const out = new Uint8Array(32);
  for (let i = 0; i < 32; i++) {
    out[i] = Number(u & 0xffn);
    u >>= 8n;
  }
  return out;
}

/** X25519 private scalar Micelio derives from an Ed25519 seed: SHA-512(seed)[0..32], unclamped. */
export function ed25519SeedToX25519(seed: Uint8Array): Uint8Array {
  if (seed.length !== 32) throw new RangeError(`Ed25519 seed must be 32 bytes, got ${seed.length}`);
  return new Uint8Array(createHash('sha512').update(seed).digest().subarray(0, 32));
}
