import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Queue } from 'bullmq';

import { SimCluster, startSimApiServer, type SimApiServer, type SimClock } from '../../sim/kube/index.js';
import { connectRedis, createIncidentQueue, type RedisClient } from '../../core/queue.js';
import { Metrics } from '../../core/metrics.js';
import { KubeHttp, loadKubeTarget } from '../../core/kube.js';
import type { Incident } from '../../core/incident.js';
import { IncidentSink } from '../../watchers/incident-sink.js';
import { Watcher } from '../../watchers/watcher.js';
import { REDIS_URL, removeQueueData, uniqueQueueName } from './redis.js';
import { captureLogger, type CapturedLogger } from './silent-logger.js';

/** A simulated cluster with a Deployment "api" in namespace "shop" on two nodes. */
export async function startSimCluster(
  opts: { replicas?: number; bookmarkIntervalMs?: number; clock?: SimClock } = {},
): Promise<{ cluster: SimCluster; server: SimApiServer; kubeconfig: string }> {
  const cluster = new SimCluster(opts.clock ? { clock: opts.clock } : {});
  cluster.addNode('node-a', { memory: '8Gi' });
  cluster.addNode('node-b', { memory: '8Gi' });
  cluster.addNamespace('shop');
  cluster.createDeployment({ name: 'api', namespace: 'shop', replicas: opts.replicas ?? 3, memoryRequest: '256Mi', memoryLimit: '512Mi' });
  const server = await startSimApiServer({ cluster, bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 1_000 });
  const dir = mkdtempSync(join(tmpdir(), 'oombot-test-'));
  const kubeconfig = server.writeKubeconfig(join(dir, 'kubeconfig'));
  return { cluster, server, kubeconfig };
}

export interface RunningWatcher {
  watcher: Watcher;
  sink: IncidentSink;
  logs: CapturedLogger;
  metrics: Metrics;
  stop(): Promise<void>;
}

/** Everything a watcher process has, against a shared queue. */
export class WatcherHarness {
  readonly queueName = uniqueQueueName('watch');
  readonly redis: RedisClient = connectRedis(REDIS_URL);
  readonly queue: Queue<Incident> = createIncidentQueue(this.redis, this.queueName);
  private readonly running: RunningWatcher[] = [];

  constructor(private readonly kubeconfig: string) {}

  async startWatcher(opts: { silenceMs?: number; lookbackMs?: number; namespaces?: string[] } = {}): Promise<RunningWatcher> {
    const logs = captureLogger();
    const metrics = new Metrics({ defaultMetrics: false });
    const kube = new KubeHttp(loadKubeTarget({ kubeconfig: this.kubeconfig, clusterName: 'sim' }));
    const sink = new IncidentSink({ queue: this.queue, redis: this.redis, queueName: this.queueName, dedupeTtlMs: 3_600_000, metrics, log: logs.log });
    const watcher = new Watcher({
      kube,
      cluster: 'sim',
      namespaces: opts.namespaces ?? [],
      sink,
      redis: this.redis,
      queueName: this.queueName,
      log: logs.log,
      metrics,
      silenceMs: opts.silenceMs ?? 30_000,
      lookbackMs: opts.lookbackMs ?? 15 * 60_000,
      dedupeTtlMs: 3_600_000,
      heartbeatEveryMs: 200,
      backoff: { initialMs: 50, maxMs: 500 },
    });
    await watcher.start();
    const handle: RunningWatcher = {
      watcher,
      sink,
      logs,
      metrics,
      stop: async () => {
        await watcher.stop();
        sink.close();
      },
    };
    this.running.push(handle);
    return handle;
  }

  async jobs(): Promise<Incident[]> {
    const jobs = await this.queue.getJobs(['waiting', 'active', 'completed', 'delayed', 'failed', 'prioritized']);
    return jobs.map((j) => j.data).sort((a, b) => a.occurredAt.localeCompare(b.occurredAt));
  }

  async close(): Promise<void> {
    await Promise.all(this.running.map((r) => r.stop()));
    await this.queue.close();
    this.redis.disconnect();
    await removeQueueData(this.queueName);
  }
}
