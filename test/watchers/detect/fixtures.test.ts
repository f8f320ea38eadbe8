import { describe, expect, it } from 'vitest';
import type { Incident } from '../../../core/incident.js';
import { detectEventIncidents, detectPodIncidents } from '../../../watchers/detect/index.js';
import { createDetectContext, eventFixture, eventsFixture, podFixture } from '../../helpers/pods.js';

/** Real JSON list items through the same entry points the watcher calls. */
describe('kube fixtures through detectPodIncidents / detectEventIncidents', () => {
  const ctx = createDetectContext();
  const kinds = (incidents: Incident[]): string[] => incidents.map((incident) => incident.kind);

  it.each([
    ['pod-oom-crashloop.json', ['container-oom']],
    ['pod-oom-init-container.json', ['container-oom']],
    ['pod-oom-job-never.json', ['container-oom']],
    ['pod-child-oom-rollout.json', ['child-oom']],
    ['pod-liveness-sigkill.json', ['sigkill']],
    ['pod-grace-period-sigkill.json', ['sigkill']],
    ['pod-exit-143.json', []],
    ['pod-evicted-memory.json', ['evicted']],
    ['pod-evicted-ephemeral-storage.json', ['evicted']],
    ['pod-evicted-old-format.json', ['evicted']],
    ['pod-preempted.json', ['disruption']],
    ['pod-taint-eviction.json', ['disruption']],
    ['pod-healthy.json', []],
    ['pod-failed-exit-1.json', []],
    ['pod-ten-containers.json', ['container-oom', 'container-oom', 'container-oom']],
  ])('%s gives %j', (file, expected) => {
    expect(kinds(detectPodIncidents(podFixture(file), ctx))).toEqual(expected);
  });

  it.each([
    ['event-evicted-memory.json', ['evicted']],
    ['event-preempted.json', ['disruption']],
    ['event-system-oom.json', ['node-oom']],
  ])('%s gives %j', (file, expected) => {
    expect(kinds(detectEventIncidents(eventFixture(file), ctx))).toEqual(expected);
  });

  it('the Unhealthy and Killing events of a probe kill are no incidents by themselves', () => {
    for (const event of eventsFixture('events-liveness-sigkill.json')) expect(detectEventIncidents(event, ctx)).toEqual([]);
  });

  it('taint manager: "Marking for deletion" is an incident, "Cancelling deletion" is not', () => {
    const [marking, cancelling] = eventsFixture('events-taint-manager.json');
    expect(kinds(detectEventIncidents(marking!, ctx))).toEqual(['disruption']);
    expect(detectEventIncidents(cancelling!, ctx)).toEqual([]);
  });

  it('the pod path and the event path of one eviction or disruption share the id', () => {
    const pairs: [string, string][] = [
      ['pod-evicted-memory.json', 'event-evicted-memory.json'],
      ['pod-preempted.json', 'event-preempted.json'],
    ];
    for (const [podFile, eventFile] of pairs) {
      const [fromPod] = detectPodIncidents(podFixture(podFile), ctx);
      const [fromEvent] = detectEventIncidents(eventFixture(eventFile), ctx);
      expect(fromPod?.id).toBeDefined();
      expect(fromEvent?.id).toBe(fromPod?.id);
    }
    const [taintFromPod] = detectPodIncidents(podFixture('pod-taint-eviction.json'), ctx);
    const [taintFromEvent] = detectEventIncidents(eventsFixture('events-taint-manager.json')[0]!, ctx);
    expect(taintFromEvent?.id).toBe(taintFromPod?.id);
  });

  it("the liveness-probe kill carries the Killing event from the pod's recent events", () => {
    const events = eventsFixture('events-liveness-sigkill.json');
    const [incident] = detectPodIncidents(podFixture('pod-liveness-sigkill.json'), createDetectContext({ recentPodEvents: () => events }));
    expect(incident?.kind).toBe('sigkill');
    expect(incident?.probeKill).toEqual({
      reason: 'Killing',
      message: 'Container search failed liveness probe, will be restarted',
      at: '2025-11-20T09:47:00.000Z',
      probe: 'liveness',
    });
  });

  it('the crash-looping pod incident is complete and holds no env value', () => {
    const [incident] = detectPodIncidents(podFixture('pod-oom-crashloop.json'), ctx);
    expect(incident).toMatchObject({
      v: 1,
      kind: 'container-oom',
      cluster: 'prod-eu-1',
      occurredAt: '2025-11-20T09:41:11.000Z',
      detectedAt: '2025-11-20T10:00:00.000Z',
      pod: {
        namespace: 'shop',
        name: 'api-7f9c6b8d4-x2k9p',
        uid: '0b1f6c3e-2d4a-4c8e-9a51-7e3f2b9d1a01',
        nodeName: 'worker-3',
        owner: { kind: 'ReplicaSet', name: 'api-7f9c6b8d4' },
        qosClass: 'Burstable',
        priority: 0,
        managedBy: { tool: 'argocd', name: 'shop-api' },
      },
      termination: {
        container: 'api',
        init: false,
        restartCount: 5,
        exitCode: 137,
        reason: 'OOMKilled',
        from: 'lastState',
        resources: { limits: { memory: '1Gi', cpu: '1' }, requests: { memory: '512Mi', cpu: '250m' } },
        image: 'registry.example.com/shop/api:2.14.1',
      },
    });
    expect(incident?.id).toMatch(/^container-oom-[0-9a-f]{32}$/);
    const json = JSON.stringify(incident);
    expect(json).not.toContain('hunter2');
    expect(json).not.toContain('-Xmx900m');
    expect(json).not.toContain('team');
  });

  it('the Evicted event prefers its annotations and says so', () => {
    const [incident] = detectEventIncidents(eventFixture('event-evicted-memory.json'), ctx);
    expect(incident?.eviction).toMatchObject({
      source: 'event-annotations',
      resource: 'memory',
      threshold: '100Mi',
      available: '81232Ki',
      containers: [{ name: 'worker', usage: '912340Ki', request: '200Mi' }],
    });
    expect(incident?.pod).toEqual({ namespace: 'jobs', name: 'worker-5f7d8c6b9-r5t6y', uid: 'd9e0f1a2-b3c4-4d5e-af6a-7b8c9d0e1f07', nodeName: 'worker-2' });
  });

  it('a relist an hour later (cutoff after every fixture time) reports nothing', () => {
    const later = createDetectContext({ now: new Date('2025-11-20T11:00:00Z'), cutoff: new Date('2025-11-20T10:00:00Z'), live: false });
    for (const file of ['pod-oom-crashloop.json', 'pod-evicted-memory.json', 'pod-preempted.json', 'pod-liveness-sigkill.json']) {
      expect(detectPodIncidents(podFixture(file), later)).toEqual([]);
    }
    expect(detectEventIncidents(eventFixture('event-system-oom.json'), later)).toEqual([]);
  });

  it('ten containers: each OOM-killed container and each distinct kill of one container is its own incident', () => {
    const incidents = detectPodIncidents(podFixture('pod-ten-containers.json'), ctx);
    expect(incidents.map((incident) => [incident.termination?.container, incident.termination?.from, incident.termination?.finishedAt])).toEqual([
      ['indexer', 'lastState', '2025-11-20T09:26:11.000Z'],
      ['thumbnailer', 'lastState', '2025-11-20T09:20:31.000Z'],
      ['thumbnailer', 'state', '2025-11-20T09:26:05.000Z'],
    ]);
    expect(new Set(incidents.map((incident) => incident.id)).size).toBe(3);
    expect(incidents[0]?.termination?.resources).toEqual({ limits: { memory: '768Mi', cpu: '500m' }, requests: { memory: '384Mi', cpu: '100m' } });
  });

  it('evictions read from the pod status: local storage limit and the pre-1.17 wording', () => {
    const [storage] = detectPodIncidents(podFixture('pod-evicted-ephemeral-storage.json'), ctx);
    expect(storage?.occurredAt).toBe('2025-11-20T09:09:46.000Z');
    expect(storage?.eviction).toMatchObject({
      source: 'message',
      resource: 'ephemeral-storage',
      localLimit: { scope: 'container', name: 'cache', limit: '500Mi' },
      containers: [{ name: 'cache', limit: '500Mi' }],
    });
    const [old] = detectPodIncidents(podFixture('pod-evicted-old-format.json'), ctx);
    expect(old?.eviction).toMatchObject({ source: 'message', resource: 'memory', containers: [{ name: 'runner', usage: '1894200Ki', request: '0' }] });
    expect(old?.eviction?.disruptionReason).toBeUndefined();
    expect(old?.pod?.qosClass).toBe('BestEffort');
  });

  it("the evicted pod's SIGKILLed containers are not reported as SIGKILLs, and its time is the condition's", () => {
    const incidents = detectPodIncidents(podFixture('pod-evicted-memory.json'), ctx);
    expect(incidents).toHaveLength(1);
    expect(incidents[0]).toMatchObject({
      kind: 'evicted',
      occurredAt: '2025-11-20T09:50:17.000Z',
      eviction: { disruptionReason: 'TerminationByKubelet', resource: 'memory' },
    });
  });

  it('the node OOM carries node, victim and count', () => {
    const [incident] = detectEventIncidents(eventFixture('event-system-oom.json'), ctx);
    expect(incident).toMatchObject({
      occurredAt: '2025-11-20T09:19:05.000Z',
      nodeOom: { node: 'worker-3', victimProcess: 'java', victimPid: 2837461, count: 3 },
    });
    expect(incident?.pod).toBeUndefined();
  });
});
