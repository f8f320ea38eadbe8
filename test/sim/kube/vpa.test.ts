/**
 * The VPA CRD (verticalpodautoscalers.autoscaling.k8s.io/v1) is served through discovery and the generic
 * object routes while it is installed, and is absent (404) when it is not. Pods and templates keep
 * pod-level resources (spec.resources).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { fetchJson, startSimKube, type SimKube } from '../../helpers/sim-kube.js';

let sim: SimKube | undefined;
afterEach(async () => {
  await sim?.close();
  sim = undefined;
});

const VPA = {
  apiVersion: 'autoscaling.k8s.io/v1',
  kind: 'VerticalPodAutoscaler',
  metadata: { name: 'api-vpa', namespace: 'shop' },
  spec: {
    targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' },
    updatePolicy: { updateMode: 'Auto' },
    resourcePolicy: { containerPolicies: [{ containerName: '*', maxAllowed: { memory: '1Gi' } }] },
  },
};

describe('simulated API server: VerticalPodAutoscalers', () => {
  it('serves the group in discovery and VPAs through the object routes', async () => {
    sim = await startSimKube();
    sim.cluster.addNamespace('shop');
    const group = await fetchJson(`${sim.server.url}/apis/autoscaling.k8s.io/v1`);
    expect(group.resources.find((r: { name: string }) => r.name === 'verticalpodautoscalers')).toMatchObject({
      kind: 'VerticalPodAutoscaler',
      namespaced: true,
      shortNames: ['vpa'],
    });
    const base = `${sim.server.url}/apis/autoscaling.k8s.io/v1/namespaces/shop/verticalpodautoscalers`;
    const created = await fetch(base, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(VPA) });
    expect(created.status).toBe(201);
    const list = await fetchJson(base);
    expect(list.items.map((v: { metadata: { name: string } }) => v.metadata.name)).toEqual(['api-vpa']);
    expect(list.items[0].spec.resourcePolicy.containerPolicies[0].maxAllowed.memory).toBe('1Gi');
    const one = await fetchJson(`${base}/api-vpa`);
    expect(one.spec.updatePolicy.updateMode).toBe('Auto');
  });

  it('answers 404 for the group and its paths when the CRD is not installed', async () => {
    sim = await startSimKube({ vpaEnabled: false });
    const apis = await fetchJson(`${sim.server.url}/apis`);
    expect(apis.groups.map((g: { name: string }) => g.name)).not.toContain('autoscaling.k8s.io');
    expect((await fetch(`${sim.server.url}/apis/autoscaling.k8s.io/v1`)).status).toBe(404);
    expect((await fetch(`${sim.server.url}/apis/autoscaling.k8s.io/v1/namespaces/default/verticalpodautoscalers`)).status).toBe(404);
  });

  it('keeps pod-level resources on pods and pod templates', async () => {
    sim = await startSimKube();
    sim.cluster.addNamespace('shop');
    sim.cluster.createDeployment({ name: 'web', namespace: 'shop', replicas: 1 });
    sim.cluster.update('deployments', 'shop', 'web', (d) => {
      d.spec.template.spec.resources = { limits: { memory: '1Gi' } };
    });
    const dep = await fetchJson(`${sim.server.url}/apis/apps/v1/namespaces/shop/deployments/web`);
    expect(dep.spec.template.spec.resources).toEqual({ limits: { memory: '1Gi' } });
    const pod = sim.cluster.list('pods', 'shop')[0]!;
    sim.cluster.update('pods', 'shop', String(pod.metadata.name), (p) => {
      p.spec.resources = { limits: { memory: '1Gi' } };
    });
    const read = await fetchJson(`${sim.server.url}/api/v1/namespaces/shop/pods/${String(pod.metadata.name)}`);
    expect(read.spec.resources).toEqual({ limits: { memory: '1Gi' } });
  });
});
