// Babel metrics and sequence numbers as Mycelium computes them (reference §3.3, §3.4).

/** u16 metric; 0xFFFF means unreachable (a retraction). */
export const METRIC_INFINITE = 0xffff;
/** Largest finite metric: additions saturate here so they never turn into a retraction. */
export const METRIC_MAX_FINITE = 0xfffe;

/** Saturating addition; infinite stays infinite. */
export function metricAdd(a: number, b: number): number {
  if (a === METRIC_INFINITE || b === METRIC_INFINITE) return METRIC_INFINITE;
  const s = a + b;
  return s >= METRIC_INFINITE ? METRIC_MAX_FINITE : s;
}

/** Saturating subtraction of a finite amount; infinite stays infinite. */
export function metricSub(a: number, b: number): number {
  if (a === METRIC_INFINITE) return METRIC_INFINITE;
  return a > b ? a - b : 0;
}

export function metricDelta(a: number, b: number): number {
  return a > b ? a - b : b - a;
}

export function metricText(m: number): string {
  return m === METRIC_INFINITE ? 'infinite' : String(m);
}

const SEQNO_HALF = 0x8000;

/** RFC 8966 §3.2.1 modular comparison: a < b. */
export function seqnoLt(a: number, b: number): boolean {
  return a !== b && ((b - a) & 0xffff) < SEQNO_HALF;
}

/** RFC 8966 §3.2.1 modular comparison: a > b (as Mycelium: b − a mod 2^16 > 2^15). */
export function seqnoGt(a: number, b: number): boolean {
  return a !== b && ((b - a) & 0xffff) > SEQNO_HALF;
}

export function seqnoAdd(a: number, n: number): number {
  return (a + n) & 0xffff;
}
