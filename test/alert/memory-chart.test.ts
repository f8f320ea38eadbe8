import { describe, expect, it } from 'vitest';
import { CHART_HEIGHT, CHART_WIDTH, memoryChartSvg, sparkline } from '../../alert/memory-chart.js';
import { renderPng } from '../../handlers/render-chart-png.js';

const Mi = 2 ** 20;
const now = 1_800_000_000;
/** A leak: climbs 8Mi a sample, killed near 512Mi, restarted, climbing again. */
const points = Array.from({ length: 120 }, (_, i) => ({ at: now - 3600 + i * 30, bytes: ((i % 52) * 8 + 100) * Mi }));
const input = {
  title: 'shop/api-7f9c4d8b6-x2x9k (api): working set, last hour',
  points,
  limitBytes: 512 * Mi,
  restarts: [now - 3600 + 52 * 30, now - 3600 + 104 * 30],
  killAt: now - 30,
  from: now - 3600,
  to: now,
};

describe('memory chart', () => {
  it('draws the working set, the limit, the restarts and the kill, with axes in MiB and UTC minutes', () => {
    const svg = memoryChartSvg(input);
    expect(svg).toContain('limit 512Mi');
    expect(svg.match(/>restart</g)).toHaveLength(2);
    expect(svg).toContain('>OOM kill<');
    expect(svg).toContain('>512Mi<');
    expect(svg).toContain(`>${new Date((now - 3600) * 1000).toISOString().slice(11, 16)}<`);
    expect(svg.match(/<polyline[^>]*points="([^"]+)"/)?.[1]?.split(' ')).toHaveLength(120);
  });

  it('escapes names from the cluster in the SVG', () => {
    expect(memoryChartSvg({ ...input, title: 'a<b>&"c' })).toContain('a&lt;b&gt;&amp;&quot;c');
  });

  it('renders a PNG of the expected size with the bundled font (no system fonts)', () => {
    const png = renderPng(memoryChartSvg(input));
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR');
    expect(png.readUInt32BE(16)).toBe(CHART_WIDTH);
    expect(png.readUInt32BE(20)).toBe(CHART_HEIGHT);
    // Text was drawn: the same chart without its labels compresses smaller.
    const bare = renderPng(memoryChartSvg(input).replace(/<text[^>]*>[^<]*<\/text>/g, ''));
    expect(png.length).toBeGreaterThan(bare.length + 2_000);
  });

  it('sparkline: one block per slice, from the lowest sample to the limit, keeping spikes', () => {
    expect(sparkline([], 100)).toBe('');
    expect(
      sparkline(
        [
          { at: 0, bytes: 0 },
          { at: 1, bytes: 50 },
          { at: 2, bytes: 100 },
        ],
        100,
      ),
    ).toBe('▁▅█');
    const flat = Array.from({ length: 80 }, (_, i) => ({ at: i, bytes: i === 41 ? 100 : 10 }));
    expect(sparkline(flat, 100, 40)).toBe(`${'▁'.repeat(20)}█${'▁'.repeat(19)}`);
    // A climb close under the limit still shows.
    expect(
      sparkline(
        [450, 460, 470, 480, 490, 500].map((b, i) => ({ at: i, bytes: b })),
        512,
      ),
    ).toBe('▁▂▃▄▆▇');
  });
});

if (process.env.WRITE_CHART) {
  const { writeFileSync } = await import('node:fs');
  writeFileSync(process.env.WRITE_CHART, renderPng(memoryChartSvg(input)));
}

describe('chart window', () => {
  it('is the hour before the kill, or from the first sample when that is later', async () => {
    const { chartWindow, windowLabel } = await import('../../alert/memory-chart.js');
    const full = chartWindow(points, now - 30);
    expect(full.from).toBe(Math.max(now - 30 - 3600, points[0]!.at - 5));
    expect(chartWindow([{ at: now - 7200, bytes: 1 }, ...points], now - 30).from).toBe(now - 30 - 3600);
    expect(windowLabel(full.from, full.to)).toBe('last hour');
    const short = chartWindow(points.slice(-10), now - 30);
    expect(short.from).toBe(points.at(-10)!.at - 5);
    expect(windowLabel(short.from, short.to)).toMatch(/^last \d+ min$/);
  });
});
