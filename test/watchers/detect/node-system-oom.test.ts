import { describe, expect, it } from 'vitest';
import { detectNodeSystemOom } from '../../../watchers/detect/node-system-oom.js';
import { createDetectContext, createPodEvent, createSystemOomEvent } from '../../helpers/pods.js';

describe('detectNodeSystemOom', () => {
  const ctx = createDetectContext();

  it('a SystemOOM event on a node is a node-oom with victim process and pid', () => {
    const [incident, ...rest] = detectNodeSystemOom(createSystemOomEvent(), ctx);
    expect(rest).toEqual([]);
    expect(incident).toMatchObject({
      kind: 'node-oom',
      occurredAt: '2025-11-20T09:48:51.000Z',
      nodeOom: { node: 'worker-3', victimProcess: 'java', victimPid: 12345, count: 1, message: 'System OOM encountered, victim process: java, pid: 12345' },
    });
    expect(incident?.pod).toBeUndefined();
    expect(incident?.id).toMatch(/^node-oom-[0-9a-f]{32}$/);
  });

  it('each count of the aggregated event is its own incident; a repeat of one count is the same', () => {
    const first = detectNodeSystemOom(createSystemOomEvent({ count: 1 }), ctx)[0]?.id;
    const again = detectNodeSystemOom(createSystemOomEvent({ count: 1, metadata: { resourceVersion: '1' } }), ctx)[0]?.id;
    const second = detectNodeSystemOom(createSystemOomEvent({ count: 2 }), ctx)[0]?.id;
    expect(again).toBe(first);
    expect(second).not.toBe(first);
  });

  it('an older kubelet message without a victim still counts', () => {
    const [incident] = detectNodeSystemOom(createSystemOomEvent({ message: 'System OOM encountered' }), ctx);
    expect(incident?.nodeOom).toEqual({ node: 'worker-3', count: 1, message: 'System OOM encountered' });
  });

  it('look-alikes: SystemOOM about a pod, other node events, an old event', () => {
    expect(detectNodeSystemOom(createPodEvent({ reason: 'SystemOOM', message: 'System OOM encountered' }), ctx)).toEqual([]);
    expect(detectNodeSystemOom(createSystemOomEvent({ reason: 'NodeHasInsufficientMemory' }), ctx)).toEqual([]);
    expect(detectNodeSystemOom(createSystemOomEvent({ lastTimestamp: '2025-11-20T08:00:00Z' }), ctx)).toEqual([]);
  });
});
