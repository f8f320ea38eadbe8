/**
 * The kernel log parser never throws, never hangs and stays bounded, whatever the ring buffer holds:
 * random text, real OOM lines cut and spliced at random, and huge or hostile fields.
 */
import { readFileSync, readdirSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KmsgLineSplitter, MAX_MESSAGE, OomKillParser, parseCgroupPath, parseKmsgRecord } from '../../kernel/index.js';

const dir = new URL('../fixtures/kernel/', import.meta.url);
const realLines = readdirSync(dir).flatMap((f) => readFileSync(new URL(f, dir), 'utf8').split('\n').filter(Boolean));

const mutatedLine = fc.tuple(fc.constantFrom(...realLines), fc.nat(), fc.nat(), fc.string({ maxLength: 200, unit: 'binary' })).map(([line, a, b, insert]) => {
  const i = a % (line.length + 1);
  const j = i + (b % (line.length - i + 1));
  return line.slice(0, i) + insert + line.slice(j);
});

const anyLine = fc.oneof(fc.constantFrom(...realLines), mutatedLine, fc.string({ maxLength: 3000, unit: 'binary' }));

function run(lines: string[]): number {
  const splitter = new KmsgLineSplitter();
  const parser = new OomKillParser();
  let kills = 0;
  for (const record of splitter.push(`${lines.join('\n')}\n`)) {
    const parsed = parseKmsgRecord(record);
    if (!parsed) continue;
    expect(parsed.message.length).toBeLessThanOrEqual(MAX_MESSAGE);
    const kill = parser.push(parsed);
    if (kill) {
      kills++;
      expect(Number.isSafeInteger(kill.pid)).toBe(true);
      expect(kill.process.length).toBeLessThanOrEqual(64);
      expect((kill.taskCgroup ?? '').length).toBeLessThanOrEqual(512);
      parseCgroupPath(kill.taskCgroup);
    }
  }
  return kills;
}

describe('kernel log parser under fuzz', () => {
  it('never throws on real lines mutated, spliced and mixed with noise', () => {
    fc.assert(
      fc.property(fc.array(anyLine, { maxLength: 60 }), (lines) => {
        run(lines);
      }),
      { numRuns: 400 },
    );
  });

  it('never throws on random cgroup paths, and only names a pod under kubepods', () => {
    const segment = fc.oneof(
      fc.constantFrom('kubepods', 'kubepods.slice', 'kubepods-burstable.slice', 'burstable', 'besteffort'),
      fc.uuid().map((u) => `pod${u}`),
      fc.uuid().map((u) => `kubepods-burstable-pod${u.replaceAll('-', '_')}.slice`),
      fc.string({ maxLength: 80 }),
    );
    fc.assert(
      fc.property(fc.array(segment, { maxLength: 8 }), (parts) => {
        const path = `/${parts.join('/')}`;
        const owner = parseCgroupPath(path);
        if (owner) expect(path).toMatch(/kubepods/);
      }),
      { numRuns: 500 },
    );
  });

  it('stays fast on a line built to make regular expressions backtrack', () => {
    const evil = [
      `6,1,1,-;oom-kill:${'a=,'.repeat(5000)}`,
      `3,2,2,-;Killed process 1 (${'('.repeat(3000)}) ${'total-vm:'.repeat(3000)}`,
      `6,3,3,-;Task in ${'/'.repeat(5000)} killed as a result of limit of ${'x'.repeat(5000)}`,
      `${'9'.repeat(100000)}`,
    ];
    const started = performance.now();
    run(evil);
    expect(performance.now() - started).toBeLessThan(500);
  });

  it('keeps a runaway line without a newline bounded', () => {
    const splitter = new KmsgLineSplitter();
    for (let i = 0; i < 100; i++) splitter.push('x'.repeat(10_000));
    expect(splitter.push('\n6,1,1,-;ok\n')).toEqual([expect.any(String), '6,1,1,-;ok']);
  });
});
