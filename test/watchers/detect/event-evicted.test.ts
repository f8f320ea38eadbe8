import { describe, expect, it } from 'vitest';
import { detectEventEvicted } from '../../../watchers/detect/event-evicted.js';
import { detectEvicted } from '../../../watchers/detect/pod-evicted.js';
import { createDetectContext, createEvictedEvent, createEvictedPod, createPodEvent, createPod } from '../../helpers/pods.js';

describe('detectEventEvicted', () => {
  const ctx = createDetectContext();
  const pod = createEvictedPod();

  it('reads the kubelet annotations and shares the id of the pod path', () => {
    const [incident, ...rest] = detectEventEvicted(createEvictedEvent(pod), ctx);
    expect(rest).toEqual([]);
    expect(incident?.kind).toBe('evicted');
    expect(incident?.id).toBe(detectEvicted(pod, ctx)[0]?.id);
    expect(incident?.pod).toEqual({ namespace: 'shop', name: 'api-7f9c6b8d4-x2k9p', uid: pod.metadata?.uid, nodeName: 'worker-3' });
    expect(incident?.eviction).toMatchObject({
      source: 'event-annotations',
      resource: 'memory',
      containers: [{ name: 'api', usage: '912340Ki', request: '256Mi' }],
    });
  });

  it('several offending containers, comma-separated', () => {
    const event = createEvictedEvent(pod, undefined, {
      offending_containers: 'api,sidecar',
      offending_containers_usage: '912340Ki,20480Ki',
      starved_resource: 'memory',
    });
    expect(detectEventEvicted(event, ctx)[0]?.eviction?.containers).toEqual([
      { name: 'api', usage: '912340Ki', request: '256Mi' },
      { name: 'sidecar', usage: '20480Ki' },
    ]);
  });

  it('falls back to the message without annotations', () => {
    const [incident] = detectEventEvicted(createEvictedEvent(pod, undefined, null), ctx);
    expect(incident?.eviction).toMatchObject({
      source: 'message',
      resource: 'memory',
      threshold: '100Mi',
      containers: [{ name: 'api', usage: '912340Ki', request: '256Mi' }],
    });
  });

  it('an ephemeral-storage starved resource from the annotation wins', () => {
    const event = createPodEvent({
      pod,
      reason: 'Evicted',
      message:
        'The node was low on resource: ephemeral-storage. Threshold quantity: 4281126156, available: 3925036Ki. Container api was using 6213752Ki, request is 0, has larger consumption of ephemeral-storage. ',
      annotations: { offending_containers: 'api', offending_containers_usage: '6213752Ki', starved_resource: 'ephemeral-storage' },
    });
    expect(detectEventEvicted(event, ctx)[0]?.eviction).toMatchObject({
      resource: 'ephemeral-storage',
      containers: [{ name: 'api', usage: '6213752Ki', request: '0' }],
    });
  });

  it('look-alikes: other reasons, events on other kinds, events without a pod uid', () => {
    expect(detectEventEvicted(createPodEvent({ pod, reason: 'Evicting', message: 'x' }), ctx)).toEqual([]);
    expect(detectEventEvicted(createEvictedEvent(pod, { involvedObject: { kind: 'Node' } }), ctx)).toEqual([]);
    expect(detectEventEvicted(createEvictedEvent(pod, { involvedObject: { uid: undefined } }), ctx)).toEqual([]);
    expect(detectEventEvicted(createPodEvent({ pod: createPod(), reason: 'Killing', message: 'Stopping container api' }), ctx)).toEqual([]);
  });

  it('event time: series.lastObservedTime, then lastTimestamp, eventTime, firstTimestamp, creationTimestamp', () => {
    const series = createEvictedEvent(pod, { series: { count: 2, lastObservedTime: '2025-11-20T09:58:00.123456Z' } });
    expect(detectEventEvicted(series, ctx)[0]?.occurredAt).toBe('2025-11-20T09:58:00.123Z');
    const onlyEventTime = createEvictedEvent(pod, { lastTimestamp: null, firstTimestamp: null, eventTime: '2025-11-20T09:57:00.000000Z' });
    expect(detectEventEvicted(onlyEventTime, ctx)[0]?.occurredAt).toBe('2025-11-20T09:57:00.000Z');
    const onlyCreation = createEvictedEvent(pod, { lastTimestamp: null, firstTimestamp: null, metadata: { creationTimestamp: '2025-11-20T09:56:00Z' } });
    expect(detectEventEvicted(onlyCreation, ctx)[0]?.occurredAt).toBe('2025-11-20T09:56:00.000Z');
    const withDate = createEvictedEvent(pod);
    (withDate as { lastTimestamp?: unknown }).lastTimestamp = new Date('2025-11-20T09:55:00Z');
    expect(detectEventEvicted(withDate, ctx)[0]?.occurredAt).toBe('2025-11-20T09:55:00.000Z');
  });

  it('an event older than the cutoff is nothing; no time at all is nothing on a relist', () => {
    expect(detectEventEvicted(createEvictedEvent(pod, { lastTimestamp: '2025-11-20T08:00:00Z' }), ctx)).toEqual([]);
    const timeless = createEvictedEvent(pod, { lastTimestamp: null, firstTimestamp: null, metadata: { creationTimestamp: undefined } });
    expect(detectEventEvicted(timeless, createDetectContext({ live: false }))).toEqual([]);
    expect(detectEventEvicted(timeless, ctx)[0]?.occurredAt).toBe('2025-11-20T10:00:00.000Z');
  });
});
