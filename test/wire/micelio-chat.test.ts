// ChatMessage payloads: Micelio's bytes exactly, plus Hypha's origin-name field that Micelio ignores.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fromHex, toHex } from '../../src/base/bytes.ts';
import { CHAT_ORIGIN_NAME_FIELD, ChatMessageSchema, decodeChatMessage, decodeMessage, encodeChatMessage } from '../../src/wire/micelio/index.ts';
import vectors from '../fixtures/micelio-vectors.json' with { type: 'json' };

const TS = BigInt(vectors.fixedInputs.timestamp);

test('without a name the bytes are Micelio\'s ChatMessage vector', () => {
  assert.equal(toHex(encodeChatMessage({ nick: 'alice', text: 'hello', timestampSec: TS })), vectors.chat.chatMessage);
  const d = decodeChatMessage(fromHex(vectors.chat.chatMessage)!);
  assert.ok(d.ok);
  assert.deepEqual(d.value, { nick: 'alice', text: 'hello', timestampSec: TS });
});

test('the origin name rides in field 1000; a Micelio decoder reads the same nick, text and timestamp', () => {
  const bytes = encodeChatMessage({ nick: 'alice', text: 'hello', timestampSec: TS, originName: 'node-a' });
  assert.ok(toHex(bytes).startsWith(vectors.chat.chatMessage), 'Micelio fields first, unchanged');
  const asGo = decodeMessage(ChatMessageSchema, bytes);
  assert.ok(asGo.ok);
  assert.equal(asGo.value.nick, 'alice');
  assert.equal(asGo.value.text, 'hello');
  assert.equal(asGo.value.timestamp, TS);
  assert.deepEqual(asGo.value.$unknown?.map((f) => f.no), [CHAT_ORIGIN_NAME_FIELD]);
  const d = decodeChatMessage(bytes);
  assert.ok(d.ok);
  assert.equal(d.value.originName, 'node-a');
});

test('names are cut to 64 characters; an empty name is not sent', () => {
  const long = decodeChatMessage(encodeChatMessage({ nick: 'a', text: 'b', timestampSec: 0, originName: 'ü'.repeat(100) }));
  assert.ok(long.ok);
  assert.equal(long.value.originName, 'ü'.repeat(64));
  const none = decodeChatMessage(encodeChatMessage({ nick: 'a', text: 'b', timestampSec: 0, originName: '' }));
  assert.ok(none.ok);
  assert.equal(none.value.originName, undefined);
});

test('a malformed origin field is ignored; a malformed message is an error, never a throw', () => {
  // Field 1000 as a varint instead of a string: skipped.
  const varint = new Uint8Array([...fromHex(vectors.chat.chatMessage)!, 0xc0, 0x3e, 0x05]);
  const d = decodeChatMessage(varint);
  assert.ok(d.ok);
  assert.equal(d.value.originName, undefined);
  const bad = decodeChatMessage(Uint8Array.of(0x0a, 0x05, 0x61));
  assert.ok(!bad.ok);
});

test('random and mutated bytes never throw (property)', () => {
  const base = encodeChatMessage({ nick: 'alice', text: 'hello there', timestampSec: TS, originName: 'node-a' });
  fc.assert(
    fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), fc.array(fc.tuple(fc.nat(base.length), fc.integer({ min: 0, max: 255 })), { maxLength: 5 }).map((edits) => {
      const b = Uint8Array.from(base);
      for (const [i, v] of edits) if (i < b.length) b[i] = v;
      return b;
    })), (bytes) => {
      const r = decodeChatMessage(bytes);
      if (r.ok) {
        assert.equal(typeof r.value.nick, 'string');
        assert.equal(typeof r.value.text, 'string');
      }
    }),
    { numRuns: 500 },
  );
});

test('whatever nick, text and name go in come back out (property)', () => {
  fc.assert(
    fc.property(fc.string(), fc.string(), fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }), fc.option(fc.string({ minLength: 1, maxLength: 64 }), { nil: undefined }), (nick, text, ts, name) => {
      const wellFormed = (s: string) => s.isWellFormed();
      fc.pre(wellFormed(nick) && wellFormed(text) && (name === undefined || wellFormed(name)));
      const r = decodeChatMessage(encodeChatMessage({ nick, text, timestampSec: ts, originName: name }));
      assert.ok(r.ok);
      assert.equal(r.value.nick, nick);
      assert.equal(r.value.text, text);
      assert.equal(r.value.timestampSec, ts);
      assert.equal(r.value.originName, name === '' ? undefined : name);
    }),
  );
});
