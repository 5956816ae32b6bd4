import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, type CipherGCM } from 'node:crypto';
import fc from 'fast-check';
import { aeadKey, aeadBackendNote, defaultAeadBackend, type AeadAlgorithm, type AeadBackend } from '../../src/crypto/aead.ts';

const ALGS: AeadAlgorithm[] = ['aes-256-gcm', 'chacha20-poly1305'];

function backends(): AeadBackend[] {
  return defaultAeadBackend() === 'native' ? ['native', 'node'] : ['node'];
}

/** The reference: node:crypto's one-shot seal, ciphertext ‖ tag. */
function reference(alg: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, pt: Uint8Array): Uint8Array {
  const c = createCipheriv(alg, key, nonce, { authTagLength: 16 } as never) as unknown as CipherGCM;
  if (aad.length > 0) c.setAAD(aad, { plaintextLength: pt.length });
  return new Uint8Array(Buffer.concat([c.update(pt), c.final(), c.getAuthTag()]));
}

test('the crypto addon is built here (else the node runs on node:crypto and says why)', (t) => {
  const note = aeadBackendNote();
  if (note !== undefined) return t.skip(`native AEAD backend not available: ${note}`);
  assert.equal(defaultAeadBackend(), 'native');
});

test('property: every backend seals the bytes node:crypto does, at offsets, and opens them back', () => {
  for (const alg of ALGS) {
    for (const backend of backends()) {
      fc.assert(
        fc.property(
          fc.uint8Array({ minLength: 32, maxLength: 32 }),
          fc.uint8Array({ minLength: 12, maxLength: 12 }),
          fc.uint8Array({ maxLength: 40 }),
          fc.uint8Array({ maxLength: 3000 }),
          fc.nat(20),
          fc.nat(20),
          (keyBytes, nonce, aad, pt, srcOff, dstOff) => {
            const key = aeadKey(alg, keyBytes, backend);
            const src = new Uint8Array(srcOff + pt.length + 5);
            src.set(pt, srcOff);
            const dst = new Uint8Array(dstOff + pt.length + 16 + 3);
            const noncebuf = new Uint8Array(nonce.length + 7);
            noncebuf.set(nonce, 7);
            key.seal(noncebuf, 7, aad.length > 0 ? aad : null, src, srcOff, pt.length, dst, dstOff);
            assert.deepEqual(dst.subarray(dstOff, dstOff + pt.length + 16), reference(alg, keyBytes, nonce, aad, pt));
            const back = new Uint8Array(pt.length);
            assert.equal(key.open(noncebuf, 7, aad.length > 0 ? aad : null, dst, dstOff, pt.length, back, 0), true);
            assert.deepEqual(back, pt);
          },
        ),
        { numRuns: 150 },
      );
    }
  }
});

test('in place: seal and open inside one buffer (ciphertext then tag after the plaintext)', () => {
  for (const alg of ALGS) {
    for (const backend of backends()) {
      const key = aeadKey(alg, new Uint8Array(32).fill(9), backend);
      const nonce = new Uint8Array(12).fill(3);
      const pt = new Uint8Array(1400).map((_, i) => i * 7);
      const buf = new Uint8Array(10 + 1400 + 16);
      buf.set(pt, 10);
      key.seal(nonce, 0, null, buf, 10, 1400, buf, 10);
      assert.deepEqual(buf.subarray(10), reference(alg, new Uint8Array(32).fill(9), nonce, new Uint8Array(0), pt));
      assert.equal(key.open(nonce, 0, null, buf, 10, 1400, buf, 10), true);
      assert.deepEqual(buf.subarray(10, 1410), pt);
    }
  }
});

test('a flipped bit, a wrong nonce, a wrong AAD or a wrong key fail to open, on every backend', () => {
  for (const alg of ALGS) {
    for (const backend of backends()) {
      const key = aeadKey(alg, new Uint8Array(32).fill(1), backend);
      const nonce = new Uint8Array(12);
      const aad = Uint8Array.of(1, 2, 3);
      const sealed = new Uint8Array(100 + 16);
      key.seal(nonce, 0, aad, new Uint8Array(100), 0, 100, sealed, 0);
      const out = new Uint8Array(100);
      assert.equal(key.open(nonce, 0, aad, sealed, 0, 100, out, 0), true);
      for (let i = 0; i < sealed.length; i += 23) {
        const t = sealed.slice();
        t[i] ^= 0x40;
        assert.equal(key.open(nonce, 0, aad, t, 0, 100, out, 0), false, `bit flipped at ${i}`);
      }
      assert.equal(key.open(Uint8Array.of(1, ...new Uint8Array(11)), 0, aad, sealed, 0, 100, out, 0), false);
      assert.equal(key.open(nonce, 0, null, sealed, 0, 100, out, 0), false);
      assert.equal(aeadKey(alg, new Uint8Array(32).fill(2), backend).open(nonce, 0, aad, sealed, 0, 100, out, 0), false);
    }
  }
});

test('offsets out of bounds, partial overlaps and bad keys throw RangeError (a caller bug), never touch memory', () => {
  for (const backend of backends()) {
    assert.throws(() => aeadKey('aes-256-gcm', new Uint8Array(16), backend), RangeError);
    const key = aeadKey('aes-256-gcm', new Uint8Array(32), backend);
    const nonce = new Uint8Array(12);
    const buf = new Uint8Array(64);
    assert.throws(() => key.seal(nonce, 1, null, buf, 0, 10, new Uint8Array(64), 0), RangeError);
    assert.throws(() => key.seal(nonce, 0, null, buf, 60, 10, new Uint8Array(64), 0), RangeError);
    assert.throws(() => key.seal(nonce, 0, null, buf, 0, 10, new Uint8Array(25), 0), RangeError);
    assert.throws(() => key.open(nonce, 0, null, buf, 50, 10, new Uint8Array(64), 0), RangeError);
    assert.throws(() => key.seal(nonce, 0, null, buf, 0, 20, buf, 4), RangeError);
  }
});
