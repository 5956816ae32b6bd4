import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { parsePublicKeyHex } from '../../src/cli/inspect.ts';
import { overlayAddressText } from '../../src/identity/address.ts';
import { fromHex } from '../../src/base/bytes.ts';
import { hypha, hyphaInProcess } from './helpers.ts';
import addresses from '../fixtures/mycelium-addresses.json' with { type: 'json' };
import identities from '../fixtures/micelio-identities.json' with { type: 'json' };

test('hypha inspect PUBKEY prints the Mycelium address vectors, as text and as JSON', async () => {
  for (const v of addresses) {
    const text = await hyphaInProcess(['inspect', v.publicKey]);
    assert.equal(text.code, 0, text.stderr);
    assert.equal(text.stdout, `Public key: ${v.publicKey}\nAddress: ${v.address}\n`);
    const json = await hyphaInProcess(['inspect', '--json', v.publicKey.toUpperCase()]);
    assert.equal(json.code, 0, json.stderr);
    // serde_json's pretty printer: two-space indent, keys in this order; the key comes back lowercase.
    assert.equal(json.stdout, `{\n  "publicKey": "${v.publicKey}",\n  "address": "${v.address}"\n}\n`);
  }
});

test('the real binary: inspect prints to stdout and exits 0, a bad key exits 2 with the reason on stderr', async () => {
  const v = addresses[0];
  const [good, bad] = await Promise.all([hypha(['inspect', v.publicKey]), hypha(['inspect', 'zz'])]);
  assert.equal(good.code, 0, good.stderr);
  assert.equal(good.stdout, `Public key: ${v.publicKey}\nAddress: ${v.address}\n`);
  assert.equal(good.stderr, '');
  assert.equal(bad.code, 2);
  assert.equal(bad.stdout, '');
  assert.match(bad.stderr, /^hypha inspect: invalid public key "zz": "z" at position 1 is not a hex digit/);
});

test('a malformed key is exit code 2 with the reason', async () => {
  const cases: [string, RegExp][] = [
    ['a47c1d6f2a15b2c670d3a88fbe0aeb301ced12f7bcb4c8e3aa877b20f8559c0', /it has 63 hex characters, expected 64 \(32 bytes\)/],
    ['a47c1d6f2a15b2c670d3a88fbe0aeb301ced12f7bcb4c8e3aa877b20f8559c0200', /it has 66 hex characters, expected 64/],
    ['0xa47c1d6f2a15b2c670d3a88fbe0aeb301ced12f7bcb4c8e3aa877b20f8559c02', /"x" at position 2 is not a hex digit/],
    ['zz', /"z" at position 1 is not a hex digit/],
  ];
  for (const [key, want] of cases) {
    const r = await hyphaInProcess(['inspect', key]);
    assert.equal(r.code, 2, key);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, want);
    assert.match(r.stderr, /^hypha inspect: invalid public key/);
  }
});

test("hypha inspect without a key shows the node's own identity from --data-dir", async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'hypha-inspect-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const v = identities[0];
  await mkdir(join(base, 'identity'), { recursive: true });
  await writeFile(join(base, 'identity', 'node.key'), v.nodeKey, { mode: 0o600 });
  const address = overlayAddressText(fromHex(v.x25519Public)!);
  const text = await hyphaInProcess(['inspect', '--data-dir', base]);
  assert.equal(text.code, 0, text.stderr);
  assert.equal(text.stdout, [
    `Public key: ${v.x25519Public}`,
    `Address: ${address}`,
    `Node id: ${v.nodeId}`,
    `Ed25519 public key: ${v.ed25519Public}`,
    '',
  ].join('\n'));
  const json = await hyphaInProcess(['inspect', '--json'], { HYPHA_DATA_DIR: base });
  assert.equal(json.code, 0, json.stderr);
  assert.deepEqual(JSON.parse(json.stdout), { publicKey: v.x25519Public, address, nodeId: v.nodeId, ed25519PublicKey: v.ed25519Public });
  assert.match(json.stdout, /^{\n {2}"publicKey"/);
});

test('inspect without an identity fails (exit 1) and says how to create one, creating nothing', async (t) => {
  const base = await mkdtemp(join(tmpdir(), 'hypha-inspect-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const r = await hyphaInProcess(['inspect', '--data-dir', join(base, 'none')]);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no node identity in .*none\/identity .*run the node once \(hypha run --data-dir .*none\)/);
});

test('parsePublicKeyHex accepts exactly 64 hex characters (property)', () => {
  fc.assert(fc.property(fc.string({ maxLength: 80 }), (s) => {
    const r = parsePublicKeyHex(s);
    assert.equal(r.ok, /^[0-9a-fA-F]{64}$/.test(s));
  }));
});
