import { afterEach, describe, expect, it } from 'vitest';
import { Watch } from '@kubernetes/client-node';
import { startSimKube, waitFor, type SimKube } from '../../helpers/sim-kube.js';

let sim: SimKube | undefined;
const aborts: AbortController[] = [];
afterEach(async () => {
  for (const a of aborts.splice(0)) a.abort();
  await sim?.close();
  sim = undefined;
});

async function openWatch(s: SimKube, query: Record<string, string | boolean> = {}): Promise<{ events: string[]; done: Promise<unknown> }> {
  const events: string[] = [];
  let finish: (v: unknown) => void = () => undefined;
  const done = new Promise((r) => (finish = r));
  const ctrl = await new Watch(s.kc).watch(
    '/api/v1/pods',
    { resourceVersion: s.cluster.resourceVersion, ...query },
    (type, obj) => events.push(`${type} ${obj?.metadata?.name ?? ''}`),
    (err) => finish(err ?? 'closed'),
  );
  aborts.push(ctrl);
  return { events, done };
}

describe('simulated API server: fault injection', () => {
  it('dropWatches resets open watch connections', async () => {
    sim = await startSimKube();
    const a = await openWatch(sim);
    const b = await openWatch(sim);
    await waitFor(() => sim!.server.watchCount() === 2);
    expect(sim.server.dropWatches()).toBe(2);
    const [ea, eb] = await Promise.all([a.done, b.done]);
    expect(ea).toBeDefined();
    expect(eb).toBeDefined();
    expect(sim.server.watchCount()).toBe(0);
  });

  it('stallWatches keeps watches open but silent, then events flow again', async () => {
    sim = await startSimKube({ bookmarkIntervalMs: 30 });
    const w = await openWatch(sim, { allowWatchBookmarks: true });
    await waitFor(() => w.events.some((e) => e.startsWith('BOOKMARK')));
    sim.server.stallWatches(true);
    await new Promise((r) => setTimeout(r, 50));
    const count = w.events.length;
    sim.cluster.createPod({ name: 'lost' });
    await new Promise((r) => setTimeout(r, 150));
    expect(w.events.length).toBe(count);
    expect(sim.server.watchCount()).toBe(1);
    sim.server.stallWatches(false);
    sim.cluster.createPod({ name: 'seen' });
    await waitFor(() => w.events.includes('ADDED seen'));
    expect(w.events).not.toContain('ADDED lost');
  });

  it('setUnreachable refuses connections and comes back on the same port', async () => {
    sim = await startSimKube();
    const port = sim.server.port;
    const w = await openWatch(sim);
    await sim.server.setUnreachable(true);
    expect(await w.done).toBeDefined();
    const err = await sim.core.listNamespacedPod({ namespace: 'default' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    await sim.server.setUnreachable(false);
    expect(sim.server.port).toBe(port);
    const list = await sim.core.listNamespacedPod({ namespace: 'default' });
    expect(list.kind).toBe('PodList');
  });

  it('failNext fails list calls with a Status; latencyMs delays answers', async () => {
    sim = await startSimKube();
    sim.server.failNext(2, 429, { retryAfterSeconds: 1 });
    const first = await fetch(`${sim.server.url}/api/v1/pods`);
    expect(first.status).toBe(429);
    expect(first.headers.get('retry-after')).toBe('1');
    expect(await first.json()).toMatchObject({ kind: 'Status', reason: 'TooManyRequests', code: 429 });
    await expect(sim.core.listPodForAllNamespaces()).rejects.toMatchObject({ code: 429 });
    expect((await sim.core.listPodForAllNamespaces()).kind).toBe('PodList');
    sim.server.failNext(1);
    await expect(sim.core.listNode()).rejects.toMatchObject({ code: 500 });
    sim.server.latencyMs = 150;
    const t0 = Date.now();
    await sim.core.listNode();
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
  });
});
