import { describe, expect, it } from 'vitest';
import { MiB } from '../../core/quantity.js';
import { diagnose } from '../../diagnosis/diagnose.js';
import { createEnriched, earlierKill } from './factories.js';

const KILL = Date.parse('2026-11-23T10:15:42Z');
const at = (secondsBeforeKill: number) => new Date(KILL - secondsBeforeKill * 1000).toISOString();

/** The sampler's curve of the killed run feeds the diagnosis. */
describe('the working-set curve in the diagnosis', () => {
  it('a steady climb over the run, with one earlier kill of the container: a suspected leak instead of a low limit', () => {
    // 3 h run, sampled every 30 min: 200Mi climbing to 510Mi.
    const usageSamples = [6, 5, 4, 3, 2, 1, 0].map((i) => ({ at: at(i * 1800), workingSetBytes: (510 - i * 50) * MiB }));
    const withCurve = diagnose(createEnriched({}, { previousIncidents: [earlierKill(6, 2 * 3600)], usageSamples }));
    expect(withCurve.cause).toBe('memory-leak');
    expect(withCurve.evidence.map((e) => e.text)).toContain('Working set climbed steadily from 210Mi to 510Mi over 3h before the kill');
    // The same kill without the curve is a low limit.
    expect(diagnose(createEnriched({}, { previousIncidents: [earlierKill(6, 2 * 3600)] })).cause).toBe('limit-too-low');
  });

  it('a curve that rose and fell is no leak', () => {
    const usageSamples = [300, 480, 250, 500, 260, 510].map((mi, i) => ({ at: at((5 - i) * 1800), workingSetBytes: mi * MiB }));
    expect(diagnose(createEnriched({}, { previousIncidents: [earlierKill(6, 2 * 3600)], usageSamples })).cause).toBe('limit-too-low');
  });

  it('a kill seconds after the start says how soon the working set peaked', () => {
    const usageSamples = [
      { at: at(4), workingSetBytes: 180 * MiB },
      { at: at(1), workingSetBytes: 505 * MiB },
    ];
    const d = diagnose(createEnriched({ uptimeSeconds: 6 }, { usageSamples }));
    expect(d.cause).toBe('startup-spike');
    expect(d.evidence).toContainEqual({ text: 'Working set reached 505Mi (99% of the limit) 5s after the start', source: 'metrics' });
  });
});
