import { afterEach, describe, expect, it } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import type { SimApiServer, SimCluster } from '../../sim/kube/index.js';
import { podMemory, type NodeSums } from '../../core/node-sums.js';
import { NodeSumsReader } from '../../stores/node-sums-reader.js';
import { startSimCluster, WatcherHarness, type RunningWatcher } from '../helpers/watcher-harness.js';

/** What listing the node's pods gives (as the worker did): requests and limits of its pods not finished. */
function sumsFromList(cluster: SimCluster, node: string): NodeSums {
  const sums: NodeSums = { requestsBytes: 0, limitsBytes: 0, pods: 0 };
  for (const p of cluster.list('pods') as unknown as V1Pod[]) {
    if (p.spec?.nodeName !== node || p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') continue;
    const m = podMemory(p);
    sums.requestsBytes += m.requests;
    sums.limitsBytes += m.limits;
    sums.pods++;
  }
  return sums;
}

describe("the watcher's node sums", () => {
  let server: SimApiServer | undefined;
  let harness: WatcherHarness | undefined;
  afterEach(async () => {
    await harness?.close();
    await server?.close();
    harness = undefined;
    server = undefined;
  });

  async function synced(w: RunningWatcher): Promise<void> {
    await expect.poll(() => w.watcher.readiness().ok, { timeout: 10_000, interval: 20 }).toBe(true);
  }

  it('match a list of the node pods after sync, after pods come and go, and in Redis for the worker', async () => {
    const sim = await startSimCluster({ replicas: 5 });
    server = sim.server;
    const { cluster } = sim;
    harness = new WatcherHarness(sim.kubeconfig);
    const w = await harness.startWatcher();
    await synced(w);
    const reader = new NodeSumsReader(harness.redis, harness.queueName);
    const check = async () => {
      await w.watcher.flushNodeSums();
      for (const node of ['node-a', 'node-b']) {
        const expected = sumsFromList(cluster, node);
        expect(w.watcher.nodeSumsOf(node) ?? { requestsBytes: 0, limitsBytes: 0, pods: 0 }).toEqual(expected);
        expect(await reader.get('sim', node)).toEqual(expected);
      }
    };
    await check();
    expect(sumsFromList(cluster, 'node-a').pods + sumsFromList(cluster, 'node-b').pods).toBe(5);

    // Pods that come (one with a pod-level limit, which counts instead of its containers'), go, and finish.
    cluster.createDeployment({ name: 'web', namespace: 'shop', replicas: 3, memoryRequest: '100Mi', memoryLimit: '300Mi' });
    const bare = cluster.createPod({ name: 'batch', namespace: 'shop', memoryRequest: '64Mi', memoryLimit: '128Mi' });
    cluster.update('pods', 'shop', bare.metadata.name as string, (p) => {
      (p.spec as Record<string, unknown>).resources = { limits: { memory: '1Gi' }, requests: { memory: '512Mi' } };
    });
    cluster.scale('deployments', 'shop', 'api', 2);
    await expect
      .poll(
        async () =>
          check().then(
            () => true,
            () => false,
          ),
        { timeout: 5_000, interval: 50 },
      )
      .toBe(true);
    cluster.update('pods', 'shop', bare.metadata.name as string, (p) => {
      (p.status as Record<string, unknown>).phase = 'Succeeded';
    });
    await expect
      .poll(
        async () =>
          check().then(
            () => true,
            () => false,
          ),
        { timeout: 5_000, interval: 50 },
      )
      .toBe(true);
    expect(sumsFromList(cluster, 'node-a').pods + sumsFromList(cluster, 'node-b').pods).toBe(5);
  });

  it('stay right while pods far beyond the first thousand come, go and come back', async () => {
    const sim = await startSimCluster({ replicas: 1 });
    server = sim.server;
    const { cluster } = sim;
    harness = new WatcherHarness(sim.kubeconfig);
    const w = await harness.startWatcher();
    await synced(w);
    const matches = () =>
      ['node-a', 'node-b'].every((n) => JSON.stringify(w.watcher.nodeSumsOf(n) ?? sumsFromList(cluster, 'none')) === JSON.stringify(sumsFromList(cluster, n)));
    for (const replicas of [1_500, 300, 1_200]) {
      cluster.scale('deployments', 'shop', 'api', replicas);
      await expect.poll(matches, { timeout: 20_000, interval: 50 }).toBe(true);
    }
    expect(sumsFromList(cluster, 'node-a').pods + sumsFromList(cluster, 'node-b').pods).toBe(1_200);
  });

  it('are not trusted once the watcher stopped writing them', async () => {
    const sim = await startSimCluster({ replicas: 2 });
    server = sim.server;
    harness = new WatcherHarness(sim.kubeconfig);
    const w = await harness.startWatcher();
    await synced(w);
    await w.watcher.flushNodeSums();
    const node = (sim.cluster.list('pods')[0] as unknown as V1Pod).spec!.nodeName!;
    expect(await new NodeSumsReader(harness.redis, harness.queueName).get('sim', node)).toBeDefined();
    let now = Date.now() + 31_000;
    expect(await new NodeSumsReader(harness.redis, harness.queueName, 30_000, () => now).get('sim', node)).toBeUndefined();
    now = Date.now();
    expect(await new NodeSumsReader(harness.redis, harness.queueName, 30_000, () => now).get('other-cluster', node)).toBeUndefined();
  });
});
