import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fromHex, toHex } from '../../src/base/bytes.ts';
import { defaultAeadBackend } from '../../src/crypto/aead.ts';
import { E2ECipher, e2eKey, e2eSecret, fixedNonce, open, openInPlace, USER_DATA_MESSAGE, E2E_OVERHEAD_BYTES } from '../../src/crypto/e2e.ts';
import V from '../fixtures/mycelium-protocol-vectors.json' with { type: 'json' };

const hex = (s: string): Uint8Array => fromHex(s)!;

test('the shared secret of Alice and Bob is the AES key of the vectors, from both sides', () => {
  assert.equal(toHex(e2eSecret(hex(V.keys.alicePrivate), hex(V.keys.bobPublic))), V.keys.sharedSecret);
  assert.equal(toHex(e2eSecret(hex(V.keys.bobPrivate), hex(V.keys.alicePublic))), V.keys.sharedSecret);
});

for (const backend of defaultAeadBackend() === 'native' ? (['native', 'node'] as const) : (['node'] as const)) {
  test(`sealing the Appendix A message INIT with the fixed nonce gives the vector raw data (${backend} backend)`, () => {
    const E = V.frames.encryptedData;
    const c = new E2ECipher(fixedNonce(hex(E.nonce)));
    const plaintext = hex(E.plaintext);
    assert.deepEqual([...plaintext.subarray(0, 4)], [1, USER_DATA_MESSAGE, 0, 0]);
    const raw = c.seal(e2eKey(hex(V.keys.sharedSecret), backend), USER_DATA_MESSAGE, plaintext.subarray(4));
    assert.equal(toHex(raw), E.rawData);
    const o = open(e2eKey(hex(V.keys.sharedSecret), backend), hex(E.rawData));
    assert.ok(o.ok);
    assert.equal(o.value.type, USER_DATA_MESSAGE);
    assert.equal(toHex(o.value.payload), V.messages.init.hex);
    const blob = hex(E.rawData);
    const p = openInPlace(e2eKey(hex(V.keys.sharedSecret), backend), blob);
    assert.ok(p.ok);
    assert.equal(toHex(p.value.payload), V.messages.init.hex);
    assert.equal(p.value.payload.buffer, blob.buffer, 'openInPlace returns a view of the blob');
  });
}

test('sealInto writes at an offset and random nonces differ per packet', () => {
  const key = e2eKey(hex(V.keys.sharedSecret));
  const c = new E2ECipher();
  const payload = new Uint8Array(1400).fill(7);
  const out = new Uint8Array(40 + payload.length + E2E_OVERHEAD_BYTES);
  const n = c.sealInto(key, 0, payload, out, 40);
  assert.equal(n, payload.length + E2E_OVERHEAD_BYTES);
  const a = open(key, out.subarray(40));
  assert.ok(a.ok);
  assert.deepEqual(new Uint8Array(a.value.payload), payload);
  const b1 = c.seal(key, 0, payload);
  const b2 = c.seal(key, 0, payload);
  assert.notEqual(toHex(b1.subarray(b1.length - 12)), toHex(b2.subarray(b2.length - 12)));
});

test('tampering, truncation, a wrong key and a wrong inner version are refused', () => {
  const key = e2eKey(hex(V.keys.sharedSecret));
  const raw = hex(V.frames.encryptedData.rawData);
  const t = raw.slice();
  t[3] ^= 1;
  assert.equal((open(key, t) as { ok: false; error: { code: string } }).error.code, 'bad-tag');
  assert.equal((open(key, raw.subarray(0, 31)) as { ok: false; error: { code: string } }).error.code, 'truncated');
  assert.equal(open(e2eKey(new Uint8Array(32)), raw).ok, false);
  // A blob whose plaintext header says version 2.
  const c = new E2ECipher();
  const sealed = c.seal(key, 0, new Uint8Array(8));
  // Re-seal by hand with version 2 is not possible through the API; emulate by flipping the
  // keystream bit of byte 0 (CTR mode): the tag then fails, which is still a refusal.
  sealed[0] ^= 3;
  assert.equal(open(key, sealed).ok, false);
});

test('property: open and openInPlace never throw on random blobs', () => {
  const key = e2eKey(hex(V.keys.sharedSecret));
  fc.assert(fc.property(fc.uint8Array({ maxLength: 100 }), (b) => void open(key, b)), { numRuns: 1000 });
  fc.assert(fc.property(fc.uint8Array({ maxLength: 100 }), (b) => void openInPlace(key, b)), { numRuns: 1000 });
});
