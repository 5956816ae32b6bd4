// Noise_XX_25519_ChaChaPoly_BLAKE2s as Micelio runs it: empty prologue, empty handshake payloads
// (received payloads are tolerated and ignored), and a transport phase WITHOUT the Noise spec's
// 65,535-byte message limit, because Micelio sends a whole frame of up to 1 MiB + 8 as one message.
// Everything is node:crypto: BLAKE2s (hash and HMAC), ChaCha20-Poly1305 and X25519; the transport's
// ChaCha20-Poly1305 key is an AeadKey (aead.ts), which reuses one cipher context per direction when the
// crypto addon is built.
import { createHash, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { err, ok, type Result } from '../base/result.ts';
import { aeadKey, type AeadBackend, type AeadKey } from './aead.ts';
import { x25519, x25519PrivateKeyObject, x25519PublicFromPrivate, x25519RawPublic } from './x25519.ts';

export const NOISE_PROTOCOL_NAME = 'Noise_XX_25519_ChaChaPoly_BLAKE2s';
export const NOISE_DH_BYTES = 32;
export const NOISE_HASH_BYTES = 32;
export const NOISE_TAG_BYTES = 16;
/** Handshake messages are framed with a u16 length, so none can be longer. */
export const NOISE_MAX_HANDSHAKE_MESSAGE_BYTES = 0xffff;
/** Sizes of the three XX messages with empty payloads. */
export const NOISE_XX_MESSAGE_BYTES = [32, 96, 64] as const;

// flynn/noise stops at 2^64 − 2; a JS number counts exactly up to 2^53, which no link reaches.
const MAX_NONCE = Number.MAX_SAFE_INTEGER;
const EMPTY = new Uint8Array(0);

function blake2s(...parts: Uint8Array[]): Uint8Array {
  const h = createHash('blake2s256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
}

const BLAKE2S_BLOCK_BYTES = 64;

/**
 * HMAC-BLAKE2s (RFC 2104, 64-byte block) built from two hashes: node's createHmac costs several
 * times more per call, and a handshake makes two dozen of them.
 */
function hmac(key: Uint8Array, ...parts: Uint8Array[]): Uint8Array {
  const pad = Buffer.alloc(BLAKE2S_BLOCK_BYTES);
  pad.set(key.length > BLAKE2S_BLOCK_BYTES ? blake2s(key) : key);
  for (let i = 0; i < BLAKE2S_BLOCK_BYTES; i++) pad[i] ^= 0x36;
  const inner = createHash('blake2s256').update(pad);
  for (const p of parts) inner.update(p);
  const innerDigest = inner.digest();
  for (let i = 0; i < BLAKE2S_BLOCK_BYTES; i++) pad[i] ^= 0x36 ^ 0x5c;
  return new Uint8Array(createHash('blake2s256').update(pad).update(innerDigest).digest());
}

/** Noise HKDF with two outputs. */
function hkdf2(chainingKey: Uint8Array, ikm: Uint8Array): [Uint8Array, Uint8Array] {
  const temp = hmac(chainingKey, ikm);
  const out1 = hmac(temp, Uint8Array.of(1));
  const out2 = hmac(temp, out1, Uint8Array.of(2));
  return [out1, out2];
}

/** ChaCha20-Poly1305 with a 64-bit little-endian counter nonce (4 zero bytes first), no size limit. */
export class CipherState {
  // Set up once per key: a fresh cipher per message cost more than the encryption itself (bench: overlay
  // data over a native link).
  private readonly key: AeadKey | undefined;
  private n = 0;
  private readonly nonceBuf = new Uint8Array(12);
  private readonly nonceView = new DataView(this.nonceBuf.buffer);

  constructor(key?: Uint8Array, backend?: AeadBackend) {
    this.key = key === undefined ? undefined : aeadKey('chacha20-poly1305', key, backend);
  }

  hasKey(): boolean {
    return this.key !== undefined;
  }

  /** Messages encrypted or decrypted so far with this key. */
  get nonce(): number {
    return this.n;
  }

  private nextNonce(): Uint8Array | undefined {
    if (this.n >= MAX_NONCE) return undefined;
    const n = this.n++;
    this.nonceView.setUint32(4, n >>> 0, true);
    this.nonceView.setUint32(8, Math.floor(n / 0x1_0000_0000), true);
    return this.nonceBuf;
  }

  /** Encrypts (or, before a key exists, passes through) one message. */
  encryptWithAd(ad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    if (!this.key) return plaintext;
    const out = new Uint8Array(plaintext.length + NOISE_TAG_BYTES);
    this.encryptInto(ad, plaintext, 0, plaintext.length, out, 0);
    return out;
  }

  /**
   * Encrypts src[srcOff..srcOff + len] into dst[dstOff..] as ciphertext ‖ tag (len + 16 bytes); src and dst
   * may be the same bytes. Needs a key. Throws only when the nonce is exhausted (after 2^53 messages).
   */
  encryptInto(ad: Uint8Array, src: Uint8Array, srcOff: number, len: number, dst: Uint8Array, dstOff: number): void {
    if (!this.key) throw new Error('noise cipher has no key');
    const nonce = this.nextNonce();
    if (!nonce) throw new Error('noise nonce exhausted');
    this.key.seal(nonce, 0, ad.length > 0 ? ad : null, src, srcOff, len, dst, dstOff);
  }

  decryptWithAd(ad: Uint8Array, ciphertext: Uint8Array): Result<Uint8Array> {
    if (!this.key) return ok(ciphertext);
    if (ciphertext.length < NOISE_TAG_BYTES) {
      return err('truncated', `noise ciphertext of ${ciphertext.length} bytes is shorter than its tag`);
    }
    const out = new Uint8Array(ciphertext.length - NOISE_TAG_BYTES);
    const r = this.decryptInto(ad, ciphertext, 0, out.length, out, 0);
    return r.ok ? ok(out) : r;
  }

  /**
   * Decrypts ciphertext(len) ‖ tag at src[srcOff..] into dst[dstOff..dstOff + len] (may be in place). On
   * failure the nonce stays consumed: after a failed decryption the session is dead anyway.
   */
  decryptInto(ad: Uint8Array, src: Uint8Array, srcOff: number, len: number, dst: Uint8Array, dstOff: number): Result<void> {
    if (!this.key) throw new Error('noise cipher has no key');
    const nonce = this.nextNonce();
    if (!nonce) return err('nonce-exhausted', 'noise nonce exhausted');
    if (!this.key.open(nonce, 0, ad.length > 0 ? ad : null, src, srcOff, len, dst, dstOff)) {
      return err('decrypt-failed', 'noise message failed authentication');
    }
    return ok(undefined);
  }

  /** Transport-phase encryption (empty associated data). */
  encrypt(plaintext: Uint8Array): Uint8Array {
    return this.encryptWithAd(EMPTY, plaintext);
  }

  decrypt(ciphertext: Uint8Array): Result<Uint8Array> {
    return this.decryptWithAd(EMPTY, ciphertext);
  }
}

class SymmetricState {
  ck: Uint8Array;
  h: Uint8Array;
  cipher = new CipherState();

  constructor(protocolName: string) {
    const name = new TextEncoder().encode(protocolName);
    if (name.length <= NOISE_HASH_BYTES) {
      this.h = new Uint8Array(NOISE_HASH_BYTES);
      this.h.set(name);
    } else {
      this.h = blake2s(name);
    }
    this.ck = this.h;
  }

  mixKey(ikm: Uint8Array): void {
    const [ck, k] = hkdf2(this.ck, ikm);
    this.ck = ck;
    this.cipher = new CipherState(k);
  }

  mixHash(data: Uint8Array): void {
    this.h = blake2s(this.h, data);
  }

  encryptAndHash(plaintext: Uint8Array): Uint8Array {
    const ct = this.cipher.encryptWithAd(this.h, plaintext);
    this.mixHash(ct);
    return ct;
  }

  decryptAndHash(ciphertext: Uint8Array): Result<Uint8Array> {
    const pt = this.cipher.decryptWithAd(this.h, ciphertext);
    if (pt.ok) this.mixHash(ciphertext);
    return pt;
  }

  split(): [CipherState, CipherState] {
    const [k1, k2] = hkdf2(this.ck, EMPTY);
    return [new CipherState(k1), new CipherState(k2)];
  }
}

export interface NoiseKeyPair {
  privateKey: Uint8Array | KeyObject;
  publicKey: Uint8Array;
}

export interface NoiseHandshakeOptions {
  initiator: boolean;
  /** The node's X25519 static pair (the identity's converted key). */
  staticKey: NoiseKeyPair;
  /** Fixed ephemeral private key: only for reproducing test vectors. Fresh random otherwise. */
  ephemeralPrivate?: Uint8Array;
  /** Micelio uses none; kept as an option for links between Hypha nodes. */
  prologue?: Uint8Array;
}

/** The outcome of a completed handshake. */
export interface NoiseSession {
  send: CipherState;
  recv: CipherState;
  /** Final h: a unique, authenticated name for this session. */
  handshakeHash: Uint8Array;
  /** The peer's X25519 static key, proven by the handshake. */
  remoteStatic: Uint8Array;
}

interface KeyPairObj {
  priv: KeyObject;
  pub: Uint8Array;
}

function freshEphemeral(): KeyPairObj {
  const { privateKey, publicKey } = generateKeyPairSync('x25519');
  return { priv: privateKey, pub: x25519RawPublic(publicKey) };
}

function dh(priv: KeyObject, pub: Uint8Array): Result<Uint8Array> {
  try {
    return ok(x25519(priv, pub));
  } catch (e) {
    return err('bad-dh', e instanceof Error ? e.message : 'X25519 failed');
  }
}

/**
 * The XX pattern:  -> e ;  <- e, ee, s, es ;  -> s, se.  Each side alternates writeMessage and
 * readMessage; any failure poisons the state. readMessage never throws on bad bytes.
 */
export class NoiseXXHandshake {
  readonly initiator: boolean;
  private readonly ss: SymmetricState;
  private readonly s: KeyPairObj;
  private readonly fixedEphemeral: Uint8Array | undefined;
  private e: KeyPairObj | undefined;
  private re: Uint8Array | undefined;
  private rs: Uint8Array | undefined;
  private step = 0;
  private failed: string | undefined;
  private session: NoiseSession | undefined;

  constructor(opts: NoiseHandshakeOptions) {
    this.initiator = opts.initiator;
    this.ss = new SymmetricState(NOISE_PROTOCOL_NAME);
    this.ss.mixHash(opts.prologue ?? EMPTY);
    const sp = opts.staticKey.privateKey;
    this.s = { priv: sp instanceof Uint8Array ? x25519PrivateKeyObject(sp) : sp, pub: opts.staticKey.publicKey };
    this.fixedEphemeral = opts.ephemeralPrivate;
  }

  /** True when it is this side's turn to write. */
  get writing(): boolean {
    return this.session === undefined && this.failed === undefined && (this.step % 2 === 0) === this.initiator;
  }

  get complete(): boolean {
    return this.session !== undefined;
  }

  /** The session keys once all three messages have passed. */
  result(): NoiseSession | undefined {
    return this.session;
  }

  private makeEphemeral(): KeyPairObj {
    if (this.fixedEphemeral) {
      return { priv: x25519PrivateKeyObject(this.fixedEphemeral), pub: x25519PublicFromPrivate(this.fixedEphemeral) };
    }
    return freshEphemeral();
  }

  private fail<T>(code: string, message: string): Result<T> {
    this.failed = message;
    return err(code, message);
  }

  private mixDh(priv: KeyObject, pub: Uint8Array): Result<void> {
    const shared = dh(priv, pub);
    if (!shared.ok) return shared;
    this.ss.mixKey(shared.value);
    return ok(undefined);
  }

  /** Produces the next handshake message carrying `payload` (Micelio: always empty). */
  writeMessage(payload: Uint8Array = EMPTY): Result<Uint8Array> {
    if (this.failed) return err('failed', `handshake already failed: ${this.failed}`);
    if (!this.writing) return err('out-of-turn', 'not this side\'s turn to write');
    const parts: Uint8Array[] = [];
    if (this.step === 0) {
      this.e = this.makeEphemeral();
      this.ss.mixHash(this.e.pub);
      parts.push(this.e.pub);
    } else if (this.step === 1) {
      this.e = this.makeEphemeral();
      this.ss.mixHash(this.e.pub);
      parts.push(this.e.pub);
      const ee = this.mixDh(this.e.priv, this.re!);
      if (!ee.ok) return this.fail(ee.error.code, ee.error.message);
      parts.push(this.ss.encryptAndHash(this.s.pub));
      const es = this.mixDh(this.s.priv, this.re!);
      if (!es.ok) return this.fail(es.error.code, es.error.message);
    } else {
      parts.push(this.ss.encryptAndHash(this.s.pub));
      const se = this.mixDh(this.s.priv, this.re!);
      if (!se.ok) return this.fail(se.error.code, se.error.message);
    }
    parts.push(this.ss.encryptAndHash(payload));
    let len = 0;
    for (const p of parts) len += p.length;
    if (len > NOISE_MAX_HANDSHAKE_MESSAGE_BYTES) return this.fail('too-large', `handshake message of ${len} bytes`);
    const out = new Uint8Array(len);
    let o = 0;
    for (const p of parts) {
      out.set(p, o);
      o += p.length;
    }
    this.advance();
    return ok(out);
  }

  /** Consumes the peer's next handshake message; returns its (ignored by Micelio) payload. */
  readMessage(msg: Uint8Array): Result<Uint8Array> {
    if (this.failed) return err('failed', `handshake already failed: ${this.failed}`);
    if (this.session || this.writing) return err('out-of-turn', 'not this side\'s turn to read');
    const min = NOISE_XX_MESSAGE_BYTES[this.step];
    if (msg.length < min) return this.fail('truncated', `handshake message ${this.step + 1} has ${msg.length} bytes, needs at least ${min}`);
    if (msg.length > NOISE_MAX_HANDSHAKE_MESSAGE_BYTES) return this.fail('too-large', `handshake message of ${msg.length} bytes`);
    let rest: Uint8Array;
    if (this.step === 0) {
      this.re = msg.slice(0, NOISE_DH_BYTES);
      this.ss.mixHash(this.re);
      rest = msg.subarray(NOISE_DH_BYTES);
    } else if (this.step === 1) {
      this.re = msg.slice(0, NOISE_DH_BYTES);
      this.ss.mixHash(this.re);
      const ee = this.mixDh(this.e!.priv, this.re);
      if (!ee.ok) return this.fail(ee.error.code, ee.error.message);
      const s = this.ss.decryptAndHash(msg.subarray(NOISE_DH_BYTES, NOISE_DH_BYTES + NOISE_DH_BYTES + NOISE_TAG_BYTES));
      if (!s.ok) return this.fail('bad-static', 'cannot decrypt the responder\'s static key');
      this.rs = s.value;
      const es = this.mixDh(this.e!.priv, this.rs);
      if (!es.ok) return this.fail(es.error.code, es.error.message);
      rest = msg.subarray(NOISE_DH_BYTES + NOISE_DH_BYTES + NOISE_TAG_BYTES);
    } else {
      const s = this.ss.decryptAndHash(msg.subarray(0, NOISE_DH_BYTES + NOISE_TAG_BYTES));
      if (!s.ok) return this.fail('bad-static', 'cannot decrypt the initiator\'s static key');
      this.rs = s.value;
      const se = this.mixDh(this.e!.priv, this.rs);
      if (!se.ok) return this.fail(se.error.code, se.error.message);
      rest = msg.subarray(NOISE_DH_BYTES + NOISE_TAG_BYTES);
    }
    const payload = this.ss.decryptAndHash(rest);
    if (!payload.ok) return this.fail('bad-payload', 'handshake payload failed authentication');
    this.advance();
    return payload;
  }

  private advance(): void {
    this.step++;
    if (this.step < 3) return;
    const [c1, c2] = this.ss.split();
    this.session = {
      send: this.initiator ? c1 : c2,
      recv: this.initiator ? c2 : c1,
      handshakeHash: this.ss.h,
      remoteStatic: this.rs!,
    };
  }
}
