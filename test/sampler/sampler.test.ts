import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Queue } from 'bullmq';
import { connectRedis, createIncidentQueue } from '../../core/queue.js';
import { KubeHttp } from '../../core/kube.js';
import type { NearLimitJob } from '../../core/near-limit.js';
import { Sampler } from '../../sampler/sampler.js';
import { removeQueueData, REDIS_URL, uniqueQueueName } from '../helpers/redis.js';
import { captureLogger } from '../helpers/silent-logger.js';
import { startSimCluster } from '../helpers/watcher-harness.js';
import { startRecordingProxy, type RecordingProxy } from '../deploy/recording-proxy.js';
import { SimCluster, startSimApiServer, type SimApiServer } from '../../sim/kube/index.js';

const METRICS = '/apis/metrics.k8s.io/v1beta1/pods';

describe('sampler', () => {
  const redis = connectRedis(REDIS_URL);
  let queueName = '';
  const closers: (() => Promise<unknown>)[] = [];
  afterAll(() => redis.disconnect());
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
    await removeQueueData(queueName);
  });

  function sampler(proxy: RecordingProxy, queue: Queue<NearLimitJob>, log = captureLogger('debug')): Sampler {
    return new Sampler({
      kube: new KubeHttp(proxy.target),
      redis,
      queue,
      log: log.log,
      cluster: 'sim',
      queueName,
      namespaces: [],
      intervalMs: 1_000,
      warnAt: 0.9,
    });
  }

  it('two replicas share the rounds: the metrics are read once a round, not twice', async () => {
    const sim = await startSimCluster({ replicas: 3 });
    closers.push(() => sim.server.close());
    queueName = uniqueQueueName('sampler');
    const queue = createIncidentQueue(redis, queueName) as unknown as Queue<NearLimitJob>;
    closers.push(() => queue.close());
    const proxy = await startRecordingProxy(sim.server.url);
    closers.push(() => proxy.close());
    const a = sampler(proxy, queue);
    const b = sampler(proxy, queue);
    a.start();
    b.start();
    closers.push(
      () => a.stop(),
      () => b.stop(),
    );
    await new Promise((r) => setTimeout(r, 5_200));
    await Promise.all([a.stop(), b.stop()]);
    const metricsCalls = proxy.requests.filter((q) => q.path === METRICS).length;
    const rounds = a.rounds + b.rounds;
    expect(rounds).toBeGreaterThanOrEqual(4);
    expect(rounds).toBeLessThanOrEqual(6);
    // One metrics list per round in all, whichever replica took it: never one per replica.
    expect(metricsCalls).toBe(rounds);
    // And the pod list (for the limits) once, by the first round, not each round.
    expect(proxy.requests.filter((q) => q.path === '/api/v1/pods').length).toBeLessThanOrEqual(2);
    expect(proxy.requests.find((q) => q.path === METRICS)?.query).toMatchObject({ limit: '500' });
    // Every container of the Deployment has a 512Mi limit: three recorded per round.
    expect((a.lastRound ?? b.lastRound)?.containers).toBe(3);
  }, 20_000);

  it('without metrics-server it says so once and keeps going', async () => {
    const cluster = new SimCluster({ metricsEnabled: false });
    cluster.addNode('node-a', { memory: '8Gi' });
    cluster.addNamespace('shop');
    cluster.createDeployment({ name: 'api', namespace: 'shop', replicas: 1, memoryLimit: '512Mi' });
    const server: SimApiServer = await startSimApiServer({ cluster });
    closers.push(() => server.close());
    queueName = uniqueQueueName('sampler');
    const queue = createIncidentQueue(redis, queueName) as unknown as Queue<NearLimitJob>;
    closers.push(() => queue.close());
    const proxy = await startRecordingProxy(server.url);
    closers.push(() => proxy.close());
    const logs = captureLogger('debug');
    const s = sampler(proxy, queue, logs);
    for (let i = 0; i < 3; i++) {
      await s.round();
      await new Promise((r) => setTimeout(r, 1_050));
    }
    expect(s.rounds).toBe(3);
    const said = logs.lines().filter((l) => String(l.msg).includes('metrics-server is not installed'));
    expect(said).toHaveLength(1);
    expect(said[0]!.level).toBe('warn');
  }, 20_000);
});
