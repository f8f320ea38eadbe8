import { describe, it, expect } from 'vitest';
import { ManualClock, SimCluster, qosClass, type Change, type Json } from '../../../sim/kube/index.js';

function newCluster(nodes = 2): { c: SimCluster; clock: ManualClock } {
  const clock = new ManualClock('2026-11-23T12:00:00Z');
  const c = new SimCluster({ clock, seed: 7 });
  c.addNodes(nodes);
  return { c, clock };
}

describe('SimCluster controllers', () => {
  it('creates Deployment -> ReplicaSet -> pods with realistic names, owners and status', () => {
    const { c } = newCluster();
    c.createDeployment({ name: 'api', namespace: 'shop', replicas: 3, memoryLimit: '512Mi', memoryRequest: '256Mi' });
    const [rs] = c.list('replicasets', 'shop');
    expect(rs!.metadata.name).toMatch(/^api-[0-9a-f]{10}$/);
    expect(rs!.metadata.ownerReferences![0]).toMatchObject({ kind: 'Deployment', name: 'api', controller: true });
    const pods = c.list('pods', 'shop');
    expect(pods).toHaveLength(3);
    for (const p of pods) {
      expect(p.metadata.name).toMatch(new RegExp(`^${rs!.metadata.name}-[a-z0-9]{5}$`));
      expect(p.metadata.ownerReferences![0]).toMatchObject({ kind: 'ReplicaSet', name: rs!.metadata.name, uid: rs!.metadata.uid, controller: true });
      expect(p.status.phase).toBe('Running');
      expect(p.status.qosClass).toBe('Burstable');
      const cs = p.status.containerStatuses[0];
      expect(cs.containerID).toMatch(/^containerd:\/\/[0-9a-f]{64}$/);
      expect(cs).toMatchObject({ ready: true, started: true, restartCount: 0 });
      expect(cs.state.running.startedAt).toBe('2026-11-23T12:00:00Z');
      expect(p.status.podIP).toMatch(/^10\.\d+\.\d+\.\d+$/);
    }
    // round-robin over the two nodes
    expect(new Set(pods.map((p) => p.spec.nodeName))).toEqual(new Set(['node-1', 'node-2']));
    const d = c.peek('deployments', 'shop', 'api')!;
    expect(d.status).toMatchObject({ replicas: 3, updatedReplicas: 3, readyReplicas: 3, availableReplicas: 3, observedGeneration: 1 });
    expect(Number(c.resourceVersion)).toBeGreaterThan(0);
  });

  it('is deterministic for a given seed', () => {
    const names = (): string[] => {
      const { c } = newCluster();
      c.createDeployment({ name: 'api', replicas: 2 });
      return c.list('pods').map((p) => `${p.metadata.name}/${p.metadata.uid}`);
    };
    expect(names()).toEqual(names());
  });

  it('computes qosClass like the kubelet', () => {
    const spec = (resources: Json): Json => ({ containers: [{ name: 'a', resources }] });
    expect(qosClass(spec({}))).toBe('BestEffort');
    expect(qosClass(spec({ limits: { cpu: '1', memory: '1Gi' }, requests: { cpu: '1000m', memory: '1024Mi' } }))).toBe('Guaranteed');
    expect(qosClass(spec({ limits: { memory: '1Gi' }, requests: { memory: '1Gi' } }))).toBe('Burstable');
    expect(qosClass(spec({ requests: { memory: '100Mi' } }))).toBe('Burstable');
    const { c } = newCluster();
    // limits only: the API server defaults requests to limits -> Guaranteed
    const pod = c.createPod({ name: 'g', containers: [{ name: 'a', memoryLimit: '1Gi', cpuLimit: '500m' }] });
    expect(pod.spec.containers[0].resources.requests).toEqual({ cpu: '500m', memory: '1Gi' });
    expect(pod.status.qosClass).toBe('Guaranteed');
    expect(c.createPod({ name: 'b', containers: [{ name: 'a' }] }).status.qosClass).toBe('BestEffort');
  });

  it('rolls a Deployment out to a new ReplicaSet when its template changes', () => {
    const { c } = newCluster();
    c.createDeployment({ name: 'api', replicas: 2, memoryLimit: '512Mi' });
    const oldRs = c.list('replicasets')[0]!.metadata.name;
    const oldPods = c.list('pods').map((p) => p.metadata.name);
    c.patch(
      'deployments',
      'default',
      'api',
      { spec: { template: { spec: { containers: [{ name: 'api', resources: { limits: { memory: '1Gi' } } }] } } } },
      'application/strategic-merge-patch+json',
    );
    const rss = c.list('replicasets');
    expect(rss).toHaveLength(2);
    const newRs = rss.find((r) => r.metadata.name !== oldRs)!;
    expect(newRs.metadata.annotations!['deployment.kubernetes.io/revision']).toBe('2');
    expect(c.peek('replicasets', 'default', oldRs)!.spec.replicas).toBe(0);
    const pods = c.list('pods');
    expect(pods).toHaveLength(2);
    for (const p of pods) {
      expect(oldPods).not.toContain(p.metadata.name);
      expect(p.spec.containers[0].resources.limits.memory).toBe('1Gi');
      expect(p.spec.containers[0].image).toBe('ghcr.io/example/app:1.4.2');
    }
    const d = c.peek('deployments', 'default', 'api')!;
    expect(d.metadata.generation).toBe(2);
    expect(d.status).toMatchObject({ observedGeneration: 2, replicas: 2, updatedReplicas: 2, readyReplicas: 2 });
  });

  it('runs StatefulSets, DaemonSets, Jobs and CronJobs', () => {
    const { c } = newCluster(3);
    c.createStatefulSet({ name: 'db', namespace: 'data', replicas: 2 });
    expect(
      c
        .list('pods', 'data')
        .map((p) => p.metadata.name)
        .sort(),
    ).toEqual(['db-0', 'db-1']);
    c.createDaemonSet({ name: 'node-exporter', namespace: 'kube-system' });
    const ds = c.list('pods', 'kube-system');
    expect(ds).toHaveLength(3);
    expect(new Set(ds.map((p) => p.spec.nodeName)).size).toBe(3);
    c.addNode('node-4');
    expect(c.list('pods', 'kube-system')).toHaveLength(4);
    c.createCronJob({ name: 'report', namespace: 'batch' });
    const job = c.triggerCronJob('batch', 'report');
    expect(job.metadata.name).toMatch(/^report-\d+$/);
    expect(job.metadata.ownerReferences![0]).toMatchObject({ kind: 'CronJob', name: 'report' });
    const [jp] = c.list('pods', 'batch');
    expect(jp!.metadata.ownerReferences![0]).toMatchObject({ kind: 'Job', name: job.metadata.name });
    expect(jp!.spec.restartPolicy).toBe('Never');
    expect(jp!.metadata.labels!['batch.kubernetes.io/job-name']).toBe(job.metadata.name);
  });

  it('keeps pods Pending when there is no node', () => {
    const c = new SimCluster({ seed: 1 });
    const pod = c.createPod({ name: 'p' });
    expect(pod.status.phase).toBe('Pending');
    expect(pod.status.conditions[0]).toMatchObject({ type: 'PodScheduled', status: 'False', reason: 'Unschedulable' });
  });

  it('drops history on compact() and when the ring overflows', () => {
    const clock = new ManualClock();
    const c = new SimCluster({ clock, seed: 1, historySize: 5 });
    c.addNode('n1');
    const rv0 = c.resourceVersionNumber;
    for (let i = 0; i < 3; i++) c.createPod({ name: `p${i}` });
    expect(c.changesSince('pods', rv0)!.map((x) => x.type)).toEqual(['ADDED', 'ADDED', 'ADDED']);
    for (let i = 3; i < 10; i++) c.createPod({ name: `p${i}` });
    expect(c.changesSince('pods', rv0)).toBeUndefined();
    const now = c.resourceVersionNumber;
    expect(c.changesSince('pods', now)).toEqual([]);
    c.compact();
    expect(c.changesSince('pods', now - 1)).toBeUndefined();
    expect(c.changesSince('pods', now)).toEqual([]);
  });
});

describe('SimCluster incidents', () => {
  it('oomKill: lastState OOMKilled 137, restartCount+1, CrashLoopBackOff, BackOff event', () => {
    const { c, clock } = newCluster();
    c.createDeployment({ name: 'api', namespace: 'shop', replicas: 1 });
    const pod = c.list('pods', 'shop')[0]!;
    const changes: Change[] = [];
    c.subscribe((ch) => changes.push(ch));
    clock.advance(90_000);
    const after = c.oomKill('shop', pod.metadata.name, 'api');
    const cs = after.status.containerStatuses[0];
    expect(cs.lastState.terminated).toEqual({
      containerID: pod.status.containerStatuses[0].containerID,
      exitCode: 137,
      finishedAt: '2026-11-23T12:01:30Z',
      reason: 'OOMKilled',
      startedAt: '2026-11-23T12:00:00Z',
    });
    expect(cs.restartCount).toBe(1);
    expect(cs.ready).toBe(false);
    expect(cs.state.waiting.reason).toBe('CrashLoopBackOff');
    expect(cs.state.waiting.message).toBe(`back-off 10s restarting failed container=api pod=${pod.metadata.name}_shop(${pod.metadata.uid})`);
    expect(after.status.conditions.find((x: Json) => x.type === 'Ready')).toMatchObject({
      status: 'False',
      reason: 'ContainersNotReady',
      message: 'containers with unready status: [api]',
    });
    expect(changes.some((ch) => ch.resource === 'pods' && ch.type === 'MODIFIED')).toBe(true);
    const ev = c.list('events', 'shop').find((e) => e.reason === 'BackOff')!;
    expect(ev.message).toBe(`Back-off restarting failed container api in pod ${pod.metadata.name}_shop(${pod.metadata.uid})`);
    expect(ev).toMatchObject({
      type: 'Warning',
      source: { component: 'kubelet', host: pod.spec.nodeName },
      count: 1,
      eventTime: null,
      reportingComponent: 'kubelet',
    });
    expect(ev.involvedObject).toMatchObject({
      kind: 'Pod',
      namespace: 'shop',
      name: pod.metadata.name,
      uid: pod.metadata.uid,
      apiVersion: 'v1',
      fieldPath: 'spec.containers{api}',
    });
    expect(ev.metadata.name).toMatch(new RegExp(`^${pod.metadata.name}\\.[0-9a-f]{16}$`));
    // A second kill: back-off doubles, the BackOff event is the same object with count 2.
    clock.advance(30_000);
    const again = c.oomKill('shop', pod.metadata.name, 'api');
    expect(again.status.containerStatuses[0].restartCount).toBe(2);
    expect(again.status.containerStatuses[0].state.waiting.message).toContain('back-off 20s');
    const evs = c.list('events', 'shop').filter((e) => e.reason === 'BackOff');
    expect(evs).toHaveLength(1);
    expect(evs[0]).toMatchObject({ count: 2, lastTimestamp: '2026-11-23T12:02:00Z', firstTimestamp: '2026-11-23T12:01:30Z' });
  });

  it('oomKill with then=running restarts at once and records Pulled/Created/Started', () => {
    const { c } = newCluster();
    const pod = c.createPod({ name: 'p', namespace: 'x' });
    const after = c.oomKill('x', 'p', 'p', { then: 'running' });
    const cs = after.status.containerStatuses[0];
    expect(cs.state.running).toBeDefined();
    expect(cs.containerID).not.toBe(pod.status.containerStatuses[0].containerID);
    expect(cs.lastState.terminated.reason).toBe('OOMKilled');
    expect(c.list('events', 'x').map((e) => e.reason)).toEqual(['Pulled', 'Created', 'Started']);
  });

  it('oomKill with restartPolicy Never leaves state.terminated and a Failed pod; Job replaces it', () => {
    const { c } = newCluster();
    c.createJob({ name: 'etl', namespace: 'b' });
    const pod = c.list('pods', 'b')[0]!;
    const after = c.oomKill('b', pod.metadata.name, 'etl');
    expect(after.status.phase).toBe('Failed');
    expect(after.status.containerStatuses[0].state.terminated).toMatchObject({ exitCode: 137, reason: 'OOMKilled' });
    expect(after.status.containerStatuses[0].restartCount).toBe(0);
    expect(after.status.containerStatuses[0].lastState).toEqual({});
    expect(c.list('pods', 'b')).toHaveLength(2);
    expect(c.peek('jobs', 'b', 'etl')!.status).toMatchObject({ failed: 1, active: 1 });
  });

  it('oomKill of an init container keeps the pod Pending in Init:CrashLoopBackOff', () => {
    const { c } = newCluster();
    c.createPod({ name: 'p', containers: [{ name: 'app' }], initContainers: [{ name: 'migrate', memoryLimit: '64Mi' }] });
    const after = c.oomKill('default', 'p', 'migrate');
    const init = after.status.initContainerStatuses[0];
    expect(init.lastState.terminated).toMatchObject({ exitCode: 137, reason: 'OOMKilled' });
    expect(init.state.waiting.reason).toBe('CrashLoopBackOff');
    expect(after.status.phase).toBe('Pending');
    expect(after.status.containerStatuses[0].state.waiting.reason).toBe('PodInitializing');
    const ev = c.list('events').find((e) => e.reason === 'BackOff')!;
    expect(ev.involvedObject.fieldPath).toBe('spec.initContainers{migrate}');
  });

  it('childOom reports OOMKilled with exit 143', () => {
    const { c } = newCluster();
    c.createPod({ name: 'p' });
    const after = c.childOom('default', 'p', 'p');
    expect(after.status.containerStatuses[0].lastState.terminated).toMatchObject({ exitCode: 143, reason: 'OOMKilled' });
    expect(c.childOom('default', 'p', 'p', { exitCode: 1 }).status.containerStatuses[0].lastState.terminated.exitCode).toBe(1);
  });

  it('livenessKill: Unhealthy x3 (one event, count 3), Killing, then Error 137', () => {
    const { c } = newCluster();
    c.createPod({ name: 'web' });
    const after = c.livenessKill('default', 'web', 'web');
    expect(after.status.containerStatuses[0].lastState.terminated).toMatchObject({ exitCode: 137, reason: 'Error' });
    const evs = c.list('events');
    const unhealthy = evs.filter((e) => e.reason === 'Unhealthy');
    expect(unhealthy).toHaveLength(1);
    expect(unhealthy[0]).toMatchObject({ count: 3, type: 'Warning', message: 'Liveness probe failed: HTTP probe failed with statuscode: 500' });
    expect(evs.find((e) => e.reason === 'Killing')).toMatchObject({ type: 'Normal', message: 'Container web failed liveness probe, will be restarted' });
  });

  it('evict: message, annotations, DisruptionTarget, terminated containers, replacement pod', () => {
    const { c } = newCluster();
    c.createDeployment({ name: 'worker', namespace: 'jobs', replicas: 1, memoryRequest: '200Mi', memoryLimit: '1Gi' });
    const pod = c.list('pods', 'jobs')[0]!;
    const after = c.evict('jobs', pod.metadata.name, {
      resource: 'memory',
      threshold: '100Mi',
      available: '81232Ki',
      containers: [{ name: 'worker', usage: '912340Ki' }],
    });
    const message =
      'The node was low on resource: memory. Threshold quantity: 100Mi, available: 81232Ki. Container worker was using 912340Ki, request is 200Mi, has larger consumption of memory. ';
    expect(after.status).toMatchObject({ phase: 'Failed', reason: 'Evicted', message });
    expect(after.status.conditions.find((x: Json) => x.type === 'DisruptionTarget')).toMatchObject({ status: 'True', reason: 'TerminationByKubelet', message });
    expect(after.status.containerStatuses[0].state.terminated).toMatchObject({ exitCode: 137, reason: 'ContainerStatusUnknown' });
    const ev = c.list('events', 'jobs').find((e) => e.reason === 'Evicted')!;
    expect(ev).toMatchObject({ type: 'Warning', message, source: { component: 'kubelet', host: pod.spec.nodeName } });
    expect(ev.metadata.annotations).toEqual({ offending_containers: 'worker', offending_containers_usage: '912340Ki', starved_resource: 'memory' });
    const pods = c.list('pods', 'jobs');
    expect(pods).toHaveLength(2);
    expect(pods.filter((p) => p.status.phase === 'Running')).toHaveLength(1);
  });

  it('evict variants: ephemeral-storage with request 0, pids', () => {
    const { c } = newCluster();
    c.createPod({ name: 'a', containers: [{ name: 'a' }, { name: 'b' }] });
    const a = c.evict('default', 'a', {
      resource: 'ephemeral-storage',
      threshold: '10%',
      available: '9Gi',
      containers: [
        { name: 'a', usage: '20Gi' },
        { name: 'b', usage: '2Gi' },
      ],
      containerReason: 'Error',
    });
    expect(a.status.message).toBe(
      'The node was low on resource: ephemeral-storage. Threshold quantity: 10%, available: 9Gi. Container a was using 20Gi, request is 0, has larger consumption of ephemeral-storage. Container b was using 2Gi, request is 0, has larger consumption of ephemeral-storage. ',
    );
    expect(a.status.containerStatuses[0].state.terminated).toMatchObject({ reason: 'Error', exitCode: 137 });
    const ev = c.list('events').find((e) => e.reason === 'Evicted')!;
    expect(ev.metadata.annotations).toEqual({ offending_containers: 'a,b', offending_containers_usage: '20Gi,2Gi', starved_resource: 'ephemeral-storage' });
    c.createPod({ name: 'p' });
    const p = c.evict('default', 'p', { resource: 'pids', threshold: '1000', available: '12' });
    expect(p.status.message).toBe('The node was low on resource: pids. Threshold quantity: 1000, available: 12. ');
  });

  it('evict prints the request as the kubelet does (canonical quantity)', () => {
    const { c } = newCluster();
    c.createPod({ name: 'w', containers: [{ name: 'worker', memoryRequest: '0.5Gi', memoryLimit: '1Gi' }] });
    const after = c.evict('default', 'w', { containers: [{ name: 'worker', usage: '912340Ki' }] });
    expect(after.status.message).toBe(
      'The node was low on resource: memory. Threshold quantity: 100Mi, available: 81232Ki. Container worker was using 912340Ki, request is 512Mi, has larger consumption of memory. ',
    );
  });

  it('systemOom with another victim is a new Event; the same victim again bumps its count', () => {
    const { c } = newCluster();
    c.systemOom('node-1', { process: 'java', pid: 1 });
    c.systemOom('node-1', { process: 'python', pid: 2 });
    c.systemOom('node-1', { process: 'java', pid: 1 });
    const evs = c.list('events').filter((e) => e.reason === 'SystemOOM');
    expect(evs.map((e) => [e.message, e.count])).toEqual([
      ['System OOM encountered, victim process: java, pid: 1', 2],
      ['System OOM encountered, victim process: python, pid: 2', 1],
    ]);
    expect(() => c.systemOom('node-9', { process: 'x', pid: 1 })).toThrow(/not found/);
  });

  it('systemOom: one Event per node whose count grows', () => {
    const { c, clock } = newCluster();
    const first = c.systemOom('node-1', { process: 'java', pid: 4242 });
    expect(first).toMatchObject({
      reason: 'SystemOOM',
      type: 'Warning',
      message: 'System OOM encountered, victim process: java, pid: 4242',
      source: { component: 'kubelet', host: 'node-1' },
      involvedObject: { kind: 'Node', name: 'node-1', uid: 'node-1' },
      count: 1,
    });
    expect(first.metadata.namespace).toBe('default');
    clock.advance(60_000);
    const second = c.systemOom('node-1', { process: 'java', pid: 4242 });
    expect(second.metadata.name).toBe(first.metadata.name);
    expect(second).toMatchObject({ count: 2, lastTimestamp: '2026-11-23T12:01:00Z', firstTimestamp: '2026-11-23T12:00:00Z' });
    expect(c.list('events').filter((e) => e.reason === 'SystemOOM')).toHaveLength(1);
  });

  it('preempt, taintEvict, apiEvict: DisruptionTarget, events, DELETED with the final object, replacement', () => {
    const { c } = newCluster();
    c.createDeployment({ name: 'api', replicas: 3 });
    const [a, b, d] = c.list('pods');
    const deleted: Change[] = [];
    c.subscribe((ch) => ch.type === 'DELETED' && ch.resource === 'pods' && deleted.push(ch));
    c.preempt('default', a!.metadata.name);
    c.taintEvict('default', b!.metadata.name);
    c.apiEvict('default', d!.metadata.name);
    expect(deleted.map((x) => x.object.status.conditions.find((k: Json) => k.type === 'DisruptionTarget').reason)).toEqual([
      'PreemptionByScheduler',
      'DeletionByTaintManager',
      'EvictionByEvictionAPI',
    ]);
    expect(deleted[0]!.object.metadata.deletionTimestamp).toBeDefined();
    const evs = c.list('events');
    expect(evs.find((e) => e.reason === 'Preempted')).toMatchObject({ source: { component: 'default-scheduler' } });
    expect(evs.find((e) => e.reason === 'TaintManagerEviction')!.message).toBe(`Marking for deletion Pod default/${b!.metadata.name}`);
    expect(evs.filter((e) => e.reason === 'Killing').map((e) => e.message)).toEqual([
      'Stopping container api',
      'Stopping container api',
      'Stopping container api',
    ]);
    expect(c.list('pods').filter((p) => p.status.phase === 'Running')).toHaveLength(3);
  });

  it('setNodePressure sets the MemoryPressure condition and taint', () => {
    const { c } = newCluster();
    const n = c.setNodePressure('node-1', true);
    expect(n.status.conditions.find((x: Json) => x.type === 'MemoryPressure')).toMatchObject({ status: 'True', reason: 'KubeletHasInsufficientMemory' });
    expect(n.spec.taints).toEqual([expect.objectContaining({ key: 'node.kubernetes.io/memory-pressure', effect: 'NoSchedule' })]);
    const off = c.setNodePressure('node-1', false);
    expect(off.status.conditions.find((x: Json) => x.type === 'MemoryPressure').status).toBe('False');
    expect(off.spec.taints).toBeUndefined();
  });
});
