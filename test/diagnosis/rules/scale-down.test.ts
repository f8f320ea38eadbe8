/**
 * A scale-down before the kills: evidence with its time, sizes and who; it makes "limit too low" more
 * likely (low -> medium), never sure; a kill on record before it, or a record that shows no reduction,
 * says nothing of it.
 */
import { describe, expect, it } from 'vitest';
import { diagnose } from '../../../diagnosis/diagnose.js';
import type { ScaleDown } from '../../../diagnosis/enriched.js';
import { createEnriched, earlierKill } from '../factories.js';

const scaleDown = (o: Partial<ScaleDown> = {}): ScaleDown => ({
  workloadKind: 'Deployment',
  workloadName: 'api',
  replicaSet: 'api-7f9c',
  from: 4,
  to: 2,
  at: '2026-11-23T09:03:42Z',
  ...o,
});

const scaleText = (d: ReturnType<typeof diagnose>) => d.evidence.filter((e) => e.source === 'scale events').map((e) => e.text);

describe('scale-down before the kills', () => {
  it('cites it with the time, the sizes and the writer, and keeps a medium confidence medium', () => {
    const without = diagnose(createEnriched());
    const d = diagnose(createEnriched({}, { scaleDown: scaleDown({ by: { manager: 'kubectl', operation: 'Update' } }) }));
    expect(without).toMatchObject({ cause: 'limit-too-low', confidence: 'medium' });
    expect(d).toMatchObject({ cause: 'limit-too-low', confidence: 'medium' });
    expect(scaleText(d)).toEqual([
      'Kills began 1h 12m after Deployment shop/api was scaled down from 4 to 2 replicas at 2026-11-23 09:03:42 UTC (ReplicaSet api-7f9c, by kubectl); no kill on record before it',
    ]);
    expect(d.advice[0]).toBe(
      'Fewer replicas share the load since the scale-down, so each pod takes more: scale it back up to 4, or raise the limit for the load each pod now carries.',
    );
  });

  it('lifts a low confidence in "limit too low" to medium', () => {
    const gone = { pod: { gone: true as const } };
    expect(diagnose(createEnriched({}, gone))).toMatchObject({ cause: 'limit-too-low', confidence: 'low' });
    expect(diagnose(createEnriched({}, { ...gone, scaleDown: scaleDown() }))).toMatchObject({ cause: 'limit-too-low', confidence: 'medium' });
  });

  it('says nothing when a kill is on record before it, or when it came after the kill', () => {
    expect(scaleText(diagnose(createEnriched({}, { scaleDown: scaleDown(), previousIncidents: [earlierKill(2, 3600)] })))).toEqual([]);
    expect(scaleText(diagnose(createEnriched({}, { scaleDown: scaleDown({ at: '2026-11-23T10:20:00Z' }) })))).toEqual([]);
    expect(scaleText(diagnose(createEnriched({}, { scaleDown: scaleDown({ from: 2, to: 2 }) })))).toEqual([]);
  });

  it('counts from the first kill after it, and says only the new size when the record has no "from"', () => {
    const { from: _from, ...noFrom } = scaleDown();
    const d = diagnose(createEnriched({}, { scaleDown: { ...noFrom, to: 1 }, previousIncidents: [earlierKill(0.5, 1800)] }));
    expect(scaleText(d)).toEqual([
      'Kills began 42m after Deployment shop/api was scaled down to 1 replica at 2026-11-23 09:03:42 UTC (ReplicaSet api-7f9c); no kill on record before it',
    ]);
  });
});
