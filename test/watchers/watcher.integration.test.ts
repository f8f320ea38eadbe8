import { afterEach, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { ManualClock, type SimApiServer, type SimCluster } from '../../sim/kube/index.js';
import { startSimCluster, WatcherHarness, type RunningWatcher } from '../helpers/watcher-harness.js';

function podNames(cluster: SimCluster, ns = 'shop'): string[] {
  return cluster
    .list('pods', ns)
    .map((p) => p.metadata.name as string)
    .sort();
}

async function synced(w: RunningWatcher): Promise<void> {
  await expect.poll(() => w.watcher.readiness().ok, { timeout: 10_000, interval: 20 }).toBe(true);
}

describe('watcher against a simulated API server and a real Redis', () => {
  let server: SimApiServer | undefined;
  let harness: WatcherHarness | undefined;
  afterEach(async () => {
    await harness?.close();
    await server?.close();
    harness = undefined;
    server = undefined;
  });

  async function setup(opts: Parameters<typeof startSimCluster>[0] = {}) {
    const sim = await startSimCluster(opts);
    server = sim.server;
    harness = new WatcherHarness(sim.kubeconfig);
    return { ...sim, harness };
  }

  it('one OOM kill becomes exactly one job, with the describe-pod facts the watcher knows', async () => {
    const { cluster, harness } = await setup();
    const w = await harness.startWatcher();
    await synced(w);
    const pod = podNames(cluster)[0]!;
    cluster.oomKill('shop', pod, 'api');
    await expect.poll(async () => (await harness.jobs()).length, { timeout: 5_000 }).toBe(1);
    // Status updates of the crash-looping pod keep coming; still one job.
    cluster.update('pods', 'shop', pod, (p) => {
      (p.metadata as Record<string, unknown>).labels = { ...((p.metadata as { labels?: object }).labels ?? {}), touched: 'yes' };
    });
    await sleep(300);
    const [job] = await harness.jobs();
    expect(await harness.jobs()).toHaveLength(1);
    expect(job).toMatchObject({
      v: 1,
      kind: 'container-oom',
      cluster: 'sim',
      pod: { namespace: 'shop', name: pod, owner: { kind: 'ReplicaSet' } },
      termination: { container: 'api', reason: 'OOMKilled', exitCode: 137, resources: { limits: { memory: '512Mi' } } },
    });
  });

  it('a liveness-probe SIGKILL is queued as sigkill, never as an OOM', async () => {
    const { cluster, harness } = await setup();
    const w = await harness.startWatcher();
    await synced(w);
    cluster.livenessKill('shop', podNames(cluster)[0]!, 'api');
    await expect.poll(async () => (await harness.jobs()).map((j) => j.kind), { timeout: 5_000 }).toEqual(['sigkill']);
  });

  it('an eviction seen on the pod and in its Evicted event is one job', async () => {
    const { cluster, harness } = await setup();
    const w = await harness.startWatcher();
    await synced(w);
    const pod = podNames(cluster)[0]!;
    cluster.evict('shop', pod, {
      resource: 'memory',
      threshold: '100Mi',
      available: '81232Ki',
      containers: [{ name: 'api', usage: '912340Ki', request: '256Mi' }],
    });
    await expect.poll(async () => (await harness.jobs()).length, { timeout: 5_000 }).toBe(1);
    await sleep(300);
    const jobs = await harness.jobs();
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.kind).toBe('evicted');
    expect(jobs[0]!.eviction?.resource).toBe('memory');
  });

  it('two watcher replicas side by side queue each kill once', async () => {
    const { cluster, harness } = await setup();
    const [a, b] = await Promise.all([harness.startWatcher(), harness.startWatcher()]);
    await synced(a!);
    await synced(b!);
    for (const pod of podNames(cluster)) cluster.oomKill('shop', pod, 'api');
    await expect.poll(async () => (await harness.jobs()).length, { timeout: 5_000 }).toBe(3);
    await sleep(300);
    expect(await harness.jobs()).toHaveLength(3);
  });

  it('a restarted watcher queues no duplicate, and reports the kill that happened while it was down', async () => {
    const { cluster, harness } = await setup();
    const [p1, p2] = podNames(cluster);
    const first = await harness.startWatcher();
    await synced(first);
    cluster.oomKill('shop', p1!, 'api');
    await expect.poll(async () => (await harness.jobs()).length, { timeout: 5_000 }).toBe(1);
    await first.stop();

    cluster.oomKill('shop', p2!, 'api'); // while no watcher runs

    const second = await harness.startWatcher();
    await synced(second);
    await expect.poll(async () => (await harness.jobs()).length, { timeout: 5_000 }).toBe(2);
    await sleep(300);
    const jobs = await harness.jobs();
    expect(jobs.map((j) => j.pod?.name).sort()).toEqual([p1, p2].sort());
  });

  it('kills older than the look-back are not replayed on a first start', async () => {
    const clock = new ManualClock(Date.now() - 3 * 3600_000);
    const { cluster, harness } = await setup({ clock });
    const [p1] = podNames(cluster);
    cluster.oomKill('shop', p1!, 'api', { then: 'running' });
    clock.advance(3 * 3600_000);
    const w = await harness.startWatcher({ lookbackMs: 15 * 60_000 });
    await synced(w);
    await sleep(300);
    expect(await harness.jobs()).toHaveLength(0);
  });

  it('after 410 Gone the watcher relists and still catches later kills', async () => {
    const { cluster, harness } = await setup();
    const w = await harness.startWatcher();
    await synced(w);
    const [p1, p2] = podNames(cluster);
    cluster.compact();
    server!.dropWatches();
    cluster.oomKill('shop', p1!, 'api');
    await expect.poll(async () => (await harness.jobs()).length, { timeout: 5_000 }).toBe(1);
    cluster.oomKill('shop', p2!, 'api');
    await expect.poll(async () => (await harness.jobs()).length, { timeout: 5_000 }).toBe(2);
    expect(await w.metrics.render()).toMatch(/oombot_watch_restarts_total\{cluster="sim",resource="pods",reason="(gone|closed|error)"\} [1-9]/);
  });

  it('a watch that goes silent is restarted and misses nothing', async () => {
    const { cluster, harness } = await setup();
    const w = await harness.startWatcher({ silenceMs: 400 });
    await synced(w);
    server!.stallWatches(true);
    const [p1] = podNames(cluster);
    cluster.oomKill('shop', p1!, 'api');
    await sleep(200);
    server!.stallWatches(false);
    await expect.poll(async () => (await harness.jobs()).length, { timeout: 5_000 }).toBe(1);
    expect(w.logs.lines().some((l) => String(l.msg).includes('went silent'))).toBe(true);
  });

  it('an unreachable API server at start-up is retried with readiness false, never a crash', async () => {
    const { cluster, harness } = await setup();
    await server!.setUnreachable(true);
    const w = await harness.startWatcher();
    await sleep(300);
    expect(w.watcher.readiness()).toMatchObject({ ok: false });
    expect(w.logs.lines().some((l) => String(l.msg).includes('list/watch failed') && String(l.err).includes('cannot reach the Kubernetes API server'))).toBe(
      true,
    );
    await server!.setUnreachable(false);
    await synced(w);
    cluster.oomKill('shop', podNames(cluster)[0]!, 'api');
    await expect.poll(async () => (await harness.jobs()).length, { timeout: 5_000 }).toBe(1);
  });
});
