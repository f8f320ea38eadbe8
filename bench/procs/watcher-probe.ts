/**
 * Child process: one watcher against the simulated cluster, reporting its figures to the parent.
 *   mode "oombot": oombot's Watcher (keeps uids and queued ids only)
 *   mode "naive":  @kubernetes/client-node's informer, caching full pod objects
 * Messages to the parent: {synced, syncMs, rssBytes, heapBytes}, then after the parent's
 * {cmd:'expect', count}: {ingested, ms}.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { KubeHttp, loadKubeTarget } from '../../core/kube.js';
import { Metrics } from '../../core/metrics.js';
import { createLogger } from '../../core/logger.js';
import { connectRedis, createIncidentQueue } from '../../core/queue.js';
import { IncidentSink } from '../../watchers/incident-sink.js';
import { Watcher } from '../../watchers/watcher.js';
import type { ProbeCommand, ProbeIngested, ProbeMemory, ProbeSynced } from './probe-protocol.js';

const [mode, kubeconfig, queueName] = process.argv.slice(2) as [string, string, string];
const gc = (globalThis as { gc?: () => void }).gc;

function send(msg: ProbeSynced | ProbeIngested): void {
  process.send?.(msg);
}

function memory(): ProbeMemory {
  gc?.();
  gc?.();
  const m = process.memoryUsage();
  return { rssBytes: m.rss, heapBytes: m.heapUsed, heapTotalBytes: m.heapTotal, externalBytes: m.external, arrayBuffersBytes: m.arrayBuffers };
}

// The benchmark went away (finished, failed or interrupted): so does the probe.
process.on('disconnect', () => process.exit(0));

let seen = 0;
const started = performance.now();

if (mode === 'oombot') {
  const log = createLogger('silent');
  const metrics = new Metrics({ defaultMetrics: false });
  const redis = connectRedis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  const queue = createIncidentQueue(redis, queueName);
  const sink = new IncidentSink({ queue, redis, queueName, dedupeTtlMs: 3_600_000, metrics, log });
  const kube = new KubeHttp(loadKubeTarget({ kubeconfig, clusterName: 'bench' }));
  const watcher = new Watcher({
    kube,
    cluster: 'bench',
    namespaces: [],
    sink,
    redis,
    queueName,
    log,
    metrics,
    silenceMs: 60_000,
    lookbackMs: 900_000,
    dedupeTtlMs: 3_600_000,
    ...(process.env.BENCH_PAGE_SIZE ? { pageSize: Number(process.env.BENCH_PAGE_SIZE) } : {}),
  });
  await watcher.start();
  while (!watcher.readiness().ok) await new Promise((r) => setTimeout(r, 20));
  const syncMs = performance.now() - started;
  const count = async () => (await metrics.eventsSeen.get()).values.filter((v) => v.labels.resource === 'pods').reduce((a, v) => a + v.value, 0);
  const base = await count();
  send({ synced: true, syncMs, pods: watcher.podCount, ...memory() });
  process.on('message', (msg: ProbeCommand) => {
    if (msg.cmd !== 'expect') return;
    const t0 = performance.now();
    const poll = setInterval(() => {
      void count().then((n) => {
        if (n - base >= msg.count) {
          clearInterval(poll);
          send({ ingested: n - base, ms: performance.now() - t0, ...memory() });
        }
      });
    }, 5);
  });
} else if (mode === 'download') {
  // The floor of a sync: the same paged list downloaded and parsed, nothing kept.
  const kube = new KubeHttp(loadKubeTarget({ kubeconfig, clusterName: 'bench' }));
  let pods = 0;
  for await (const page of kube.listPages<V1Pod>('/api/v1/pods', {}, Number(process.env.BENCH_PAGE_SIZE ?? 500))) pods += page.length;
  const syncMs = performance.now() - started;
  send({ synced: true, syncMs, pods, ...memory() });
} else {
  // Loaded only here: oombot's watcher and the download run without client-node, as in the image.
  const { CoreV1Api, KubeConfig, makeInformer } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const api = kc.makeApiClient(CoreV1Api);
  const informer = makeInformer<V1Pod>(kc, '/api/v1/pods', () => api.listPodForAllNamespaces());
  informer.on('add', () => seen++);
  informer.on('update', () => seen++);
  informer.on('error', (err: unknown) => process.stderr.write(`informer error: ${String(err)}\n`));
  await informer.start();
  const syncMs = performance.now() - started;
  const base = seen;
  send({ synced: true, syncMs, pods: informer.list().length, ...memory() });
  process.on('message', (msg: ProbeCommand) => {
    if (msg.cmd !== 'expect') return;
    const t0 = performance.now();
    const poll = setInterval(() => {
      if (seen - base >= msg.count) {
        clearInterval(poll);
        send({ ingested: seen - base, ms: performance.now() - t0, ...memory() });
      }
    }, 5);
  });
}
