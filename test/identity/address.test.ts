import { test } from 'node:test';
import assert from 'node:assert/strict';
import { overlayAddressText, nodeSubnetText } from '../../src/identity/address.ts';
import { fromHex } from '../../src/base/bytes.ts';
import vectors from '../fixtures/mycelium-addresses.json' with { type: 'json' };

test('overlay addresses match the Mycelium ≥ 0.5.0 vectors', () => {
  for (const v of vectors) {
    const pk = fromHex(v.publicKey);
    assert.ok(pk);
    assert.equal(overlayAddressText(pk), v.address, v.publicKey);
  }
});

test('the node subnet is the address /64', () => {
  const pk = fromHex('a47c1d6f2a15b2c670d3a88fbe0aeb301ced12f7bcb4c8e3aa877b20f8559c02')!;
  assert.equal(nodeSubnetText(pk), '548:c783:d7ce:74a3::/64');
});

test('a key of the wrong size is refused', () => {
  assert.throws(() => overlayAddressText(new Uint8Array(31)), /32 bytes/);
});
