import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { charCount, cleanNick, cleanText, stripTerminalControls, truncateChars, MAX_NICK_CHARS } from '../../src/partyline/sanitize.ts';

// Anything a terminal would act on: ESC, C0 controls, DEL, C1 controls, bidi overrides/isolates.
// eslint-disable-next-line no-control-regex -- asserting their absence
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

test('escape sequences are removed, text around them kept', () => {
  const cases: [string, string][] = [
    ['\x1b[31mred\x1b[0m', 'red'],
    ['\x1b[2J\x1b[Hwiped', 'wiped'],
    ['\x1b]0;owned title\x07after', 'after'],
    ['\x1b]8;;http://evil\x1b\\link\x1b]8;;\x1b\\', 'link'],
    ['a\x1bPq#0;2;0;0;0\x1b\\b', 'ab'],
    ['x\x1b_apc\x9cy', 'xy'],
    ['\x9b31mc1 csi', 'c1 csi'],
    ['\x9d0;t\x07c1 osc', 'c1 osc'],
    ['\x1b(Bcharset', 'charset'],
    ['\x1b7save\x1b8', 'save'],
    ['bell\x07 and \x08backspace', 'bell and backspace'],
    ['two\nlines\r\n[alice] forged', 'two lines  [alice] forged'],
    ['tab\there', 'tab here'],
    ['\u202eevil\u202c', 'evil'],
    ['trailing ESC\x1b', 'trailing ESC'],
    ['unterminated \x1b]0;title', 'unterminated '],
    ['héllo wörld ✓ 🍄', 'héllo wörld ✓ 🍄'],
    ['lone \ud800 surrogate', 'lone \ufffd surrogate'],
  ];
  for (const [input, want] of cases) assert.equal(stripTerminalControls(input), want, JSON.stringify(input));
});

test('nick and text cleaning bound length in characters', () => {
  assert.equal(cleanNick('  \x1b[1mbob\x1b[0m  '), 'bob');
  assert.equal(cleanNick('a'.repeat(100)), 'a'.repeat(MAX_NICK_CHARS));
  assert.equal(cleanNick('two  words'), 'two words');
  assert.equal(charCount(cleanText('🍄'.repeat(5000))), 4096);
  assert.equal(truncateChars('🍄🍄🍄', 2), '🍄🍄');
});

test('output never contains a control character, whatever the input (property)', () => {
  const anyText = fc.oneof(
    fc.string({ unit: 'binary', maxLength: 200 }),
    fc.array(fc.constantFrom('\x1b', '[', ']', 'P', '\\', '\x07', '\x9b', '\x9c', '\x9d', '0', ';', 'm', 'a', '\n', '\u202e', '🍄'), { maxLength: 60 }).map((a) => a.join('')),
  );
  fc.assert(
    fc.property(anyText, (s) => {
      const out = stripTerminalControls(s);
      assert.ok(!CONTROL.test(out), JSON.stringify(out));
      assert.ok(!CONTROL.test(cleanNick(s)));
      assert.ok(charCount(cleanNick(s)) <= MAX_NICK_CHARS);
    }),
    { numRuns: 1000 },
  );
});
