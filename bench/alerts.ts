import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../core/config.js';
import { createLogger } from '../core/logger.js';
import { loadKubeTarget } from '../core/kube.js';
import { startOombot, type Oombot } from '../core/start.js';
import { ManualClock, SimCluster, startSimApiServer, type SimApiServer } from '../sim/kube/index.js';
import { startSlackServer, type SlackServer } from '../sim/slack/index.js';
import type { SimChannel } from '../sim/slack/types.js';

export interface LatencyFigures {
  rate: number;
  incidents: number;
  delivered: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  apiCallsPerIncident: number;
}

export interface StormFigures {
  kills: number;
  deployments: number;
  slackCalls: number;
  postMessages: number;
  updates: number;
  rateLimited: number;
  drainSeconds: number;
  floorSeconds: number;
  lost: number;
}

interface Rig {
  cluster: SimCluster;
  kube: SimApiServer;
  slack: SlackServer;
  app: Oombot;
  clock: ManualClock;
  close(): Promise<void>;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

async function rig(opts: { namespaces: string[]; deploymentsPerNamespace: number; channels: SimChannel[]; routes?: string; queue: string }): Promise<Rig> {
  const clock = new ManualClock(Date.now() - 3600_000);
  const cluster = new SimCluster({ clock, historySize: 100_000 });
  cluster.addNodes(10, { memory: '64Gi' });
  for (const ns of opts.namespaces) {
    cluster.addNamespace(ns);
    for (let d = 0; d < opts.deploymentsPerNamespace; d++) {
      cluster.createDeployment({ name: `app-${d}`, namespace: ns, replicas: 1, memoryRequest: '256Mi', memoryLimit: '512Mi' });
    }
  }
  clock.advance(3600_000 - 60_000);
  const kube = await startSimApiServer({ cluster, bookmarkIntervalMs: 5_000 });
  const kubeconfig = kube.writeKubeconfig(join(mkdtempSync(join(tmpdir(), 'oombot-bench-')), 'kubeconfig'));
  const slack = await startSlackServer({ channels: opts.channels });
  const config = loadConfig({
    REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
    OOMBOT_QUEUE: opts.queue,
    SLACK_BOT_TOKEN: slack.token,
    SLACK_API_URL: slack.apiUrl,
    SLACK_CHANNEL: `#${opts.channels[0]!.name}`,
    OOMBOT_ROUTES: opts.routes ?? '',
    PORT: '0',
    LOG_LEVEL: 'silent',
  });
  const app = await startOombot({ config, roles: ['watcher', 'worker'], log: createLogger('silent'), kubeTarget: loadKubeTarget({ kubeconfig, clusterName: 'bench' }), host: '127.0.0.1' });
  while (!(await app.http.readiness()).ok) await sleep(50);
  return {
    cluster,
    kube,
    slack,
    app,
    clock,
    async close() {
      await app.stop();
      await kube.close();
      await slack.close();
      const keys = await scanDelete(app, opts.queue);
      void keys;
    },
  };
}

async function scanDelete(app: Oombot, queue: string): Promise<number> {
  const { Redis } = await import('ioredis');
  const r = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  let cursor = '0';
  let n = 0;
  do {
    const [next, keys] = await r.scan(cursor, 'MATCH', `oombot:${queue}:*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) n += await r.del(...keys);
  } while (cursor !== '0');
  r.disconnect();
  void app;
  return n;
}

function podOf(cluster: SimCluster, ns: string, deploy: string): string | undefined {
  return cluster.list('pods', ns).find((p) => (p.metadata.name as string).startsWith(`${deploy}-`))?.metadata.name as string | undefined;
}

/**
 * End-to-end latency: pod status change on the simulated API server → alert arriving at the
 * Slack-compatible server, at a steady `rate` incidents/s, each a new workload (so each posts),
 * spread over 20 namespaces routed to 20 channels (Slack allows about 1 message/s per channel).
 */
export async function benchLatency(rate: number, seconds: number, log: (l: string) => void): Promise<LatencyFigures> {
  const namespaces = Array.from({ length: 20 }, (_, i) => `team-${i}`);
  const perNs = Math.ceil((rate * seconds) / namespaces.length) + 1;
  const channels = namespaces.map((ns, i) => ({ id: `C0TEAM${String(i).padStart(4, '0')}`, name: ns, member: true }));
  const r = await rig({ namespaces, deploymentsPerNamespace: perNs, channels, routes: namespaces.map((ns) => `${ns}=#${ns}`).join(','), queue: `bench-latency-${Date.now().toString(36)}` });
  try {
    const started = new Map<string, number>();
    const total = rate * seconds;
    const t0 = performance.now();
    for (let i = 0; i < total; i++) {
      const due = t0 + (i * 1000) / rate;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const ns = namespaces[i % namespaces.length]!;
      const deploy = `app-${Math.floor(i / namespaces.length)}`;
      const pod = podOf(r.cluster, ns, deploy);
      if (!pod) continue;
      r.cluster.setUsage(ns, pod, deploy, 511 * 2 ** 20);
      started.set(pod, Date.now());
      r.cluster.oomKill(ns, pod, deploy, { then: 'running' });
    }
    const deadline = Date.now() + 60_000;
    const arrived = new Map<string, number>();
    while (Date.now() < deadline && arrived.size < started.size) {
      for (const c of r.slack.callsTo('chat.postMessage')) {
        if (!c.ok || c.args.thread_ts) continue;
        const text = String(c.args.text ?? '');
        for (const pod of started.keys()) if (!arrived.has(pod) && text.includes(pod)) arrived.set(pod, c.at);
      }
      await sleep(200);
    }
    const latencies = [...arrived].map(([pod, at]) => at - started.get(pod)!).sort((a, b) => a - b);
    const metrics = await r.app.metrics.apiCallsPerIncident.get();
    const sum = metrics.values.find((v) => v.metricName?.endsWith('_sum'))?.value ?? 0;
    const count = metrics.values.find((v) => v.metricName?.endsWith('_count'))?.value ?? 1;
    const fig: LatencyFigures = {
      rate,
      incidents: started.size,
      delivered: arrived.size,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      maxMs: latencies.at(-1) ?? NaN,
      apiCallsPerIncident: sum / count,
    };
    log(`  ${fig.incidents} incidents at ${rate}/s: delivered ${fig.delivered}, p50 ${fig.p50Ms.toFixed(0)} ms, p99 ${fig.p99Ms.toFixed(0)} ms, max ${fig.maxMs.toFixed(0)} ms, ${fig.apiCallsPerIncident.toFixed(1)} Kubernetes API calls per incident`);
    return fig;
  } finally {
    await r.close();
  }
}

/**
 * Storm: `kills` OOM kills across `deployments` Deployments within `windowSeconds`, one channel,
 * against a Slack-compatible server enforcing 1 message/s per channel with 429s.
 */
export async function benchStorm(kills: number, deployments: number, windowSeconds: number, log: (l: string) => void): Promise<StormFigures> {
  const channels = [{ id: 'C0ALERTS', name: 'alerts', member: true }];
  const r = await rig({ namespaces: ['shop'], deploymentsPerNamespace: deployments, channels, queue: `bench-storm-${Date.now().toString(36)}` });
  try {
    const t0 = performance.now();
    const pods = Array.from({ length: deployments }, (_, d) => podOf(r.cluster, 'shop', `app-${d}`)!);
    for (let i = 0; i < kills; i++) {
      const due = t0 + (i * windowSeconds * 1000) / kills;
      const wait = due - performance.now();
      if (wait > 0) await sleep(wait);
      const d = i % deployments;
      // Each round of kills is a new termination of each container: step the kubelet's clock.
      if (d === 0) r.clock.advance(15_000);
      r.cluster.oomKill('shop', pods[d]!, `app-${d}`, { then: 'running' });
    }
    // Drained: every job done, no repeats waiting to be flushed.
    const queue = r.app.queue;
    for (;;) {
      const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
      const dirty = await r.app.redis.zcard(`oombot:${queue.name}:dirty`);
      if ((c.completed ?? 0) + (c.failed ?? 0) >= kills && (c.waiting ?? 0) + (c.active ?? 0) + (c.delayed ?? 0) === 0 && dirty === 0) break;
      await sleep(250);
    }
    const drainSeconds = (performance.now() - t0) / 1000;
    const calls = r.slack.calls.filter((c) => c.method === 'chat.postMessage' || c.method === 'chat.update');
    const top = r.slack.messagesIn('#alerts');
    // Lost = kills not shown in Slack: each group's count shown by its message (posted or updated).
    let shown = 0;
    let cursor = '0';
    do {
      const [next, keys] = await r.app.redis.scan(cursor, 'MATCH', `oombot:${queue.name}:group:*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys.filter((k) => !/:(ids|pending|flushing)$/.test(k))) {
        const h = await r.app.redis.hgetall(key);
        if (h.ts && r.slack.message('#alerts', h.ts)) shown += Number(h.shown ?? 0);
      }
    } while (cursor !== '0');
    const represented = shown;
    const fig: StormFigures = {
      kills,
      deployments,
      slackCalls: calls.length,
      postMessages: calls.filter((c) => c.method === 'chat.postMessage' && c.ok).length,
      updates: calls.filter((c) => c.method === 'chat.update' && c.ok).length,
      rateLimited: calls.filter((c) => c.status === 429).length,
      drainSeconds,
      floorSeconds: deployments,
      lost: Math.max(0, kills - represented),
    };
    log(`  ${kills} kills / ${deployments} Deployments: ${top.length} messages, ${fig.postMessages} posts (incl. thread replies), ${fig.updates} updates, ${fig.rateLimited} answered 429; drained in ${drainSeconds.toFixed(0)} s (floor ${fig.floorSeconds} s, ratio ${(drainSeconds / fig.floorSeconds).toFixed(2)}); lost ${fig.lost}`);
    return fig;
  } finally {
    await r.close();
  }
}
