/**
 * The change that started it, against the simulated API server: a rollout made through the API (Argo CD's
 * field manager) that cut the memory limit and changed the image is found from the Deployment's
 * ReplicaSets and managedFields, with one list read for the first kill of the revision and none after.
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
import { investigate, type InvestigateDeps } from '../../investigate/investigate.js';
import { diffTemplates } from '../../investigate/workload-change.js';
import { ChangeCache } from '../../stores/change-cache.js';
import { IncidentHistory } from '../../stores/incident-history.js';
import { detectPodIncidents } from '../../watchers/detect/index.js';
import { REDIS_URL, removeQueueData, uniqueQueueName } from '../helpers/redis.js';
import { startSimKube, type SimKube } from '../helpers/sim-kube.js';

const MiB = 2 ** 20;
let sim: SimKube;
let kube: KubeHttp;
let redis: Redis;
const queueName = uniqueQueueName('change');
let deps: InvestigateDeps;

beforeAll(async () => {
  sim = await startSimKube();
  const kubeconfig = sim.server.writeKubeconfig(join(mkdtempSync(join(tmpdir(), 'oombot-change-')), 'kubeconfig'));
  kube = new KubeHttp(loadKubeTarget({ kubeconfig, clusterName: 'sim' }));
  redis = new Redis(REDIS_URL);
  deps = {
    config: { maxMemoryLimitBytes: undefined, watchNamespaces: [] },
    kube,
    cache: new ClusterCache(),
    history: new IncidentHistory(redis, queueName, 3_600_000),
    changes: new ChangeCache(redis, queueName),
  };
  sim.cluster.addNamespace('shop');
});

afterAll(async () => {
  await kube?.close();
  await sim?.close();
  await removeQueueData(queueName);
  redis?.disconnect();
});

/** A strategic merge patch of the Deployment through the API, as `manager` sends it. */
async function patchDeployment(name: string, body: unknown, manager: string, plural = 'deployments'): Promise<void> {
  const res = await fetch(`${sim.server.url}/apis/apps/v1/namespaces/shop/${plural}/${name}?fieldManager=${manager}`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/strategic-merge-patch+json', 'user-agent': 'argocd-application-controller/v2.13.0' },
    body: JSON.stringify(body),
  });
  expect(res.status, await res.clone().text()).toBe(200);
}

function kill(deployment: string, usageBytes: number): Incident {
  const pod = sim.cluster
    .list('pods', 'shop')
    .find((p) => String(p.metadata.name).startsWith(`${deployment}-`) && !p.metadata.deletionTimestamp && p.status?.phase === 'Running');
  if (!pod) throw new Error(`no pod of ${deployment}`);
  sim.cluster.setUsage('shop', String(pod.metadata.name), 'main', usageBytes);
  const killed = sim.cluster.oomKill('shop', String(pod.metadata.name), 'main');
  const now = sim.clock.now();
  const [incident] = detectPodIncidents(killed as unknown as V1Pod, { cluster: 'sim', now, cutoff: new Date(now.getTime() - 3_600_000), live: true });
  if (!incident) throw new Error('the kill was not detected');
  return incident;
}

const rsLists = () => sim.server.requests((r) => r.method === 'GET' && r.path === '/apis/apps/v1/namespaces/shop/replicasets').length;

describe('the change that started it', () => {
  it('names the rollout (revision, time, manager) and the limit cut, from one ReplicaSet list; the next kill of the revision reads nothing more', async () => {
    sim.cluster.createDeployment({
      name: 'pay',
      namespace: 'shop',
      replicas: 1,
      containers: [{ name: 'main', image: 'registry.example/pay:1.4', memoryRequest: '512Mi', memoryLimit: '1Gi' }],
    });
    sim.clock.advance(3600_000);
    await patchDeployment(
      'pay',
      {
        spec: {
          template: {
            spec: {
              containers: [
                { name: 'main', image: 'registry.example/pay:1.5', resources: { limits: { memory: '512Mi' } }, env: [{ name: 'FEATURE_CACHE', value: 'on' }] },
              ],
            },
          },
        },
      },
      'argocd-controller',
    );
    const deployment = sim.cluster.get('deployments', 'shop', 'pay')!;
    const entry = (deployment.metadata.managedFields as { manager: string; operation: string; fieldsV1: Record<string, Record<string, unknown>> }[]).find(
      (e) => e.manager === 'argocd-controller',
    );
    expect(entry?.operation).toBe('Update');
    expect(entry?.fieldsV1['f:spec']?.['f:template']).toBeDefined();

    sim.clock.advance(12 * 60_000);
    const first = await investigate(deps, kill('pay', 510 * MiB), sim.clock.now());
    expect(rsLists()).toBe(1);
    expect(first.enriched.change).toMatchObject({
      sourceKind: 'ReplicaSet',
      revision: 2,
      previousRevision: 1,
      by: { manager: 'argocd-controller', operation: 'Update' },
    });
    const d = first.diagnosis;
    expect({ cause: d.cause, confidence: d.confidence }).toEqual({ cause: 'limit-too-low', confidence: 'high' });
    const line = d.evidence.find((e) => e.source === 'rollout history')?.text ?? '';
    expect(line).toMatch(
      /^ReplicaSet shop\/pay-[a-z0-9]+ revision 2 made .* UTC, 12m before the first kill, by argocd-controller: image registry\.example\/pay:1\.4 → registry\.example\/pay:1\.5, memory limit 1Gi → 512Mi, env added FEATURE_CACHE; no kill on record before it$/,
    );
    expect(d.evidence.map((e) => e.text)).toContain('The memory limit of main was cut from 1Gi to 512Mi in revision 2');
    expect(d.headline).toMatch(/Its limit was cut from 1Gi to 512Mi 12m before the first kill\./);
    // Never an env value.
    expect(JSON.stringify(first.enriched)).not.toContain('"on"');

    // The next kill of the same revision: the change comes from Redis.
    sim.clock.advance(20 * 60_000);
    const second = await investigate(deps, kill('pay', 510 * MiB), sim.clock.now());
    expect(rsLists()).toBe(1);
    expect(second.enriched.change?.revision).toBe(2);
  });

  it("a StatefulSet's rollout from its ControllerRevisions: the pod's controller-revision-hash against the revision before", async () => {
    sim.cluster.createStatefulSet({
      name: 'ledger',
      namespace: 'shop',
      replicas: 1,
      containers: [{ name: 'main', image: 'registry.example/ledger:3.1', memoryRequest: '1Gi', memoryLimit: '2Gi' }],
    });
    sim.clock.advance(3600_000);
    await patchDeployment(
      'ledger',
      { spec: { template: { spec: { containers: [{ name: 'main', image: 'registry.example/ledger:3.2' }] } } } },
      'kubectl-edit',
      'statefulsets',
    );
    const revisions = sim.cluster.list('controllerrevisions', 'shop').filter((r) => String(r.metadata.name).startsWith('ledger-'));
    expect(revisions.map((r) => r.revision).sort()).toEqual([1, 2]);
    sim.clock.advance(40 * 60_000);
    const lists = () => sim.server.requests((r) => r.method === 'GET' && r.path === '/apis/apps/v1/namespaces/shop/controllerrevisions').length;
    const found = await investigate(deps, kill('ledger', 2000 * MiB), sim.clock.now());
    expect(lists()).toBe(1);
    expect(found.enriched.change).toMatchObject({ sourceKind: 'ControllerRevision', revision: 2, previousRevision: 1, by: { manager: 'kubectl-edit' } });
    expect(found.diagnosis.evidence.find((e) => e.source === 'rollout history')?.text).toMatch(
      /^ControllerRevision shop\/ledger-[a-z0-9]+ revision 2 made .*, 40m before the first kill, by kubectl-edit: image registry\.example\/ledger:3\.1 → registry\.example\/ledger:3\.2; no kill on record before it$/,
    );
  });

  it('says nothing of a change for a first revision, and reads no ReplicaSet list for it', async () => {
    sim.cluster.createDeployment({
      name: 'cart',
      namespace: 'shop',
      replicas: 1,
      containers: [{ name: 'main', image: 'registry.example/cart:1.0', memoryRequest: '128Mi', memoryLimit: '256Mi' }],
    });
    const before = rsLists();
    sim.clock.advance(20 * 60_000);
    const found = await investigate(deps, kill('cart', 250 * MiB), sim.clock.now());
    expect(rsLists()).toBe(before);
    expect(found.enriched.change).toBeUndefined();
    expect(found.diagnosis.evidence.some((e) => e.source === 'rollout history')).toBe(false);
  });
});

describe('diffTemplates', () => {
  it('image, memory limit and request, env names (never values), command and args changed (never their text), containers added and removed', () => {
    const before = {
      spec: {
        containers: [
          {
            name: 'app',
            image: 'app:1',
            command: ['run'],
            args: ['--token=abc'],
            env: [{ name: 'A' }, { name: 'OLD' }],
            resources: { limits: { memory: '1Gi' } },
          },
          { name: 'gone', image: 'x:1' },
        ],
      },
    };
    const after = {
      spec: {
        containers: [
          {
            name: 'app',
            image: 'app:2',
            command: ['run', 'fast'],
            args: ['--token=def'],
            env: [{ name: 'A' }, { name: 'NEW' }],
            resources: { limits: { memory: '512Mi' }, requests: { memory: '256Mi' } },
          },
          { name: 'istio-proxy', image: 'proxyv2:1.24' },
        ],
      },
    };
    const changes = diffTemplates(before, after);
    expect(changes).toEqual([
      { container: 'app', field: 'image', from: 'app:1', to: 'app:2' },
      { container: 'app', field: 'memory limit', from: '1Gi', to: '512Mi', fromBytes: 2 ** 30, toBytes: 512 * MiB },
      { container: 'app', field: 'memory request', from: 'none', to: '256Mi', toBytes: 256 * MiB },
      { container: 'app', field: 'env', from: 'OLD', to: 'NEW' },
      { container: 'app', field: 'command' },
      { container: 'app', field: 'args' },
      { container: 'istio-proxy', field: 'added' },
      { container: 'gone', field: 'removed' },
    ]);
    expect(JSON.stringify(changes)).not.toMatch(/token|abc|def/);
  });
});
