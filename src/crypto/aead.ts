// One AEAD key, reused for every message: AES-256-GCM for the E2E seal, ChaCha20-Poly1305 for the Noise
// transport. Two backends with the same bytes:
//   - 'native': our addon (native/crypto/hypha_crypto.c) over the OpenSSL that Node is built with. The key is
//     expanded once; a message only sets its nonce. About ten times faster than node:crypto for a
//     1,400-byte packet (bench/e2e-seal.ts), and the reason the data plane keeps up with its links.
//   - 'node': node:crypto, one createCipheriv per message from a cached KeyObject. Used when the addon is not
//     built (no C compiler at install), or when asked for (tests compare the two).
//
// Both take (buffer, offset) pairs and may work in place (src and dst the same bytes), so callers encrypt
// straight into the frame they send and decrypt inside the frame they received: no per-packet allocation.
import { createCipheriv, createDecipheriv, createSecretKey, type CipherGCM, type DecipherGCM, type KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';

export type AeadAlgorithm = 'aes-256-gcm' | 'chacha20-poly1305';
export type AeadBackend = 'native' | 'node';

export const AEAD_KEY_BYTES = 32;
export const AEAD_NONCE_BYTES = 12;
export const AEAD_TAG_BYTES = 16;

const ADDON_PATH = '../../native/build/hypha_crypto.node';
const ALG_ID: Record<AeadAlgorithm, number> = { 'aes-256-gcm': 0, 'chacha20-poly1305': 1 };

interface CryptoAddon {
  key(alg: number, key: Uint8Array): unknown;
  seal(key: unknown, nonce: Uint8Array, nonceOff: number, aad: Uint8Array | null, src: Uint8Array, srcOff: number, len: number, dst: Uint8Array, dstOff: number): void;
  open(key: unknown, nonce: Uint8Array, nonceOff: number, aad: Uint8Array | null, src: Uint8Array, srcOff: number, len: number, dst: Uint8Array, dstOff: number): boolean;
}

/** Set to 0 to run without the addon, e.g. to check the fallback: `HYPHA_NATIVE_CRYPTO=0 hypha run`. */
export const NATIVE_CRYPTO_ENV = 'HYPHA_NATIVE_CRYPTO';

// The addon is a process-wide resource (dlopen happens once per process), so its handle is module state.
let addon: CryptoAddon | null | undefined;
let addonError = '';

/** The addon, loaded once; null when it is not built or does not load (the reason: aeadBackendNote()). */
function loadAddon(): CryptoAddon | null {
  if (addon !== undefined) return addon;
  if (process.env[NATIVE_CRYPTO_ENV] === '0') {
    addon = null;
    addonError = `${NATIVE_CRYPTO_ENV}=0 is set`;
    return addon;
  }
  try {
    addon = createRequire(import.meta.url)(ADDON_PATH) as CryptoAddon;
  } catch (e) {
    addon = null;
    addonError = e instanceof Error ? e.message.split('\n')[0] : String(e);
  }
  return addon;
}

/** The backend keys get by default: native when the addon loads. */
export function defaultAeadBackend(): AeadBackend {
  return loadAddon() === null ? 'node' : 'native';
}

/** Why the native backend is not in use (for the one log line at start), or undefined when it is. */
export function aeadBackendNote(): string | undefined {
  if (loadAddon() !== null) return undefined;
  if (process.env[NATIVE_CRYPTO_ENV] === '0') {
    return `the crypto addon is disabled (${addonError}); packets are sealed with node:crypto, several times slower`;
  }
  return `the crypto addon native/build/hypha_crypto.node is not available (${addonError}); ` +
    'packets are sealed with node:crypto, several times slower. To fix: install a C compiler and run `npm run build:native`';
}

/**
 * A key for one algorithm. seal writes ciphertext(len) ‖ tag(16) at dst[dstOff..]; open reads ciphertext(len)
 * ‖ tag(16) at src[srcOff..], writes the plaintext at dst[dstOff..] and says whether the tag verified (if not,
 * dst holds garbage). src and dst may be the same bytes, never a partial overlap. Offsets out of range throw
 * a RangeError (a caller's bug, never the peer's).
 */
export interface AeadKey {
  readonly algorithm: AeadAlgorithm;
  readonly backend: AeadBackend;
  seal(nonce: Uint8Array, nonceOff: number, aad: Uint8Array | null, src: Uint8Array, srcOff: number, len: number, dst: Uint8Array, dstOff: number): void;
  open(nonce: Uint8Array, nonceOff: number, aad: Uint8Array | null, src: Uint8Array, srcOff: number, len: number, dst: Uint8Array, dstOff: number): boolean;
}

export function aeadKey(algorithm: AeadAlgorithm, key: Uint8Array, backend: AeadBackend = defaultAeadBackend()): AeadKey {
  if (key.length !== AEAD_KEY_BYTES) throw new RangeError(`${algorithm} key must be ${AEAD_KEY_BYTES} bytes, got ${key.length}`);
  if (backend === 'native') {
    const a = loadAddon();
    if (a === null) throw new Error(`native AEAD backend unavailable: ${addonError}`);
    return new NativeAeadKey(a, algorithm, a.key(ALG_ID[algorithm], key));
  }
  return new NodeAeadKey(algorithm, createSecretKey(key));
}

class NativeAeadKey implements AeadKey {
  readonly algorithm: AeadAlgorithm;
  readonly backend = 'native' as const;
  private readonly addon: CryptoAddon;
  private readonly handle: unknown;

  constructor(addon: CryptoAddon, algorithm: AeadAlgorithm, handle: unknown) {
    this.addon = addon;
    this.algorithm = algorithm;
    this.handle = handle;
  }

  seal(nonce: Uint8Array, nonceOff: number, aad: Uint8Array | null, src: Uint8Array, srcOff: number, len: number, dst: Uint8Array, dstOff: number): void {
    this.addon.seal(this.handle, nonce, nonceOff, aad, src, srcOff, len, dst, dstOff);
  }

  open(nonce: Uint8Array, nonceOff: number, aad: Uint8Array | null, src: Uint8Array, srcOff: number, len: number, dst: Uint8Array, dstOff: number): boolean {
    return this.addon.open(this.handle, nonce, nonceOff, aad, src, srcOff, len, dst, dstOff);
  }
}

function checkRange(what: string, buf: Uint8Array, off: number, len: number): void {
  if (!(Number.isInteger(off) && Number.isInteger(len) && off >= 0 && len >= 0 && off + len <= buf.length)) {
    throw new RangeError(`${what}: offset ${off} + ${len} bytes out of bounds (${buf.length})`);
  }
}

function overlapsPartly(a: Uint8Array, aOff: number, aLen: number, b: Uint8Array, bOff: number, bLen: number): boolean {
  if (a.buffer !== b.buffer || aLen === 0 || bLen === 0) return false;
  const x = a.byteOffset + aOff;
  const y = b.byteOffset + bOff;
  return x !== y && x < y + bLen && y < x + aLen;
}

class NodeAeadKey implements AeadKey {
  readonly algorithm: AeadAlgorithm;
  readonly backend = 'node' as const;
  private readonly key: KeyObject;
  private readonly options: { authTagLength: number } | undefined;

  constructor(algorithm: AeadAlgorithm, key: KeyObject) {
    this.algorithm = algorithm;
    this.key = key;
    this.options = algorithm === 'chacha20-poly1305' ? { authTagLength: AEAD_TAG_BYTES } : undefined;
  }

  private check(nonce: Uint8Array, nonceOff: number, src: Uint8Array, srcOff: number, srcLen: number, dst: Uint8Array, dstOff: number, dstLen: number): void {
    checkRange('nonce', nonce, nonceOff, AEAD_NONCE_BYTES);
    checkRange('source', src, srcOff, srcLen);
    checkRange('destination', dst, dstOff, dstLen);
    if (overlapsPartly(src, srcOff, srcLen, dst, dstOff, dstLen)) {
      throw new RangeError('source and destination overlap without being the same bytes');
    }
  }

  seal(nonce: Uint8Array, nonceOff: number, aad: Uint8Array | null, src: Uint8Array, srcOff: number, len: number, dst: Uint8Array, dstOff: number): void {
    this.check(nonce, nonceOff, src, srcOff, len, dst, dstOff, len + AEAD_TAG_BYTES);
    // Both algorithms have GCM's AEAD methods; the cast only picks that overload's type.
    const c = createCipheriv(this.algorithm, this.key, nonce.subarray(nonceOff, nonceOff + AEAD_NONCE_BYTES), this.options as never) as unknown as CipherGCM;
    if (aad !== null && aad.length > 0) c.setAAD(aad, { plaintextLength: len });
    const body = c.update(src.subarray(srcOff, srcOff + len));
    const fin = c.final();
    dst.set(body, dstOff);
    if (fin.length > 0) dst.set(fin, dstOff + body.length);
    dst.set(c.getAuthTag(), dstOff + len);
  }

  open(nonce: Uint8Array, nonceOff: number, aad: Uint8Array | null, src: Uint8Array, srcOff: number, len: number, dst: Uint8Array, dstOff: number): boolean {
    this.check(nonce, nonceOff, src, srcOff, len + AEAD_TAG_BYTES, dst, dstOff, len);
    const d = createDecipheriv(this.algorithm, this.key, nonce.subarray(nonceOff, nonceOff + AEAD_NONCE_BYTES), this.options as never) as unknown as DecipherGCM;
    d.setAuthTag(src.subarray(srcOff + len, srcOff + len + AEAD_TAG_BYTES));
    if (aad !== null && aad.length > 0) d.setAAD(aad, { plaintextLength: len });
    const body = d.update(src.subarray(srcOff, srcOff + len));
    let fin: Buffer;
    try {
      fin = d.final();
    } catch {
      return false;
    }
    dst.set(body, dstOff);
    if (fin.length > 0) dst.set(fin, dstOff + body.length);
    return true;
  }
}
