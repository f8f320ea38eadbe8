import { UnrecoverableError, Worker, type Job } from 'bullmq';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { Metrics } from '../core/metrics.js';
import type { Incident } from '../core/incident.js';
import type { ClusterDirectory } from '../core/clusters.js';
import { duplicateRedis, KEY_PREFIX, type RedisClient } from '../core/queue.js';
import { asOombotError } from '../core/errors.js';
import { ProposalStore } from '../stores/proposal-store.js';
import { SnoozeStore } from '../stores/snooze-store.js';
import { ClusterCache, ClusterCaches } from '../investigate/gather.js';
import { ScaleEvents } from '../core/scale-events.js';
import { ChangeCache } from '../stores/change-cache.js';
import { IncidentHistory } from '../stores/incident-history.js';
import { KernelKills } from '../stores/kernel-kills.js';
import { AlertGroups } from '../stores/alert-groups.js';
import { RedisSharedCache } from '../stores/shared-cache.js';
import { NodeSumsReader } from '../stores/node-sums-reader.js';
import { Publisher } from './publisher.js';
import { ConsoleTransport, FIX_KILL_EVENT_TYPE, PRIORITY, SlackTransport, type AlertTransport } from './transport.js';
import { FixStore, type FixRecord } from '../stores/fix-store.js';
import { FixFollower } from './follow-fix.js';
import { undoButton } from '../alert/fix-lines.js';
import type { Button } from '@slack/types';
import { z } from 'zod';
import { AlertChangeSchema, parseChecked } from '../stores/schemas.js';
import { consoleRenderer, slackRenderer, type AlertRenderer } from './renderers.js';
import { processIncident, type ProcessResult } from './process-incident.js';
import { NEAR_LIMIT_JOB } from '../core/near-limit.js';
import { NearLimitWarnings } from '../stores/near-limit-warnings.js';
import { workingSetHistory } from '../investigate/working-set-history.js';
import { PrometheusClient } from '../core/prometheus.js';
import { processNearLimit } from './process-near-limit.js';

export interface WorkerRole {
  worker: Worker<Incident>;
  follower: FixFollower;
  publisher: Publisher;
  transport: AlertTransport;
  stop(): Promise<void>;
  readiness(): { ok: boolean; detail?: string };
}

export interface WorkerRoleOptions {
  config: Config;
  /** The clusters whose incidents this worker takes (one in a single process, every agent's in a hub). */
  clusters: ClusterDirectory;
  redis: RedisClient;
  log: Logger;
  metrics: Metrics;
  /** Overrides for tests and the demo. */
  transport?: AlertTransport;
  concurrency?: number;
  flushDelayMs?: number;
  onProcessed?: (incident: Incident, result: ProcessResult) => void;
  /** Least time between two checks of one followed fix (default 30 s; tests use less). */
  followIntervalMs?: number;
}

/** The Undo button for `proposalId` the alert shows already (with its confirmation), if any. */
function undoShown(changes: string | undefined, proposalId: string): Button | undefined {
  if (!changes) return undefined;
  const list = parseChecked(z.array(AlertChangeSchema).max(10), changes);
  return list.ok ? (list.value.find((c) => c.undo?.value === proposalId)?.undo as Button | undefined) : undefined;
}

/**
 * The worker role: takes incident jobs, enriches and diagnoses them, and posts (or prints) alerts.
 * Retryable failures (API server or Slack unreachable, rate limits beyond the wait budget) go back to
 * the queue with exponential backoff; permanent ones fail the job at once with a hint in the log.
 */
export async function startWorkerRole(opts: WorkerRoleOptions): Promise<WorkerRole> {
  const { config, clusters, redis, metrics } = opts;
  const log = opts.log;
  const transport: AlertTransport =
    opts.transport ?? (config.slack.botToken ? new SlackTransport({ token: config.slack.botToken, apiUrl: config.slack.apiUrl, log }) : new ConsoleTransport());
  const renderer: AlertRenderer = transport.kind === 'slack' ? slackRenderer : consoleRenderer;
  if (transport.kind === 'console') log.info('SLACK_BOT_TOKEN is not set: alerts are printed to the console');

  const groups = new AlertGroups(redis, config.queueName, config.groupWindowMs, opts.flushDelayMs);
  const publisher = new Publisher({
    groups,
    transport,
    log,
    renderUpdate: (model, view) => renderer.update(model, view),
    renderThread: (notes, view) => renderer.thread(notes, view),
    flushLeaseMs: config.jobLockMs,
    foldRepeats: renderer.foldsRepeats,
  });
  const memory = workingSetHistory({
    redis,
    queueName: config.queueName,
    log,
    ...(config.prometheusUrl ? { prometheus: new PrometheusClient(config.prometheusUrl) } : {}),
  });
  const history = new IncidentHistory(redis, config.queueName, config.dedupeTtlMs);
  /** A followed fix's state as one line on its alert, while the alert's group is kept. */
  const showOnAlert = async (fix: FixRecord, text: string): Promise<void> => {
    // The alert's group: as the click knew it, else as the incident's history record knows it.
    const group = fix.alert?.group ?? (await history.get(fix.incidentId))?.alert?.group;
    if (!fix.alert || !group) return;
    // The alert keeps its Undo button (the one the raise put there) while the fix is open.
    const open = fix.undoProposalId && !['reverted', 'undone'].includes(fix.state);
    const undo = open ? (undoShown((await groups.get(group)).changes, fix.undoProposalId!) ?? undoButton(fix.undoProposalId!, fix.from)) : undefined;
    if (await groups.setChange(group, fix.alert.ts, { id: `fix_${fix.id}`, text, ...(undo ? { undo } : {}) })) await publisher.refresh(group);
  };
  const fixes = new FixStore(redis, config.queueName, config.verifyWindowMs + config.dedupeTtlMs, log);
  const follower = new FixFollower({
    fixes,
    clusters,
    log: log.child({ part: 'follow-fix' }),
    metrics,
    verifyWindowMs: config.verifyWindowMs,
    ...(opts.followIntervalMs !== undefined ? { intervalMs: opts.followIntervalMs, tickMs: Math.min(1_000, opts.followIntervalMs) } : {}),
    showOnAlert,
    post: async (channel, threadTs, line) => {
      await transport.post(channel, { text: line.text, ...(line.blocks ? { blocks: line.blocks } : {}), threadTs }, PRIORITY.thread);
    },
  });
  const deps = {
    config,
    fixes,
    metrics,
    showFix: showOnAlert,
    tellThread: async (channel: string, threadTs: string, text: string, incidentId: string) => {
      // Marked with the incident, and looked for before posting, so a retried job does not post it twice.
      await transport.post(channel, { text, threadTs }, PRIORITY.thread, {
        eventType: FIX_KILL_EVENT_TYPE,
        key: 'incident_id',
        value: incidentId,
        sinceMs: 0,
        retry: true,
      });
    },
    clusters,
    caches: new ClusterCaches((cluster) => new ClusterCache(60_000, Date.now, new RedisSharedCache(redis, config.queueName, cluster))),
    nodeSums: new NodeSumsReader(redis, config.queueName),
    history,
    changes: new ChangeCache(redis, config.queueName),
    scaleEvents: new ScaleEvents(redis, config.queueName),
    kernelKills: new KernelKills(redis, config.queueName),
    proposals: new ProposalStore(redis, config.queueName, undefined, { ...(config.proposalKey ? { key: config.proposalKey } : {}), log }),
    snoozes: new SnoozeStore(redis, config.queueName),
    warnings: new NearLimitWarnings(redis, config.queueName, config.groupWindowMs),
    chart: { redis, queueName: config.queueName, transport, log, onceMs: config.dedupeTtlMs, history: memory },
    memory,
    publisher,
    renderer,
    alerts: groups,
    log,
  };

  const worker = new Worker<Incident>(
    config.queueName,
    async (job: Job<Incident>) => {
      const incident = job.data;
      try {
        if (job.name === NEAR_LIMIT_JOB) {
          const outcome = await processNearLimit(job.data, { ...deps, transport, log: log.child({ job: job.id }) }, job.attemptsMade > 0);
          metrics.jobsProcessed.inc({ outcome: `near-limit-${outcome}` });
          return { outcome };
        }
        const result = await processIncident(incident, { ...deps, log: log.child({ job: job.id }) });
        metrics.jobsProcessed.inc({ outcome: result.outcome });
        metrics.apiCallsPerIncident.observe(result.apiCalls);
        if (result.outcome === 'posted') {
          const detected = Date.parse(incident.detectedAt);
          if (Number.isFinite(detected)) metrics.alertLatency.observe(Math.max(0, Date.now() - detected) / 1000);
        }
        opts.onProcessed?.(incident, result);
        return { outcome: result.outcome, cause: result.diagnosis.cause };
      } catch (err) {
        const e = asOombotError(err);
        const lastTry = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
        if (!e.retryable || lastTry) {
          metrics.jobsProcessed.inc({ outcome: 'failed' });
          log.error({ job: job.id, code: e.code, err: e.message, hint: e.hint, attempts: job.attemptsMade + 1 }, 'alert failed for good');
          if (!e.retryable) throw new UnrecoverableError(e.message);
          throw e;
        }
        metrics.jobsProcessed.inc({ outcome: 'retry' });
        log.warn({ job: job.id, code: e.code, err: e.message, hint: e.hint, attempt: job.attemptsMade + 1 }, 'alert not sent yet: will retry');
        throw e;
      }
    },
    {
      connection: duplicateRedis(redis),
      prefix: KEY_PREFIX,
      // Most of a job's time is spent waiting for its channel's turn at Slack (about 1 message/s), not
      // working: enough slots that repeats are still counted (and listed in the first message) while
      // first posts wait. Each slot costs a pending promise; the API calls are spread over the wait.
      concurrency: opts.concurrency ?? 128,
      // A job waits for its channel's turn at Slack; keep its lock alive meanwhile (BullMQ renews it
      // every half lock). A worker that stops renewing loses its jobs to another after the lock and at
      // most one stalled-check interval; the retry does not post twice (see publisher.ts).
      lockDuration: config.jobLockMs,
      stalledInterval: Math.min(30_000, Math.max(500, Math.round(config.jobLockMs / 2))),
      maxStalledCount: 5,
    },
  );
  worker.on('error', (err) => log.warn({ err: err.message }, 'worker connection error'));
  publisher.start();
  follower.start();

  return {
    worker,
    follower,
    publisher,
    transport,
    readiness: () => (worker.isRunning() ? { ok: true } : { ok: false, detail: 'worker not running' }),
    async stop() {
      // Finish the jobs in hand (SIGTERM drain); jobs not started stay queued for another worker.
      await follower.stop();
      await worker.close();
      await publisher.stop();
    },
  };
}
