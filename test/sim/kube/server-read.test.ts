import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiException } from '@kubernetes/client-node';
import { fetchJson, startSimKube, type SimKube } from '../../helpers/sim-kube.js';

let sim: SimKube;
beforeEach(async () => {
  sim = await startSimKube();
});
afterEach(async () => {
  await sim.close();
});

describe('simulated API server: reads', () => {
  it('serves discovery and /version', async () => {
    const version = await fetchJson(`${sim.server.url}/version`);
    expect(version.gitVersion).toMatch(/^v1\.\d+\.\d+$/);
    const v1 = await fetchJson(`${sim.server.url}/api/v1`);
    expect(v1.kind).toBe('APIResourceList');
    expect(v1.resources.find((r: { name: string }) => r.name === 'pods')).toMatchObject({
      singularName: 'pod',
      namespaced: true,
      kind: 'Pod',
      shortNames: ['po'],
    });
    const apis = await fetchJson(`${sim.server.url}/apis`);
    expect(apis.groups.map((g: { name: string }) => g.name)).toEqual(['apps', 'batch', 'autoscaling.k8s.io', 'metrics.k8s.io']);
  });

  it('lists the pods on a node from its index: the same pods, in key order, as a full scan, also after deletes', async () => {
    sim.cluster.createDeployment({ name: 'api', namespace: 'shop', replicas: 6 });
    sim.cluster.createDeployment({ name: 'db', namespace: 'data', replicas: 4 });
    const all = (await fetchJson(`${sim.server.url}/api/v1/pods`)).items as { metadata: { name: string; namespace: string }; spec: { nodeName: string } }[];
    const victim = all[0]!;
    sim.cluster.delete('pods', victim.metadata.namespace, victim.metadata.name);
    const left = (await fetchJson(`${sim.server.url}/api/v1/pods`)).items as typeof all;
    for (const node of new Set(left.map((p) => p.spec.nodeName))) {
      const expected = left.filter((p) => p.spec.nodeName === node).map((p) => `${p.metadata.namespace}/${p.metadata.name}`);
      const onNode = await fetchJson(`${sim.server.url}/api/v1/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${node}`)}`);
      expect(onNode.items.map((p: (typeof all)[number]) => `${p.metadata.namespace}/${p.metadata.name}`)).toEqual(expected);
      const inShop = await fetchJson(`${sim.server.url}/api/v1/namespaces/shop/pods?fieldSelector=${encodeURIComponent(`spec.nodeName=${node}`)}`);
      expect(inShop.items.map((p: (typeof all)[number]) => p.metadata.name)).toEqual(expected.filter((k) => k.startsWith('shop/')).map((k) => k.slice(5)));
    }
  });

  it('answers one object as PartialObjectMetadata when asked for it, and whole otherwise', async () => {
    sim.cluster.createDeployment({ name: 'api', namespace: 'shop', replicas: 1 });
    const rs = sim.cluster.list('replicasets', 'shop')[0]!;
    const url = `${sim.server.url}/apis/apps/v1/namespaces/shop/replicasets/${rs.metadata.name}`;
    const res = await fetch(url, { headers: { accept: 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json' } });
    expect(res.headers.get('content-type')).toBe('application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1');
    const partial = (await res.json()) as Record<string, unknown>;
    expect(partial).toMatchObject({ kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: { name: rs.metadata.name } });
    expect(partial.spec).toBeUndefined();
    expect((partial.metadata as { ownerReferences?: { kind: string }[] }).ownerReferences?.[0]?.kind).toBe('Deployment');
    const whole = await fetchJson(url);
    expect(whole.kind).toBe('ReplicaSet');
    expect(whole.spec.template).toBeDefined();
  });

  it('lists pods cluster-wide and per namespace; items carry no kind', async () => {
    sim.cluster.createDeployment({ name: 'api', namespace: 'shop', replicas: 2 });
    sim.cluster.createDeployment({ name: 'db', namespace: 'data', replicas: 1 });
    const all = await sim.core.listPodForAllNamespaces();
    expect(all.kind).toBe('PodList');
    expect(all.apiVersion).toBe('v1');
    expect(all.metadata?.resourceVersion).toBe(sim.cluster.resourceVersion);
    expect(all.items).toHaveLength(3);
    const raw = await fetchJson(`${sim.server.url}/api/v1/namespaces/shop/pods`);
    expect(raw.items).toHaveLength(2);
    expect(raw.items[0].kind).toBeUndefined();
    expect(raw.items[0].apiVersion).toBeUndefined();
    const shop = await sim.core.listNamespacedPod({ namespace: 'shop' });
    expect(shop.items.map((p) => p.metadata?.namespace)).toEqual(['shop', 'shop']);
    expect(shop.items[0]!.status?.containerStatuses?.[0]?.state?.running?.startedAt).toBeInstanceOf(Date);
  });

  it('paginates with limit and continue', async () => {
    for (let i = 0; i < 7; i++) sim.cluster.createPod({ name: `p${i}`, namespace: 'x' });
    const seen: string[] = [];
    let cont: string | undefined;
    let pages = 0;
    do {
      const page = await sim.core.listNamespacedPod({ namespace: 'x', limit: 3, _continue: cont });
      pages++;
      seen.push(...page.items.map((p) => p.metadata!.name!));
      cont = page.metadata?._continue;
      if (cont) expect(page.metadata?.remainingItemCount).toBe(7 - seen.length);
    } while (cont);
    expect(pages).toBe(3);
    expect(seen).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6']);
  });

  it('filters by label and field selectors', async () => {
    sim.cluster.createPod({ name: 'a', labels: { app: 'web', tier: 'front' } });
    sim.cluster.createPod({ name: 'b', labels: { app: 'web' } });
    sim.cluster.createPod({ name: 'c', labels: { app: 'db' } });
    const names = async (q: { labelSelector?: string; fieldSelector?: string }): Promise<string[]> =>
      (await sim.core.listNamespacedPod({ namespace: 'default', ...q })).items.map((p) => p.metadata!.name!);
    expect(await names({ labelSelector: 'app=web' })).toEqual(['a', 'b']);
    expect(await names({ labelSelector: 'app in (db,cache)' })).toEqual(['c']);
    expect(await names({ labelSelector: 'tier' })).toEqual(['a']);
    expect(await names({ labelSelector: '!tier,app!=db' })).toEqual(['b']);
    expect(await names({ fieldSelector: 'metadata.name=b' })).toEqual(['b']);
    const nodeName = sim.cluster.peek('pods', 'default', 'a')!.spec.nodeName;
    expect(await names({ fieldSelector: `spec.nodeName=${nodeName},status.phase=Running` })).toContain('a');
    await expect(sim.core.listNamespacedPod({ namespace: 'default', fieldSelector: 'spec.foo=1' })).rejects.toMatchObject({ code: 400 });
  });

  it('lists events by involvedObject.uid', async () => {
    sim.cluster.createPod({ name: 'a' });
    const b = sim.cluster.createPod({ name: 'b' });
    sim.cluster.oomKill('default', 'a', 'a');
    sim.cluster.oomKill('default', 'b', 'b');
    const evs = await sim.core.listNamespacedEvent({ namespace: 'default', fieldSelector: `involvedObject.uid=${b.metadata.uid}` });
    expect(evs.items).toHaveLength(1);
    expect(evs.items[0]!.involvedObject.name).toBe('b');
    expect(evs.items[0]!.reason).toBe('BackOff');
    const all = await sim.core.listEventForAllNamespaces({ fieldSelector: 'reason=BackOff,involvedObject.kind=Pod' });
    expect(all.items).toHaveLength(2);
  });

  it('gets one object with kind, and answers NotFound as a Status', async () => {
    sim.cluster.createDeployment({ name: 'api', namespace: 'shop' });
    const raw = await fetchJson(`${sim.server.url}/apis/apps/v1/namespaces/shop/deployments/api`);
    expect(raw.kind).toBe('Deployment');
    expect(raw.apiVersion).toBe('apps/v1');
    const d = await sim.apps.readNamespacedDeployment({ namespace: 'shop', name: 'api' });
    expect(d.spec?.replicas).toBe(1);
    const err = await sim.core.readNamespacedPod({ namespace: 'shop', name: 'nope' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApiException);
    const ex = err as ApiException<unknown>;
    expect(ex.code).toBe(404);
    const body = typeof ex.body === 'string' ? JSON.parse(ex.body) : ex.body;
    expect(body).toMatchObject({
      kind: 'Status',
      status: 'Failure',
      reason: 'NotFound',
      code: 404,
      message: 'pods "nope" not found',
      details: { name: 'nope', kind: 'pods' },
    });
  });

  it('creates events with POST (201)', async () => {
    const ev = await sim.core.createNamespacedEvent({
      namespace: 'default',
      body: { metadata: { name: 'x.1' }, involvedObject: { kind: 'Pod', name: 'x', namespace: 'default' }, reason: 'Test', message: 'hello', type: 'Normal' },
    });
    expect(ev.metadata?.uid).toBeDefined();
    expect(sim.cluster.peek('events', 'default', 'x.1')!.message).toBe('hello');
    const res = await fetch(`${sim.server.url}/api/v1/namespaces/missing/events`, {
      method: 'POST',
      body: JSON.stringify({ metadata: { name: 'y' } }),
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(404);
  });

  it('serves current and previous logs, tailLines and limitBytes', async () => {
    sim.cluster.createPod({ name: 'p', containers: [{ name: 'app' }, { name: 'side' }] });
    sim.cluster.setLogs('default', 'p', 'app', { current: 'c1\nc2\nc3\n', previous: 'started\nallocating\nkilled\n' });
    const noPrev = await sim.core
      .readNamespacedPodLog({ namespace: 'default', name: 'p', container: 'app', previous: true })
      .catch((e: ApiException<string>) => e);
    expect((noPrev as ApiException<string>).code).toBe(400);
    expect(String((noPrev as ApiException<string>).body)).toContain('previous terminated container \\"app\\" in pod \\"p\\" not found');
    sim.cluster.oomKill('default', 'p', 'app');
    expect(await sim.core.readNamespacedPodLog({ namespace: 'default', name: 'p', container: 'app', previous: true })).toBe('started\nallocating\nkilled\n');
    expect(await sim.core.readNamespacedPodLog({ namespace: 'default', name: 'p', container: 'app', previous: true, tailLines: 2 })).toBe(
      'allocating\nkilled\n',
    );
    expect(await sim.core.readNamespacedPodLog({ namespace: 'default', name: 'p', container: 'app', limitBytes: 4 })).toBe('c1\nc');
    const noContainer = await fetch(`${sim.server.url}/api/v1/namespaces/default/pods/p/log`);
    expect(noContainer.status).toBe(400);
    expect(((await noContainer.json()) as { message: string }).message).toBe('a container name must be specified for pod p, choose one of: [app side]');
  });

  it('serves metrics.k8s.io when enabled, 404 when not', async () => {
    sim.cluster.createPod({ name: 'p', namespace: 'shop' });
    sim.cluster.setUsage('shop', 'p', 'p', 300 * 1024 * 1024);
    const pm = (await sim.custom.getNamespacedCustomObject({ group: 'metrics.k8s.io', version: 'v1beta1', namespace: 'shop', plural: 'pods', name: 'p' })) as {
      containers: Array<{ name: string; usage: { memory: string; cpu: string } }>;
    };
    expect(pm.containers[0]).toMatchObject({ name: 'p', usage: { memory: '307200Ki' } });
    const nodes = (await sim.custom.listClusterCustomObject({ group: 'metrics.k8s.io', version: 'v1beta1', plural: 'nodes' })) as {
      kind: string;
      items: unknown[];
    };
    expect(nodes.kind).toBe('NodeMetricsList');
    expect(nodes.items).toHaveLength(3);
    sim.cluster.metricsEnabled = false;
    const off = await sim.custom
      .listNamespacedCustomObject({ group: 'metrics.k8s.io', version: 'v1beta1', namespace: 'shop', plural: 'pods' })
      .catch((e: ApiException<unknown>) => e);
    expect((off as ApiException<unknown>).code).toBe(404);
    const apis = await fetchJson(`${sim.server.url}/apis`);
    expect(apis.groups.map((g: { name: string }) => g.name)).not.toContain('metrics.k8s.io');
  });

  it('records requests', async () => {
    await sim.core.listNamespacedPod({ namespace: 'default', labelSelector: 'a=b' });
    const reqs = sim.server.requests({ method: 'GET', path: '/api/v1/namespaces/default/pods' });
    expect(reqs).toHaveLength(1);
    expect(reqs[0]!.query).toEqual({ labelSelector: 'a=b' });
    expect(sim.server.requestCount()).toBeGreaterThanOrEqual(1);
  });
});
