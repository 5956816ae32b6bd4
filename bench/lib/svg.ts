// Tiny SVG charts for bench/RESULTS.md: line charts for convergence curves and horizontal bars for
// throughput beside references. No dependencies; readable at a glance, not pretty-printed science.

const W = 640;
const H = 320;
const PAD = { l: 64, r: 16, t: 36, b: 48 };
const COLORS = ['#2f6fb0', '#d9822b', '#3a9a5b', '#b0413e', '#7a5cb0', '#8a8a8a'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function niceMax(v: number): number {
  if (v <= 0) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 2.5, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

function fmt(v: number): string {
  if (v === null || Number.isNaN(v)) return 'n/a';
  if (Math.abs(v) >= 1e6) return `${+(v / 1e6).toFixed(2)}M`;
  if (Math.abs(v) >= 1e3) return `${+(v / 1e3).toFixed(2)}k`;
  return `${+v.toFixed(2)}`;
}

export interface LineSeries {
  name: string;
  points: [number, number][];
}

export function lineChart(title: string, xLabel: string, yLabel: string, series: LineSeries[]): string {
  const all = series.flatMap((s) => s.points);
  const xMax = niceMax(Math.max(...all.map((p) => p[0]), 1));
  const yMax = niceMax(Math.max(...all.map((p) => p[1]), 1));
  const pw = W - PAD.l - PAD.r;
  const ph = H - PAD.t - PAD.b;
  const sx = (x: number) => PAD.l + (x / xMax) * pw;
  const sy = (y: number) => PAD.t + ph - (y / yMax) * ph;
  const parts: string[] = [];
  parts.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)}</text>`);
  for (let i = 0; i <= 4; i++) {
    const y = (yMax * i) / 4;
    parts.push(`<line x1="${PAD.l}" x2="${W - PAD.r}" y1="${sy(y)}" y2="${sy(y)}" stroke="#ddd"/>`);
    parts.push(`<text x="${PAD.l - 6}" y="${sy(y) + 4}" text-anchor="end" font-size="11">${fmt(y)}</text>`);
    const x = (xMax * i) / 4;
    parts.push(`<text x="${sx(x)}" y="${H - PAD.b + 16}" text-anchor="middle" font-size="11">${fmt(x)}</text>`);
  }
  parts.push(`<text x="${W / 2}" y="${H - 8}" text-anchor="middle" font-size="12">${esc(xLabel)}</text>`);
  parts.push(`<text x="14" y="${H / 2}" text-anchor="middle" font-size="12" transform="rotate(-90 14 ${H / 2})">${esc(yLabel)}</text>`);
  series.forEach((s, i) => {
    const c = COLORS[i % COLORS.length];
    const d = s.points.map((p, j) => `${j === 0 ? 'M' : 'L'}${sx(p[0]).toFixed(1)},${sy(p[1]).toFixed(1)}`).join(' ');
    parts.push(`<path d="${d}" fill="none" stroke="${c}" stroke-width="2"/>`);
    parts.push(`<rect x="${W - PAD.r - 150}" y="${PAD.t + 4 + i * 16}" width="10" height="10" fill="${c}"/>`);
    parts.push(`<text x="${W - PAD.r - 136}" y="${PAD.t + 13 + i * 16}" font-size="11">${esc(s.name)}</text>`);
  });
  return svg(parts);
}

export interface Bar {
  label: string;
  value: number;
  /** Highlight Hypha's own bars against references. */
  ours?: boolean;
}

export function barChart(title: string, unit: string, bars: Bar[]): string {
  const h = PAD.t + bars.length * 28 + 24;
  const max = niceMax(Math.max(...bars.map((b) => b.value), 1));
  const left = 190;
  const pw = W - left - 70;
  const parts: string[] = [];
  parts.push(`<text x="${W / 2}" y="20" text-anchor="middle" font-size="14" font-weight="bold">${esc(title)} (${esc(unit)})</text>`);
  bars.forEach((b, i) => {
    const y = PAD.t + i * 28;
    const w = (b.value / max) * pw;
    parts.push(`<text x="${left - 8}" y="${y + 15}" text-anchor="end" font-size="12">${esc(b.label)}</text>`);
    parts.push(`<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="20" fill="${b.ours ? COLORS[0] : COLORS[5]}"/>`);
    parts.push(`<text x="${left + w + 6}" y="${y + 15}" font-size="12">${fmt(b.value)}</text>`);
  });
  return svg(parts, h);
}

function svg(parts: string[], height = H): string {
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${parts.join('\n')}\n</svg>\n`;
}
