// Durations as text, the way Go's time.ParseDuration reads them ("30s", "1m30s", "500ms", "1.5h"), which is
// what Micelio's config files hold, plus "d" for days (peer_ttl = "7d"). Values are milliseconds.
import { err, ok, type Result } from '../base/result.ts';

const UNIT_MS: Record<string, number> = {
  ns: 1e-6,
  us: 1e-3,
  'µs': 1e-3,
  'μs': 1e-3,
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};
/** A duration string longer than this is not a duration; refuse before scanning it. */
const MAX_DURATION_CHARS = 64;
const PART = /^(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h|d)/;

/** Milliseconds of a duration string; the error says what is wrong with it. Signed, like Go's. */
export function parseDuration(text: string): Result<number> {
  const bad = (why: string) => err('bad-duration', `${JSON.stringify(text.slice(0, MAX_DURATION_CHARS))} is not a duration: ${why} (write e.g. "30s", "1m30s", "500ms", "7d")`);
  if (text.length > MAX_DURATION_CHARS) return bad('too long');
  let s = text.trim();
  let sign = 1;
  if (s.startsWith('-') || s.startsWith('+')) {
    if (s[0] === '-') sign = -1;
    s = s.slice(1);
  }
  if (s === '0') return ok(0);
  if (s === '') return bad('it is empty');
  let total = 0;
  while (s.length > 0) {
    const m = PART.exec(s);
    if (!m) return /^\d+(\.\d*)?$/.test(s) ? bad('a unit is missing (ns, us, ms, s, m, h, d)') : bad('unknown unit or stray characters');
    total += Number(m[1]) * UNIT_MS[m[2]];
    s = s.slice(m[0].length);
  }
  if (!Number.isFinite(total)) return bad('out of range');
  return ok(sign * total);
}

/** Shortest readable form: "7d", "30s", "1m30s", "500ms", "0s". */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  if (ms < 0) return `-${formatDuration(-ms)}`;
  if (ms < 1000) return `${ms}ms`;
  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) {
      parts.push(`${n}${unit}`);
      rest -= n * size;
    }
  }
  if (rest > 0) parts.push(`${rest}ms`);
  return parts.join('');
}
