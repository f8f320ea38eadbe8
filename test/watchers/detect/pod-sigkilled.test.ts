import { describe, expect, it } from 'vitest';
import type { CoreV1Event } from '@kubernetes/client-node';
import { detectSigkilled } from '../../../watchers/detect/pod-sigkilled.js';
import {
  createDetectContext,
  createEvictedPod,
  createOomKilledPod,
  createPodEvent,
  createSigkilledPod,
  createDisruptedPod,
  terminatedStatus,
} from '../../helpers/pods.js';

describe('detectSigkilled', () => {
  const ctx = createDetectContext();
  const pod = createSigkilledPod();
  const killing = (message: string, overrides: Partial<{ fieldPath: string; at: string; reason: string }> = {}): CoreV1Event =>
    createPodEvent({
      pod,
      reason: overrides.reason ?? 'Killing',
      type: 'Normal',
      message,
      at: overrides.at ?? '2025-11-20T09:40:40Z',
      ...(overrides.fieldPath === undefined ? { fieldPath: 'spec.containers{api}' } : overrides.fieldPath === '' ? {} : { fieldPath: overrides.fieldPath }),
    });

  it('exit 137 with reason Error is a sigkill, never an OOM', () => {
    const incidents = detectSigkilled(pod, ctx);
    expect(incidents.map((incident) => incident.kind)).toEqual(['sigkill']);
    expect(incidents[0]?.termination).toMatchObject({ exitCode: 137, reason: 'Error' });
    expect(incidents[0]?.probeKill).toBeUndefined();
  });

  it('exit 137 with an empty reason is a sigkill too', () => {
    expect(detectSigkilled(createSigkilledPod(undefined, { reason: '' }), ctx)).toHaveLength(1);
  });

  it('exit 143 (SIGTERM, a graceful stop) is not an incident', () => {
    expect(detectSigkilled(createSigkilledPod(undefined, { exitCode: 143 }), ctx)).toEqual([]);
  });

  it('OOMKilled and ContainerStatusUnknown are not SIGKILLs', () => {
    expect(detectSigkilled(createOomKilledPod(), ctx)).toEqual([]);
    expect(detectSigkilled(createSigkilledPod(undefined, { reason: 'ContainerStatusUnknown', from: 'state' }), ctx)).toEqual([]);
  });

  it('evicted and DisruptionTarget pods are left to their own detectors', () => {
    expect(detectSigkilled(createEvictedPod(), ctx)).toEqual([]);
    const disrupted = createDisruptedPod('PreemptionByScheduler', { status: { containerStatuses: [terminatedStatus({ reason: 'Error', from: 'state' })] } });
    expect(detectSigkilled(disrupted, ctx)).toEqual([]);
  });

  it('attaches the Killing event of a failed liveness probe, matched by fieldPath', () => {
    const events = [killing('Container api failed liveness probe, will be restarted')];
    const [incident] = detectSigkilled(pod, createDetectContext({ recentPodEvents: () => events }));
    expect(incident?.probeKill).toEqual({
      reason: 'Killing',
      message: 'Container api failed liveness probe, will be restarted',
      at: '2025-11-20T09:40:40.000Z',
      probe: 'liveness',
    });
  });

  it('a startup probe kill, matched by the container name in the message when there is no fieldPath', () => {
    const events = [killing('Container api failed startup probe, will be restarted', { fieldPath: '' })];
    const [incident] = detectSigkilled(pod, createDetectContext({ recentPodEvents: () => events }));
    expect(incident?.probeKill?.probe).toBe('startup');
  });

  it('ignores Killing events of another container, other reasons, plain stops and other runs', () => {
    const events = [
      killing('Container sidecar failed liveness probe, will be restarted', { fieldPath: 'spec.containers{sidecar}' }),
      killing('Container api failed liveness probe, will be restarted', { reason: 'Unhealthy' }),
      killing('Stopping container api'),
      killing('Container api failed liveness probe, will be restarted', { at: '2025-11-20T07:00:00Z' }),
    ];
    const [incident] = detectSigkilled(pod, createDetectContext({ recentPodEvents: () => events }));
    expect(incident?.kind).toBe('sigkill');
    expect(incident?.probeKill).toBeUndefined();
  });

  it('a throwing or odd recent-events source does not break detection', () => {
    const throwing = createDetectContext({
      recentPodEvents: () => {
        throw new Error('store gone');
      },
    });
    expect(detectSigkilled(pod, throwing)).toHaveLength(1);
    const odd = createDetectContext({ recentPodEvents: () => [null, 42, { reason: 'Killing' }] as unknown as CoreV1Event[] });
    expect(detectSigkilled(pod, odd)).toHaveLength(1);
  });

  it('respects the cutoff', () => {
    expect(detectSigkilled(createSigkilledPod(undefined, { finishedAt: '2025-11-20T08:00:00Z' }), ctx)).toEqual([]);
  });
});
