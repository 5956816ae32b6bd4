// Every benchmark reports through emit(): one JSON line per figure on stdout, the format `npm run bench`
// collects into bench/RESULTS.md. A figure says what it measured, on what, and — where there is one —
// the reference measured beside it in the same run and the ratio to it.

export interface Target {
  /** ">=" when bigger is better, "<=" when smaller is better. */
  op: '>=' | '<=';
  value: number;
}

export interface Figure {
  /** Benchmark file/group, e.g. "noise". */
  bench: string;
  /** Short id of the figure within the group, e.g. "handshakes_per_s". */
  figure: string;
  value: number;
  unit: string;
  /** One sentence: what was measured, on how many nodes, under which conditions. */
  what: string;
  target?: Target;
  /** The reference measured in the same run. */
  reference?: { name: string; value: number };
  /** value / reference.value, filled in by emit() when a reference is given. */
  ratio?: number;
  /** Points for a chart (x, y), e.g. coverage over rounds. */
  series?: { name: string; x: string; y: string; points: [number, number][] }[];
  /** Anything else worth keeping (sizes, counts, environment). */
  extra?: Record<string, unknown>;
}

export interface Skip {
  bench: string;
  figure: string;
  skipped: string;
}

export function emit(f: Figure): void {
  const out: Figure = { ...f };
  if (f.reference && f.reference.value !== 0) out.ratio = round(f.value / f.reference.value, 3);
  out.value = round(f.value, 3);
  process.stdout.write(JSON.stringify(out) + '\n');
}

/** A benchmark that cannot run here says so instead of inventing a number. */
export function skip(bench: string, figure: string, reason: string): void {
  const s: Skip = { bench, figure, skipped: reason };
  process.stdout.write(JSON.stringify(s) + '\n');
  process.stderr.write(`SKIP ${bench}/${figure}: ${reason}\n`);
}

export function round(x: number, digits: number): number {
  const k = 10 ** digits;
  return Math.round(x * k) / k;
}

/** Runs `fn` repeatedly for at least `minMs` and returns operations per second. */
export async function opsPerSecond(fn: () => void | Promise<void>, minMs = 1000): Promise<number> {
  for (let i = 0; i < 10; i++) await fn(); // warm-up
  let n = 0;
  const start = performance.now();
  let elapsed = 0;
  while (elapsed < minMs) {
    for (let i = 0; i < 50; i++) await fn();
    n += 50;
    elapsed = performance.now() - start;
  }
  return (n * 1000) / elapsed;
}

/** CPU time of the calling thread in ms (user + system): unlike wall time, not inflated by other load. */
export function threadCpuMs(): number {
  const u = process.threadCpuUsage();
  return (u.user + u.system) / 1000;
}

export interface Rate {
  /** Operations per second of this thread's CPU time: the figure to compare across runs on a shared machine. */
  perCpuS: number;
  /** Operations per wall-clock second (lower when other processes take the cores). */
  perWallS: number;
  operations: number;
}

/**
 * Runs `fn` (one operation; a batch of `batch` per check) until `minCpuMs` of this thread's CPU time has
 * gone into it, after a warm-up, and reports its rate per CPU second and per wall second.
 */
export function cpuRate(fn: () => void, minCpuMs = 1500, batch = 50): Rate {
  for (let i = 0; i < Math.max(10, batch); i++) fn();
  const c0 = threadCpuMs();
  const w0 = performance.now();
  let n = 0;
  while (threadCpuMs() - c0 < minCpuMs) {
    for (let i = 0; i < batch; i++) fn();
    n += batch;
  }
  const cpu = threadCpuMs() - c0;
  const wall = performance.now() - w0;
  return { perCpuS: (n * 1000) / cpu, perWallS: (n * 1000) / wall, operations: n };
}
