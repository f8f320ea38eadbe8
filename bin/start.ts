import type { RedisClient } from '../core/queue.js';
import type { Queue } from 'bullmq';
import type { Config, Role } from '../core/config.js';
import { createLogger, type Logger } from '../core/logger.js';
import { Metrics } from '../core/metrics.js';
import { HttpServer } from '../core/http-server.js';
import { connectRedis, createIncidentQueue } from '../core/queue.js';
import { hasKubeConfig, KubeHttp, loadKubeTarget, type KubeTarget } from '../core/kube.js';
import type { ClusterDirectory } from '../core/clusters.js';
import { AgentClusters, AgentLink } from '../core/agent-link.js';
import { OombotError, errorMessage } from '../core/errors.js';
import type { Incident } from '../core/incident.js';
import { redactUrl } from '../core/redact.js';
import type { RoleContext, RoleHandle, RoleStarter } from '../core/role.js';
import type { NearLimitJob } from '../core/near-limit.js';

export interface Oombot {
  port: number;
  http: HttpServer;
  metrics: Metrics;
  redis: RedisClient;
  queue: Queue<Incident>;
  log: Logger;
  kubeTarget: KubeTarget | undefined;
  roles: Partial<Record<Role, RoleHandle>>;
  /** Drains in-flight work, closes every connection. */
  stop(): Promise<void>;
}

/** The context of a role that follows this process's own cluster: its client, and the name incidents give it. */
function ownCluster<C extends RoleContext>(ctx: C): C & { kube: KubeHttp; cluster: string } {
  const kube = ctx.kube();
  return { ...ctx, kube, cluster: kube.target.clusterName };
}

// Each role's code is loaded only when the role runs: a process running one role (the node agent on
// every node, above all) does not carry the others' libraries (Bolt, the BullMQ worker) in memory.
const watcherRole: RoleStarter = async (ctx) => {
  const { startWatcherRole } = await import('../watchers/start-watcher.js');
  const { IncidentHistory, historyFromStatus } = await import('../stores/incident-history.js');
  // Kills already in pod status at a first look are written to the incident history, not alerted.
  const history = new IncidentHistory(ctx.redis, ctx.config.queueName, ctx.config.dedupeTtlMs);
  return startWatcherRole({ ...ownCluster(ctx), history: (incident) => history.add(historyFromStatus(incident)) });
};

const nodeAgentRole: RoleStarter = async (ctx) => {
  const { startNodeAgentRole } = await import('../watchers/node-agent/start-node-agent.js');
  return startNodeAgentRole(ownCluster(ctx));
};

const workerRole: RoleStarter = async (ctx) => {
  const { startWorkerRole } = await import('../handlers/start-worker.js');
  return startWorkerRole({ ...ctx, clusters: ctx.clusters() });
};

const botRole: RoleStarter = async (ctx) => (await import('../bot/start-bot.js')).botRole(ctx);

const agentRole: RoleStarter = async (ctx) => {
  const { startAgentRole } = await import('../agent/start-agent.js');
  return startAgentRole(ownCluster(ctx));
};

const samplerRole: RoleStarter = async (ctx) => {
  const { startSamplerRole } = await import('../sampler/start-sampler.js');
  // Near-limit warnings share the incidents' queue (job name "near-limit"), so the worker posts them.
  return startSamplerRole({ ...ownCluster(ctx), queue: ctx.queue as unknown as Queue<NearLimitJob> });
};

/** Role starters by name. Roles register here; the order of `roles` is the start order. */
export const ROLE_STARTERS: Partial<Record<Role, RoleStarter>> = {
  watcher: watcherRole,
  worker: workerRole,
  bot: botRole,
  sampler: samplerRole,
  'node-agent': nodeAgentRole,
  agent: agentRole,
};

/**
 * Starts the chosen roles in one process behind one HTTP server. The HTTP server comes up first so
 * /healthz answers while Redis or the API server are still out of reach; neither being down is fatal:
 * both are retried, and /readyz says what is missing.
 */
export interface StartOptions {
  config: Config;
  roles: Role[];
  log?: Logger;
  /**
   * The cluster this process holds credentials for: loaded from the kubeconfig on first use when absent;
   * `null` for none at all (a hub, which reaches every cluster through its agent).
   */
  kubeTarget?: KubeTarget | null;
  host?: string;
}

export async function startOombot(opts: StartOptions): Promise<Oombot> {
  const { config, roles } = opts;
  const log = opts.log ?? createLogger(config.logLevel);
  const metrics = new Metrics();
  const http = new HttpServer({ log, metrics });

  const redis = connectRedis(config.redisUrl, { name: 'oombot' });
  let lastRedisError = '';
  let lastRedisLog = 0;
  redis.on('error', (err: Error) => {
    const msg = errorMessage(err) || (err as { code?: string }).code || 'connection error';
    lastRedisError = msg;
    if (Date.now() - lastRedisLog > 10_000) {
      lastRedisLog = Date.now();
      log.error(
        { redis: redactUrl(config.redisUrl), err: msg },
        'cannot reach Redis: start one (redis-server, or docker compose up redis) or set REDIS_URL; retrying',
      );
    }
  });
  redis.on('ready', () => {
    if (lastRedisError) log.info({ redis: redactUrl(config.redisUrl) }, 'Redis reachable again');
    lastRedisError = '';
  });
  const queue = createIncidentQueue(redis, config.queueName, { dedupeTtlMs: config.dedupeTtlMs });
  queue.on('error', (err) => log.debug({ err: errorMessage(err) }, 'queue error'));

  http.addReadinessCheck({
    name: 'redis',
    check: async () => {
      if (redis.status !== 'ready') return { ok: false, detail: lastRedisError || redis.status };
      const pong = await Promise.race([redis.ping(), new Promise<string>((r) => setTimeout(() => r('timeout'), 1_000).unref())]);
      return pong === 'PONG' ? { ok: true } : { ok: false, detail: `ping: ${pong}` };
    },
  });
  metrics.onCollect(async () => {
    if (redis.status !== 'ready') return;
    const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized');
    for (const [state, n] of Object.entries(counts)) metrics.queueDepth.set({ state }, n);
  });

  let kubeTarget = opts.kubeTarget ?? undefined;
  let kubeHttp: KubeHttp | undefined;
  const kube = (): KubeHttp => {
    if (opts.kubeTarget === null) {
      throw new OombotError('CONFIG', `roles ${roles.join(', ')} need a cluster of their own, and this process runs as a hub without one`, {
        hint: 'give it a kubeconfig (KUBECONFIG, or in-cluster), or run only the worker and the bot here and an agent in each cluster',
      });
    }
    kubeTarget ??= loadKubeTarget({ kubeconfig: config.kubeconfig, clusterName: config.clusterName });
    kubeHttp ??= new KubeHttp(kubeTarget);
    return kubeHttp;
  };
  // The clusters the worker and the bot reach: the kubeconfig's, when this process has one (a single
  // process, or an agent), and every cluster whose agent answers on this Redis (a hub has only those).
  const local = opts.kubeTarget !== null && (opts.kubeTarget !== undefined || hasKubeConfig(config.kubeconfig));
  let directory: ClusterDirectory | undefined;
  const clusters = (): ClusterDirectory => {
    directory ??= new AgentClusters(
      new AgentLink(redis, config.queueName, { log, ...(config.proposalKey ? { key: config.proposalKey } : {}) }),
      local
        ? () => {
            const k = kube();
            return { name: k.target.clusterName, kube: k };
          }
        : undefined,
    );
    return directory;
  };

  if (!config.proposalKey && roles.includes('worker') !== roles.includes('bot')) {
    log.warn(
      { roles },
      'OOMBOT_PROPOSAL_KEY is not set: fix proposals are signed with a key of this process only, so a bot in another process refuses them. Set the same OOMBOT_PROPOSAL_KEY for the worker and the bot',
    );
  }
  const port = await http.listen(config.port, opts.host);
  log.info({ port, roles }, 'oombot listening (GET /healthz, /readyz, /metrics)');

  const handles: Partial<Record<Role, RoleHandle>> = {};
  const ctx: RoleContext = { config, log, metrics, http, redis, queue, kube, clusters };
  try {
    for (const role of roles) {
      const starter = ROLE_STARTERS[role];
      if (!starter) throw new Error(`role "${role}" is not available in this build`);
      const handle = await starter({ ...ctx, log: log.child({ role }) });
      handles[role] = handle;
      if (handle.readiness) http.addReadinessCheck({ name: role, check: async () => handle.readiness!() });
    }
  } catch (err) {
    await Promise.allSettled(Object.values(handles).map((h) => h.stop()));
    await http.close();
    await queue.close().catch(() => undefined);
    redis.disconnect();
    throw err;
  }

  let stopping: Promise<void> | undefined;
  return {
    port,
    http,
    metrics,
    redis,
    queue,
    log,
    get kubeTarget() {
      return kubeTarget;
    },
    roles: handles,
    stop() {
      stopping ??= (async () => {
        log.info('stopping: draining in-flight work');
        // Stop taking new work first (watchers), then finish what is in flight (workers, bot).
        for (const role of ['node-agent', 'watcher', 'sampler', 'bot', 'worker', 'agent'] as const) {
          const h = handles[role];
          if (h) await h.stop().catch((err: unknown) => log.error({ role, err: errorMessage(err) }, 'role did not stop cleanly'));
        }
        await http.close();
        await directory?.close();
        await kubeHttp?.close();
        await queue.close().catch(() => undefined);
        await redis.quit().catch(() => redis.disconnect());
        log.info('stopped');
      })();
      return stopping;
    },
  };
}
