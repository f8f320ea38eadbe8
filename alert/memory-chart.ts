/**
 * The memory curve of a killed container as an SVG (rendered to PNG at the edge) and as a text sparkline
 * for the console. Pure: points in, markup out. The SVG is built by hand: a line for the working set, a
 * dashed line for the limit, a dotted line at each restart and a red one at the kill, axes labelled in
 * MiB/GiB and UTC minutes. Sized for Slack's preview (720 × 360, shown about 360 px tall).
 */
import { formatMemoryApprox } from '../core/quantity.js';

export interface ChartPoint {
  /** Epoch seconds. */
  at: number;
  bytes: number;
}

export interface MemoryChartInput {
  title: string;
  points: readonly ChartPoint[];
  limitBytes?: number;
  /** Epoch seconds of container starts after a restart. */
  restarts: readonly number[];
  /** Epoch seconds of the kill. */
  killAt?: number;
  /** The window shown, epoch seconds. */
  from: number;
  to: number;
}

export const CHART_WIDTH = 720;
export const CHART_HEIGHT = 360;
const M = { left: 70, right: 20, top: 40, bottom: 44 };
const FONT = 'DejaVu Sans';
const MiB = 2 ** 20;
const STEPS = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536].map((m) => m * MiB);

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function hhmm(sec: number, seconds = false): string {
  return new Date(sec * 1000).toISOString().slice(11, seconds ? 19 : 16);
}

/**
 * The window a chart shows: the hour before the kill, or less when the samples begin later (a container
 * sampled for five minutes gets a five-minute chart, not a line squeezed against the right edge).
 */
export function chartWindow(points: readonly ChartPoint[], killAt: number, hour = 3600): { from: number; to: number } {
  const first = points[0]?.at ?? killAt - hour;
  const from = Math.max(killAt - hour, Math.min(first, killAt - 60) - 5);
  const to = Math.max(killAt, points[points.length - 1]?.at ?? killAt) + Math.max(5, Math.round((killAt - from) / 60));
  return { from, to };
}

/** "last hour", "last 12 min", "last 40 s". */
export function windowLabel(from: number, to: number): string {
  const s = to - from;
  return s >= 3300 ? 'last hour' : s >= 120 ? `last ${Math.round(s / 60)} min` : `last ${Math.round(s)} s`;
}

/** The SVG document of the chart. */
export function memoryChartSvg(input: MemoryChartInput): string {
  const w = CHART_WIDTH - M.left - M.right;
  const h = CHART_HEIGHT - M.top - M.bottom;
  const top = Math.max(input.limitBytes ?? 0, ...input.points.map((p) => p.bytes), MiB) * 1.1;
  const step = STEPS.find((s) => top / s <= 6) ?? STEPS[STEPS.length - 1]!;
  const yMax = Math.ceil(top / step) * step;
  const span = Math.max(1, input.to - input.from);
  const x = (sec: number) => M.left + ((sec - input.from) / span) * w;
  const y = (bytes: number) => M.top + h - (bytes / yMax) * h;
  const f = (n: number) => n.toFixed(1);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${CHART_WIDTH}" height="${CHART_HEIGHT}" viewBox="0 0 ${CHART_WIDTH} ${CHART_HEIGHT}" font-family="${FONT}">`,
    `<rect width="${CHART_WIDTH}" height="${CHART_HEIGHT}" fill="#ffffff"/>`,
    `<text x="${M.left}" y="24" font-size="16" font-weight="bold" fill="#1d1c1d">${esc(input.title)}</text>`,
  ];
  for (let v = 0; v <= yMax; v += step) {
    out.push(`<line x1="${M.left}" x2="${M.left + w}" y1="${f(y(v))}" y2="${f(y(v))}" stroke="#e8e8e8"/>`);
    out.push(`<text x="${M.left - 8}" y="${f(y(v) + 4)}" font-size="12" text-anchor="end" fill="#616061">${esc(formatMemoryApprox(v))}</text>`);
  }
  const tick = span > 2 * 3600 ? 1800 : span > 3600 ? 900 : span > 1200 ? 600 : span > 300 ? 120 : span > 120 ? 30 : 10;
  for (let t = Math.ceil(input.from / tick) * tick; t <= input.to; t += tick) {
    out.push(`<line x1="${f(x(t))}" x2="${f(x(t))}" y1="${M.top + h}" y2="${M.top + h + 5}" stroke="#616061"/>`);
    out.push(`<text x="${f(x(t))}" y="${M.top + h + 19}" font-size="12" text-anchor="middle" fill="#616061">${hhmm(t, tick < 60)}</text>`);
  }
  out.push(`<text x="${M.left + w}" y="${CHART_HEIGHT - 6}" font-size="11" text-anchor="end" fill="#616061">UTC</text>`);
  out.push(`<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${M.top + h}" stroke="#616061"/>`);
  out.push(`<line x1="${M.left}" x2="${M.left + w}" y1="${M.top + h}" y2="${M.top + h}" stroke="#616061"/>`);
  for (const r of input.restarts.filter((t) => t >= input.from && t <= input.to)) {
    out.push(`<line x1="${f(x(r))}" x2="${f(x(r))}" y1="${M.top}" y2="${M.top + h}" stroke="#8d8d8d" stroke-dasharray="2 3"/>`);
    out.push(`<text x="${f(x(r) + 3)}" y="${M.top + 12}" font-size="11" fill="#616061">restart</text>`);
  }
  if (input.limitBytes) {
    out.push(
      `<line x1="${M.left}" x2="${M.left + w}" y1="${f(y(input.limitBytes))}" y2="${f(y(input.limitBytes))}" stroke="#e01e5a" stroke-width="2" stroke-dasharray="8 4"/>`,
    );
    out.push(
      `<text x="${M.left + 6}" y="${f(y(input.limitBytes) - 6)}" font-size="12" fill="#e01e5a">limit ${esc(formatMemoryApprox(input.limitBytes))}</text>`,
    );
  }
  const shown = input.points.filter((p) => p.at >= input.from && p.at <= input.to);
  if (shown.length > 0) {
    out.push(
      `<polyline fill="none" stroke="#1264a3" stroke-width="2.5" stroke-linejoin="round" points="${shown.map((p) => `${f(x(p.at))},${f(y(p.bytes))}`).join(' ')}"/>`,
    );
  }
  if (input.killAt !== undefined && input.killAt >= input.from && input.killAt <= input.to) {
    out.push(`<line x1="${f(x(input.killAt))}" x2="${f(x(input.killAt))}" y1="${M.top}" y2="${M.top + h}" stroke="#e01e5a" stroke-width="2"/>`);
    out.push(`<text x="${f(x(input.killAt) - 4)}" y="${M.top + 28}" font-size="12" font-weight="bold" text-anchor="end" fill="#e01e5a">OOM kill</text>`);
  }
  out.push(`<text x="${M.left + w}" y="24" font-size="12" text-anchor="end" fill="#1264a3">working set</text>`);
  out.push('</svg>');
  return out.join('\n');
}

const BARS = '▁▂▃▄▅▆▇█';

/**
 * The working set as one line of block characters, for the console: from its lowest sample (▁) to the
 * limit or its highest sample (█), so that a climb shows even close under the limit.
 */
export function sparkline(points: readonly ChartPoint[], limitBytes: number | undefined, width = 40): string {
  if (points.length === 0) return '';
  const low = Math.min(...points.map((p) => p.bytes));
  const top = Math.max(limitBytes ?? 0, ...points.map((p) => p.bytes), low + 1);
  const n = Math.min(width, points.length);
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    // The largest sample of each slice: a spike is never averaged away.
    const slice = points.slice(
      Math.floor((i * points.length) / n),
      Math.max(Math.floor(((i + 1) * points.length) / n), Math.floor((i * points.length) / n) + 1),
    );
    const v = Math.max(...slice.map((p) => p.bytes));
    out.push(BARS[Math.min(BARS.length - 1, Math.floor(((v - low) / (top - low)) * BARS.length))]!);
  }
  return out.join('');
}
