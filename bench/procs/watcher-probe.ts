/**
 * Child process: one watcher against the simulated cluster, reporting its figures to the parent.
 *   mode "oombot": oombot's watcher role, as the image runs it (keeps uids and queued ids only)
 *   mode "naive":  @kubernetes/client-node's informer, caching full pod objects
 * Messages to the parent: {synced, syncMs, rssBytes, heapBytes}, then after the parent's
 * {cmd:'expect', count}: {ingested, ms}.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { startOombot } from '../../bin/start.js';
import { loadConfig } from '../../core/config.js';
import { KubeHttp, loadKubeTarget } from '../../core/kube.js';
import { createLogger } from '../../core/logger.js';
import type { WatcherRole } from '../../watchers/start-watcher.js';
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
  // The watcher role as `oombot start --roles watcher` runs it (the image's watcher Deployment): the
  // HTTP server, the metrics, the configuration, the role's stores; only the command line is left out.
  const app = await startOombot({
    config: loadConfig({ REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', OOMBOT_QUEUE: queueName, PORT: '0', KUBECONFIG: kubeconfig }),
    roles: ['watcher'],
    log: createLogger('silent'),
    kubeTarget: loadKubeTarget({ kubeconfig, clusterName: 'bench' }),
    host: '127.0.0.1',
  });
  const watcher = (app.roles.watcher as unknown as WatcherRole).watcher;
  const metrics = app.metrics;
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
