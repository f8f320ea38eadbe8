/**
 * The report's figure as hand-written SVG: alert latency (p50, p99) and watcher memory (oombot and the
 * naive informer) against the number of pods in the cluster, side by side, on a logarithmic pod axis.
 */
import type { BenchResults } from './figures.js';

interface Series {
  name: string;
  color: string;
  dash?: string;
  /** Write each point's value under it rather than above (when another series runs just above). */
  labelBelow?: boolean;
  points: { x: number; y: number }[];
}

interface Panel {
  title: string;
  yLabel: string;
  series: Series[];
  /** Unit of the y values, written after each point's value. */
  unit: string;
  /** Logarithmic y axis, for values spanning orders of magnitude. */
  logY?: boolean;
  /** A horizontal reference line, e.g. a target. */
  reference?: { y: number; label: string };
  /** Said in the panel when it has no points. */
  empty: string;
}

const PANEL = { width: 470, height: 360, left: 76, right: 16, top: 64, bottom: 56 };
const WIDTH = 2 * PANEL.width + 60;
const HEIGHT = PANEL.height + 40;
const FONT = 'font-family="Helvetica, Arial, sans-serif"';
const BLUE = '#1f77b4';
const ORANGE = '#ff7f0e';
const RED = '#d62728';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const r1 = (n: number) => Math.round(n * 10) / 10;

export function formatPods(n: number): string {
  if (n >= 1_000_000) return `${r1(n / 1_000_000)}M`;
  if (n >= 1_000) return `${r1(n / 1_000)}k`;
  return String(n);
}

/** 1, 2, 5 × 10^k steps giving about `count` intervals up to `max`. */
function niceStep(max: number, count: number): number {
  const raw = max / count;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
}

/** The nearest 1, 2 or 5 × 10^k below or above `v`. */
function roundLog(v: number, dir: 'down' | 'up'): number {
  const e = Math.floor(Math.log10(v));
  const steps = [1, 2, 5, 10].map((m) => m * 10 ** e);
  return dir === 'down' ? steps.filter((t) => t <= v).at(-1)! : steps.find((t) => t >= v)!;
}

/** 1, 2, 5 × 10^k ticks inside [lo, hi]. */
function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const t = m * 10 ** e;
      if (t >= lo && t <= hi) ticks.push(t);
    }
  }
  return ticks;
}

function drawPanel(panel: Panel, originX: number, originY: number): string {
  const plotW = PANEL.width - PANEL.left - PANEL.right;
  const plotH = PANEL.height - PANEL.top - PANEL.bottom;
  const x0 = originX + PANEL.left;
  const y0 = originY + PANEL.top;
  const out: string[] = [];
  out.push(
    `<text x="${originX + PANEL.width / 2}" y="${originY + 22}" text-anchor="middle" font-size="15" font-weight="bold" ${FONT}>${esc(panel.title)}</text>`,
  );
  out.push(`<rect x="${x0}" y="${y0}" width="${plotW}" height="${plotH}" fill="#fff" stroke="#999"/>`);

  const points = panel.series.flatMap((s) => s.points);
  if (points.length === 0) {
    out.push(`<text x="${x0 + plotW / 2}" y="${y0 + plotH / 2}" text-anchor="middle" font-size="13" fill="#666" ${FONT}>${esc(panel.empty)}</text>`);
    return out.join('\n');
  }
  const xs = points.map((p) => p.x);
  const lo = Math.min(...xs) / 1.6;
  const hi = Math.max(...xs) * 1.6;
  const sx = (x: number) => x0 + ((Math.log10(x) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * plotW;
  const ys = [...points.map((p) => p.y), ...(panel.reference ? [panel.reference.y] : [])];
  let sy: (y: number) => number;
  let yTicks: number[];
  if (panel.logY) {
    const bottom = roundLog(Math.max(1, Math.min(...ys) / 1.2), 'down');
    const top = roundLog(Math.max(...ys) * 1.2, 'up');
    sy = (y: number) => y0 + plotH - ((Math.log10(Math.max(y, bottom)) - Math.log10(bottom)) / (Math.log10(top) - Math.log10(bottom))) * plotH;
    yTicks = logTicks(bottom, top);
  } else {
    const step = niceStep(Math.max(...ys) * 1.1 || 1, 5);
    const top = Math.ceil((Math.max(...ys) * 1.1 || 1) / step) * step;
    sy = (y: number) => y0 + plotH - (y / top) * plotH;
    yTicks = Array.from({ length: Math.round(top / step) + 1 }, (_, i) => i * step);
  }

  for (const y of yTicks) {
    out.push(`<line x1="${x0}" x2="${x0 + plotW}" y1="${sy(y)}" y2="${sy(y)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${x0 - 6}" y="${sy(y) + 4}" text-anchor="end" font-size="11" ${FONT}>${Math.round(y)}</text>`);
  }
  for (const t of logTicks(lo, hi)) {
    out.push(`<line x1="${sx(t)}" x2="${sx(t)}" y1="${y0}" y2="${y0 + plotH}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${sx(t)}" y="${y0 + plotH + 16}" text-anchor="middle" font-size="11" ${FONT}>${formatPods(t)}</text>`);
  }
  out.push(`<text x="${x0 + plotW / 2}" y="${y0 + plotH + 38}" text-anchor="middle" font-size="12" ${FONT}>pods in the cluster (log scale)</text>`);
  out.push(
    `<text transform="translate(${originX + 22} ${y0 + plotH / 2}) rotate(-90)" text-anchor="middle" font-size="12" ${FONT}>${esc(panel.yLabel)}</text>`,
  );

  if (panel.reference) {
    const y = sy(panel.reference.y);
    out.push(`<line x1="${x0}" x2="${x0 + plotW}" y1="${y}" y2="${y}" stroke="#2ca02c" stroke-width="1.5" stroke-dasharray="2 3"/>`);
    out.push(`<text x="${x0 + plotW - 4}" y="${y - 5}" text-anchor="end" font-size="11" fill="#2ca02c" ${FONT}>${esc(panel.reference.label)}</text>`);
  }

  panel.series.forEach((s, i) => {
    const pts = [...s.points].sort((a, b) => a.x - b.x);
    if (pts.length > 1) {
      const d = pts.map((p, j) => `${j === 0 ? 'M' : 'L'}${sx(p.x).toFixed(1)},${sy(p.y).toFixed(1)}`).join(' ');
      out.push(`<path d="${d}" fill="none" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`);
    }
    for (const p of pts) {
      out.push(`<circle cx="${sx(p.x).toFixed(1)}" cy="${sy(p.y).toFixed(1)}" r="3.5" fill="${s.color}"/>`);
      out.push(
        `<text x="${(sx(p.x) + 6).toFixed(1)}" y="${(sy(p.y) + (s.labelBelow ? 16 : -7)).toFixed(1)}" font-size="11" fill="${s.color}" stroke="#fff" stroke-width="3" paint-order="stroke" ${FONT}>${Math.round(p.y)} ${esc(panel.unit)}</text>`,
      );
    }
    // Legend above the plot area, one entry per series.
    const lx = x0 + i * 170;
    const ly = originY + 44;
    out.push(`<line x1="${lx}" x2="${lx + 22}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2"${s.dash ? ` stroke-dasharray="${s.dash}"` : ''}/>`);
    out.push(`<circle cx="${lx + 11}" cy="${ly}" r="3.5" fill="${s.color}"/>`);
    out.push(`<text x="${lx + 28}" y="${ly + 4}" font-size="12" ${FONT}>${esc(s.name)}</text>`);
  });
  return out.join('\n');
}

/** The SVG document, or undefined when neither latency nor watcher memory was measured. */
export function plotScaling(results: BenchResults, opts: { latencyTargetMs: number }): string | undefined {
  if (!results.latency?.length && !results.watcher?.length) return undefined;
  const latency = results.latency ?? [];
  const watcher = results.watcher ?? [];
  const rate = latency[0]?.rate;
  const latencyPanel: Panel = {
    title: rate ? `Alert latency at ${rate} incidents/s` : 'Alert latency',
    yLabel: 'latency (ms, log scale)',
    unit: 'ms',
    logY: true,
    reference: { y: opts.latencyTargetMs, label: `p99 target ${opts.latencyTargetMs / 1000} s` },
    empty: 'latency not measured in this run',
    series: [
      { name: 'p50', color: BLUE, labelBelow: true, points: latency.map((f) => ({ x: f.clusterPods, y: f.p50Ms })) },
      { name: 'p99', color: ORANGE, points: latency.map((f) => ({ x: f.clusterPods, y: f.p99Ms })) },
    ],
  };
  const memoryPanel: Panel = {
    title: 'Watcher memory after sync (RSS)',
    yLabel: 'resident set size (MiB)',
    unit: 'MiB',
    empty: 'watcher memory not measured in this run',
    series: [
      {
        name: 'oombot watcher',
        color: BLUE,
        labelBelow: true,
        points: watcher.filter((f) => f.mode === 'oombot').map((f) => ({ x: f.pods, y: f.rssBytes / 2 ** 20 })),
      },
      {
        name: 'naive informer',
        color: RED,
        dash: '6 4',
        points: watcher.filter((f) => f.mode === 'naive').map((f) => ({ x: f.pods, y: f.rssBytes / 2 ** 20 })),
      },
    ],
  };
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#fafafa"/>`,
    drawPanel(latencyPanel, 20, 20),
    drawPanel(memoryPanel, 20 + PANEL.width + 20, 20),
    '</svg>',
    '',
  ].join('\n');
}
