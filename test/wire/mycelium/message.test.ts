import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { blake3 } from '@noble/hashes/blake3.js';
import { fromHex, toHex } from '../../../src/base/bytes.ts';
import {
  decodeMessagePacket,
  encodeMessagePacket,
  MSG_FLAG_ACK,
  MSG_FLAG_INIT,
  MSG_FLAG_REPLY,
  type MessagePacket,
} from '../../../src/wire/mycelium/message.ts';
import V from '../../fixtures/mycelium-protocol-vectors.json' with { type: 'json' };

const hex = (s: string): Uint8Array => fromHex(s)!;
const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

test('Appendix A message payloads: INIT, CHUNK, DONE', () => {
  const M = V.messages;
  const id = hex(M.init.id);
  const init: MessagePacket = { kind: 'init', id, flags: MSG_FLAG_INIT, length: M.init.length, topic: utf8(M.init.topic), topicLength: M.init.topic.length };
  assert.equal(toHex(encodeMessagePacket(init)), M.init.hex);
  assert.deepEqual(decodeMessagePacket(hex(M.init.hex)), { ok: true, value: init });

  const chunk: MessagePacket = { kind: 'chunk', id, flags: 0x1000, index: 0, offset: 0, size: 5, data: utf8(M.chunk.data) };
  assert.equal(toHex(encodeMessagePacket(chunk)), M.chunk.hex);
  assert.deepEqual(decodeMessagePacket(hex(M.chunk.hex)), { ok: true, value: chunk });

  assert.equal(toHex(blake3(utf8('hello'))), M.blake3Hello);
  const done: MessagePacket = { kind: 'done', id, flags: 0x4000, chunkCount: 1, checksum: hex(M.done.checksum) };
  assert.equal(toHex(encodeMessagePacket(done)), M.done.hex);
  assert.deepEqual(decodeMessagePacket(hex(M.done.hex)), { ok: true, value: done });
});

test('Rust unit-test vectors: flag bytes and u64 fields', () => {
  const F = V.rustMessageFields;
  const id = new Uint8Array(8);
  const flagOf: Record<string, number> = { init: 0x8000, done: 0x4000, aborted: 0x2000, chunk: 0x1000, read: 0x0800, reply: 0x0400, ack: 0x0100 };
  for (const [name, byte] of Object.entries(F.flagBytes)) {
    const flags = name === 'initAck' ? MSG_FLAG_INIT | MSG_FLAG_ACK : flagOf[name];
    const b = new Uint8Array(12);
    b[8] = flags >> 8;
    assert.equal(b[8], byte, name);
  }
  const withBody = (flagByte: number, body: string): Uint8Array => {
    const b = new Uint8Array(12 + 40);
    b[8] = flagByte;
    b.set(hex(body), 12);
    return b;
  };
  const i = decodeMessagePacket(withBody(0x80, F.initLength.bodyHex));
  assert.ok(i.ok && i.value.kind === 'init' && i.value.length === F.initLength.length);
  const w = encodeMessagePacket({ kind: 'init', id, flags: MSG_FLAG_INIT, length: F.initWriteLength.length, topic: new Uint8Array(0), topicLength: 0 });
  assert.equal(toHex(w.subarray(12, 20)), F.initWriteLength.bodyHex);
  const c = decodeMessagePacket(withBody(0x10, F.chunkIndex.bodyHex));
  assert.ok(c.ok && c.value.kind === 'chunk' && c.value.index === F.chunkIndex.index);
  const d = decodeMessagePacket(withBody(0x40, F.doneCount.bodyHex));
  assert.ok(d.ok && d.value.kind === 'done' && d.value.chunkCount === F.doneCount.chunkCount);
});

test('ACKs carry shortened bodies: INIT-ACK keeps the topic length byte, CHUNK-ACK only the chunk header', () => {
  const id = hex('0123456789abcdef');
  const initAck = encodeMessagePacket({ kind: 'init', id, flags: MSG_FLAG_INIT | MSG_FLAG_ACK, length: 5, topic: utf8('example.topic'), topicLength: 13 });
  assert.equal(initAck.length, 12 + 9);
  assert.equal(initAck[20], 13);
  const back = decodeMessagePacket(initAck);
  assert.ok(back.ok && back.value.kind === 'init' && back.value.topicLength === 13 && back.value.topic.length === 0);
  const chunkAck = encodeMessagePacket({ kind: 'chunk', id, flags: 0x1000 | MSG_FLAG_ACK, index: 3, offset: 3900, size: 1300, data: new Uint8Array(1300) });
  assert.equal(chunkAck.length, 12 + 24);
  const reply = encodeMessagePacket({ kind: 'init', id, flags: MSG_FLAG_INIT | MSG_FLAG_REPLY, length: 1, topic: new Uint8Array(0), topicLength: 0 });
  assert.equal(reply[8], 0x84);
  assert.equal(encodeMessagePacket({ kind: 'read', id, flags: 0x0800 }).length, 12);
  assert.equal(toHex(encodeMessagePacket({ kind: 'aborted', id, flags: 0x2000 }).subarray(8, 10)), '2000');
});

test('truncated bodies and packets without a kind flag are typed errors', () => {
  assert.equal((decodeMessagePacket(new Uint8Array(11)) as { ok: false; error: { code: string } }).error.code, 'truncated');
  assert.equal((decodeMessagePacket(new Uint8Array(12)) as { ok: false; error: { code: string } }).error.code, 'bad-flags');
  const chunk = hex(V.messages.chunk.hex);
  assert.equal(decodeMessagePacket(chunk.subarray(0, chunk.length - 1)).ok, false);
  const huge = hex(V.messages.init.hex);
  huge[12] = 0xff;
  assert.equal((decodeMessagePacket(huge) as { ok: false; error: { code: string } }).error.code, 'too-large');
});

test('property: random and mutated message packets never throw', () => {
  fc.assert(fc.property(fc.uint8Array({ maxLength: 120 }), (b) => void decodeMessagePacket(b)), { numRuns: 3000 });
  const seeds = [V.messages.init.hex, V.messages.chunk.hex, V.messages.done.hex].map(hex);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 2 }), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }), fc.nat(), (i, muts, cut) => {
      const b = seeds[i].slice();
      for (const [at, v] of muts) b[at % b.length] = v;
      const r = decodeMessagePacket(b.subarray(0, cut % (b.length + 1)));
      if (r.ok) assert.ok(encodeMessagePacket(r.value).length >= 12);
    }),
    { numRuns: 3000 },
  );
});
