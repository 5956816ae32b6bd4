import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LineEditor, type EndReason, type LineEditorOptions } from '../../src/partyline/line-editor.ts';
import { screenLines } from './helpers.ts';

function editor(opts: Partial<LineEditorOptions> = {}) {
  let out = '';
  const lines: string[] = [];
  const ends: EndReason[] = [];
  const ed = new LineEditor({
    interactive: true,
    write: (d) => {
      out += d;
      return true;
    },
    onLine: (l) => lines.push(l),
    onEnd: (r) => ends.push(r),
    ...opts,
  });
  ed.showPrompt('[alice]> ');
  return {
    ed,
    lines,
    ends,
    screen: () => screenLines(out),
    raw: () => out,
    /** Acknowledges every completed line so input keeps flowing, as the SSH layer does. */
    answer: () => ed.showPrompt('[alice]> '),
  };
}

test('typed characters are echoed; Enter ends the line with CRLF', () => {
  const t = editor();
  t.ed.feed('hi there\r');
  assert.deepEqual(t.lines, ['hi there']);
  assert.equal(t.raw(), '\r\x1b[K[alice]> hi there\r\n');
});

test('CR, LF and CRLF each end exactly one line', () => {
  const t = editor();
  for (const chunk of ['a\r', 'b\n', 'c\r\n', 'd\r\n']) {
    t.ed.feed(chunk);
    t.answer();
  }
  t.ed.feed('\r\r');
  t.answer();
  assert.deepEqual(t.lines, ['a', 'b', 'c', 'd', '', '']);
});

test('input waits while a line is handled, then continues after the prompt is shown again', () => {
  const t = editor();
  t.ed.feed('first\rsecond\r');
  assert.deepEqual(t.lines, ['first']);
  assert.equal(t.ed.pendingChars, 'second\r'.length);
  t.ed.printAbove('output of first');
  t.answer();
  assert.deepEqual(t.lines, ['first', 'second']);
  assert.deepEqual(t.screen(), ['[alice]> first', 'output of first', '[alice]> second', '']);
});

test('backspace, cursor keys, home/end, kill and word delete edit the line', () => {
  const cases: [string, string][] = [
    ['helo\x7f\x7flo\r', 'hello'.slice(0, 2) + 'lo'],
    ['wrld\x1b[D\x1b[D\x1b[Do\r', 'world'],
    ['bc\x01a\x05d\r', 'abcd'],
    ['ac\x1bOD b\x1b[C\r', 'a bc'],
    ['xyz\x1b[H\x1b[3~\r', 'yz'],
    ['one two three\x17\x17\r', 'one '],
    ['keep this\x1b[1;5Ddrop\x0b\r', 'keep drop'],
    ['gone\x15kept\r', 'kept'],
    ['abc\x02\x02\x04\r', 'ac'],
    ['\x1b[200~pasted\x1b[201~\r', 'pasted'],
    ['bell\x07tab\tnul\x00\r', 'belltabnul'],
  ];
  for (const [keys, want] of cases) {
    const t = editor();
    t.ed.feed(keys);
    assert.deepEqual(t.lines, [want], JSON.stringify(keys));
  }
});

test('history: up recalls earlier lines, down returns to the draft', () => {
  const t = editor();
  t.ed.feed('first\r');
  t.answer();
  t.ed.feed('second\r');
  t.answer();
  t.ed.feed('\x1b[A\x1b[A\r');
  t.answer();
  t.ed.feed('dra\x1b[A\x1b[B\x1b[Bft\r');
  assert.deepEqual(t.lines, ['first', 'second', 'first', 'draft']);
});

test('Ctrl-C clears a non-empty line and ends on an empty one; Ctrl-D ends on an empty line', () => {
  const t = editor();
  t.ed.feed('oops\x03');
  assert.deepEqual(t.ends, []);
  assert.equal(t.ed.currentLine, '');
  t.ed.feed('\x03');
  assert.deepEqual(t.ends, ['interrupt']);
  const u = editor();
  u.ed.feed('x\x04');
  assert.deepEqual(u.ends, []);
  u.ed.feed('\x7f\x04more');
  assert.deepEqual(u.ends, ['eof']);
  assert.deepEqual(u.lines, []);
});

test('a line printed while the user types appears above the prompt, which is redrawn with the typed text', () => {
  const t = editor();
  t.ed.feed('half-typ');
  t.ed.printAbove('[bob] hello');
  t.ed.feed('ed\r');
  assert.deepEqual(t.screen(), ['[bob] hello', '[alice]> half-typed', '']);
  assert.deepEqual(t.lines, ['half-typed']);
});

test('a line longer than the terminal scrolls sideways instead of wrapping', () => {
  const t = editor({ columns: 20 });
  t.ed.feed('abcdefghijklmnopqrstuvwxyz');
  const last = t.screen().at(-1) as string;
  assert.ok(last.length < 20, last);
  assert.ok(last.startsWith('[alice]> ') && last.endsWith('z'), last);
  t.ed.feed('\x01');
  assert.ok((t.screen().at(-1) as string).startsWith('[alice]> abc'));
  t.ed.setColumns(100);
  assert.equal(t.screen().at(-1), '[alice]> abcdefghijklmnopqrstuvwxyz');
});

test('line length is bounded; extra keys ring the bell', () => {
  const t = editor({ maxLineChars: 5 });
  t.ed.feed('1234567\r');
  assert.deepEqual(t.lines, ['12345']);
  assert.ok(t.raw().includes('\x07'));
});

test('UTF-8 split across chunks is decoded whole', () => {
  const t = editor();
  const bytes = Buffer.from('🍄é\r');
  for (const b of bytes) t.ed.feed(Buffer.from([b]));
  assert.deepEqual(t.lines, ['🍄é']);
});

test('without a pty: no echo, no drawing, plain lines', () => {
  let out = '';
  const lines: string[] = [];
  const ed = new LineEditor({ interactive: false, write: (d) => ((out += d), true), onLine: (l) => lines.push(l), onEnd: () => undefined });
  ed.showPrompt('[alice]> ');
  ed.feed('hello\nworld\r\n');
  ed.showPrompt('[alice]> ');
  ed.printAbove('[bob] hi');
  assert.deepEqual(lines, ['hello', 'world']);
  assert.equal(out, '[bob] hi\r\n');
});

test('arbitrary input never throws and never yields a line with control characters (property)', () => {
  fc.assert(
    fc.property(fc.array(fc.oneof(fc.uint8Array({ maxLength: 20 }), fc.string({ maxLength: 20 })), { maxLength: 20 }), fc.boolean(), (chunks, interactive) => {
      const lines: string[] = [];
      let ed: LineEditor | undefined = undefined;
      ed = new LineEditor({
        interactive,
        columns: 30,
        write: () => true,
        onLine: (l) => {
          lines.push(l);
          ed?.showPrompt('> ');
        },
        onEnd: () => undefined,
      });
      ed.showPrompt('> ');
      for (const c of chunks) ed.feed(typeof c === 'string' ? c : Buffer.from(c));
      // eslint-disable-next-line no-control-regex -- asserting their absence
      for (const l of lines) assert.ok(!/[\u0000-\u001f\u007f-\u009f]/.test(l), JSON.stringify(l));
    }),
    { numRuns: 500 },
  );
});
