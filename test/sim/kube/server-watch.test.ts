import { afterEach, describe, expect, it } from 'vitest';
import { Watch, makeInformer, type CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { startSimKube, waitFor, type SimKube } from '../../helpers/sim-kube.js';

interface Seen {
  type: string;
  object: {
    kind?: string;
    metadata?: { name?: string; resourceVersion?: string; annotations?: Record<string, string> };
    code?: number;
    reason?: string;
    message?: string;
    status?: Json;
  };
}
type Json = Record<string, unknown>;

let sim: SimKube | undefined;
const controllers: AbortController[] = [];
afterEach(async () => {
  for (const c of controllers.splice(0)) c.abort();
  await sim?.close();
  sim = undefined;
});

async function watch(s: SimKube, path: string, query: Record<string, string | number | boolean>): Promise<{ events: Seen[]; done: Promise<unknown> }> {
  const events: Seen[] = [];
  let resolveDone: (e: unknown) => void = () => undefined;
  const done = new Promise((r) => (resolveDone = r));
  const ctrl = await new Watch(s.kc).watch(
    path,
    query,
    (type, object) => events.push({ type, object }),
    (err) => resolveDone(err ?? 'closed'),
  );
  controllers.push(ctrl);
  return { events, done };
}

describe('simulated API server: watch', () => {
  it('streams ADDED/MODIFIED/DELETED with kind, after an oomKill and a deletion', async () => {
    sim = await startSimKube();
    sim.cluster.createPod({ name: 'p', namespace: 'shop' });
    const list = await sim.core.listNamespacedPod({ namespace: 'shop' });
    const { events } = await watch(sim, '/api/v1/namespaces/shop/pods', { resourceVersion: list.metadata!.resourceVersion! });
    await waitFor(() => sim!.server.watchCount() === 1);
    sim.cluster.oomKill('shop', 'p', 'p');
    sim.cluster.createPod({ name: 'q', namespace: 'shop' });
    sim.cluster.createPod({ name: 'other', namespace: 'elsewhere' });
    sim.cluster.delete('pods', 'shop', 'q');
    await waitFor(() => events.length >= 3, 3000, 'three events');
    expect(events.map((e) => `${e.type} ${e.object.metadata?.name}`)).toEqual(['MODIFIED p', 'ADDED q', 'DELETED q']);
    expect(events[0]!.object.kind).toBe('Pod');
    const pod = events[0]!.object as unknown as V1Pod;
    expect(pod.status?.containerStatuses?.[0]?.lastState?.terminated?.reason).toBe('OOMKilled');
    expect(events[2]!.object.metadata!.resourceVersion).toBe(sim.cluster.resourceVersion);
  });

  it('sends synthetic ADDED events without resourceVersion, and bookmarks', async () => {
    sim = await startSimKube({ bookmarkIntervalMs: 50 });
    sim.cluster.createPod({ name: 'a' });
    sim.cluster.createPod({ name: 'b' });
    const { events } = await watch(sim, '/api/v1/namespaces/default/pods', { allowWatchBookmarks: true });
    await waitFor(() => events.filter((e) => e.type === 'BOOKMARK').length >= 2, 3000, 'bookmarks');
    expect(
      events
        .slice(0, 2)
        .map((e) => `${e.type} ${e.object.metadata?.name}`)
        .sort(),
    ).toEqual(['ADDED a', 'ADDED b']);
    const bm = events.find((e) => e.type === 'BOOKMARK')!;
    expect(bm.object).toEqual({ kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: sim.cluster.resourceVersion } });
  });

  it('marks the end of initial events with sendInitialEvents', async () => {
    sim = await startSimKube();
    sim.cluster.createPod({ name: 'a' });
    const { events } = await watch(sim, '/api/v1/pods', { sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan', allowWatchBookmarks: true });
    await waitFor(() => events.length >= 2);
    expect(events[0]!.type).toBe('ADDED');
    expect(events[1]).toMatchObject({ type: 'BOOKMARK', object: { metadata: { annotations: { 'k8s.io/initial-events-end': 'true' } } } });
  });

  it('resumes from a resourceVersion and answers 410 Expired after compact()', async () => {
    sim = await startSimKube();
    sim.cluster.createPod({ name: 'a' });
    const rv = sim.cluster.resourceVersion;
    sim.cluster.createPod({ name: 'b' });
    sim.cluster.oomKill('default', 'a', 'a');
    const resumed = await watch(sim, '/api/v1/namespaces/default/pods', { resourceVersion: rv });
    await waitFor(() => resumed.events.length >= 2);
    expect(resumed.events.map((e) => `${e.type} ${e.object.metadata?.name}`)).toEqual(['ADDED b', 'MODIFIED a']);

    sim.cluster.compact();
    const gone = await watch(sim, '/api/v1/namespaces/default/pods', { resourceVersion: rv });
    expect(await gone.done).toBe('closed');
    expect(gone.events).toHaveLength(1);
    expect(gone.events[0]!.type).toBe('ERROR');
    expect(gone.events[0]!.object).toEqual({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `too old resource version: ${rv} (${sim.cluster.resourceVersion})`,
      reason: 'Expired',
      code: 410,
    });
  });

  it('ends the watch at timeoutSeconds', async () => {
    sim = await startSimKube();
    const w = await watch(sim, '/api/v1/pods', { timeoutSeconds: 1, resourceVersion: sim.cluster.resourceVersion });
    expect(await w.done).toBe('closed');
    expect(sim.server.watchCount()).toBe(0);
  });

  it('follows selector transitions: a pod leaving a field selector is DELETED for that watch', async () => {
    sim = await startSimKube();
    sim.cluster.createDeployment({ name: 'w', namespace: 'x', replicas: 1 });
    const pod = sim.cluster.list('pods', 'x')[0]!;
    const w = await watch(sim, '/api/v1/namespaces/x/pods', { fieldSelector: 'status.phase=Running', resourceVersion: sim.cluster.resourceVersion });
    await waitFor(() => sim!.server.watchCount() === 1);
    sim.cluster.evict('x', pod.metadata.name, { containers: [{ name: 'w', usage: '900Mi' }] });
    await waitFor(() => w.events.length >= 2);
    const names = w.events.map((e) => `${e.type} ${e.object.metadata?.name === pod.metadata.name ? 'evicted' : 'replacement'}`);
    expect(names).toContain('DELETED evicted');
    expect(names).toContain('ADDED replacement');
  });

  it('works with makeInformer (list then watch) and relists after 410', async () => {
    sim = await startSimKube();
    sim.cluster.createPod({ name: 'a', namespace: 'shop' });
    const core: CoreV1Api = sim.core;
    const informer = makeInformer<V1Pod>(sim.kc, '/api/v1/namespaces/shop/pods', () => core.listNamespacedPod({ namespace: 'shop' }));
    const seen: string[] = [];
    informer.on('add', (p) => seen.push(`add ${p.metadata?.name}`));
    informer.on('update', (p) => seen.push(`update ${p.metadata?.name} ${p.status?.containerStatuses?.[0]?.lastState?.terminated?.reason ?? ''}`));
    informer.on('delete', (p) => seen.push(`delete ${p.metadata?.name}`));
    const errors: unknown[] = [];
    informer.on('error', (e) => errors.push(e));
    await informer.start();
    try {
      await waitFor(() => sim!.server.watchCount() === 1);
      expect(seen).toEqual(['add a']);
      sim.cluster.oomKill('shop', 'a', 'a');
      sim.cluster.createPod({ name: 'b', namespace: 'shop' });
      sim.cluster.delete('pods', 'shop', 'b');
      await waitFor(() => seen.length >= 4);
      expect(seen).toEqual(['add a', 'update a OOMKilled', 'add b', 'delete b']);
      expect(informer.list('shop').map((p) => p.metadata?.name)).toEqual(['a']);
      // Expire the history and close the watch: the informer's watch gets 410 and relists.
      const lists = sim.server.requests({ method: 'GET', path: '/api/v1/namespaces/shop/pods' });
      sim.cluster.createPod({ name: 'c', namespace: 'shop' });
      await waitFor(() => seen.includes('add c'));
      // The informer misses 'd' (stalled), then the history is compacted past its resourceVersion.
      sim.server.stallWatches(true);
      sim.cluster.createPod({ name: 'd', namespace: 'shop' });
      sim.cluster.compact();
      sim.server.stallWatches(false);
      sim.server.endWatches();
      await waitFor(() => seen.includes('add d'), 5000, 'relist after 410');
      const after = sim.server.requests({ method: 'GET', path: '/api/v1/namespaces/shop/pods' });
      expect(after.filter((r) => !r.query.watch)).toHaveLength(lists.filter((r) => !r.query.watch).length + 1);
      expect(errors).toEqual([]);
    } finally {
      await informer.stop();
    }
  });
});
