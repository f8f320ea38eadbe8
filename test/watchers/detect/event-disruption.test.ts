import { describe, expect, it } from 'vitest';
import { detectEventDisruption } from '../../../watchers/detect/event-disruption.js';
import { detectDisrupted } from '../../../watchers/detect/pod-disrupted.js';
import { createDetectContext, createDisruptedPod, createPodEvent } from '../../helpers/pods.js';

describe('detectEventDisruption', () => {
  const ctx = createDetectContext();

  it('a Preempted event is a disruption with the id of the pod path', () => {
    const pod = createDisruptedPod('PreemptionByScheduler');
    const event = createPodEvent({
      pod,
      reason: 'Preempted',
      type: 'Normal',
      component: 'default-scheduler',
      message: 'Preempted by pod 9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b on node worker-5',
      at: '2025-11-20T09:52:10Z',
    });
    const [incident, ...rest] = detectEventDisruption(event, ctx);
    expect(rest).toEqual([]);
    expect(incident).toMatchObject({ kind: 'disruption', occurredAt: '2025-11-20T09:52:10.000Z', disruption: { reason: 'Preempted' } });
    expect(incident?.id).toBe(detectDisrupted(pod, ctx)[0]?.id);
  });

  it('TaintManagerEviction "Marking for deletion" is a disruption with the id of the pod path', () => {
    const pod = createDisruptedPod('DeletionByTaintManager');
    const event = createPodEvent({
      pod,
      reason: 'TaintManagerEviction',
      type: 'Normal',
      component: 'taint-eviction-controller',
      message: 'Marking for deletion Pod shop/api-7f9c6b8d4-x2k9p',
    });
    const [incident] = detectEventDisruption(event, ctx);
    expect(incident?.disruption).toEqual({ reason: 'TaintManagerEviction', message: 'Marking for deletion Pod shop/api-7f9c6b8d4-x2k9p' });
    expect(incident?.id).toBe(detectDisrupted(pod, ctx)[0]?.id);
  });

  it('look-alikes: "Cancelling deletion", other reasons, events about nodes', () => {
    const pod = createDisruptedPod('DeletionByTaintManager');
    expect(
      detectEventDisruption(createPodEvent({ pod, reason: 'TaintManagerEviction', message: 'Cancelling deletion of Pod shop/api-7f9c6b8d4-x2k9p' }), ctx),
    ).toEqual([]);
    expect(detectEventDisruption(createPodEvent({ pod, reason: 'Killing', message: 'Stopping container api' }), ctx)).toEqual([]);
    expect(detectEventDisruption(createPodEvent({ pod, reason: 'Preempting', message: 'Preempted in order to admit critical pod' }), ctx)).toEqual([]);
    expect(detectEventDisruption(createPodEvent({ pod, reason: 'Preempted', message: 'x' }, { involvedObject: { kind: 'Node' } }), ctx)).toEqual([]);
  });

  it('respects the cutoff', () => {
    const event = createPodEvent({ reason: 'Preempted', message: 'Preempted by pod x on node y', at: '2025-11-20T08:30:00Z' });
    expect(detectEventDisruption(event, ctx)).toEqual([]);
  });
});
