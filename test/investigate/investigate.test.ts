/**
 * One investigation for the alerts and for `/oom why`: against the simulated API server, an OOM-killed
 * pod of a Deployment is read with its owner chain, grouped by its Deployment, diagnosed, and the
 * workload's earlier incidents in Redis reach the diagnosis.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import { trimEvent, trimPod } from '../../core/observed-pod.js';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Incident } from '../../core/incident.js';
import { KubeHttp, loadKubeTarget } from '../../core/kube.js';
import { isPodPresent } from '../../diagnosis/enriched.js';
import { ClusterCache } from '../../investigate/gather.js';
import { investigate, type InvestigateDeps, workloadOf } from '../../investigate/investigate.js';
import { IncidentHistory } from '../../stores/incident-history.js';
import { detectPodIncidents } from '../../watchers/detect/index.js';
import { REDIS_URL, removeQueueData, uniqueQueueName } from '../helpers/redis.js';
import { startSimKube, type SimKube } from '../helpers/sim-kube.js';

let sim: SimKube;
let kube: KubeHttp;
let redis: Redis;
const queueName = uniqueQueueName('investigate');
let deps: InvestigateDeps;

beforeAll(async () => {
  sim = await startSimKube();
  const kubeconfig = sim.server.writeKubeconfig(join(mkdtempSync(join(tmpdir(), 'oombot-investigate-')), 'kubeconfig'));
  kube = new KubeHttp(loadKubeTarget({ kubeconfig, clusterName: 'sim' }));
  redis = new Redis(REDIS_URL);
  deps = {
    config: { maxMemoryLimitBytes: undefined, watchNamespaces: [] },
    kube,
    cache: new ClusterCache(),
    history: new IncidentHistory(redis, queueName, 3_600_000),
  };
});

afterAll(async () => {
  await kube?.close();
  await sim?.close();
  await removeQueueData(queueName);
  redis?.disconnect();
});

/** `usageBytes`: the working set of `container` just before the kill; the incident is that container's. */
function killedIncident(namespace: string, deployment: string, usageBytes?: number, container = 'main'): Incident {
  const pod = sim.cluster.list('pods', namespace).find((p) => String(p.metadata.name).startsWith(`${deployment}-`));
  if (!pod) throw new Error(`no pod of ${deployment}`);
  sim.clock.advance(20 * 60_000);
  if (usageBytes !== undefined) sim.cluster.setUsage(namespace, String(pod.metadata.name), container, usageBytes);
  const killed = sim.cluster.oomKill(namespace, String(pod.metadata.name), container);
  const now = sim.clock.now();
  const incident = detectPodIncidents(killed as unknown as V1Pod, { cluster: 'sim', now, cutoff: new Date(now.getTime() - 3_600_000), live: true }).find(
    (i) => i.termination?.container === container,
  );
  if (!incident) throw new Error('the kill was not detected');
  return incident;
}

describe('investigate', () => {
  it('reads the killed pod with its owner chain and diagnoses it as its Deployment', async () => {
    sim.cluster.addNamespace('shop');
    sim.cluster.createDeployment({
      name: 'checkout',
      namespace: 'shop',
      replicas: 1,
      containers: [{ name: 'main', image: 'registry.example/checkout:1.0', memoryRequest: '128Mi', memoryLimit: '256Mi' }],
    });
    const incident = killedIncident('shop', 'checkout');
    const found = await investigate(deps, incident, sim.clock.now());
    expect(found.gathered.owners.map((o) => o.kind)).toEqual(['ReplicaSet', 'Deployment']);
    expect(found.workload).toBe('Deployment/checkout');
    expect(workloadOf(incident, found.gathered.owners)).toBe('Deployment/checkout');
    expect(found.enriched.incident.id).toBe(incident.id);
    expect(found.diagnosis.cause).not.toBe('unknown');
    expect(found.diagnosis.headline).toContain('256Mi');
  });

  it("gives the diagnosis the workload's earlier incidents from Redis", async () => {
    sim.cluster.createDeployment({
      name: 'search',
      namespace: 'shop',
      replicas: 1,
      containers: [{ name: 'main', image: 'registry.example/search:2.0', memoryRequest: '128Mi', memoryLimit: '512Mi' }],
    });
    const first = killedIncident('shop', 'search');
    const before = await investigate(deps, first, sim.clock.now());
    expect(before.enriched.previousIncidents).toEqual([]);
    await deps.history.add({
      id: first.id,
      kind: first.kind,
      cluster: 'sim',
      namespace: 'shop',
      pod: first.pod?.name,
      workload: before.workload,
      occurredAt: first.occurredAt,
      cause: before.diagnosis.cause,
      headline: before.diagnosis.headline,
    });
    const second = killedIncident('shop', 'search');
    const after = await investigate(deps, second, sim.clock.now());
    expect(after.enriched.previousIncidents.map((p) => p.id)).toEqual([first.id]);
  });

  it('a sidecar the template does not hold (injected at admission) gets no proposal, and the reason says how to size it', async () => {
    sim.cluster.createDeployment({
      name: 'storefront',
      namespace: 'shop',
      replicas: 1,
      containers: [{ name: 'main', image: 'registry.example/storefront:3', memoryLimit: '512Mi' }],
    });
    const pod = sim.cluster.list('pods', 'shop').find((p) => String(p.metadata.name).startsWith('storefront-'))!;
    // What the istio injector adds to the Pod (never to the Deployment's template).
    sim.cluster.update('pods', 'shop', String(pod.metadata.name), (draft) => {
      draft.spec.containers.push({
        name: 'istio-proxy',
        image: 'docker.io/istio/proxyv2:1.24.0',
        resources: { limits: { memory: '256Mi' }, requests: { memory: '128Mi' } },
      });
      draft.status.containerStatuses.push({
        ...structuredClone(draft.status.containerStatuses[0]),
        name: 'istio-proxy',
        image: 'docker.io/istio/proxyv2:1.24.0',
      });
    });
    const incident = killedIncident('shop', 'storefront', 255 * 2 ** 20, 'istio-proxy');
    expect(incident.termination?.container).toBe('istio-proxy');
    const found = await investigate(deps, incident, sim.clock.now());
    expect(found.diagnosis.proposal).toBeUndefined();
    expect(found.diagnosis.noProposalReason).toContain('istio-proxy is not in the pod template of Deployment storefront');
    expect(found.diagnosis.noProposalReason).toContain('sidecar.istio.io/proxyMemoryLimit');
  });

  it('with app and istio-proxy, the killed container is named first and gets the proposal and its own previous logs; the other is context', async () => {
    sim.cluster.createDeployment({
      name: 'basket',
      namespace: 'shop',
      replicas: 1,
      containers: [{ name: 'main', image: 'registry.example/basket:3', memoryRequest: '256Mi', memoryLimit: '512Mi' }],
    });
    const pod = sim.cluster.list('pods', 'shop').find((p) => String(p.metadata.name).startsWith('basket-'))!;
    const name = String(pod.metadata.name);
    sim.cluster.update('pods', 'shop', name, (draft) => {
      draft.spec.containers.push({ name: 'istio-proxy', image: 'docker.io/istio/proxyv2:1.24.0', resources: { limits: { memory: '256Mi' } } });
      draft.status.containerStatuses.push({
        ...structuredClone(draft.status.containerStatuses[0]),
        name: 'istio-proxy',
        image: 'docker.io/istio/proxyv2:1.24.0',
      });
    });
    sim.cluster.setLogs('shop', name, 'main', { previous: 'main: heap exhausted\n' });
    sim.cluster.setLogs('shop', name, 'istio-proxy', { previous: 'envoy: upstream reset\n' });
    const logReads = () => sim.server.requests((r) => r.path === `/api/v1/namespaces/shop/pods/${name}/log`).map((r) => r.query.container);

    const app = await investigate(deps, killedIncident('shop', 'basket', 510 * 2 ** 20, 'main'), sim.clock.now());
    expect(app.diagnosis.proposal?.container).toBe('main');
    expect(app.enriched.previousLogs).toContain('heap exhausted');
    expect(logReads()).toEqual(['main']);
    expect(app.diagnosis.headline).toMatch(/^main /);

    const proxy = await investigate(deps, killedIncident('shop', 'basket', 255 * 2 ** 20, 'istio-proxy'), sim.clock.now());
    expect(proxy.diagnosis.proposal).toBeUndefined();
    expect(proxy.enriched.previousLogs).toContain('upstream reset');
    expect(proxy.enriched.previousLogs).not.toContain('heap exhausted');
    expect(logReads()).toEqual(['main', 'istio-proxy']);
    expect(proxy.diagnosis.headline).toMatch(/^istio-proxy /);
  });

  it('a VPA in Auto mode that targets the Deployment: no proposal, and the reason names the VPA', async () => {
    sim.cluster.createDeployment({
      name: 'catalog',
      namespace: 'shop',
      replicas: 1,
      containers: [{ name: 'main', image: 'registry.example/catalog:1', memoryRequest: '256Mi', memoryLimit: '512Mi' }],
    });
    sim.cluster.create('verticalpodautoscalers', {
      apiVersion: 'autoscaling.k8s.io/v1',
      kind: 'VerticalPodAutoscaler',
      metadata: { name: 'catalog', namespace: 'shop' },
      spec: {
        targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'catalog' },
        updatePolicy: { updateMode: 'Auto' },
        resourcePolicy: { containerPolicies: [{ containerName: '*', maxAllowed: { memory: '4Gi' } }] },
      },
    });
    // A fresh cache: the namespace's VPAs are read once a minute, and earlier tests read shop's.
    const found = await investigate({ ...deps, cache: new ClusterCache() }, killedIncident('shop', 'catalog', 510 * 2 ** 20), sim.clock.now());
    expect(found.enriched.vpa).toEqual({ name: 'catalog', mode: 'Auto', maxAllowed: { text: '4Gi', bytes: 4 * 2 ** 30 } });
    expect(found.diagnosis.proposal).toBeUndefined();
    expect(found.diagnosis.cause).toBe('limit-too-low');
    expect(found.diagnosis.noProposalReason).toContain('VPA catalog (updateMode Auto)');
    expect(found.gathered.gaps.filter((g) => g.includes('VPA'))).toEqual([]);
  });

  it("reads the cluster's VPAs and LimitRanges once a minute for every namespace; without the CRD the list's 404 says so", async () => {
    const reads = (prefix: string) => sim.cluster.requests.filter((r) => r.path.startsWith(prefix)).length;
    const vpaReads = () => reads('/apis/autoscaling.k8s.io');
    const limitRangeReads = () => reads('/api/v1/limitranges') + reads('/api/v1/namespaces/shop/limitranges') + reads('/api/v1/namespaces/pay/limitranges');
    sim.cluster.createDeployment({
      name: 'ledger',
      namespace: 'pay',
      replicas: 1,
      containers: [{ name: 'main', image: 'registry.example/ledger:1', memoryLimit: '512Mi' }],
    });
    const cache = new ClusterCache();
    const [vpasBefore, limitRangesBefore] = [vpaReads(), limitRangeReads()];
    // Two namespaces at once: one list each, cluster-wide, shared by both incidents.
    await Promise.all([
      investigate({ ...deps, cache }, killedIncident('shop', 'checkout'), sim.clock.now()),
      investigate({ ...deps, cache }, killedIncident('pay', 'ledger'), sim.clock.now()),
    ]);
    expect(vpaReads() - vpasBefore).toBe(1);
    expect(limitRangeReads() - limitRangesBefore).toBe(1);
    expect(sim.cluster.requests.some((r) => r.path === '/apis/autoscaling.k8s.io/v1/verticalpodautoscalers')).toBe(true);
    await investigate({ ...deps, cache }, killedIncident('shop', 'search'), sim.clock.now());
    expect(vpaReads() - vpasBefore).toBe(1);
    expect(limitRangeReads() - limitRangesBefore).toBe(1);

    sim.cluster.vpaEnabled = false;
    try {
      const without = await investigate({ ...deps, cache: new ClusterCache() }, killedIncident('shop', 'checkout'), sim.clock.now());
      expect(vpaReads() - vpasBefore).toBe(2);
      expect(without.enriched.vpa).toBeUndefined();
      expect(without.gathered.gaps.filter((g) => g.includes('VPA'))).toEqual([]);
      expect(without.diagnosis.evidence.map((e) => e.source)).not.toContain('vpa');
    } finally {
      sim.cluster.vpaEnabled = true;
    }
  });

  it('with WATCH_NAMESPACES reads VPAs and LimitRanges per namespace (what its Roles grant), once a minute, and no VPA without the CRD', async () => {
    const vpaReads = () => sim.cluster.requests.filter((r) => r.path.startsWith('/apis/autoscaling.k8s.io')).length;
    const watched = { ...deps, config: { maxMemoryLimitBytes: undefined, watchNamespaces: ['shop'] } };
    const cache = new ClusterCache();
    const before = vpaReads();
    const clusterLists = () =>
      sim.cluster.requests.filter((r) => r.path === '/api/v1/limitranges' || r.path === '/apis/autoscaling.k8s.io/v1/verticalpodautoscalers').length;
    const clusterListsBefore = clusterLists();
    await investigate({ ...watched, cache }, killedIncident('shop', 'checkout'), sim.clock.now());
    // Discovery of the group, then the namespace's list.
    expect(vpaReads() - before).toBe(2);
    await investigate({ ...watched, cache }, killedIncident('shop', 'search'), sim.clock.now());
    expect(vpaReads() - before).toBe(2);
    expect(clusterLists()).toBe(clusterListsBefore);
    expect(sim.cluster.requests.some((r) => r.path === '/api/v1/namespaces/shop/limitranges')).toBe(true);

    sim.cluster.vpaEnabled = false;
    try {
      const without = await investigate({ ...watched, cache: new ClusterCache() }, killedIncident('shop', 'checkout'), sim.clock.now());
      expect(vpaReads() - before).toBe(3);
      expect(without.enriched.vpa).toBeUndefined();
      expect(without.gathered.gaps.filter((g) => g.includes('VPA'))).toEqual([]);
    } finally {
      sim.cluster.vpaEnabled = true;
    }
  });

  it('a pod-level memory limit hit by a container without its own: no "no memory limit", a raise of the pod-level limit', async () => {
    // Pod-level resources (KEP-2837): the limit is the pod's, the container only requests.
    sim.cluster.createDeployment({
      name: 'render',
      namespace: 'shop',
      replicas: 1,
      podResources: { limits: { memory: '1Gi' } },
      containers: [{ name: 'main', image: 'registry.example/render:1', memoryRequest: '256Mi' }],
    });
    const found = await investigate(deps, killedIncident('shop', 'render', 1000 * 2 ** 20), sim.clock.now());
    expect(isPodPresent(found.enriched.pod) && found.enriched.pod.podLimits?.memory).toEqual({ text: '1Gi', bytes: 2 ** 30 });
    expect(found.diagnosis.headline).not.toContain('no memory limit');
    expect(found.diagnosis.cause).toBe('limit-too-low');
    expect(found.diagnosis.evidence.map((e) => e.text)).toContain(
      'Pod-level memory limit 1Gi (spec.resources), shared by all containers: the limit this kill hit',
    );
    // The API server defaulted the pod-level request to the containers' 256Mi: it stays, the limit is raised.
    expect(found.diagnosis.proposal).toMatchObject({
      target: 'limit',
      scope: 'pod',
      owner: { kind: 'Deployment', name: 'render', namespace: 'shop' },
      fromLimit: '1Gi',
      toLimit: '1280Mi',
      fromRequest: '256Mi',
    });
    expect(found.diagnosis.proposal?.toRequest).toBeUndefined();
    expect(found.diagnosis.noProposalReason).toBeUndefined();
  });

  it('the pod and events the watcher sent, and the Deployment known from the template hash, give the same investigation as reading them', async () => {
    sim.cluster.addNamespace('fleet');
    sim.cluster.createDeployment({ name: 'cart', namespace: 'fleet', replicas: 1, memoryRequest: '128Mi', memoryLimit: '256Mi' });
    const incident = killedIncident('fleet', 'cart', 250 * 2 ** 20, 'cart');
    const pod = await kube.getJson<V1Pod>(`/api/v1/namespaces/fleet/pods/${incident.pod!.name}`);
    const events = await kube.getJson<{ items: CoreV1Event[] }>('/api/v1/namespaces/fleet/events', {
      fieldSelector: `involvedObject.uid=${incident.pod!.uid}`,
    });
    const now = sim.clock.now();
    const read = await investigate({ ...deps, cache: new ClusterCache() }, incident, now);
    const before = sim.server.requests().length;
    const sent = await investigate(
      { ...deps, cache: new ClusterCache() },
      { ...incident, observed: { pod: trimPod(pod), events: events.items.map(trimEvent) } },
      now,
    );
    const paths = sim.server
      .requests()
      .slice(before)
      .map((r) => r.path);
    expect(sent.workload).toBe('Deployment/cart');
    expect(sent.diagnosis).toEqual(read.diagnosis);
    const { gatheredAt: _a, incident: _i, ...sentEnriched } = sent.enriched;
    const { gatheredAt: _b, incident: _j, ...readEnriched } = read.enriched;
    expect(sentEnriched).toEqual(readEnriched);
    // Neither the pod, its events nor its ReplicaSet was read.
    expect(paths.filter((p) => /^\/api\/v1\/namespaces\/[^/]+\/pods\/[^/]+$|\/events$|\/replicasets\//.test(p))).toEqual([]);
  });

  it('a ReplicaSet no Deployment owns is read as metadata first, then whole for its template', async () => {
    sim.cluster.addNamespace('solo');
    sim.cluster.create('replicasets', {
      apiVersion: 'apps/v1',
      kind: 'ReplicaSet',
      metadata: { name: 'worker', namespace: 'solo', labels: { app: 'worker' } },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'worker' } },
        template: {
          metadata: { labels: { app: 'worker' } },
          spec: { containers: [{ name: 'main', image: 'worker:1', resources: { limits: { memory: '256Mi' }, requests: { memory: '128Mi' } } }] },
        },
      },
    });
    const incident = killedIncident('solo', 'worker', 250 * 2 ** 20);
    const before = sim.server.requests().length;
    const found = await investigate({ ...deps, cache: new ClusterCache() }, incident, sim.clock.now());
    const reads = sim.server
      .requests()
      .slice(before)
      .filter((r) => r.path.includes('/replicasets/'));
    expect(reads.map((r) => Boolean(r.accept?.includes('as=PartialObjectMetadata')))).toEqual([true, false]);
    expect(found.workload).toBe('ReplicaSet/worker');
    expect(found.enriched.owner).toMatchObject({ chain: [{ kind: 'ReplicaSet', name: 'worker' }], templateContainers: ['main'] });
  });
});
