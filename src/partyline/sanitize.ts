// Text that reaches a terminal from anyone but the terminal's own user (another session, another node)
// is untrusted: Micelio prints remote nicks and lines raw, so any mesh node can move cursors, retitle
// windows, hide text or fake lines with escape sequences (reference §9, item 5). Everything the
// partyline shows passes through here first.

/** Longest nick shown or accepted, in characters; longer ones are cut (remote) or refused (/nick). */
export const MAX_NICK_CHARS = 32;
/** Longest chat line, in characters: the line length Go's x/term allows (4096 runes). */
export const MAX_LINE_CHARS = 4096;
/** Longest node name shown as a line's origin, in characters. */
export const MAX_ORIGIN_CHARS = 32;

const ESC = 0x1b;
const BEL = 0x07;
const C1_CSI = 0x9b;
const C1_ST = 0x9c;
const C1_OSC = 0x9d;
const C1_DCS = 0x90;
const C1_SOS = 0x98;
const C1_PM = 0x9e;
const C1_APC = 0x9f;

// eslint-disable-next-line no-control-regex -- this is the list of characters to remove
const NEEDS_CLEANING = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069\ud800-\udfff]/u;

/**
 * Characters that change how the rest of a line is laid out without being visible: bidi embeddings,
 * overrides and isolates (U+202A–U+202E, U+2066–U+2069), so `[bob] hi` cannot be shown reversed or
 * made to look like someone else's line.
 */
function isBidiControl(cp: number): boolean {
  return (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/**
 * Removes terminal control sequences and control characters:
 * - ESC sequences: CSI (`ESC [` … final byte), OSC (`ESC ]` … BEL or ST), DCS/SOS/PM/APC (… ST), and
 *   two-character escapes (`ESC` + intermediates + final), including an ESC cut off at the end;
 * - their 8-bit C1 forms (U+009B CSI, U+009D OSC, …) and every other C1 control (U+0080–U+009F);
 * - C0 controls and DEL. Tab, CR and LF become a space, so a remote line cannot start a new
 *   (forged) line but words stay apart; the others vanish;
 * - bidi overrides and isolates.
 * Lone surrogates become U+FFFD. Never throws.
 */
export function stripTerminalControls(input: string): string {
  // Nearly every line is clean: one regex scan (with /u a surrogate range matches only lone ones).
  if (!NEEDS_CLEANING.test(input)) return input;
  let out = '';
  const n = input.length;
  let i = 0;
  while (i < n) {
    const cp = input.codePointAt(i) as number;
    const width = cp > 0xffff ? 2 : 1;
    if (cp === ESC) {
      i = skipEscape(input, i + 1);
      continue;
    }
    if (cp === C1_CSI) {
      i = skipCsiBody(input, i + 1);
      continue;
    }
    if (cp === C1_OSC || cp === C1_DCS || cp === C1_SOS || cp === C1_PM || cp === C1_APC) {
      i = skipStringBody(input, i + 1);
      continue;
    }
    if (cp === 0x09 || cp === 0x0a || cp === 0x0d) {
      out += ' ';
    } else if (cp < 0x20 || cp === 0x7f || (cp >= 0x80 && cp <= 0x9f) || isBidiControl(cp)) {
      // dropped
    } else if (cp >= 0xd800 && cp <= 0xdfff) {
      out += '\ufffd'; // a lone surrogate (codePointAt returns it as is)
    } else {
      out += String.fromCodePoint(cp);
    }
    i += width;
  }
  return out;
}

/** `i` is just past an ESC; returns the index after the whole sequence. */
function skipEscape(s: string, i: number): number {
  if (i >= s.length) return i;
  const c = s.charCodeAt(i);
  if (c === 0x5b) return skipCsiBody(s, i + 1); // '['
  // ']' OSC, 'P' DCS, 'X' SOS, '^' PM, '_' APC: strings terminated by BEL or ST
  if (c === 0x5d || c === 0x50 || c === 0x58 || c === 0x5e || c === 0x5f) return skipStringBody(s, i + 1);
  // nF escapes: intermediates 0x20–0x2F, then one final 0x30–0x7E
  let j = i;
  while (j < s.length && s.charCodeAt(j) >= 0x20 && s.charCodeAt(j) <= 0x2f) j++;
  if (j < s.length && s.charCodeAt(j) >= 0x30 && s.charCodeAt(j) <= 0x7e) return j + 1;
  // ESC followed by something that is not part of a sequence: drop the ESC alone.
  return j;
}

/** CSI parameters 0x30–0x3F, intermediates 0x20–0x2F, final 0x40–0x7E; stops at anything else. */
function skipCsiBody(s: string, i: number): number {
  let j = i;
  while (j < s.length) {
    const c = s.charCodeAt(j);
    if (c >= 0x40 && c <= 0x7e) return j + 1;
    if (c < 0x20 || c > 0x3f) return j; // malformed: end the sequence here, keep what follows
    j++;
  }
  return j;
}

/** OSC/DCS/… body: up to BEL, ESC \, or C1 ST; an unterminated string swallows the rest. */
function skipStringBody(s: string, i: number): number {
  let j = i;
  while (j < s.length) {
    const c = s.charCodeAt(j);
    if (c === BEL || c === C1_ST) return j + 1;
    if (c === ESC) return j + 1 < s.length && s.charCodeAt(j + 1) === 0x5c ? j + 2 : j + 1;
    j++;
  }
  return j;
}

/** Cuts a string to at most `maxChars` code points. */
export function truncateChars(s: string, maxChars: number): string {
  if (s.length <= maxChars) return s;
  let count = 0;
  let i = 0;
  while (i < s.length && count < maxChars) {
    i += (s.codePointAt(i) as number) > 0xffff ? 2 : 1;
    count++;
  }
  return s.slice(0, i);
}

/** Number of code points (what the line editor and the limits count as characters). */
export function charCount(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
    }
    n++;
  }
  return n;
}

/** A nick as it may be shown: controls stripped, spaces trimmed and collapsed, bounded. */
export function cleanNick(nick: string): string {
  return truncateChars(stripTerminalControls(nick).trim().replace(/\s+/g, ' '), MAX_NICK_CHARS).trim();
}

/** A chat line as it may be shown: controls stripped, trimmed, bounded. */
export function cleanText(text: string, maxChars = MAX_LINE_CHARS): string {
  return truncateChars(stripTerminalControls(text).trim(), maxChars);
}
