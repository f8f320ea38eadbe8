import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { incidentId, nodeOomIncidentId, podIncidentId, terminationIncidentId } from '../../../watchers/detect/incident-id.js';
import { detectPodIncidents } from '../../../watchers/detect/index.js';
import { createDetectContext, createOomKilledPod, createSigkilledPod, terminatedStatus } from '../../helpers/pods.js';

describe('incident ids', () => {
  const ctx = createDetectContext();

  it('is kind + 32 hex of sha256 over the parts joined by NUL: no ":" and never an integer', () => {
    const id = incidentId('container-oom', ['prod', 'uid-1', 'init:migrate', '2025-11-20T09:41:11.000Z']);
    const digest = createHash('sha256').update('prod\u0000uid-1\u0000init:migrate\u00002025-11-20T09:41:11.000Z').digest('hex').slice(0, 32);
    expect(id).toBe(`container-oom-${digest}`);
    expect(id).not.toContain(':');
    expect(Number.isInteger(Number(id))).toBe(false);
  });

  it('termination: cluster, pod uid, init:/container, finishedAt', () => {
    const termination = { container: 'migrate', init: true, finishedAt: '2025-11-20T09:41:11.000Z', restartCount: 3, from: 'lastState' as const };
    expect(terminationIncidentId('container-oom', 'prod', 'uid-1', termination)).toBe(
      incidentId('container-oom', ['prod', 'uid-1', 'init:migrate', '2025-11-20T09:41:11.000Z']),
    );
    expect(terminationIncidentId('container-oom', 'prod', 'uid-1', { ...termination, init: false })).toBe(
      incidentId('container-oom', ['prod', 'uid-1', 'migrate', '2025-11-20T09:41:11.000Z']),
    );
  });

  it('falls back to containerID, then restart-<n> of the run that ended', () => {
    const base = { container: 'api', init: false, restartCount: 4, from: 'lastState' as const };
    expect(terminationIncidentId('sigkill', 'c', 'u', { ...base, containerID: 'containerd://abc' })).toBe(
      incidentId('sigkill', ['c', 'u', 'api', 'containerd://abc']),
    );
    expect(terminationIncidentId('sigkill', 'c', 'u', base)).toBe(incidentId('sigkill', ['c', 'u', 'api', 'restart-3']));
    expect(terminationIncidentId('sigkill', 'c', 'u', { ...base, from: 'state', restartCount: 3 })).toBe(terminationIncidentId('sigkill', 'c', 'u', base));
  });

  it('the same kill seen in state.terminated (restartCount N) then lastState.terminated (N+1) keeps its id', () => {
    for (const create of [createOomKilledPod, createSigkilledPod]) {
      const first = create(undefined, { from: 'state', restartCount: 2 });
      const uid = first.metadata?.uid;
      const restarted = create({ metadata: { uid } }, { from: 'lastState', restartCount: 3 });
      const a = detectPodIncidents(first, ctx);
      const b = detectPodIncidents(restarted, ctx);
      expect(a).toHaveLength(1);
      expect(b.map((incident) => incident.id)).toEqual(a.map((incident) => incident.id));
    }
  });

  it('stable without finishedAt as well (containerID, then the run number)', () => {
    const first = createOomKilledPod(undefined, { from: 'state', restartCount: 2, finishedAt: null });
    const restarted = createOomKilledPod({ metadata: { uid: first.metadata?.uid } }, { from: 'lastState', restartCount: 3, finishedAt: null });
    expect(detectPodIncidents(restarted, ctx)[0]?.id).toBe(detectPodIncidents(first, ctx)[0]?.id);

    const noIds = (from: 'state' | 'lastState', restartCount: number) => {
      const pod = createOomKilledPod({ metadata: { uid: 'fixed-uid' } }, { from, restartCount, finishedAt: null });
      delete pod.status!.containerStatuses![0]![from]!.terminated!.containerID;
      return detectPodIncidents(pod, ctx)[0]?.id;
    };
    expect(noIds('lastState', 3)).toBe(noIds('state', 2));
    expect(noIds('lastState', 4)).not.toBe(noIds('lastState', 3));
  });

  it('a later kill of the same container gets a new id', () => {
    const pod = createOomKilledPod();
    const later = createOomKilledPod({ metadata: { uid: pod.metadata?.uid } }, { finishedAt: '2025-11-20T09:45:00Z', restartCount: 6 });
    expect(detectPodIncidents(later, ctx)[0]?.id).not.toBe(detectPodIncidents(pod, ctx)[0]?.id);
  });

  it('lastState and state showing the same termination give one incident', () => {
    const status = terminatedStatus({ from: 'lastState' });
    status.state = status.lastState;
    const pod = createOomKilledPod({ status: { containerStatuses: [status] } });
    expect(detectPodIncidents(pod, ctx)).toHaveLength(1);
  });

  it('eviction/disruption ids depend on cluster and pod uid only; node OOM ids on node, event uid and count', () => {
    expect(podIncidentId('evicted', 'c', 'u')).toBe(incidentId('evicted', ['c', 'u']));
    expect(podIncidentId('evicted', 'c', 'u')).not.toBe(podIncidentId('evicted', 'c2', 'u'));
    expect(nodeOomIncidentId('c', 'n', 'e', 2)).toBe(incidentId('node-oom', ['c', 'n', 'e', '2']));
  });
});
