// End-to-end encryption of overlay packets, as Mycelium does it (reference §4.1): AES-256-GCM keyed
// directly with the raw 32-byte X25519 shared secret, no AAD, a random 96-bit nonce, and the blob laid
// out as ciphertext ‖ tag(16) ‖ nonce(12). The plaintext starts with a 4-byte inner header
// [1, type, 0, 0] (type 0 = IPv6 packet, 1 = message-bus packet, 2 = out-of-band ICMP).
//
// The shared secret is the same in both directions, so a counter nonce could collide between the two
// senders; random nonces (drawn from a pooled buffer to keep the per-packet cost down) avoid that.
// Seal writes straight into a caller's buffer so the data plane can build a whole frame in one
// allocation.
import { createCipheriv, createDecipheriv, createSecretKey, randomFillSync } from 'node:crypto';
import { err, ok, type Result } from '../base/result.ts';
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

const CIPHER = 'aes-256-gcm';
const NONCE_POOL_BYTES = 12 * 1024;

/** The raw X25519 shared secret with `peerPublic`: Mycelium uses it directly as the AES key. */
export function e2eSecret(ownPrivate: Uint8Array | KeyObject, peerPublic: Uint8Array): Uint8Array {
  return x25519(ownPrivate, peerPublic);
}

/**
 * The key object for a shared secret. Keep one per peer: node:crypto sets a cipher up three times
 * faster from a KeyObject than from raw key bytes (bench/e2e-seal.ts).
 */
export function e2eKey(secret: Uint8Array): KeyObject {
  if (secret.length !== 32) throw new RangeError(`AES-256 key must be 32 bytes, got ${secret.length}`);
  return createSecretKey(secret);
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

function asBuffer(u: Uint8Array): Buffer {
  return Buffer.isBuffer(u) ? u : Buffer.from(u.buffer, u.byteOffset, u.byteLength);
}

export class E2ECipher {
  private readonly nonces: NonceSource;
  private readonly header = Buffer.from([USER_DATA_VERSION, 0, 0, 0]);
  private readonly nonce = Buffer.alloc(NONCE_BYTES);

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
  sealInto(key: KeyObject, type: number, payload: Uint8Array, out: Uint8Array, offset: number): number {
    const total = payload.length + E2E_OVERHEAD_BYTES;
    if (out.length - offset < total) throw new RangeError(`seal needs ${total} bytes, ${out.length - offset} available`);
    const nonceAt = offset + INNER_HEADER_BYTES + payload.length + TAG_BYTES;
    this.nonces(out, nonceAt);
    this.nonce.set(out.subarray(nonceAt, nonceAt + NONCE_BYTES));
    const c = createCipheriv(CIPHER, key, this.nonce);
    this.header[1] = type;
    let at = offset;
    const h = c.update(this.header);
    out.set(h, at);
    at += h.length;
    const body = c.update(asBuffer(payload));
    out.set(body, at);
    at += body.length;
    const fin = c.final();
    if (fin.length > 0) {
      out.set(fin, at);
      at += fin.length;
    }
    out.set(c.getAuthTag(), at);
    return total;
  }

  /** Seals into a new buffer. */
  seal(key: KeyObject, type: number, payload: Uint8Array): Uint8Array {
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
 * Opens ciphertext ‖ tag ‖ nonce. Fails (and the caller drops the packet) when the blob is too short,
 * the tag does not verify, or the inner header's version is not 1.
 */
export function open(key: KeyObject, blob: Uint8Array): Result<Opened> {
  if (blob.length < E2E_OVERHEAD_BYTES) return err('truncated', `sealed blob of ${blob.length} bytes is shorter than ${E2E_OVERHEAD_BYTES}`);
  const b = asBuffer(blob);
  const ctLen = b.length - TAG_BYTES - NONCE_BYTES;
  const nonce = b.subarray(ctLen + TAG_BYTES);
  const d = createDecipheriv(CIPHER, key, nonce);
  d.setAuthTag(b.subarray(ctLen, ctLen + TAG_BYTES));
  const pt = d.update(b.subarray(0, ctLen));
  try {
    d.final();
  } catch {
    return err('bad-tag', 'authentication tag does not verify');
  }
  if (pt[0] !== USER_DATA_VERSION) return err('bad-version', `inner header version ${pt[0]}, expected ${USER_DATA_VERSION}`);
  return ok({ type: pt[1], payload: pt.subarray(INNER_HEADER_BYTES) });
}
