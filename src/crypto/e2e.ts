// End-to-end encryption of overlay packets, as Mycelium does it (reference §4.1): AES-256-GCM keyed
// directly with the raw 32-byte X25519 shared secret, no AAD, a random 96-bit nonce, and the blob laid
// out as ciphertext ‖ tag(16) ‖ nonce(12). The plaintext starts with a 4-byte inner header
// [1, type, 0, 0] (type 0 = IPv6 packet, 1 = message-bus packet, 2 = out-of-band ICMP).
//
// The shared secret is the same in both directions, so a counter nonce could collide between the two
// senders; random nonces (drawn from a pooled buffer to keep the per-packet cost down) avoid that.
// Seal writes straight into a caller's buffer so the data plane can build a whole frame in one
// allocation, and openInPlace decrypts inside the received frame; the cipher is an AeadKey made once per
// peer (aead.ts: the native backend sets a message up by its nonce alone).
import { randomFillSync } from 'node:crypto';
import { err, ok, type Result } from '../base/result.ts';
import { aeadKey, type AeadBackend, type AeadKey } from './aead.ts';
import { x25519 } from './x25519.ts';
import type { KeyObject } from 'node:crypto';

export const USER_DATA_VERSION = 1;
export const USER_DATA_L3 = 0;
export const USER_DATA_MESSAGE = 1;
export const USER_DATA_OOB_ICMP = 2;

export const INNER_HEADER_BYTES = 4;
export const TAG_BYTES = 16;
export const NONCE_BYTES = 12;
/** Bytes a sealed blob adds to its payload: inner header + tag + nonce. */
export const E2E_OVERHEAD_BYTES = INNER_HEADER_BYTES + TAG_BYTES + NONCE_BYTES;

const NONCE_POOL_BYTES = 12 * 1024;

/** A peer's E2E key: AES-256-GCM keyed with the shared secret, set up once. */
export type E2EKey = AeadKey;

/** The raw X25519 shared secret with `peerPublic`: Mycelium uses it directly as the AES key. */
export function e2eSecret(ownPrivate: Uint8Array | KeyObject, peerPublic: Uint8Array): Uint8Array {
  return x25519(ownPrivate, peerPublic);
}

/** The key for a shared secret. Keep one per peer: setting a key up costs far more than a packet. */
export function e2eKey(secret: Uint8Array, backend?: AeadBackend): E2EKey {
  if (secret.length !== 32) throw new RangeError(`AES-256 key must be 32 bytes, got ${secret.length}`);
  return aeadKey('aes-256-gcm', secret, backend);
}

/** A source of 12-byte nonces; tests inject a fixed one to reproduce vectors. */
export type NonceSource = (out: Uint8Array, offset: number) => void;

/** Random nonces from a pool refilled in bulk (one RNG call per thousand packets). */
export function randomNonces(): NonceSource {
  const pool = Buffer.allocUnsafe(NONCE_POOL_BYTES);
  let at = NONCE_POOL_BYTES;
  return (out, offset) => {
    if (at + NONCE_BYTES > NONCE_POOL_BYTES) {
      randomFillSync(pool);
      at = 0;
    }
    out.set(pool.subarray(at, at + NONCE_BYTES), offset);
    at += NONCE_BYTES;
  };
}

/** Always the same nonce: for test vectors only. */
export function fixedNonce(nonce: Uint8Array): NonceSource {
  if (nonce.length !== NONCE_BYTES) throw new RangeError(`nonce must be ${NONCE_BYTES} bytes`);
  return (out, offset) => out.set(nonce, offset);
}

export class E2ECipher {
  private readonly nonces: NonceSource;

  constructor(nonces: NonceSource = randomNonces()) {
    this.nonces = nonces;
  }

  /** Length of the sealed blob for a payload of `payloadLength` bytes. */
  static sealedLength(payloadLength: number): number {
    return payloadLength + E2E_OVERHEAD_BYTES;
  }

  /**
   * Seals `[1, type, 0, 0] ‖ payload` into `out[offset..offset + payload.length + 32]` as
   * ciphertext ‖ tag ‖ nonce. Returns the number of bytes written.
   */
  sealInto(key: E2EKey, type: number, payload: Uint8Array, out: Uint8Array, offset: number): number {
    const total = payload.length + E2E_OVERHEAD_BYTES;
    if (out.length - offset < total) throw new RangeError(`seal needs ${total} bytes, ${out.length - offset} available`);
    const plainLength = INNER_HEADER_BYTES + payload.length;
    const nonceAt = offset + plainLength + TAG_BYTES;
    this.nonces(out, nonceAt);
    out[offset] = USER_DATA_VERSION;
    out[offset + 1] = type;
    out[offset + 2] = 0;
    out[offset + 3] = 0;
    out.set(payload, offset + INNER_HEADER_BYTES);
    key.seal(out, nonceAt, null, out, offset, plainLength, out, offset);
    return total;
  }

  /** Seals into a new buffer. */
  seal(key: E2EKey, type: number, payload: Uint8Array): Uint8Array {
    const out = new Uint8Array(payload.length + E2E_OVERHEAD_BYTES);
    this.sealInto(key, type, payload, out, 0);
    return out;
  }
}

export interface Opened {
  /** Inner type (0 L3, 1 message, 2 OOB ICMP). */
  type: number;
  /** The plaintext after the 4-byte inner header. */
  payload: Uint8Array;
}

/**
 * Opens ciphertext ‖ tag ‖ nonce into a new buffer. Fails (and the caller drops the packet) when the blob is
 * too short, the tag does not verify, or the inner header's version is not 1.
 */
export function open(key: E2EKey, blob: Uint8Array): Result<Opened> {
  if (blob.length < E2E_OVERHEAD_BYTES) return truncated(blob.length);
  const ctLen = blob.length - TAG_BYTES - NONCE_BYTES;
  const pt = new Uint8Array(ctLen);
  if (!key.open(blob, ctLen + TAG_BYTES, null, blob, 0, ctLen, pt, 0)) return badTag();
  return opened(pt);
}

/**
 * Like open, but decrypts inside `blob` itself (which the caller owns and gives up): the payload returned is
 * a view of it. On failure the blob's bytes are garbage.
 */
export function openInPlace(key: E2EKey, blob: Uint8Array): Result<Opened> {
  if (blob.length < E2E_OVERHEAD_BYTES) return truncated(blob.length);
  const ctLen = blob.length - TAG_BYTES - NONCE_BYTES;
  if (!key.open(blob, ctLen + TAG_BYTES, null, blob, 0, ctLen, blob, 0)) return badTag();
  return opened(blob.subarray(0, ctLen));
}

function truncated(length: number): Result<Opened> {
  return err('truncated', `sealed blob of ${length} bytes is shorter than ${E2E_OVERHEAD_BYTES}`);
}

function badTag(): Result<Opened> {
  return err('bad-tag', 'authentication tag does not verify');
}

function opened(pt: Uint8Array): Result<Opened> {
  if (pt[0] !== USER_DATA_VERSION) return err('bad-version', `inner header version ${pt[0]}, expected ${USER_DATA_VERSION}`);
  return ok({ type: pt[1], payload: pt.subarray(INNER_HEADER_BYTES) });
}
