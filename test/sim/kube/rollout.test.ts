/**
 * The simulated controllers roll workloads out as the real ones do: a Deployment in maxSurge/maxUnavailable
 * steps that new pods which cannot be scheduled hold (with kube-scheduler's FailedScheduling), a
 * Progressing deadline, a StatefulSet with OnDelete that waits for its pods to be deleted, and the
 * managedFields of each field manager.
 */
import { describe, expect, it } from 'vitest';
import { ManualClock, SimCluster, type Json } from '../../../sim/kube/index.js';

const STRATEGIC = 'application/strategic-merge-patch+json';

function memoryPatch(limit: string, request?: string): Json {
  return {
    spec: {
      template: { spec: { containers: [{ name: 'api', resources: { limits: { memory: limit }, ...(request ? { requests: { memory: request } } : {}) } }] } },
    },
  };
}

function cluster(scheduleByMemory = false): { c: SimCluster; clock: ManualClock } {
  const clock = new ManualClock('2026-11-23T12:00:00Z');
  const c = new SimCluster({ clock, seed: 3, scheduleByMemory });
  c.addNodes(3, { memory: '8Gi' });
  c.createDeployment({ name: 'api', namespace: 'shop', replicas: 4, memoryRequest: '256Mi', memoryLimit: '512Mi' });
  return { c, clock };
}

describe('simulated rollouts', () => {
  it('a Deployment replaces its pods within maxSurge and maxUnavailable, every step a ReplicaSet write, and reports it done', () => {
    const { c } = cluster();
    const steps: string[] = [];
    const stop = c.subscribe((ch) => {
      if (ch.resource === 'replicasets' && ch.previous?.spec.replicas !== ch.object.spec.replicas)
        steps.push(`${ch.object.metadata.name}=${ch.object.spec.replicas}`);
    });
    const oldRs = c.list('replicasets', 'shop')[0]!.metadata.name;
    c.patch('deployments', 'shop', 'api', memoryPatch('640Mi'), STRATEGIC);
    stop();
    const newRs = c.list('replicasets', 'shop').find((rs) => rs.metadata.name !== oldRs)!.metadata.name;
    // 25% of 4: one surge pod, one unavailable: the new set grows as the old one shrinks, never all at once.
    expect(steps[0]).toBe(`${newRs}=1`);
    expect(steps.at(-1)).toMatch(new RegExp(`^(${oldRs}=0|${newRs}=4)$`));
    expect(steps.filter((x) => x.startsWith(oldRs)).length).toBeGreaterThan(1);
    const pods = c.list('pods', 'shop');
    expect(pods).toHaveLength(4);
    expect(pods.every((p) => p.spec.containers[0].resources.limits.memory === '640Mi')).toBe(true);
    const d = c.get('deployments', 'shop', 'api')!;
    expect(d.status).toMatchObject({ replicas: 4, updatedReplicas: 4, readyReplicas: 4, availableReplicas: 4, observedGeneration: 2 });
    expect(d.status.conditions.find((x: Json) => x.type === 'Progressing')).toMatchObject({ status: 'True', reason: 'NewReplicaSetAvailable' });
  });

  it("new pods that fit no node stay Pending with the scheduler's reason; the old pods keep running; past the deadline ProgressDeadlineExceeded", () => {
    const { c, clock } = cluster(true);
    c.patch('deployments', 'shop', 'api', memoryPatch('10Gi', '9Gi'), STRATEGIC);
    const pods = c.list('pods', 'shop');
    const pending = pods.filter((p) => p.status.phase === 'Pending');
    // As the real controller: 1 surge pod, then one old pod goes (maxUnavailable 1), then a second new pod;
    // with both new pods unavailable nothing more moves.
    expect(pending).toHaveLength(2);
    expect(pending[0]!.status.conditions[0]).toMatchObject({
      type: 'PodScheduled',
      status: 'False',
      reason: 'Unschedulable',
      message: '0/3 nodes are available: 3 Insufficient memory. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.',
    });
    expect(pending[0]!.spec.nodeName).toBeUndefined();
    expect(pods.filter((p) => p.status.phase === 'Running')).toHaveLength(3);
    const event = c.list('events', 'shop').find((e) => e.reason === 'FailedScheduling')!;
    expect(event).toMatchObject({
      type: 'Warning',
      source: { component: 'default-scheduler' },
      involvedObject: { kind: 'Pod', name: pending[0]!.metadata.name },
    });
    let d = c.get('deployments', 'shop', 'api')!;
    expect(d.status).toMatchObject({ replicas: 5, updatedReplicas: 2, readyReplicas: 3 });
    expect(d.status.conditions.find((x: Json) => x.type === 'Progressing')).toMatchObject({ status: 'True', reason: 'ReplicaSetUpdated' });
    clock.advance(601_000);
    c.resyncDeployments();
    d = c.get('deployments', 'shop', 'api')!;
    expect(d.status.conditions.find((x: Json) => x.type === 'Progressing')).toMatchObject({
      status: 'False',
      reason: 'ProgressDeadlineExceeded',
      message: expect.stringContaining('has timed out progressing'),
    });
  });

  it('a StatefulSet with OnDelete keeps its pods until they are deleted, and reports both revisions meanwhile', () => {
    const { c } = cluster();
    c.createStatefulSet({ name: 'db', namespace: 'shop', replicas: 2, memoryRequest: '256Mi', memoryLimit: '512Mi' });
    c.update('statefulsets', 'shop', 'db', (s) => {
      s.spec.updateStrategy = { type: 'OnDelete' };
    });
    const name = c.get('statefulsets', 'shop', 'db')!.spec.template.spec.containers[0].name;
    c.patch('statefulsets', 'shop', 'db', { spec: { template: { spec: { containers: [{ name, resources: { limits: { memory: '640Mi' } } }] } } } }, STRATEGIC);
    let s = c.get('statefulsets', 'shop', 'db')!;
    expect(s.status.updatedReplicas).toBe(0);
    expect(s.status.currentRevision).not.toBe(s.status.updateRevision);
    expect(c.get('pods', 'shop', 'db-0')!.spec.containers[0].resources.limits.memory).toBe('512Mi');
    c.delete('pods', 'shop', 'db-0');
    s = c.get('statefulsets', 'shop', 'db')!;
    expect(s.status.updatedReplicas).toBe(1);
    expect(c.get('pods', 'shop', 'db-0')!.spec.containers[0].resources.limits.memory).toBe('640Mi');
    c.delete('pods', 'shop', 'db-1');
    s = c.get('statefulsets', 'shop', 'db')!;
    expect(s.status).toMatchObject({ updatedReplicas: 2, currentReplicas: 2 });
    expect(s.status.currentRevision).toBe(s.status.updateRevision);
  });

  it('records managedFields per field manager: a later manager takes the memory limit over', () => {
    const { c } = cluster();
    c.patch('deployments', 'shop', 'api', memoryPatch('640Mi'), STRATEGIC, { manager: { manager: 'oombot', operation: 'Update' } });
    c.patch('deployments', 'shop', 'api', memoryPatch('512Mi'), STRATEGIC, { manager: { manager: 'argocd-controller', operation: 'Update' } });
    const mf = c.get('deployments', 'shop', 'api')!.metadata.managedFields as Json[];
    const path = (e: Json) =>
      e.fieldsV1?.['f:spec']?.['f:template']?.['f:spec']?.['f:containers']?.['k:{"name":"api"}']?.['f:resources']?.['f:limits']?.['f:memory'];
    expect(mf.find((e) => e.manager === 'argocd-controller')).toMatchObject({
      operation: 'Update',
      apiVersion: 'apps/v1',
      fieldsType: 'FieldsV1',
      time: '2026-11-23T12:00:00Z',
    });
    expect(path(mf.find((e) => e.manager === 'argocd-controller')!)).toEqual({});
    // oombot owned only that field, so it has no entry left.
    expect(mf.find((e) => e.manager === 'oombot')).toBeUndefined();
  });
});

describe('simulated DaemonSet updates', () => {
  it("RollingUpdate replaces every node's pod; OnDelete counts the pods on the new template as they are deleted", () => {
    const { c } = cluster();
    c.createDaemonSet({ name: 'agent', namespace: 'ops', memoryRequest: '64Mi', memoryLimit: '128Mi' });
    const name = c.get('daemonsets', 'ops', 'agent')!.spec.template.spec.containers[0].name;
    const raise = (to: string) =>
      c.patch('daemonsets', 'ops', 'agent', { spec: { template: { spec: { containers: [{ name, resources: { limits: { memory: to } } }] } } } }, STRATEGIC);
    raise('192Mi');
    expect(c.get('daemonsets', 'ops', 'agent')!.status).toMatchObject({ desiredNumberScheduled: 3, updatedNumberScheduled: 3, numberAvailable: 3 });
    c.update('daemonsets', 'ops', 'agent', (d) => {
      d.spec.updateStrategy = { type: 'OnDelete' };
    });
    raise('256Mi');
    expect(c.get('daemonsets', 'ops', 'agent')!.status).toMatchObject({ desiredNumberScheduled: 3, updatedNumberScheduled: 0 });
    c.delete('pods', 'ops', c.list('pods', 'ops')[0]!.metadata.name);
    expect(c.get('daemonsets', 'ops', 'agent')!.status).toMatchObject({ updatedNumberScheduled: 1, currentNumberScheduled: 3 });
  });
});
