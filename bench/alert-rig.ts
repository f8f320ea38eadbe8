import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../core/config.js';
import { createLogger } from '../core/logger.js';
import { loadKubeTarget } from '../core/kube.js';
import { startOombot, type Oombot } from '../bin/start.js';
import { startSlackServer, type SlackServer } from '../sim/slack/index.js';
import type { SimChannel } from '../sim/slack/types.js';
import { deleteQueueKeys } from './delete-queue-keys.js';
import { LogTally } from './log-tally.js';
import { startSimCluster, type SimChild } from './start-sim-cluster.js';
import type { KillTarget, SimReady, SimWorkloads } from './procs/sim-protocol.js';

export interface AlertRigOptions {
  /** Pods in the cluster besides the workloads to kill. */
  backgroundPods: number;
  /** Namespaces of the workloads to kill, each with `perNamespace` Deployments of one pod. */
  namespaces: string[];
  perNamespace: number;
  /** More Deployments of `replicas` pods each (spread over the nodes), e.g. to storm. */
  more?: { namespaces: string[]; perNamespace: number; replicas: number };
  channels: SimChannel[];
  /** OOMBOT_ROUTES; alerts go to the first channel otherwise. */
  routes?: string;
  redisUrl: string;
  /** Short name for the queue, e.g. "storm". */
  name: string;
}

/**
 * All of oombot (watcher and worker, one process: this one) against a simulated cluster (a child
 * process) and the Slack-compatible server, with Slack's rate limits.
 */
export interface AlertRig {
  sim: SimChild;
  cluster: SimReady;
  slack: SlackServer;
  app: Oombot;
  queueName: string;
  logs: LogTally;
  /** One per Deployment created for the benchmark, in namespace order. */
  workloads: KillTarget[];
  /** The pods of the `more` Deployments, one target each. */
  moreWorkloads: KillTarget[];
  close(): Promise<void>;
}

export async function startAlertRig(opts: AlertRigOptions): Promise<AlertRig> {
  const { sim, ready, close: closeSim } = await startSimCluster(opts.backgroundPods);
  const queueName = `bench-${opts.name}-${randomUUID().slice(0, 8)}`;
  let slack: SlackServer | undefined;
  let app: Oombot | undefined;
  const close = async () => {
    await app?.stop();
    await slack?.close();
    await closeSim();
    await deleteQueueKeys(opts.redisUrl, queueName);
  };
  try {
    const { workloads } = await sim.ask<SimWorkloads>({ cmd: 'workloads', namespaces: opts.namespaces, perNamespace: opts.perNamespace }, 'workloads');
    const moreWorkloads = opts.more ? (await sim.ask<SimWorkloads>({ cmd: 'workloads', ...opts.more }, 'workloads')).workloads : [];
    slack = await startSlackServer({ channels: opts.channels });
    const config = loadConfig({
      REDIS_URL: opts.redisUrl,
      OOMBOT_QUEUE: queueName,
      SLACK_BOT_TOKEN: slack.token,
      SLACK_API_URL: slack.apiUrl,
      SLACK_CHANNEL: `#${opts.channels[0]!.name}`,
      OOMBOT_ROUTES: opts.routes ?? '',
      PORT: '0',
      LOG_LEVEL: 'info',
    });
    const logs = new LogTally();
    app = await startOombot({
      config,
      roles: ['watcher', 'worker'],
      log: createLogger('info', logs),
      kubeTarget: loadKubeTarget({ kubeconfig: ready.kubeconfig, clusterName: 'bench' }),
      host: '127.0.0.1',
    });
    const deadline = Date.now() + 600_000;
    for (;;) {
      const readiness = await app.http.readiness();
      if (readiness.ok) break;
      if (Date.now() > deadline) throw new Error(`oombot not ready after 10 min: ${JSON.stringify(readiness)}`);
      await sleep(50);
    }
    return { sim, cluster: ready, slack, app, queueName, logs, workloads, moreWorkloads, close };
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
}
