import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { identityFromSeed, type NodeIdentity } from '../../src/identity/identity.ts';
import { fromHex, toHex } from '../../src/base/bytes.ts';
import { CipherState, NoiseXXHandshake, type NoiseSession } from '../../src/crypto/noise.ts';
import vectors from '../fixtures/micelio-vectors.json' with { type: 'json' };

const A = identityFromSeed(fromHex(vectors.nodeA.ed25519Seed)!);
const B = identityFromSeed(fromHex(vectors.nodeB.ed25519Seed)!);
const hex = (s: string): Uint8Array => fromHex(s)!;

function u16(msg: Uint8Array): string {
  return toHex(Uint8Array.of(msg.length >> 8, msg.length & 0xff, ...msg));
}

function u32(ct: Uint8Array): string {
  const h = new Uint8Array(4);
  new DataView(h.buffer).setUint32(0, ct.length);
  return toHex(h) + toHex(ct);
}

function pair(eA?: Uint8Array, eB?: Uint8Array, a: NodeIdentity = A, b: NodeIdentity = B) {
  const ini = new NoiseXXHandshake({ initiator: true, staticKey: { privateKey: a.x25519PrivateKey, publicKey: a.x25519Public }, ephemeralPrivate: eA });
  const res = new NoiseXXHandshake({ initiator: false, staticKey: { privateKey: b.x25519Private, publicKey: b.x25519Public }, ephemeralPrivate: eB });
  return { ini, res };
}

function run(ini: NoiseXXHandshake, res: NoiseXXHandshake): Uint8Array[] {
  const msgs: Uint8Array[] = [];
  for (let i = 0; i < 3; i++) {
    const [w, r] = i % 2 === 0 ? [ini, res] : [res, ini];
    const m = w.writeMessage();
    assert.ok(m.ok, m.ok ? '' : m.error.message);
    msgs.push(m.value);
    const p = r.readMessage(m.value);
    assert.ok(p.ok, p.ok ? '' : p.error.message);
    assert.equal(p.value.length, 0);
  }
  return msgs;
}

test('Noise XX transcript with the fixed ephemerals reproduces §8 byte for byte', () => {
  const { ini, res } = pair(hex(vectors.noise.initiatorEphemeralPriv), hex(vectors.noise.responderEphemeralPriv));
  const [m1, m2, m3] = run(ini, res);
  assert.equal(u16(m1), vectors.noise.msg1Wire);
  assert.equal(u16(m2), vectors.noise.msg2Wire);
  assert.equal(u16(m3), vectors.noise.msg3Wire);
  const a = ini.result() as NoiseSession;
  const b = res.result() as NoiseSession;
  assert.equal(toHex(a.handshakeHash), vectors.noise.handshakeHash);
  assert.equal(toHex(b.handshakeHash), vectors.noise.handshakeHash);
  assert.equal(toHex(a.remoteStatic), vectors.noise.initiatorPeerStatic);
  assert.equal(toHex(b.remoteStatic), vectors.noise.responderPeerStatic);

  // Transport: A→B #0 is the PeerHello frame, B→A #0 the ack frame, A→B #1 a keepalive frame.
  const c0 = a.send.encrypt(hex(vectors.hello.frame));
  assert.equal(u32(c0), vectors.noise.transportAtoB0);
  const back = b.recv.decrypt(c0);
  assert.ok(back.ok);
  assert.equal(toHex(back.value), vectors.hello.frame);
  const d0 = b.send.encrypt(hex(vectors.helloAck.frame));
  assert.equal(u32(d0), vectors.noise.transportBtoA0);
  const c1 = a.send.encrypt(hex(vectors.keepalive.frame));
  assert.equal(u32(c1), vectors.noise.transportAtoB1);
  const ka = b.recv.decrypt(c1);
  assert.ok(ka.ok);
  assert.equal(toHex(ka.value), vectors.keepalive.frame);
});

test('split keys match the reference cross-check', () => {
  // A CipherState built from the published key encrypts exactly like the handshake's.
  const { ini, res } = pair(hex(vectors.noise.initiatorEphemeralPriv), hex(vectors.noise.responderEphemeralPriv));
  run(ini, res);
  const k1 = new CipherState(hex(vectors.noise.splitInitiatorToResponder));
  const k2 = new CipherState(hex(vectors.noise.splitResponderToInitiator));
  const msg = hex(vectors.keepalive.frame);
  assert.equal(toHex(k1.encrypt(msg)), toHex(ini.result()!.send.encrypt(msg)));
  assert.equal(toHex(k2.encrypt(msg)), toHex(res.result()!.send.encrypt(msg)));
  // node:crypto's backend gives the same bytes as the native one (the second message of each key).
  const n1 = new CipherState(hex(vectors.noise.splitInitiatorToResponder), 'node');
  n1.encrypt(msg);
  assert.equal(toHex(n1.encrypt(msg)), toHex(k1.encrypt(msg)));
});

test('random ephemerals: both sides agree and learn each other\'s static key', () => {
  const { ini, res } = pair();
  const msgs = run(ini, res);
  assert.deepEqual(msgs.map((m) => m.length), [32, 96, 64]);
  assert.deepEqual(ini.result()!.handshakeHash, res.result()!.handshakeHash);
  assert.deepEqual(ini.result()!.remoteStatic, B.x25519Public);
  assert.deepEqual(res.result()!.remoteStatic, A.x25519Public);
});

test('transport messages far above 65,535 bytes round-trip, and the nonce advances', () => {
  const { ini, res } = pair();
  run(ini, res);
  const a = ini.result()!;
  const b = res.result()!;
  for (const size of [0, 1, 65_535, 65_536, 200_000, 1_048_584]) {
    const pt = new Uint8Array(size).map((_, i) => i & 0xff);
    const ct = a.send.encrypt(pt);
    assert.equal(ct.length, size + 16);
    const got = b.recv.decrypt(ct);
    assert.ok(got.ok);
    assert.deepEqual(got.value, pt);
  }
  assert.equal(a.send.nonce, 6);
  // Replaying a ciphertext fails: the receiver's nonce has moved on.
  const ct = a.send.encrypt(Uint8Array.of(1, 2, 3));
  assert.ok(b.recv.decrypt(ct).ok);
  assert.equal(b.recv.decrypt(ct).ok, false);
});

test('a low-order (all-zero) ephemeral key is refused, not thrown', () => {
  const res = new NoiseXXHandshake({ initiator: false, staticKey: { privateKey: B.x25519Private, publicKey: B.x25519Public } });
  assert.ok(res.readMessage(new Uint8Array(32)).ok);
  const m2 = res.writeMessage();
  assert.equal(m2.ok, false);
  assert.equal(m2.ok ? '' : m2.error.code, 'bad-dh');
  const ini = new NoiseXXHandshake({ initiator: true, staticKey: { privateKey: A.x25519Private, publicKey: A.x25519Public } });
  assert.ok(ini.writeMessage().ok);
  const r = ini.readMessage(new Uint8Array(96));
  assert.equal(r.ok, false);
});

test('tampered handshake messages fail authentication', () => {
  for (let step = 1; step < 3; step++) {
    const { ini, res } = pair();
    const m1 = ini.writeMessage();
    assert.ok(m1.ok);
    assert.ok(res.readMessage(m1.value).ok);
    const m2 = res.writeMessage();
    assert.ok(m2.ok);
    if (step === 1) {
      const bad = m2.value.slice();
      bad[50] ^= 1;
      assert.equal(ini.readMessage(bad).ok, false);
      // and the state stays failed
      assert.equal(ini.readMessage(m2.value).ok, false);
      continue;
    }
    assert.ok(ini.readMessage(m2.value).ok);
    const m3 = ini.writeMessage();
    assert.ok(m3.ok);
    const bad = m3.value.slice();
    bad[63] ^= 0x80;
    assert.equal(res.readMessage(bad).ok, false);
    assert.equal(res.complete, false);
  }
});

test('property: readMessage never throws on random or mutated bytes, at every step', () => {
  const good = (() => {
    const { ini, res } = pair();
    return run(ini, res);
  })();
  const mutated = fc.tuple(fc.integer({ min: 0, max: 2 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { maxLength: 4 }), fc.integer({ min: -8, max: 8 })).map(([step, flips, cut]) => {
    const m = good[step].slice(0, Math.max(0, good[step].length + Math.min(0, cut)));
    for (const [pos, x] of flips) if (m.length) m[pos % m.length] ^= x;
    return { step, bytes: cut > 0 ? Uint8Array.of(...m, ...new Uint8Array(cut)) : m };
  });
  const random = fc.tuple(fc.integer({ min: 0, max: 2 }), fc.uint8Array({ maxLength: 200 })).map(([step, bytes]) => ({ step, bytes }));
  fc.assert(
    fc.property(fc.oneof(mutated, random), ({ step, bytes }) => {
      // Bring a fresh pair to the point where `bytes` is the message at `step`.
      const { ini, res } = pair();
      const reader = step === 1 ? ini : res;
      for (let i = 0; i < step; i++) {
        const [w, r] = i % 2 === 0 ? [ini, res] : [res, ini];
        const m = w.writeMessage();
        if (!m.ok) return;
        if (!r.readMessage(m.value).ok) return;
      }
      const out = reader.readMessage(bytes);
      if (out.ok) assert.ok(out.value.length <= bytes.length);
    }),
    { numRuns: 300 },
  );
});

test('property: transport decrypt never throws on random ciphertexts', () => {
  const cs = new CipherState(new Uint8Array(32).fill(7));
  fc.assert(fc.property(fc.uint8Array({ maxLength: 100 }), (ct) => {
    const r = cs.decrypt(ct);
    assert.equal(r.ok, false);
  }));
});
