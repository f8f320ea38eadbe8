import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Config, Role } from '../core/config.js';
import { createLogger } from '../core/logger.js';
import { loadKubeTarget } from '../core/kube.js';
import { parseMemoryBytes } from '../core/quantity.js';
import { redactUrl } from '../core/redact.js';
import { startOombot, type Oombot } from '../bin/start.js';
import { SimCluster, startSimApiServer, type SimApiServer } from './kube/index.js';
import { findOrStartRedis, type FoundRedis } from './private-redis.js';

export interface DemoOptions {
  config: Config;
  roles: Role[];
  /** Stop and resolve once the scenarios are done (CI, smoke tests); otherwise run until a signal. */
  exitWhenDone?: boolean;
  /** Seconds between scenario steps (default 8). */
  stepSeconds?: number;
  say?: (line: string) => void;
  /** Aborting ends the demo cleanly (Ctrl-C). */
  signal?: AbortSignal;
}

/** REDIS_URL or the local Redis; else a private redis-server when one is installed; else a clear error. */
async function findRedis(config: Config, say: (l: string) => void): Promise<FoundRedis> {
  const found = await findOrStartRedis(config.redisUrl, { explicit: Boolean(process.env.REDIS_URL), rerun: 'npm start' });
  if (found.stop) say(`no Redis at ${redactUrl(config.redisUrl)}: started a private redis-server at ${found.url} for the demo`);
  return found;
}

/** Waits until the queue has had nothing waiting, active or delayed for two seconds (at most a minute). */
async function settled(app: Oombot, signal: AbortSignal | undefined): Promise<void> {
  const deadline = Date.now() + 60_000;
  let quietSince = Date.now();
  while (Date.now() < deadline && !signal?.aborted) {
    const c = await app.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    const busy = (c.waiting ?? 0) + (c.active ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0);
    if (busy > 0) quietSince = Date.now();
    else if (Date.now() - quietSince >= 2_000) return;
    await sleep(200);
  }
}

function limitOf(cluster: SimCluster, ns: string, deploy: string, container: string): number {
  const d = cluster.get('deployments', ns, deploy) as
    | { spec?: { template?: { spec?: { containers?: { name: string; resources?: { limits?: { memory?: string } } }[] } } } }
    | undefined;
  const c = d?.spec?.template?.spec?.containers?.find((x) => x.name === container);
  return parseMemoryBytes(c?.resources?.limits?.memory) ?? 0;
}

function podsOf(cluster: SimCluster, ns: string, prefix: string): string[] {
  return cluster
    .list('pods', ns)
    .filter((p) => (p.metadata.name as string).startsWith(`${prefix}-`) && (p.status as { phase?: string }).phase === 'Running')
    .map((p) => p.metadata.name as string)
    .sort();
}

/**
 * The demo: a simulated cluster on 127.0.0.1, all of oombot against it, and scripted incidents that
 * unfold over a minute or two. Alerts print to the console, or go to Slack when tokens are set.
 */
export async function runDemo(opts: DemoOptions): Promise<void> {
  const say = opts.say ?? ((l: string) => process.stderr.write(`» ${l}\n`));
  const step = (opts.stepSeconds ?? 8) * 1000;
  const cluster = new SimCluster();
  cluster.addNode('node-1', { memory: '8Gi' });
  cluster.addNode('node-2', { memory: '8Gi' });
  for (const ns of ['shop', 'batch', 'platform']) cluster.addNamespace(ns);
  const main = (o: Record<string, unknown>) => [{ name: 'main', image: 'registry.example/app:1.4.2', ...o }];
  cluster.createDeployment({ name: 'checkout', namespace: 'shop', replicas: 2, containers: main({ memoryRequest: '128Mi', memoryLimit: '256Mi' }) });
  cluster.createDeployment({
    name: 'search',
    namespace: 'shop',
    replicas: 2,
    containers: main({ memoryRequest: '512Mi', memoryLimit: '1Gi', command: ['java', '-Xmx1g', '-jar', '/app/search.jar'] }),
  });
  cluster.createDeployment({ name: 'cart', namespace: 'shop', replicas: 1, containers: main({ memoryRequest: '256Mi', memoryLimit: '512Mi' }) });
  cluster.createDeployment({ name: 'reports', namespace: 'batch', replicas: 1, containers: main({ memoryRequest: '256Mi', memoryLimit: '2Gi' }) });
  cluster.createDeployment({
    name: 'gateway',
    namespace: 'platform',
    replicas: 2,
    containers: main({
      memoryRequest: '128Mi',
      memoryLimit: '512Mi',
      livenessProbe: { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 10, failureThreshold: 3 },
    }),
  });
  cluster.setLogs('shop', podsOf(cluster, 'shop', 'checkout')[0]!, 'main', {
    previous: 'INFO loading catalogue\nINFO cache warm: 180000 items\nWARN heap at 97%\n',
  });

  const server: SimApiServer = await startSimApiServer({ cluster });
  const dir = mkdtempSync(join(tmpdir(), 'oombot-demo-'));
  const kubeconfig = server.writeKubeconfig(join(dir, 'kubeconfig'), { context: 'oombot-demo' });
  say(`simulated cluster at ${server.url}; watch it with:  kubectl --kubeconfig ${kubeconfig} get pods -A -w`);

  const redis = await findRedis(opts.config, say);
  const demoQueue = `oombot-demo-${Date.now().toString(36)}`;
  const config: Config = {
    ...opts.config,
    redisUrl: redis.url,
    queueName: demoQueue,
    kubeconfig,
    clusterName: 'demo',
    lookbackMs: 60_000,
    groupWindowMs: 10 * 60_000,
    // Samples every second, so that a climb shows within seconds.
    sampleIntervalMs: 1_000,
  };
  const log = createLogger(process.env.LOG_LEVEL ? config.logLevel : 'warn');
  const roles = opts.roles.filter((r) => r !== 'bot' || config.slack.signingSecret || config.slack.appToken);
  let app: Oombot | undefined;
  const cleanup = async () => {
    await app?.stop();
    await server.close();
    redis.stop?.();
  };
  try {
    app = await startOombot({ config, roles, log, kubeTarget: loadKubeTarget({ kubeconfig, clusterName: 'demo' }), host: '127.0.0.1' });
  } catch (err) {
    await cleanup();
    throw err;
  }
  say(`oombot is running (${roles.join(', ')}); health on http://127.0.0.1:${app.port}/readyz, metrics on /metrics`);
  say(
    config.slack.botToken
      ? `alerts go to Slack channel ${config.slack.channel}`
      : 'alerts print below (set SLACK_BOT_TOKEN and SLACK_CHANNEL to send them to Slack)',
  );
  for (let i = 0; i < 100 && !(await app.http.readiness()).ok; i++) await sleep(100);

  const signal = opts.signal;
  const pause = (ms: number) => sleep(ms, undefined, { signal }).catch(() => undefined);
  const scenarios: { title: string; run: () => void | Promise<void> }[] = [
    {
      title: '1/6 shop/cart climbs toward its 512Mi limit: a near-limit warning with the time left, then the OOM kill with its memory chart',
      run: async () => {
        const pod = podsOf(cluster, 'shop', 'cart')[0];
        if (!pod) return;
        const Mi = 2 ** 20;
        // 450Mi climbing 8Mi a second (the simulated metrics-server serves the ramp): past 90% (461Mi)
        // after about a second, at the limit after 8.
        cluster.setUsageRamp('shop', pod, 'main', { fromBytes: 450 * Mi, bytesPerSecond: 8 * Mi, maxBytes: 511 * Mi });
        await pause(8_000);
        cluster.setUsage('shop', pod, 'main', 511 * Mi);
        cluster.oomKill('shop', pod, 'main', { then: 'running', startedAt: new Date(cluster.now().getTime() - 30 * 60_000).toISOString() });
        // The restarted container starts small again: the warning is marked resolved.
        await pause(3_000);
        cluster.setUsage('shop', pod, 'main', 140 * Mi);
      },
    },
    {
      title: '2/6 shop/checkout is crash-looping on its 256Mi limit (it needs about 300Mi)',
      run: () => {
        for (const pod of podsOf(cluster, 'shop', 'checkout')) {
          cluster.setUsage('shop', pod, 'main', 255 * 2 ** 20);
          cluster.oomKill('shop', pod, 'main', { startedAt: new Date(cluster.now().getTime() - 20 * 60_000).toISOString() });
        }
      },
    },
    {
      title: '3/6 batch/reports leaks: killed again at a similar uptime',
      run: async () => {
        // Each run climbs to the 2Gi limit after about 40 minutes.
        const uptime = () => new Date(cluster.now().getTime() - 41 * 60_000).toISOString();
        const pod = podsOf(cluster, 'batch', 'reports')[0];
        if (pod) {
          cluster.setUsage('batch', pod, 'main', 2047 * 2 ** 20);
          cluster.oomKill('batch', pod, 'main', { then: 'running', startedAt: uptime() });
        }
        await sleep(2_000);
        const again = podsOf(cluster, 'batch', 'reports')[0];
        if (again) {
          cluster.setUsage('batch', again, 'main', 2047 * 2 ** 20);
          cluster.oomKill('batch', again, 'main', { then: 'running', startedAt: uptime() });
        }
      },
    },
    {
      title: '4/6 node-2 runs low on memory: the kubelet evicts a search pod',
      run: () => {
        cluster.setNodePressure('node-2', true);
        const pod =
          cluster
            .list('pods', 'shop')
            .find((p) => (p.metadata.name as string).startsWith('search-') && (p.spec as { nodeName?: string }).nodeName === 'node-2') ??
          cluster.list('pods', 'shop').find((p) => (p.metadata.name as string).startsWith('search-'));
        if (pod)
          cluster.evict('shop', pod.metadata.name as string, {
            resource: 'memory',
            threshold: '100Mi',
            available: '81232Ki',
            containers: [{ name: 'main', usage: '912340Ki', request: '512Mi' }],
          });
      },
    },
    {
      title: '5/6 the kernel OOM killer runs on node-1 (SystemOOM)',
      run: () => {
        cluster.systemOom('node-1', { process: 'java', pid: 48121 });
      },
    },
    {
      title: '6/6 platform/gateway fails its liveness probe and is SIGKILLed: not an OOM',
      run: () => {
        const pod = podsOf(cluster, 'platform', 'gateway')[0];
        if (pod) cluster.livenessKill('platform', pod, 'main');
      },
    },
  ];
  for (const s of scenarios) {
    if (signal?.aborted) break;
    say(s.title);
    await s.run();
    await pause(step);
  }
  // checkout keeps dying until its limit is raised ("Raise limit" in Slack patches the Deployment).
  const needed = 300 * 2 ** 20;
  const until = Date.now() + (opts.exitWhenDone ? 0 : 60 * 60_000);
  say(opts.exitWhenDone ? 'scenarios done' : 'scenarios done; checkout keeps crash-looping until its limit is raised (Ctrl-C to stop)');
  let fixedSaid = false;
  do {
    if (limitOf(cluster, 'shop', 'checkout', 'main') >= needed) {
      if (!fixedSaid) say('shop/checkout has a limit that fits: its pods stop dying');
      fixedSaid = true;
    } else {
      for (const pod of podsOf(cluster, 'shop', 'checkout')) {
        cluster.setUsage('shop', pod, 'main', limitOf(cluster, 'shop', 'checkout', 'main') - 2 ** 20);
        cluster.oomKill('shop', pod, 'main', { then: 'running' });
      }
    }
    if (!opts.exitWhenDone) await pause(2 * step);
  } while (Date.now() < until && !signal?.aborted);
  if (opts.exitWhenDone) await settled(app, signal);
  const counts = await app.queue.getJobCounts('completed', 'failed', 'waiting', 'active');
  say(`demo finished: ${counts.completed ?? 0} incidents handled, ${counts.failed ?? 0} failed, ${(counts.waiting ?? 0) + (counts.active ?? 0)} in flight`);
  await cleanup();
}
