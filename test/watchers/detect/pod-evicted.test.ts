import { describe, expect, it } from 'vitest';
import { detectEvicted } from '../../../watchers/detect/pod-evicted.js';
import { createDetectContext, createEvictedPod, createPod, createDisruptedPod, MEMORY_EVICTION_MESSAGE } from '../../helpers/pods.js';

describe('detectEvicted', () => {
  const ctx = createDetectContext();

  it('phase Failed + reason Evicted is an eviction, with the message parsed', () => {
    const [incident, ...rest] = detectEvicted(createEvictedPod(), ctx);
    expect(rest).toEqual([]);
    expect(incident?.kind).toBe('evicted');
    expect(incident?.id).toMatch(/^evicted-[0-9a-f]{32}$/);
    expect(incident?.occurredAt).toBe('2025-11-20T09:50:17.000Z');
    expect(incident?.eviction).toEqual({
      resource: 'memory',
      threshold: '100Mi',
      available: '81232Ki',
      containers: [{ name: 'api', usage: '912340Ki', request: '256Mi' }],
      message: MEMORY_EVICTION_MESSAGE.trim(),
      disruptionReason: 'TerminationByKubelet',
      source: 'message',
    });
  });

  it('occurredAt: the condition time, else the latest container stop, else now only when live', () => {
    const noCondition = createEvictedPod(undefined, { disruptionReason: null, finishedAt: '2025-11-20T09:45:00Z' });
    expect(detectEvicted(noCondition, ctx)[0]?.occurredAt).toBe('2025-11-20T09:45:00.000Z');

    const noTime = createEvictedPod(undefined, { conditionTime: null, finishedAt: null });
    expect(detectEvicted(noTime, ctx)[0]?.occurredAt).toBe('2025-11-20T10:00:00.000Z');
    expect(detectEvicted(noTime, createDetectContext({ live: false }))).toEqual([]);
  });

  it('an eviction before the cutoff is history', () => {
    expect(detectEvicted(createEvictedPod(undefined, { conditionTime: '2025-11-20T08:00:00Z' }), ctx)).toEqual([]);
  });

  it('an unreadable message still gives an eviction, with source none', () => {
    const [incident] = detectEvicted(createEvictedPod(undefined, { message: 'Pod was evicted for reasons', disruptionReason: null }), ctx);
    expect(incident?.eviction).toMatchObject({ source: 'none', containers: [], message: 'Pod was evicted for reasons' });
    expect(incident?.eviction?.resource).toBeUndefined();
  });

  it('look-alikes are not evictions: a Failed pod with another reason, a running pod, a preempted pod', () => {
    expect(detectEvicted(createEvictedPod({ status: { reason: 'OutOfmemory' } }, { disruptionReason: null }), ctx)).toEqual([]);
    expect(detectEvicted(createPod(), ctx)).toEqual([]);
    expect(detectEvicted(createDisruptedPod('PreemptionByScheduler'), ctx)).toEqual([]);
    expect(detectEvicted(createEvictedPod({ status: { phase: 'Running' } }, { disruptionReason: null }), ctx)).toEqual([]);
  });

  it('the kubelet DisruptionTarget with an eviction message counts before the phase is written, with the same id', () => {
    const early = createEvictedPod({ status: { phase: 'Running', reason: undefined, message: undefined } });
    const done = createEvictedPod({ metadata: { uid: early.metadata?.uid } });
    const [before] = detectEvicted(early, ctx);
    const [after] = detectEvicted(done, ctx);
    expect(before?.kind).toBe('evicted');
    expect(before?.eviction?.resource).toBe('memory');
    expect(before?.id).toBe(after?.id);
  });
});
