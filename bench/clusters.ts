import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig, parseRoles } from '../core/config.js';
import { createLogger } from '../core/logger.js';
import { loadKubeTarget } from '../core/kube.js';
import { startOombot, type Oombot } from '../bin/start.js';
import { startSlackServer, type SlackServer } from '../sim/slack/index.js';
import { alertLatencies, isAlert, percentile } from './alert-times.js';
import { Child } from './child.js';
import { isIncidentCall, type KubeCallKind } from './classify-kube-call.js';
import { deleteQueueKeys } from './delete-queue-keys.js';
import type { ClustersFigures } from './figures.js';
import type { HubCommand, HubCpu, HubReady } from './procs/hub-protocol.js';
import type { KillTarget, SimCalls, SimKilled, SimWorkloads } from './procs/sim-protocol.js';
import { startSimCluster, type RunningSimCluster } from './start-sim-cluster.js';

async function ready(app: Oombot, what: string): Promise<void> {
  for (const deadline = Date.now() + 300_000; ; ) {
    const r = await app.http.readiness();
    if (r.ok) return;
    if (Date.now() > deadline) throw new Error(`${what} not ready after 5 min: ${JSON.stringify(r)}`);
    await sleep(50);
  }
}

/**
 * Many clusters, one hub: `clusters` simulated clusters (each its own process), an agent for each
 * (`--roles agent`, all in this process), and a hub (`--roles worker,bot`, a process of its own with no
 * kubeconfig) posting to the Slack-compatible server. Each cluster's workloads live in a namespace of
 * their own, routed to a channel of its own, and are OOM-killed at `ratePerCluster` a second for
 * `seconds`, every kill a new workload (so each posts). Measures the time from each kill to its alert
 * at Slack, and the hub's CPU: every read the hub needs goes through the cluster's agent over Redis.
 */
export async function benchClusters(
  opts: { clusters: number; podsPerCluster: number; ratePerCluster: number; seconds: number; redisUrl: string },
  log: (line: string) => void,
): Promise<ClustersFigures> {
  const queueName = `bench-clusters-${opts.clusters}-${randomUUID().slice(0, 8)}`;
  const proposalKey = randomBytes(24).toString('hex');
  const names = Array.from({ length: opts.clusters }, (_, i) => `c${String(i).padStart(2, '0')}`);
  const perCluster = Math.ceil(opts.ratePerCluster * opts.seconds);
  const sims: RunningSimCluster[] = [];
  const agents: Oombot[] = [];
  let slack: SlackServer | undefined;
  let hub: Child<HubCommand> | undefined;
  const home = mkdtempSync(join(tmpdir(), 'oombot-hub-home-'));
  try {
    for (const _ of names) sims.push(await startSimCluster(opts.podsPerCluster));
    const targets: KillTarget[][] = [];
    for (const [i, sim] of sims.entries()) {
      const { workloads } = await sim.sim.ask<SimWorkloads>({ cmd: 'workloads', namespaces: [`team-${names[i]}`], perNamespace: perCluster }, 'workloads');
      targets.push(workloads);
    }
    slack = await startSlackServer({ channels: names.map((n, i) => ({ id: `C0HUB${String(i).padStart(5, '0')}`, name: `team-${n}`, member: true })) });
    const common = { REDIS_URL: opts.redisUrl, OOMBOT_QUEUE: queueName, OOMBOT_PROPOSAL_KEY: proposalKey, PORT: '0', LOG_LEVEL: 'warn' };
    for (const [i, sim] of sims.entries()) {
      const app = await startOombot({
        config: loadConfig({ ...common, CLUSTER_NAME: names[i]! }),
        roles: parseRoles('agent'),
        log: createLogger('warn'),
        kubeTarget: loadKubeTarget({ kubeconfig: sim.ready.kubeconfig, clusterName: names[i]! }),
        host: '127.0.0.1',
      });
      agents.push(app);
      await ready(app, `the agent of ${names[i]}`);
    }
    const hubEnv = {
      ...common,
      SLACK_BOT_TOKEN: slack.token,
      SLACK_API_URL: slack.apiUrl,
      SLACK_SIGNING_SECRET: randomBytes(16).toString('hex'),
      SLACK_CHANNEL: `#team-${names[0]}`,
      // Someone may click: the hub starts as it would in use, without the warning that nobody can.
      OOMBOT_APPROVERS: 'U0BENCHAPPROVER',
      LOG_LEVEL: process.env.OOMBOT_BENCH_HUB_LOG ?? 'warn',
      OOMBOT_ROUTES: names.map((n) => `team-${n}=#team-${n}`).join(','),
    };
    // No kubeconfig reaches the hub: an empty HOME, no KUBECONFIG, not in a pod.
    const { KUBECONFIG: _k, KUBERNETES_SERVICE_HOST: _h, ...parentEnv } = process.env;
    hub = new Child<HubCommand>('./procs/hub.js', [JSON.stringify(hubEnv)], { env: { ...parentEnv, HOME: home } });
    await hub.next<HubReady>('hubReady', 300_000);

    for (const sim of sims) await sim.sim.ask<SimCalls>({ cmd: 'calls' }, 'calls');
    await hub.ask<HubCpu>({ cmd: 'cpu' }, 'cpuMs');
    const started = performance.now();
    const runs = await Promise.all(
      sims.map((sim, i) =>
        sim.sim.ask<SimKilled>({ cmd: 'kill', targets: targets[i]!, perSecond: opts.ratePerCluster }, 'killed', (opts.seconds + 120) * 1000),
      ),
    );
    const killed = runs.flatMap((r) => r.killed);
    await slack.waitFor(() => slack!.calls.filter(isAlert).length >= killed.length, 120_000).catch(() => undefined);
    const wallMs = performance.now() - started;
    const { cpuMs, rssBytes } = await hub.ask<HubCpu>({ cmd: 'cpu' }, 'cpuMs');

    // Each cluster's namespace is its own, so "namespace/pod" names one kill across every cluster.
    const latencies = alertLatencies(slack.calls, killed, (k) => `${k.namespace}/${k.pod}`);
    let kubeCalls = 0;
    for (const sim of sims) {
      const { calls } = await sim.sim.ask<SimCalls>({ cmd: 'calls' }, 'calls');
      for (const [kind, n] of Object.entries(calls)) if (isIncidentCall(kind as KubeCallKind)) kubeCalls += n;
    }
    const fig: ClustersFigures = {
      clusters: opts.clusters,
      podsPerCluster: opts.podsPerCluster,
      ratePerCluster: opts.ratePerCluster,
      seconds: opts.seconds,
      incidents: killed.length,
      delivered: latencies.length,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      maxMs: latencies.at(-1) ?? NaN,
      hubCpuMsPerIncident: cpuMs / Math.max(1, killed.length),
      hubCpuShare: cpuMs / wallMs,
      hubRssBytes: rssBytes,
      kubeCallsPerIncident: kubeCalls / Math.max(1, killed.length),
      maxKillLagMs: Math.max(...runs.map((r) => r.maxLagMs)),
    };
    log(
      `  ${fig.clusters} cluster(s), ${fig.incidents} incidents (${fig.ratePerCluster}/s each), delivered ${fig.delivered}: p50 ${fig.p50Ms.toFixed(0)} ms, p99 ${fig.p99Ms.toFixed(0)} ms, max ${fig.maxMs.toFixed(0)} ms; ` +
        `hub CPU ${fig.hubCpuMsPerIncident.toFixed(1)} ms per incident (${(fig.hubCpuShare * 100).toFixed(0)}% of a core), hub RSS ${(fig.hubRssBytes / 2 ** 20).toFixed(0)} MiB; ` +
        `${fig.kubeCallsPerIncident.toFixed(2)} API calls per incident through the agents`,
    );
    return fig;
  } finally {
    await hub?.kill();
    for (const app of agents) await app.stop().catch(() => undefined);
    await slack?.close();
    for (const sim of sims) await sim.close().catch(() => undefined);
    await deleteQueueKeys(opts.redisUrl, queueName).catch(() => undefined);
    rmSync(home, { recursive: true, force: true });
  }
}
