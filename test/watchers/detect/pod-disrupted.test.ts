import { describe, expect, it } from 'vitest';
import { detectDisrupted } from '../../../watchers/detect/pod-disrupted.js';
import { createDetectContext, createDisruptedPod, createEvictedPod, createPod } from '../../helpers/pods.js';

describe('detectDisrupted', () => {
  const ctx = createDetectContext();

  it.each(['PreemptionByScheduler', 'DeletionByTaintManager', 'EvictionByEvictionAPI', 'DeletionByPodGC'])('DisruptionTarget %s is a disruption', (reason) => {
    const [incident, ...rest] = detectDisrupted(createDisruptedPod(reason), ctx);
    expect(rest).toEqual([]);
    expect(incident?.kind).toBe('disruption');
    expect(incident?.disruption?.reason).toBe(reason);
    expect(incident?.occurredAt).toBe('2025-11-20T09:52:10.000Z');
  });

  it('a kubelet eviction (TerminationByKubelet) is not a disruption', () => {
    expect(detectDisrupted(createEvictedPod(), ctx)).toEqual([]);
    expect(detectDisrupted(createEvictedPod({ status: { phase: 'Running', reason: undefined } }), ctx)).toEqual([]);
  });

  it('a node shutdown (TerminationByKubelet, reason Terminated) is a disruption', () => {
    const pod = createDisruptedPod('TerminationByKubelet', {
      status: { phase: 'Failed', reason: 'Terminated', message: 'Pod was terminated in response to imminent node shutdown.' },
    });
    expect(detectDisrupted(pod, ctx)[0]?.disruption?.reason).toBe('TerminationByKubelet');
  });

  it('a False DisruptionTarget, or none, is nothing', () => {
    expect(detectDisrupted(createPod(), ctx)).toEqual([]);
    const cleared = createDisruptedPod('EvictionByEvictionAPI');
    cleared.status!.conditions![0]!.status = 'False';
    expect(detectDisrupted(cleared, ctx)).toEqual([]);
  });

  it('without a condition time: now when live, nothing on a relist', () => {
    const pod = createDisruptedPod('EvictionByEvictionAPI', undefined, null);
    expect(detectDisrupted(pod, ctx)[0]?.occurredAt).toBe('2025-11-20T10:00:00.000Z');
    expect(detectDisrupted(pod, createDetectContext({ live: false }))).toEqual([]);
  });

  it('respects the cutoff', () => {
    expect(detectDisrupted(createDisruptedPod('PreemptionByScheduler', undefined, '2025-11-20T08:00:00Z'), ctx)).toEqual([]);
  });
});
