/**
 * The report's figure for the Slack side, as hand-written SVG: each measured figure as a bar beside its
 * baseline from the same run, with its target as a line: the storm's drain against its floor, an
 * unrelated alert's time to Slack in a quiet channel and during a storm, and alert latency at 20/s and
 * at 100 incidents/s.
 */
import type { BenchResults } from './figures.js';

interface Bar {
  label: string;
  value: number;
  color: string;
}

interface BarPanel {
  title: string;
  unit: string;
  bars: Bar[];
  target?: { value: number; label: string };
}

const PANEL = { width: 320, height: 300, left: 60, right: 14, top: 48, bottom: 60 };
const FONT = 'font-family="Helvetica, Arial, sans-serif"';
const GREY = '#7f7f7f';
const BLUE = '#1f77b4';
const ORANGE = '#ff7f0e';
const GREEN = '#2ca02c';

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function niceTop(max: number): number {
  const raw = max * 1.15 || 1;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
}

function drawBars(panel: BarPanel, originX: number, originY: number): string {
  const plotW = PANEL.width - PANEL.left - PANEL.right;
  const plotH = PANEL.height - PANEL.top - PANEL.bottom;
  const x0 = originX + PANEL.left;
  const y0 = originY + PANEL.top;
  const values = panel.bars.map((b) => (Number.isFinite(b.value) ? b.value : 0));
  const top = niceTop(Math.max(...values, panel.target?.value ?? 0));
  const sy = (v: number) => y0 + plotH - (Math.min(v, top) / top) * plotH;
  const out: string[] = [
    `<text x="${originX + PANEL.width / 2}" y="${originY + 22}" text-anchor="middle" font-size="14" font-weight="bold" ${FONT}>${esc(panel.title)}</text>`,
    `<rect x="${x0}" y="${y0}" width="${plotW}" height="${plotH}" fill="#fff" stroke="#999"/>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const v = (top / 4) * i;
    out.push(`<line x1="${x0}" x2="${x0 + plotW}" y1="${sy(v)}" y2="${sy(v)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${x0 - 6}" y="${sy(v) + 4}" text-anchor="end" font-size="11" ${FONT}>${Math.round(v)}</text>`);
  }
  out.push(`<text transform="translate(${originX + 16} ${y0 + plotH / 2}) rotate(-90)" text-anchor="middle" font-size="12" ${FONT}>${esc(panel.unit)}</text>`);
  const slot = plotW / panel.bars.length;
  panel.bars.forEach((b, i) => {
    const w = slot * 0.6;
    const x = x0 + slot * i + (slot - w) / 2;
    const v = Number.isFinite(b.value) ? b.value : 0;
    out.push(`<rect x="${x.toFixed(1)}" y="${sy(v).toFixed(1)}" width="${w.toFixed(1)}" height="${(y0 + plotH - sy(v)).toFixed(1)}" fill="${b.color}"/>`);
    out.push(
      `<text x="${(x + w / 2).toFixed(1)}" y="${(sy(v) - 5).toFixed(1)}" text-anchor="middle" font-size="11" ${FONT}>${Number.isFinite(b.value) ? Math.round(b.value) : '–'}</text>`,
    );
    b.label.split('\n').forEach((line, j) => {
      out.push(`<text x="${(x + w / 2).toFixed(1)}" y="${y0 + plotH + 16 + j * 14}" text-anchor="middle" font-size="11" ${FONT}>${esc(line)}</text>`);
    });
  });
  if (panel.target) {
    const y = sy(panel.target.value);
    out.push(`<line x1="${x0}" x2="${x0 + plotW}" y1="${y}" y2="${y}" stroke="${GREEN}" stroke-width="1.5" stroke-dasharray="4 3"/>`);
    out.push(`<text x="${x0 + plotW - 4}" y="${y - 5}" text-anchor="end" font-size="11" fill="${GREEN}" ${FONT}>${esc(panel.target.label)}</text>`);
  }
  return out.join('\n');
}

/** The SVG document, or undefined when none of the storm, head-of-line and scale benchmarks ran. */
export function plotSlack(results: BenchResults, targets: { drainRatio: number; headOfLineMs: number; scaleMs: number }): string | undefined {
  const panels: BarPanel[] = [];
  const s = results.storm;
  if (s) {
    panels.push({
      title: `Storm: ${s.kills.toLocaleString('en-US')} kills, ${s.deployments} Deployments`,
      unit: 'seconds',
      bars: [
        { label: 'floor\n(1 msg/s)', value: s.floorSeconds, color: GREY },
        { label: `drain\n(${s.rateLimited} × 429)`, value: s.drainSeconds, color: BLUE },
      ],
      target: { value: s.floorSeconds * targets.drainRatio, label: `target ${targets.drainRatio} × floor` },
    });
  }
  const h = results.headOfLine;
  if (h) {
    panels.push({
      title: 'Unrelated alert: time to Slack',
      unit: 'ms',
      bars: [
        { label: 'quiet\np50', value: h.quiet.p50Ms, color: GREY },
        { label: 'quiet\np99', value: h.quiet.p99Ms, color: GREY },
        { label: 'storm\np50', value: h.storm.p50Ms, color: BLUE },
        { label: 'storm\np99', value: h.storm.p99Ms, color: ORANGE },
      ],
      target: { value: targets.headOfLineMs, label: `p99 target ${targets.headOfLineMs / 1000} s` },
    });
  }
  const scale = results.scale ?? [];
  if (scale.length > 0) {
    panels.push({
      title: 'Alert latency at scale',
      unit: 'ms',
      bars: scale.flatMap((f, i) => [
        { label: `${f.rate}/s, ${f.channels} ch.\np50`, value: f.p50Ms, color: i === 0 ? GREY : BLUE },
        { label: `${f.rate}/s, ${f.channels} ch.\np99`, value: f.p99Ms, color: i === 0 ? GREY : ORANGE },
      ]),
      target: { value: targets.scaleMs, label: `p99 target ${targets.scaleMs} ms` },
    });
  }
  if (panels.length === 0) return undefined;
  const width = panels.length * (PANEL.width + 10) + 30;
  const height = PANEL.height + 30;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">`,
    `<rect width="${width}" height="${height}" fill="#fafafa"/>`,
    ...panels.map((p, i) => drawBars(p, 15 + i * (PANEL.width + 10), 10)),
    '</svg>',
    '',
  ].join('\n');
}
