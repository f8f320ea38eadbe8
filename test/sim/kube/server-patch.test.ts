import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type ApiException, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { makeLimitRange, makeResourceQuota } from '../../../sim/kube/index.js';
import { startSimKube, type SimKube } from '../../helpers/sim-kube.js';

let sim: SimKube;
beforeEach(async () => {
  sim = await startSimKube();
  sim.cluster.createDeployment({
    name: 'api',
    namespace: 'shop',
    replicas: 2,
    containers: [
      { name: 'api', image: 'ghcr.io/shop/api:2.1.0', memoryRequest: '256Mi', memoryLimit: '512Mi', cpuRequest: '100m' },
      { name: 'proxy', image: 'envoyproxy/envoy:v1.31.0', memoryRequest: '64Mi', memoryLimit: '128Mi' },
    ],
  });
});
afterEach(async () => {
  await sim.close();
});

const SMP = setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch);
const limitPatch = (memory: string): object => ({ spec: { template: { spec: { containers: [{ name: 'api', resources: { limits: { memory } } }] } } } });

function statusOf(err: unknown): { code: number; body: Record<string, unknown> } {
  const ex = err as ApiException<unknown>;
  return { code: ex.code, body: typeof ex.body === 'string' ? JSON.parse(ex.body) : (ex.body as Record<string, unknown>) };
}

function podNames(): string[] {
  return sim.cluster
    .list('pods', 'shop')
    .map((p) => p.metadata.name)
    .sort();
}

describe('simulated API server: PATCH', () => {
  it('strategic merge patch with dryRun=All returns the would-be object and changes nothing', async () => {
    const before = podNames();
    const rv = sim.cluster.resourceVersion;
    const out = await sim.apps.patchNamespacedDeployment({ name: 'api', namespace: 'shop', body: limitPatch('1Gi'), dryRun: 'All' }, SMP);
    const api = out.spec!.template.spec!.containers.find((c) => c.name === 'api')!;
    expect(api.resources?.limits?.memory).toBe('1Gi');
    expect(api.resources?.requests?.memory).toBe('256Mi');
    expect(out.spec!.template.spec!.containers.map((c) => c.name)).toEqual(['api', 'proxy']);
    expect(out.metadata?.generation).toBe(2);
    expect(sim.cluster.resourceVersion).toBe(rv);
    expect(podNames()).toEqual(before);
    expect(sim.cluster.peek('deployments', 'shop', 'api')!.spec.template.spec.containers[0].resources.limits.memory).toBe('512Mi');
  });

  it('strategic merge patch replaces the pods with the new limit; exactly one PATCH recorded', async () => {
    const before = podNames();
    await sim.apps.patchNamespacedDeployment({ name: 'api', namespace: 'shop', body: limitPatch('1Gi') }, SMP);
    const after = sim.cluster.list('pods', 'shop');
    expect(after).toHaveLength(2);
    for (const p of after) {
      expect(before).not.toContain(p.metadata.name);
      expect(p.spec.containers.find((c: { name: string }) => c.name === 'api').resources.limits.memory).toBe('1Gi');
      expect(p.spec.containers.find((c: { name: string }) => c.name === 'proxy').resources.limits.memory).toBe('128Mi');
    }
    const d = await sim.apps.readNamespacedDeployment({ name: 'api', namespace: 'shop' });
    expect(d.status).toMatchObject({ observedGeneration: 2, updatedReplicas: 2, readyReplicas: 2 });
    const patches = sim.server.requests({ method: 'PATCH' });
    expect(patches).toHaveLength(1);
    expect(patches[0]!.contentType).toBe('application/strategic-merge-patch+json');
    expect(patches[0]!.query.dryRun).toBeUndefined();
    expect(sim.server.requestCount({ method: 'PATCH', contentType: PatchStrategy.StrategicMergePatch, dryRun: false })).toBe(1);
  });

  it('merge patch and JSON patch', async () => {
    await sim.apps.patchNamespacedDeployment(
      { name: 'api', namespace: 'shop', body: { metadata: { annotations: { owner: 'team-a' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    expect(sim.cluster.peek('deployments', 'shop', 'api')!.metadata.annotations).toMatchObject({ owner: 'team-a', 'deployment.kubernetes.io/revision': '1' });
    // without setHeaderOptions, client-node sends application/json-patch+json
    await sim.apps.patchNamespacedDeployment({
      name: 'api',
      namespace: 'shop',
      body: [{ op: 'replace', path: '/spec/template/spec/containers/1/resources/limits/memory', value: '256Mi' }],
    });
    expect(sim.server.requests({ method: 'PATCH' })[1]!.contentType).toBe('application/json-patch+json');
    expect(sim.cluster.list('pods', 'shop')[0]!.spec.containers[1].resources.limits.memory).toBe('256Mi');
  });

  it('rejects a request above the limit with 422 Invalid', async () => {
    const err = await sim.apps
      .patchNamespacedDeployment({ name: 'api', namespace: 'shop', body: limitPatch('128Mi'), dryRun: 'All' }, SMP)
      .catch((e: unknown) => e);
    const { code, body } = statusOf(err);
    expect(code).toBe(422);
    expect(body).toMatchObject({
      kind: 'Status',
      reason: 'Invalid',
      message:
        'Deployment.apps "api" is invalid: spec.template.spec.containers[0].resources.requests: Invalid value: "256Mi": must be less than or equal to memory limit of 128Mi',
    });
  });

  it('rejects a limit above the LimitRange maximum with 403 Forbidden', async () => {
    sim.cluster.create('limitranges', makeLimitRange({ namespace: 'shop', max: { memory: '1Gi' } }));
    const err = await sim.apps
      .patchNamespacedDeployment({ name: 'api', namespace: 'shop', body: limitPatch('2Gi'), dryRun: 'All' }, SMP)
      .catch((e: unknown) => e);
    const { code, body } = statusOf(err);
    expect(code).toBe(403);
    expect(body.reason).toBe('Forbidden');
    expect(body.message).toBe('deployments.apps "api" is forbidden: maximum memory usage per Container is 1Gi, but limit is 2Gi');
  });

  it('rejects a change that exceeds the ResourceQuota with 403', async () => {
    sim.cluster.create('resourcequotas', makeResourceQuota({ namespace: 'shop', hard: { 'limits.memory': '2Gi' } }));
    const err = await sim.apps.patchNamespacedDeployment({ name: 'api', namespace: 'shop', body: limitPatch('1Gi') }, SMP).catch((e: unknown) => e);
    const { code, body } = statusOf(err);
    expect(code).toBe(403);
    expect(body.message).toBe(
      'deployments.apps "api" is forbidden: exceeded quota: compute, requested: limits.memory=1Gi, used: limits.memory=1280Mi, limited: limits.memory=2Gi',
    );
  });

  it('answers 415 for an unsupported content type', async () => {
    const res = await fetch(`${sim.server.url}/apis/apps/v1/namespaces/shop/deployments/api`, {
      method: 'PATCH',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(415);
    expect(await res.json()).toMatchObject({ kind: 'Status', reason: 'UnsupportedMediaType', code: 415 });
    const apply = await sim.apps
      .patchNamespacedDeployment(
        { name: 'api', namespace: 'shop', body: {}, fieldManager: 'x' },
        setHeaderOptions('Content-Type', PatchStrategy.ServerSideApply),
      )
      .catch((e: unknown) => e);
    expect(statusOf(apply).code).toBe(415);
  });

  it('answers 409 Conflict for a stale resourceVersion precondition', async () => {
    const rv = sim.cluster.peek('deployments', 'shop', 'api')!.metadata.resourceVersion!;
    await sim.apps.patchNamespacedDeployment({ name: 'api', namespace: 'shop', body: { metadata: { resourceVersion: rv, labels: { a: 'b' } } } }, SMP);
    const err = await sim.apps
      .patchNamespacedDeployment({ name: 'api', namespace: 'shop', body: { metadata: { resourceVersion: rv, labels: { a: 'c' } } } }, SMP)
      .catch((e: unknown) => e);
    const { code, body } = statusOf(err);
    expect(code).toBe(409);
    expect(body).toMatchObject({
      reason: 'Conflict',
      message:
        'Operation cannot be fulfilled on deployments.apps "api": the object has been modified; please apply your changes to the latest version and try again',
    });
  });

  it('refuses resource changes on a pod (422) but allows label changes', async () => {
    const pod = sim.cluster.list('pods', 'shop')[0]!.metadata.name;
    const err = await sim.core
      .patchNamespacedPod({ name: pod, namespace: 'shop', body: { spec: { containers: [{ name: 'api', resources: { limits: { memory: '1Gi' } } }] } } }, SMP)
      .catch((e: unknown) => e);
    const { code, body } = statusOf(err);
    expect(code).toBe(422);
    expect(String(body.message)).toMatch(
      /^Pod "api-[a-z0-9]+-[a-z0-9]{5}" is invalid: spec: Forbidden: pod updates may not change fields other than `spec.containers\[\*\].image`/,
    );
    const ok = await sim.core.patchNamespacedPod({ name: pod, namespace: 'shop', body: { metadata: { labels: { debug: 'true' } } } }, SMP);
    expect(ok.metadata?.labels?.debug).toBe('true');
  });

  it('patches StatefulSets, DaemonSets and CronJobs', async () => {
    sim.cluster.createStatefulSet({ name: 'db', namespace: 'shop', replicas: 2 });
    const before = sim.cluster.peek('pods', 'shop', 'db-0')!.metadata.uid;
    await sim.apps.patchNamespacedStatefulSet(
      { name: 'db', namespace: 'shop', body: { spec: { template: { spec: { containers: [{ name: 'db', resources: { limits: { memory: '2Gi' } } }] } } } } },
      SMP,
    );
    const db0 = sim.cluster.peek('pods', 'shop', 'db-0')!;
    expect(db0.metadata.uid).not.toBe(before);
    expect(db0.spec.containers[0].resources.limits.memory).toBe('2Gi');
    sim.cluster.createCronJob({ name: 'report', namespace: 'shop' });
    const cj = await sim.batch.patchNamespacedCronJob(
      {
        name: 'report',
        namespace: 'shop',
        body: { spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: 'report', resources: { limits: { memory: '1Gi' } } }] } } } } } },
      },
      SMP,
    );
    expect(cj.spec?.jobTemplate.spec?.template.spec?.containers[0]?.resources?.limits?.memory).toBe('1Gi');
  });
});
