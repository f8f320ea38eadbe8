/**
 * The chart renderer gives Helm's output. fixtures/constructs-chart uses every construct the renderer
 * implements; the expected files are what `helm template` printed for it (Helm 4.1), byte for byte.
 * Where a `helm` binary is on PATH (or HELM names one), Helm renders the fixture again to confirm.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { formatHelmOutput, goFloat, listTemplateFunctions, renderChart, SUPPORTED_CONSTRUCTS, truthy } from './render-helm-chart.js';

const FIXTURE = fileURLToPath(new URL('fixtures/constructs-chart', import.meta.url));
const expected = (name: string) => readFileSync(fileURLToPath(new URL(`fixtures/${name}`, import.meta.url)), 'utf8');

const HELM = process.env.HELM ?? (process.env.PATH ?? '').split(delimiter).map((d) => join(d, 'helm')).find((p) => p !== 'helm' && existsSync(p));

function chartWith(template: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'oombot-chart-'));
  mkdirSync(join(dir, 'templates'));
  writeFileSync(join(dir, 'Chart.yaml'), 'apiVersion: v2\nname: t\nversion: 0.1.0\n');
  writeFileSync(join(dir, 'values.yaml'), 'a: 1\n');
  writeFileSync(join(dir, 'templates', 'x.yaml'), template);
  return dir;
}

describe('render-helm-chart', () => {
  it('prints what helm template prints for every construct it implements', () => {
    expect(listTemplateFunctions(FIXTURE).sort()).toEqual([...SUPPORTED_CONSTRUCTS].sort());
    expect(formatHelmOutput(renderChart(FIXTURE, { releaseName: 'constructs', namespace: 'ns1' }))).toBe(expected('constructs-chart.expected.yaml'));
    expect(formatHelmOutput(renderChart(FIXTURE, { releaseName: 'a-long-release-name', namespace: 'ns2' }))).toBe(expected('constructs-chart.other-release.expected.yaml'));
  });

  it('formats numbers as Go does for float64 values', () => {
    expect([3000, 1.5, 0, 123456, 1000000, 1234567, 0.0001, 0.00001, -2].map(goFloat)).toEqual(['3000', '1.5', '0', '123456', '1e+06', '1.234567e+06', '0.0001', '1e-05', '-2']);
    expect([false, 0, '', null, undefined, [], {}].map(truthy)).toEqual([false, false, false, false, false, false, false]);
    expect([true, 1, 'x', [0], { a: 0 }].map(truthy)).toEqual([true, true, true, true, true]);
  });

  it('fails like Helm on required values and nil fields, and refuses what it does not implement', () => {
    expect(() => renderChart(chartWith('a: {{ required "set b" .Values.b }}\n'), { releaseName: 'r', namespace: 'n' })).toThrow(/x.yaml:1\): set b/);
    expect(() => renderChart(chartWith('a: {{ required "set b" .Values.b }}\n'), { releaseName: 'r', namespace: 'n', values: { b: '' } })).toThrow(/set b/);
    expect(() => renderChart(chartWith('a: {{ .Values.missing.deeper }}\n'), { releaseName: 'r', namespace: 'n' })).toThrow(/nil pointer evaluating \.deeper/);
    expect(() => renderChart(chartWith('a: {{ upper "x" }}\n'), { releaseName: 'r', namespace: 'n' })).toThrow(/function "upper" is not supported/);
    expect(() => renderChart(chartWith('{{ template "x" . }}\n'), { releaseName: 'r', namespace: 'n' })).toThrow(/not supported by this renderer/);
    expect(() => renderChart(chartWith('a: {{ .Values }}\n'), { releaseName: 'r', namespace: 'n' })).toThrow(/printing a map is not supported/);
  });

  it.skipIf(!HELM)('agrees with helm template on the fixture', () => {
    const out = execFileSync(HELM!, ['template', 'constructs', FIXTURE, '--namespace', 'ns1'], { encoding: 'utf8' });
    expect(out).toBe(expected('constructs-chart.expected.yaml'));
  });
});
