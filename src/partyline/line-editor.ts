// A line editor for a remote terminal, what Go's x/term gives Micelio: echo, cursor movement,
// history, and lines from others printed above the line being typed (the prompt and the half-typed
// text are redrawn under them). With a pty the client's terminal is in raw mode, so every key arrives
// here and every byte the user sees comes from here; without a pty (`ssh -T`) the client edits lines
// itself, so the editor neither echoes nor draws.
//
// Input is consumed one line at a time: once Enter completes a line the editor stops (keys typed
// meanwhile wait in `pending`) until the owner calls `showPrompt()` after handling it, so output and
// prompt come in the order a user expects even when a command is slow.
//
// Characters are assumed one column wide; a line longer than the terminal scrolls sideways.
import { StringDecoder } from 'node:string_decoder';
import { charCount } from './sanitize.ts';

export const DEFAULT_COLUMNS = 80;
export const DEFAULT_MAX_LINE_CHARS = 4096;
export const DEFAULT_HISTORY_LINES = 100;
/** Longest CSI parameter string accepted before the sequence is abandoned. */
const MAX_CSI_PARAM_CHARS = 16;

const CLEAR_LINE = '\r\x1b[K';
const BELL = '\x07';

export type EndReason = 'eof' | 'interrupt';

export interface LineEditorOptions {
  /** Writes to the terminal; returns false when its buffer is full (as `stream.write`). */
  write: (data: string) => boolean;
  /** A completed line. The editor waits for `showPrompt()` before it reads further input. */
  onLine: (line: string) => void;
  /** Ctrl-D or Ctrl-C on an empty line: the user wants out (x/term returns io.EOF for both). */
  onEnd: (reason: EndReason) => void;
  /** True with a pty: echo and draw. False: plain lines in and out. */
  interactive: boolean;
  columns?: number;
  maxLineChars?: number;
  historyLines?: number;
}

type EscState = 'none' | 'esc' | 'csi' | 'ss3';

export class LineEditor {
  private readonly write: (data: string) => boolean;
  private readonly onLine: (line: string) => void;
  private readonly onEnd: (reason: EndReason) => void;
  readonly interactive: boolean;
  private readonly maxLineChars: number;
  private readonly historyLines: number;
  private columns: number;
  private readonly decoder = new StringDecoder('utf8');

  private prompt = '';
  private promptVisible = false;
  /** True between a completed line and the next `showPrompt()` (and before the first one). */
  private waiting = true;
  private ended = false;
  private pumping = false;
  private pending = '';
  private line: string[] = [];
  private pos = 0;
  private viewStart = 0;
  private esc: EscState = 'none';
  private csiParams = '';
  private lastWasCR = false;
  private readonly history: string[] = [];
  private historyIndex = 0;
  /** The line being typed when the user started browsing history. */
  private draft: string[] = [];

  constructor(opts: LineEditorOptions) {
    this.write = opts.write;
    this.onLine = opts.onLine;
    this.onEnd = opts.onEnd;
    this.interactive = opts.interactive;
    this.columns = opts.columns && opts.columns > 0 ? opts.columns : DEFAULT_COLUMNS;
    this.maxLineChars = opts.maxLineChars ?? DEFAULT_MAX_LINE_CHARS;
    this.historyLines = opts.historyLines ?? DEFAULT_HISTORY_LINES;
  }

  /** Characters received but not yet consumed (the owner pauses its input above a bound). */
  get pendingChars(): number {
    return this.pending.length;
  }

  /** The line being typed (for tests). */
  get currentLine(): string {
    return this.line.join('');
  }

  setColumns(columns: number): void {
    if (!(columns > 0) || columns === this.columns) return;
    this.columns = Math.min(columns, 10_000);
    if (this.promptVisible) this.render();
  }

  /** Input from the terminal. */
  feed(data: Buffer | string): void {
    if (this.ended) return;
    this.pending += typeof data === 'string' ? data : this.decoder.write(data);
    this.pump();
  }

  /** Shows the prompt (and any text typed ahead) and resumes reading input. */
  showPrompt(prompt: string): void {
    if (this.ended) return;
    this.prompt = prompt;
    this.waiting = false;
    if (this.interactive) {
      this.promptVisible = true;
      this.viewStart = 0;
      this.render();
    }
    this.pump();
  }

  /**
   * Prints a line above the prompt: the prompt line is cleared, the text written, and the prompt with
   * the half-typed input redrawn under it. Returns false when the terminal's buffer is full.
   */
  printAbove(text: string): boolean {
    if (!this.interactive || !this.promptVisible) return this.write(text + '\r\n');
    // One write: each write becomes an SSH packet, and a busy partyline prints many lines.
    return this.write(CLEAR_LINE + text + '\r\n' + this.promptLine());
  }

  /** Stops reading input for good (the session is closing). */
  end(): void {
    this.ended = true;
    this.promptVisible = false;
    this.pending = '';
  }

  private pump(): void {
    // A completed line may make the owner call showPrompt() (and so pump()) before key() returns:
    // the outer loop then simply carries on.
    if (this.pumping) return;
    this.pumping = true;
    let i = 0;
    try {
      while (!this.waiting && !this.ended && i < this.pending.length) {
        const cp = this.pending.codePointAt(i) as number;
        i += cp > 0xffff ? 2 : 1;
        this.key(cp);
      }
    } finally {
      this.pending = this.pending.slice(i);
      this.pumping = false;
    }
  }

  private key(cp: number): void {
    const wasCR = this.lastWasCR;
    this.lastWasCR = false;
    if (this.esc !== 'none') {
      this.escapeKey(cp);
      return;
    }
    if (!this.interactive) {
      this.plainKey(cp, wasCR);
      return;
    }
    switch (cp) {
      case 0x0d: // CR: Enter
        this.lastWasCR = true;
        this.enter();
        return;
      case 0x0a: // LF: Enter, unless it ends a CRLF pair
        if (!wasCR) this.enter();
        return;
      case 0x01: return this.moveTo(0); // Ctrl-A
      case 0x05: return this.moveTo(this.line.length); // Ctrl-E
      case 0x02: return this.moveTo(this.pos - 1); // Ctrl-B
      case 0x06: return this.moveTo(this.pos + 1); // Ctrl-F
      case 0x03: return this.interrupt(); // Ctrl-C
      case 0x04: // Ctrl-D: end on an empty line, else delete under the cursor
        if (this.line.length === 0) return this.finish('eof');
        return this.deleteAt(this.pos);
      case 0x08:
      case 0x7f:
        return this.backspace();
      case 0x0b: // Ctrl-K
        this.line.length = this.pos;
        this.render();
        return;
      case 0x15: // Ctrl-U
        this.line.splice(0, this.pos);
        this.pos = 0;
        this.render();
        return;
      case 0x17: // Ctrl-W
        return this.deleteWordBack();
      case 0x0c: // Ctrl-L: clear the screen, redraw
        this.write('\x1b[H\x1b[2J');
        this.render();
        return;
      case 0x10: return this.historyMove(-1); // Ctrl-P
      case 0x0e: return this.historyMove(1); // Ctrl-N
      case 0x1b:
        this.esc = 'esc';
        return;
      default:
        if (cp < 0x20 || (cp >= 0x80 && cp <= 0x9f)) return; // other controls: ignored
        this.insert(String.fromCodePoint(cp));
    }
  }

  /** Without a pty the client sends whole lines; keep printable text, split on CR/LF. */
  private plainKey(cp: number, wasCR: boolean): void {
    if (cp === 0x0d) {
      this.lastWasCR = true;
      this.enter();
    } else if (cp === 0x0a) {
      if (!wasCR) this.enter();
    } else if (cp === 0x08 || cp === 0x7f) {
      if (this.pos > 0) this.line.splice(--this.pos, 1);
    } else if (cp === 0x04 && this.line.length === 0) {
      this.finish('eof');
    } else if (cp === 0x1b) {
      this.esc = 'esc';
    } else if (cp >= 0x20 && !(cp >= 0x7f && cp <= 0x9f) && this.line.length < this.maxLineChars) {
      this.line.push(String.fromCodePoint(cp));
      this.pos = this.line.length;
    }
  }

  private escapeKey(cp: number): void {
    const ch = String.fromCodePoint(cp);
    if (this.esc === 'esc') {
      if (ch === '[') {
        this.esc = 'csi';
        this.csiParams = '';
      } else if (ch === 'O') {
        this.esc = 'ss3';
      } else {
        this.esc = 'none'; // Alt+key and lone ESC: ignored
        if (cp === 0x1b) this.esc = 'esc';
      }
      return;
    }
    if (this.esc === 'ss3') {
      this.esc = 'none';
      if (this.interactive) this.sequence('', ch);
      return;
    }
    // CSI: parameters and intermediates until a final byte.
    if (cp >= 0x40 && cp <= 0x7e) {
      this.esc = 'none';
      if (this.interactive) this.sequence(this.csiParams, ch);
      return;
    }
    if (cp >= 0x20 && cp <= 0x3f && this.csiParams.length < MAX_CSI_PARAM_CHARS) {
      this.csiParams += ch;
      return;
    }
    this.esc = 'none'; // malformed or too long: abandon the sequence
  }

  private sequence(params: string, final: string): void {
    const ctrl = params.endsWith(';5') || params.endsWith(';3'); // Ctrl or Alt + arrow: by word
    switch (final) {
      case 'A': return this.historyMove(-1);
      case 'B': return this.historyMove(1);
      case 'C': return ctrl ? this.moveTo(this.wordEnd()) : this.moveTo(this.pos + 1);
      case 'D': return ctrl ? this.moveTo(this.wordStart()) : this.moveTo(this.pos - 1);
      case 'H': return this.moveTo(0);
      case 'F': return this.moveTo(this.line.length);
      case '~':
        switch (params) {
          case '1':
          case '7':
            return this.moveTo(0);
          case '4':
          case '8':
            return this.moveTo(this.line.length);
          case '3':
            return this.deleteAt(this.pos);
        }
        return; // includes bracketed-paste markers 200~ / 201~
    }
  }

  private enter(): void {
    const text = this.line.join('');
    if (this.interactive) {
      this.write('\r\n');
      this.promptVisible = false;
      if (text.trim() !== '' && this.history[this.history.length - 1] !== text) {
        this.history.push(text);
        if (this.history.length > this.historyLines) this.history.shift();
      }
      this.historyIndex = this.history.length;
      this.draft = [];
    }
    this.line = [];
    this.pos = 0;
    this.viewStart = 0;
    this.waiting = true;
    this.onLine(text);
  }

  private interrupt(): void {
    if (this.line.length === 0) {
      this.finish('interrupt');
      return;
    }
    this.write('^C\r\n');
    this.line = [];
    this.pos = 0;
    this.viewStart = 0;
    this.historyIndex = this.history.length;
    this.render();
  }

  private finish(reason: EndReason): void {
    if (this.interactive) this.write('\r\n');
    this.end();
    this.onEnd(reason);
  }

  private insert(ch: string): void {
    if (this.line.length >= this.maxLineChars) {
      this.write(BELL);
      return;
    }
    const atEnd = this.pos === this.line.length;
    this.line.splice(this.pos, 0, ch);
    this.pos++;
    // The common case, typing at the end of a line that fits: just echo the character.
    if (atEnd && this.viewStart === 0 && charCount(this.prompt) + this.line.length < this.columns) {
      this.write(ch);
      return;
    }
    this.render();
  }

  private backspace(): void {
    if (this.pos === 0) return;
    this.line.splice(this.pos - 1, 1);
    this.pos--;
    this.render();
  }

  private deleteAt(at: number): void {
    if (at >= this.line.length) return;
    this.line.splice(at, 1);
    this.render();
  }

  private deleteWordBack(): void {
    const start = this.wordStart();
    if (start === this.pos) return;
    this.line.splice(start, this.pos - start);
    this.pos = start;
    this.render();
  }

  private wordStart(): number {
    let i = this.pos;
    while (i > 0 && this.line[i - 1] === ' ') i--;
    while (i > 0 && this.line[i - 1] !== ' ') i--;
    return i;
  }

  private wordEnd(): number {
    let i = this.pos;
    while (i < this.line.length && this.line[i] === ' ') i++;
    while (i < this.line.length && this.line[i] !== ' ') i++;
    return i;
  }

  private moveTo(pos: number): void {
    const p = Math.max(0, Math.min(this.line.length, pos));
    if (p === this.pos) return;
    this.pos = p;
    this.render();
  }

  private historyMove(delta: number): void {
    const next = this.historyIndex + delta;
    if (next < 0 || next > this.history.length) return;
    if (this.historyIndex === this.history.length) this.draft = this.line;
    this.historyIndex = next;
    this.line = next === this.history.length ? this.draft : Array.from(this.history[next]);
    this.pos = this.line.length;
    this.render();
  }

  /** Redraws the prompt line. */
  private render(): boolean {
    if (!this.interactive || !this.promptVisible) return true;
    return this.write(this.promptLine());
  }

  /** The prompt line from its start, scrolled sideways so the cursor stays on screen. */
  private promptLine(): string {
    const room = Math.max(1, this.columns - 1 - charCount(this.prompt));
    if (this.pos < this.viewStart) this.viewStart = this.pos;
    if (this.pos > this.viewStart + room) this.viewStart = this.pos - room;
    if (this.line.length <= room) this.viewStart = 0;
    const visible = this.line.slice(this.viewStart, this.viewStart + room);
    const back = this.viewStart + visible.length - this.pos;
    return CLEAR_LINE + this.prompt + visible.join('') + (back > 0 ? `\x1b[${back}D` : '');
  }
}
