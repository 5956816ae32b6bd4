// X25519 over raw 32-byte keys, on node:crypto. Node wants KeyObjects; these helpers wrap the fixed
// DER prefixes so callers can stay with bytes.
import { createPrivateKey, createPublicKey, diffieHellman, generateKeyPairSync, type KeyObject } from 'node:crypto';

const PKCS8_X25519_PREFIX = Buffer.from('302e020100300506032b656e04220420', 'hex');

export function x25519PrivateKeyObject(priv: Uint8Array): KeyObject {
  if (priv.length !== 32) throw new RangeError(`X25519 private key must be 32 bytes, got ${priv.length}`);
  return createPrivateKey({ key: Buffer.concat([PKCS8_X25519_PREFIX, priv]), format: 'der', type: 'pkcs8' });
}

const SPKI_X25519_PREFIX = Buffer.from('302a300506032b656e032100', 'hex');

export function x25519PublicKeyObject(pub: Uint8Array): KeyObject {
  if (pub.length !== 32) throw new RangeError(`X25519 public key must be 32 bytes, got ${pub.length}`);
  // A PEM string imports in about a third of the CPU time of a DER or JWK options object (Node 24,
  // ~20 µs against ~60 µs: bench/noise-handshake.ts), and a Noise handshake imports three keys per side.
  return createPublicKey(spkiPem(SPKI_X25519_PREFIX, pub));
}

/** The PEM text of a SubjectPublicKeyInfo: fixed DER prefix + the raw 32-byte key. */
export function spkiPem(prefix: Uint8Array, raw: Uint8Array): string {
  const der = Buffer.allocUnsafe(prefix.length + raw.length);
  der.set(prefix, 0);
  der.set(raw, prefix.length);
  return `-----BEGIN PUBLIC KEY-----\n${der.toString('base64')}\n-----END PUBLIC KEY-----\n`;
}

/** Raw 32 bytes of an X25519 public KeyObject (JWK export: ~20× cheaper than SPKI DER). */
export function x25519RawPublic(key: KeyObject): Uint8Array {
  const jwk = key.export({ format: 'jwk' });
  return new Uint8Array(Buffer.from(jwk.x as string, 'base64url'));
}

/** Public key of a raw private scalar (clamping happens inside, as RFC 7748 says). */
export function x25519PublicFromPrivate(priv: Uint8Array): Uint8Array {
  return x25519RawPublic(createPublicKey(x25519PrivateKeyObject(priv)));
}

export interface X25519KeyPair {
  privateKey: Uint8Array;
  publicKey: Uint8Array;
}

export function generateX25519(): X25519KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  const priv = privateKey.export({ format: 'der', type: 'pkcs8' });
  return { privateKey: new Uint8Array(priv.subarray(priv.length - 32)), publicKey: x25519RawPublic(publicKey) };
}

/**
 * Raw X25519 shared secret. Throws on an all-zero result (a low-order peer key), which both reference
 * implementations refuse too.
 */
export function x25519(priv: Uint8Array | KeyObject, pub: Uint8Array): Uint8Array {
  const privateKey = priv instanceof Uint8Array ? x25519PrivateKeyObject(priv) : priv;
  const secret = diffieHellman({ privateKey, publicKey: x25519PublicKeyObject(pub) });
  let acc = 0;
  for (const byte of secret) acc |= byte;
  if (acc === 0) throw new Error('X25519 produced an all-zero shared secret (low-order public key)');
  return new Uint8Array(secret);
}
