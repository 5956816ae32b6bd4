import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { identityFromSeed } from '../../src/identity/identity.ts';
import { ed25519PublicToX25519, ed25519Sign, ed25519Verify } from '../../src/crypto/ed25519.ts';
import { x25519PublicFromPrivate } from '../../src/crypto/x25519.ts';
import { toHex, fromHex } from '../../src/base/bytes.ts';

const seedA = Uint8Array.from({ length: 32 }, (_, i) => i);
const seedB = Uint8Array.from({ length: 32 }, (_, i) => 0x20 + i);

test('node identities match the Micelio vectors (reference §8)', () => {
  const a = identityFromSeed(seedA);
  assert.equal(toHex(a.ed25519Public), '03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8');
  assert.equal(a.nodeId, '56475aa75463474c0285df5dbf2bcab73da651358839e9b77481b2eab107708c');
  assert.equal(toHex(a.x25519Private), '3d94eea49c580aef816935762be049559d6d1440dede12e6a125f1841fff8e6f');
  assert.equal(toHex(a.x25519Public), '4701d08488451f545a409fb58ae3e58581ca40ac3f7f114698cd71deac73ca01');
  const b = identityFromSeed(seedB);
  assert.equal(toHex(b.ed25519Public), '29acbae141bccaf0b22e1a94d34d0bc7361e526d0bfe12c89794bc9322966dd7');
  assert.equal(b.nodeId, '24f6ed6acbfe1009c030d7ca567c33ca4830911498236b5561a6c82abec5de28');
  assert.equal(toHex(b.x25519Private), '887af58a36202e05c4c1cfec5bf6c61fad66bca851536004074b31f1b56e4ac9');
  assert.equal(toHex(b.x25519Public), '5730800ab340fcb18ce5111eda9d705f91388b41e4544cbd103ba5942db2233e');
});

test('Montgomery conversion agrees with X25519 of the derived scalar (property)', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), (seed) => {
      const id = identityFromSeed(seed);
      assert.deepEqual(id.x25519Public, x25519PublicFromPrivate(id.x25519Private));
    }),
    { numRuns: 50 },
  );
});

test('invalid Edwards encodings are refused, never thrown', () => {
  assert.equal(ed25519PublicToX25519(new Uint8Array(31)), undefined);
  // y = 2 is not on the curve.
  const notOnCurve = new Uint8Array(32);
  notOnCurve[0] = 2;
  assert.equal(ed25519PublicToX25519(notOnCurve), undefined);
  fc.assert(fc.property(fc.uint8Array({ minLength: 0, maxLength: 40 }), (b) => {
    ed25519PublicToX25519(b);
  }));
});

test('sign and verify; verify refuses wrong sizes and tampering', () => {
  const a = identityFromSeed(seedA);
  const msg = new TextEncoder().encode('hello');
  const sig = ed25519Sign(a.signingKey, msg);
  assert.equal(sig.length, 64);
  assert.ok(ed25519Verify(a.ed25519Public, msg, sig));
  assert.ok(!ed25519Verify(a.ed25519Public, new TextEncoder().encode('hellO'), sig));
  assert.ok(!ed25519Verify(a.ed25519Public.subarray(0, 31), msg, sig));
  assert.ok(!ed25519Verify(a.ed25519Public, msg, sig.subarray(0, 63)));
  assert.ok(!ed25519Verify(fromHex('00'.repeat(32))!, msg, sig));
});
