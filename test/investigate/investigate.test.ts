/**
 * One investigation for the alerts and for `/oom why`: against the simulated API server, an OOM-killed
 * pod of a Deployment is read with its owner chain, grouped by its Deployment, diagnosed, and the
 * workload's earlier incidents in Redis reach the diagnosis.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Incident } from '../../core/incident.js';
import { KubeHttp, loadKubeTarget } from '../../core/kube.js';
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
  deps = { config: { maxMemoryLimitBytes: undefined }, kube, cache: new ClusterCache(), history: new IncidentHistory(redis, queueName, 3_600_000) };
});

afterAll(async () => {
  await kube?.close();
  await sim?.close();
  await removeQueueData(queueName);
  redis?.disconnect();
});

function killedIncident(namespace: string, deployment: string): Incident {
  const pod = sim.cluster.list('pods', namespace).find((p) => String(p.metadata.name).startsWith(`${deployment}-`));
  if (!pod) throw new Error(`no pod of ${deployment}`);
  sim.clock.advance(20 * 60_000);
  const killed = sim.cluster.oomKill(namespace, String(pod.metadata.name), 'main');
  const now = sim.clock.now();
  const [incident] = detectPodIncidents(killed as unknown as V1Pod, { cluster: 'sim', now, cutoff: new Date(now.getTime() - 3_600_000), live: true });
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
    sim.clock.advance(20 * 60_000);
    sim.cluster.setUsage('shop', String(pod.metadata.name), 'istio-proxy', 255 * 2 ** 20);
    const killed = sim.cluster.oomKill('shop', String(pod.metadata.name), 'istio-proxy');
    const now = sim.clock.now();
    const incident = detectPodIncidents(killed as unknown as V1Pod, { cluster: 'sim', now, cutoff: new Date(now.getTime() - 3_600_000), live: true })[0]!;
    expect(incident.termination?.container).toBe('istio-proxy');
    const found = await investigate(deps, incident, now);
    expect(found.diagnosis.proposal).toBeUndefined();
    expect(found.diagnosis.noProposalReason).toContain('istio-proxy is not in the pod template of Deployment storefront');
    expect(found.diagnosis.noProposalReason).toContain('sidecar.istio.io/proxyMemoryLimit');
  });
});
