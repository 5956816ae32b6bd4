// Whatever a peer sends, the bus never throws and its books stay consistent: random bytes, mutated valid
// packets, and random sequences of well-formed INIT/CHUNK/DONE/ABORTED/ACK packets with hostile fields.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { blake3 } from '@noble/hashes/blake3.js';
import { fromHex, toHex } from '../../src/base/bytes.ts';
import {
  decodeMessagePacket,
  encodeMessagePacket,
  MSG_FLAG_ACK,
  MSG_FLAG_CHUNK,
  MSG_FLAG_DONE,
  MSG_FLAG_INIT,
  MSG_FLAG_REPLY,
  type MessagePacket,
} from '../../src/wire/mycelium/message.ts';
import V from '../fixtures/mycelium-protocol-vectors.json' with { type: 'json' };
import { BusNet } from './helpers.ts';

const hex = (s: string): Uint8Array => fromHex(s)!;

/** One node whose sends we capture; `peer` is a second node that only exists to be a known sender. */
async function harness() {
  const net = new BusNet(2);
  net.link(0, 1);
  await net.start();
  await net.settle();
  const [me, peer] = net.nodes;
  const sent: { dst: Uint8Array; packet: MessagePacket }[] = [];
  const dp = me.overlay.dataplane;
  const orig = dp.sendMessage.bind(dp);
  dp.sendMessage = (dst, payload) => {
    const d = decodeMessagePacket(payload);
    if (d.ok) sent.push({ dst: Uint8Array.from(dst), packet: d.value });
    return orig(dst, payload);
  };
  return { net, me, peer, sent };
}

test('Appendix A: the bus answers the INIT, CHUNK and DONE vectors with their ACKs and takes the message', async () => {
  const { net, me, peer, sent } = await harness();
  // The vector's topic must be allowed: it is, by default.
  me.bus.receivePacket(hex(V.messages.init.hex), peer.address, me.address);
  me.bus.receivePacket(hex(V.messages.chunk.hex), peer.address, me.address);
  me.bus.receivePacket(hex(V.messages.done.hex), peer.address, me.address);
  await net.clock.advance(10);
  const acks = sent.filter((s) => (s.packet.flags & MSG_FLAG_ACK) !== 0).map((s) => toHex(encodeMessagePacket(s.packet)));
  // INIT-ACK: header with INIT|ACK, length, topic length byte, no topic bytes. CHUNK-ACK: the chunk header only.
  const u64 = (n: number): string => n.toString(16).padStart(16, '0');
  assert.deepEqual(acks, [
    `0123456789abcdef81000000${u64(5)}0d`,
    `0123456789abcdef11000000${u64(0)}${u64(0)}${u64(5)}`,
    `0123456789abcdef410000000000000000000001${V.messages.done.checksum}`,
  ]);
  const m = await me.bus.pop();
  assert.ok(m.ok && m.value);
  assert.equal(new TextDecoder().decode(m.value.payload), 'hello');
  assert.equal(new TextDecoder().decode(m.value.topic), 'example.topic');
  assert.equal(m.value.id, '0123456789abcdef');
  await net.stop();
});

test('property: random and mutated packets from a peer never throw and never corrupt the bus', async () => {
  const { net, me, peer } = await harness();
  const seeds = [V.messages.init.hex, V.messages.chunk.hex, V.messages.done.hex].map(hex);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
      me.bus.receivePacket(b, peer.address, me.address);
    }),
    { numRuns: 2000 },
  );
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), fc.nat(), (i, muts, cut) => {
      const b = seeds[i].slice();
      for (const [at, v] of muts) b[at % b.length] = v;
      me.bus.receivePacket(b.subarray(0, cut % (b.length + 1)), peer.address, me.address);
    }),
    { numRuns: 2000 },
  );
  await net.clock.advance(100);
  assert.ok(me.bus.counters.malformed > 0);
  await net.stop();
});

test('property: hostile sequences of well-formed packets keep the books consistent', async () => {
  const { net, me, peer } = await harness();
  const ids = ['0000000000000001', '0000000000000002', 'ffffffffffffffff'].map(hex);
  const u64 = fc.oneof(fc.integer({ min: 0, max: 5000 }), fc.constantFrom(0, 1, 249, 250, 1300, 2 ** 32, 2 ** 53 - 1));
  const packet: fc.Arbitrary<MessagePacket> = fc.oneof(
    fc.record({
      kind: fc.constant('init' as const),
      id: fc.constantFrom(...ids),
      flags: fc.constantFrom(MSG_FLAG_INIT, MSG_FLAG_INIT | MSG_FLAG_REPLY, MSG_FLAG_INIT | MSG_FLAG_ACK),
      length: u64,
      topic: fc.uint8Array({ maxLength: 8 }),
    }).map((p) => ({ ...p, topicLength: p.topic.length })),
    fc.record({
      kind: fc.constant('chunk' as const),
      id: fc.constantFrom(...ids),
      flags: fc.constantFrom(MSG_FLAG_CHUNK, MSG_FLAG_CHUNK | MSG_FLAG_ACK),
      index: u64,
      offset: u64,
      data: fc.uint8Array({ maxLength: 1400 }),
    }).map((p) => ({ ...p, size: p.data.length })),
    fc.record({
      kind: fc.constant('done' as const),
      id: fc.constantFrom(...ids),
      flags: fc.constantFrom(MSG_FLAG_DONE, MSG_FLAG_DONE | MSG_FLAG_ACK),
      chunkCount: u64,
      checksum: fc.oneof(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.constant(blake3(new Uint8Array(0)))),
    }),
    fc.record({ kind: fc.constant('aborted' as const), id: fc.constantFrom(...ids), flags: fc.constant(0x2000) }),
    fc.record({ kind: fc.constant('read' as const), id: fc.constantFrom(...ids), flags: fc.constant(0x0800) }),
  );
  fc.assert(
    fc.property(fc.array(packet, { maxLength: 40 }), (ps) => {
      for (const p of ps) me.bus.receivePacket(encodeMessagePacket(p), peer.address, me.address);
      const books = me.bus as unknown as { partialBytes: number; partials: Map<string, unknown> };
      assert.ok(books.partialBytes >= 0);
      assert.ok(books.partials.size <= me.bus.limits.maxPartialMessages);
    }),
    { numRuns: 500 },
  );
  await net.clock.advance(100);
  // Whatever completed (empty messages with the right checksum can) is poppable and well-formed.
  for (;;) {
    const m = await me.bus.pop();
    assert.ok(m.ok);
    if (m.value === null) break;
    assert.equal(m.value.srcIp, peer.ip);
  }
  await net.stop();
});
