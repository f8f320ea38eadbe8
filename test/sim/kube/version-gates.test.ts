/**
 * The simulated API server reports one Kubernetes version and behaves as that version: pods/resize from
 * 1.33, pod-level resources (spec.resources, KEP-2837) from 1.34, with the real server's defaulting,
 * validation and QoS for them.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startSimKube, type SimKube } from '../../helpers/sim-kube.js';

let sim: SimKube | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

async function getJson(path: string): Promise<Record<string, any>> {
  return (await (await fetch(`${sim!.server.url}${path}`)).json()) as Record<string, any>;
}

async function patchDeployment(name: string, body: unknown, query = ''): Promise<{ code: number; body: Record<string, any> }> {
  const res = await fetch(`${sim!.server.url}/apis/apps/v1/namespaces/shop/deployments/${name}${query}`, {
    method: 'PATCH',
    headers: { 'Content-Type': 'application/strategic-merge-patch+json' },
    body: JSON.stringify(body),
  });
  return { code: res.status, body: (await res.json()) as Record<string, any> };
}

const resizeListed = async (): Promise<boolean> => ((await getJson('/api/v1')).resources as { name: string }[]).some((r) => r.name === 'pods/resize');

describe('simulated API server version', () => {
  it('reports 1.35 by default, with pods/resize listed and pod-level resources kept', async () => {
    sim = await startSimKube({ nodes: 1 });
    const v = await getJson('/version');
    expect(v).toMatchObject({ major: '1', minor: '35', gitVersion: expect.stringMatching(/^v1\.35\.\d+$/) });
    expect(sim.cluster.list('nodes')[0]!.status.nodeInfo.kubeletVersion).toBe(v.gitVersion);
    expect(await resizeListed()).toBe(true);
  });

  it.each([
    [32, false, false],
    [33, true, false],
    [34, true, true],
  ])('1.%i: pods/resize %s, pod-level resources %s', async (minor, resize, podLevel) => {
    sim = await startSimKube({ nodes: 1, minorVersion: minor });
    expect((await getJson('/version')).minor).toBe(String(minor));
    expect(await resizeListed()).toBe(resize);
    sim.cluster.createPod({ name: 'p', namespace: 'shop', memoryRequest: '256Mi', memoryLimit: '512Mi' });
    const res = await fetch(`${sim.server.url}/api/v1/namespaces/shop/pods/p/resize`, {
      method: 'PATCH',
      headers: { 'Content-Type': 'application/strategic-merge-patch+json' },
      body: JSON.stringify({ spec: { containers: [{ name: 'p', resources: { limits: { memory: '640Mi' } } }] } }),
    });
    expect(res.status).toBe(resize ? 200 : 404);
    // Before 1.34 the field is dropped from a new workload's template, as a disabled field is.
    sim.cluster.createDeployment({ name: 'pl', namespace: 'shop', replicas: 1, podResources: { limits: { memory: '1Gi' } }, containers: [{ name: 'main' }] });
    expect(sim.cluster.get('deployments', 'shop', 'pl')!.spec.template.spec.resources).toEqual(podLevel ? { limits: { memory: '1Gi' } } : undefined);
  });
});

describe('pod-level resources (spec.resources)', () => {
  it('defaults the pod-level request on the Pod only: the sum of container requests, else the limit', async () => {
    sim = await startSimKube({ nodes: 1 });
    sim.cluster.createDeployment({
      name: 'sum',
      namespace: 'shop',
      replicas: 1,
      podResources: { limits: { memory: '1Gi', cpu: '1' } },
      containers: [
        { name: 'a', memoryRequest: '256Mi', cpuRequest: '100m' },
        { name: 'b', memoryRequest: '128Mi' },
      ],
    });
    const pod = sim.cluster.list('pods', 'shop').find((p) => String(p.metadata.name).startsWith('sum-'))!;
    expect(pod.spec.resources).toEqual({ limits: { memory: '1Gi', cpu: '1' }, requests: { memory: '384Mi', cpu: '100m' } });
    expect(pod.status.qosClass).toBe('Burstable');
    expect(sim.cluster.get('deployments', 'shop', 'sum')!.spec.template.spec.resources).toEqual({ limits: { memory: '1Gi', cpu: '1' } });

    sim.cluster.createDeployment({
      name: 'eq',
      namespace: 'shop',
      replicas: 1,
      podResources: { limits: { memory: '1Gi', cpu: '1' } },
      containers: [{ name: 'a' }],
    });
    const eq = sim.cluster.list('pods', 'shop').find((p) => String(p.metadata.name).startsWith('eq-'))!;
    expect(eq.spec.resources.requests).toEqual({ memory: '1Gi', cpu: '1' });
    // Pod-level requests equal to limits for cpu and memory: Guaranteed, whatever the containers say.
    expect(eq.status.qosClass).toBe('Guaranteed');
  });

  it('validates a template patch as the API server does: request ≤ limit, container limits ≤ the pod limit, container requests within the pod request', async () => {
    sim = await startSimKube({ nodes: 1 });
    sim.cluster.createDeployment({
      name: 'pl',
      namespace: 'shop',
      replicas: 1,
      podResources: { limits: { memory: '1Gi' } },
      containers: [{ name: 'main', memoryRequest: '256Mi', memoryLimit: '768Mi' }],
    });
    const requestOverLimit = await patchDeployment('pl', { spec: { template: { spec: { resources: { requests: { memory: '2Gi' } } } } } }, '?dryRun=All');
    expect(requestOverLimit.code).toBe(422);
    expect(requestOverLimit.body.message).toContain(
      'spec.template.spec.resources.requests: Invalid value: "2Gi": must be less than or equal to memory limit of 1Gi',
    );
    const below = await patchDeployment('pl', { spec: { template: { spec: { resources: { limits: { memory: '512Mi' } } } } } });
    expect(below.code).toBe(422);
    expect(below.body.message).toContain(
      'spec.template.spec.containers[0].resources.limits[memory]: Invalid value: "768Mi": must be less than or equal to pod limits',
    );
    const small = await patchDeployment('pl', { spec: { template: { spec: { resources: { requests: { memory: '128Mi' } } } } } });
    expect(small.code).toBe(422);
    expect(small.body.message).toContain('must be greater than or equal to aggregate container requests of 256Mi');
    const unsupported = await patchDeployment('pl', { spec: { template: { spec: { resources: { limits: { 'ephemeral-storage': '1Gi' } } } } } });
    expect(unsupported.code).toBe(422);
    const ok = await patchDeployment('pl', { spec: { template: { spec: { resources: { limits: { memory: '1280Mi' }, requests: { memory: '1280Mi' } } } } } });
    expect(ok.code).toBe(200);
    expect(sim.cluster.get('deployments', 'shop', 'pl')!.spec.template.spec.resources).toEqual({
      limits: { memory: '1280Mi' },
      requests: { memory: '1280Mi' },
    });
  });
});
