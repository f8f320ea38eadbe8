/** Reading a followed fix's workload (pure), and the words for kinds that do not roll by themselves. */
import { describe, expect, it } from 'vitest';
import { lastMemoryWriter, podTrouble, readWorkload } from '../../handlers/rollout-state.js';
import { alertStatus, stuckLine, takesEffectLine, type FixView } from '../../alert/fix-lines.js';

const template = (memory: string) => ({ spec: { containers: [{ name: 'app', resources: { limits: { memory } } }] } });
const fix = (kind: string): FixView => ({
  owner: { kind, namespace: 'ops', name: 'agent' },
  container: 'app',
  target: 'limit',
  from: '256Mi',
  to: '384Mi',
  by: { id: 'U0APPROVER' },
  appliedAt: '2026-11-23T12:00:00Z',
  undoProposalId: 'p_AAAAAAAAAAAAAAAAAAAAAA',
});

describe('rollout state', () => {
  it('a DaemonSet rolls node by node: updatedNumberScheduled of desiredNumberScheduled, done when all are available', () => {
    const ds = (updated: number, available: number) => ({
      metadata: { generation: 2 },
      spec: { template: template('384Mi'), updateStrategy: { type: 'RollingUpdate' } },
      status: { observedGeneration: 2, desiredNumberScheduled: 3, updatedNumberScheduled: updated, numberAvailable: available },
    });
    expect(readWorkload('DaemonSet', ds(1, 3), 'app', 'limit').rollout).toEqual({ phase: 'rolling', updated: 1, total: 3 });
    expect(readWorkload('DaemonSet', ds(3, 3), 'app', 'limit').rollout).toEqual({ phase: 'done', total: 3 });
    expect(readWorkload('DaemonSet', ds(3, 3), 'app', 'limit')).toMatchObject({ live: '384Mi', liveBytes: 384 * 2 ** 20 });
  });

  it('a status the controller has not caught up with (observedGeneration behind) counts nothing as updated', () => {
    const d = {
      metadata: { generation: 3 },
      spec: { replicas: 2, template: template('384Mi') },
      status: { observedGeneration: 2, updatedReplicas: 2, replicas: 2, availableReplicas: 2 },
    };
    expect(readWorkload('Deployment', d, 'app', 'limit').rollout).toEqual({ phase: 'rolling', updated: 0, total: 2 });
  });

  it('a CronJob takes the value at its next run, a bare ReplicaSet only for new pods, an OnDelete DaemonSet when pods are deleted', () => {
    const cj = { spec: { schedule: '*/5 * * * *', jobTemplate: { spec: { template: template('384Mi') } } } };
    expect(readWorkload('CronJob', cj, 'app', 'limit')).toMatchObject({ rollout: { phase: 'cronjob', schedule: '*/5 * * * *' }, live: '384Mi' });
    expect(takesEffectLine(fix('CronJob'), 'cronjob', { schedule: '*/5 * * * *' }).text).toContain(
      'CronJob `ops/agent`: the new memory limit 384Mi takes effect at its next run (schedule `*/5 * * * *`); a Job running now keeps the old value.',
    );
    expect(readWorkload('ReplicaSet', { spec: { template: template('384Mi') } }, 'app', 'limit').rollout).toEqual({ phase: 'replicaset' });
    expect(takesEffectLine(fix('ReplicaSet'), 'replicaset', {}).text).toContain(
      'does not replace its pods: only pods created from now on get the new memory limit 384Mi',
    );
    const ds = {
      metadata: { generation: 2 },
      spec: { template: template('384Mi'), updateStrategy: { type: 'OnDelete' } },
      status: { observedGeneration: 2, desiredNumberScheduled: 3, updatedNumberScheduled: 0 },
    };
    expect(readWorkload('DaemonSet', ds, 'app', 'limit').rollout).toEqual({ phase: 'on-delete', updated: 0, total: 3 });
  });

  it('who last set the memory limit: the manager owning the field, not merely the newest writer', () => {
    const field = {
      'f:spec': { 'f:template': { 'f:spec': { 'f:containers': { 'k:{"name":"app"}': { 'f:resources': { 'f:limits': { 'f:memory': {} } } } } } } },
    };
    const obj = {
      metadata: {
        managedFields: [
          { manager: 'helm', operation: 'Update', time: '2026-11-23T12:05:00Z', fieldsV1: field },
          { manager: 'kube-controller-manager', operation: 'Update', time: '2026-11-23T12:06:00Z', fieldsV1: { 'f:status': {} } },
        ],
      },
    };
    expect(lastMemoryWriter(obj, 'app', 'limit')).toEqual({ manager: 'helm', time: '2026-11-23T12:05:00Z' });
    expect(lastMemoryWriter({ metadata: {} }, 'app', 'limit')).toEqual({});
  });

  it("a Pending pod names the scheduler's reason; its text is escaped in the thread, and Undo is offered", () => {
    const pods = [
      {
        metadata: { name: 'agent-x' },
        spec: { containers: [{ name: 'app', resources: { requests: { memory: '1536Mi' } } }] },
        status: {
          phase: 'Pending',
          conditions: [
            { type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes are available: <!channel> 3 Insufficient memory.' },
          ],
        },
      },
    ];
    const trouble = podTrouble(pods, 'app');
    expect(trouble).toEqual({
      kind: 'unschedulable',
      pod: 'agent-x',
      message: '0/3 nodes are available: <!channel> 3 Insufficient memory.',
      request: '1536Mi',
    });
    const line = stuckLine(fix('Deployment'), trouble!, 1, 3);
    expect(line.text).toContain('&lt;!channel&gt;');
    expect(line.text).not.toContain('<!channel>');
    expect(line.text).toContain('No node has room for the memory request of 1536Mi of the new pods.');
    expect(JSON.stringify(line.blocks)).toContain('"action_id":"oom_undo"');
    expect(alertStatus({ ...fix('Deployment'), state: 'stuck', progress: { updated: 1, total: 3 }, detail: '<b>' })).toContain('&lt;b&gt;');
  });

  it('a crash-looping new pod is named', () => {
    const pods = [
      {
        metadata: { name: 'agent-y' },
        status: { phase: 'Running', containerStatuses: [{ name: 'app', state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 40s' } } }] },
      },
    ];
    expect(podTrouble(pods, 'app')).toMatchObject({ kind: 'crash-loop', pod: 'agent-y' });
  });
});
