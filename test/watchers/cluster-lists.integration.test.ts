import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sharedCacheKey } from '../../core/cluster-lists.js';
import { makeLimitRange, SimCluster, startSimApiServer, type SimApiServer } from '../../sim/kube/index.js';
import { startSimCluster, WatcherHarness } from '../helpers/watcher-harness.js';
import { connectRedis } from '../../core/queue.js';
import { ClusterListsKeeper } from '../../watchers/cluster-lists.js';
import { REDIS_URL, removeQueueData, uniqueQueueName } from '../helpers/redis.js';
import type { V1Node } from '@kubernetes/client-node';

/** What the worker finds in the shared cache for `key`, as the watcher wrote it (undefined: nothing). */
async function shared(h: WatcherHarness, key: string): Promise<unknown> {
  const raw = await h.redis.get(sharedCacheKey(h.queueName, 'sim', key));
  return raw === null ? undefined : JSON.parse(raw);
}

describe("the watcher's cluster lists for the worker", () => {
  let server: SimApiServer | undefined;
  let harness: WatcherHarness | undefined;
  afterEach(async () => {
    await harness?.close();
    await server?.close();
    harness = undefined;
    server = undefined;
  });

  it('are in Redis after sync and follow nodes and LimitRanges as they come and go', async () => {
    const sim = await startSimCluster();
    server = sim.server;
    const { cluster } = sim;
    cluster.create('limitranges', makeLimitRange({ namespace: 'shop', max: { memory: '8Gi' } }));
    harness = new WatcherHarness(sim.kubeconfig);
    await harness.startWatcher();
    const h = harness;
    const nodeNames = async () => ((await shared(h, 'nodes')) as { metadata: { name: string } }[] | undefined)?.map((n) => n.metadata.name).sort();
    await expect.poll(nodeNames, { timeout: 10_000 }).toEqual(['node-a', 'node-b']);
    const nodes = (await shared(h, 'nodes')) as { status: { allocatable: { memory: string } } }[];
    expect(nodes[0]!.status.allocatable.memory).toBeTruthy();
    const maxOf = async () =>
      ((await shared(h, 'limitranges')) as Record<string, { spec: { limits: { max?: { memory?: string } }[] } }[]> | undefined)?.shop?.map(
        (lr) => lr.spec.limits[0]?.max?.memory,
      );
    await expect.poll(maxOf, { timeout: 10_000 }).toEqual(['8Gi']);
    // The sim serves the VPA CRD: none exist yet, which is an answer too.
    await expect.poll(() => shared(h, 'vpas'), { timeout: 10_000 }).toEqual({});

    cluster.addNode('node-c', { memory: '16Gi' });
    cluster.delete('nodes', undefined, 'node-a');
    cluster.create('limitranges', makeLimitRange({ namespace: 'shop', name: 'second', max: { memory: '4Gi' } }));
    await expect.poll(nodeNames, { timeout: 5_000 }).toEqual(['node-b', 'node-c']);
    await expect.poll(async () => (await maxOf())?.sort(), { timeout: 5_000 }).toEqual(['4Gi', '8Gi']);
  });

  it('say there is no VPA API when the cluster has no VPA CRD, and are not kept with some namespaces only', async () => {
    const cluster = new SimCluster({ vpaEnabled: false });
    cluster.addNode('node-a', { memory: '8Gi' });
    cluster.addNamespace('shop');
    server = await startSimApiServer({ cluster, bookmarkIntervalMs: 1_000 });
    const kubeconfig = server.writeKubeconfig(join(mkdtempSync(join(tmpdir(), 'oombot-test-')), 'kubeconfig'));
    harness = new WatcherHarness(kubeconfig);
    const all = await harness.startWatcher();
    const h = harness;
    await expect.poll(async () => h.redis.exists(sharedCacheKey(h.queueName, 'sim', 'vpas')), { timeout: 10_000 }).toBe(1);
    expect(await shared(h, 'vpas')).toBeNull();
    // A missing VPA CRD does not make the watcher unready: its pods and events are watched all the same.
    expect(all.watcher.readiness().ok).toBe(true);
    await all.stop();

    await h.redis.del(...['nodes', 'limitranges', 'vpas'].map((k) => sharedCacheKey(h.queueName, 'sim', k)));
    const some = await h.startWatcher({ namespaces: ['shop'] });
    await expect.poll(() => some.watcher.readiness().ok, { timeout: 10_000 }).toBe(true);
    await some.watcher.flushClusterLists();
    expect(await shared(h, 'limitranges')).toBeUndefined();
    expect(await shared(h, 'vpas')).toBeUndefined();
  });

  it('are written again when a node changes what the worker reads, not for every kubelet status update', async () => {
    const redis = connectRedis(REDIS_URL);
    const queueName = uniqueQueueName('lists');
    const keeper = new ClusterListsKeeper({ redis, queueName, cluster: 'sim', synced: () => true, refreshEveryMs: 60_000 });
    const node = (memory: string, heartbeat: string) =>
      ({
        metadata: { name: 'node-a', resourceVersion: heartbeat },
        status: { allocatable: { memory }, capacity: { memory }, conditions: [{ type: 'Ready', status: 'True', lastHeartbeatTime: heartbeat }] },
      }) as unknown as V1Node;
    const kept = async () => JSON.parse((await redis.get(sharedCacheKey(queueName, 'sim', 'nodes'))) ?? 'null') as V1Node[] | null;
    try {
      keeper.node('ADDED', node('8Gi', '1'));
      await keeper.flush();
      expect((await kept())?.[0]?.status?.allocatable?.memory).toBe('8Gi');
      await redis.del(sharedCacheKey(queueName, 'sim', 'nodes'));
      // A status heartbeat: nothing the worker reads changed, nothing is written.
      keeper.node('MODIFIED', node('8Gi', '2'));
      await keeper.flush();
      expect(await kept()).toBeNull();
      keeper.node('MODIFIED', node('6Gi', '3'));
      await keeper.flush();
      expect((await kept())?.[0]?.status?.allocatable?.memory).toBe('6Gi');
    } finally {
      await removeQueueData(queueName);
      redis.disconnect();
    }
  });
});
