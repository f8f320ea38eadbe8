/**
 * The scale-down before a kill, from the kept events: the three message formats the deployment controller
 * has written, only the pod's own ReplicaSet, the HPA only when its new size and time match, and the
 * managedFields writer of spec.replicas only when written then.
 */
import { describe, expect, it } from 'vitest';
import type { ScaleEvent } from '../../core/scale-events.js';
import { scaleDownBefore } from '../../investigate/scale-down.js';

const KILL = '2025-11-20T09:41:11Z';
const of = { replicaSet: 'api-7f9c6b8d4', deployment: 'api' };
const dep = (message: string, at: string): ScaleEvent => ({
  kind: 'Deployment',
  name: 'api',
  reason: 'ScalingReplicaSet',
  message,
  at,
  component: 'deployment-controller',
});
const hpa = (message: string, at: string, name = 'api'): ScaleEvent => ({ kind: 'HorizontalPodAutoscaler', name, reason: 'SuccessfulRescale', message, at });

describe('scaleDownBefore', () => {
  it.each([
    ['Scaled down replica set api-7f9c6b8d4 from 4 to 2', { from: 4, to: 2 }],
    ['Scaled down replica set api-7f9c6b8d4 to 2 from 4', { from: 4, to: 2 }],
    ['Scaled down replica set api-7f9c6b8d4 to 2', { to: 2 }],
  ])('reads %j', (message, sizes) => {
    const s = scaleDownBefore([dep(message, '2025-11-20T09:29:05Z')], [], of, KILL);
    expect(s).toEqual({ workloadKind: 'Deployment', workloadName: 'api', replicaSet: 'api-7f9c6b8d4', at: '2025-11-20T09:29:05.000Z', ...sizes });
  });

  it("ignores a rollout's scale-down of the old ReplicaSet, and scale-downs after the kill", () => {
    expect(scaleDownBefore([dep('Scaled down replica set api-6c8d7f5b9 from 4 to 0', '2025-11-20T09:29:05Z')], [], of, KILL)).toBeUndefined();
    expect(scaleDownBefore([dep('Scaled down replica set api-7f9c6b8d4 from 4 to 2', '2025-11-20T09:45:00Z')], [], of, KILL)).toBeUndefined();
    expect(scaleDownBefore([dep('Scaled up replica set api-7f9c6b8d4 from 2 to 4', '2025-11-20T09:29:05Z')], [], of, KILL)).toBeUndefined();
  });

  it('takes the latest scale-down before the kill', () => {
    const s = scaleDownBefore(
      [
        dep('Scaled down replica set api-7f9c6b8d4 from 6 to 4', '2025-11-20T08:00:00Z'),
        dep('Scaled down replica set api-7f9c6b8d4 from 4 to 2', '2025-11-20T09:29:05Z'),
      ],
      [],
      of,
      KILL,
    );
    expect(s).toMatchObject({ from: 4, to: 2 });
  });

  it('names the HPA only when its new size and time match', () => {
    const events = [dep('Scaled down replica set api-7f9c6b8d4 from 4 to 2', '2025-11-20T09:29:05Z')];
    expect(scaleDownBefore(events, [hpa('New size: 2; reason: All metrics below target', '2025-11-20T09:29:04Z')], of, KILL)?.hpa).toEqual({
      name: 'api',
      reason: 'All metrics below target',
    });
    // Another size, or minutes earlier: another HPA's story.
    expect(scaleDownBefore(events, [hpa('New size: 3; reason: All metrics below target', '2025-11-20T09:29:04Z', 'web')], of, KILL)?.hpa).toBeUndefined();
    expect(scaleDownBefore(events, [hpa('New size: 2; reason: All metrics below target', '2025-11-20T09:20:00Z', 'web')], of, KILL)?.hpa).toBeUndefined();
  });

  it('names the manager that wrote spec.replicas then, not one that wrote it long before', () => {
    const events = [dep('Scaled down replica set api-7f9c6b8d4 from 4 to 2', '2025-11-20T09:29:05Z')];
    const entry = (manager: string, time: string, fields: Record<string, unknown> = { 'f:spec': { 'f:replicas': {} } }) => ({
      manager,
      operation: 'Update',
      time,
      fieldsV1: fields,
    });
    expect(scaleDownBefore(events, [], { ...of, managedFields: [entry('kubectl', '2025-11-20T09:29:04Z')] }, KILL)?.by).toEqual({
      manager: 'kubectl',
      operation: 'Update',
    });
    expect(scaleDownBefore(events, [], { ...of, managedFields: [entry('argocd-controller', '2025-11-19T10:00:00Z')] }, KILL)?.by).toBeUndefined();
    expect(
      scaleDownBefore(events, [], { ...of, managedFields: [entry('kubectl', '2025-11-20T09:29:04Z', { 'f:spec': { 'f:template': {} } })] }, KILL)?.by,
    ).toBeUndefined();
  });
});
