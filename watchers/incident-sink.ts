import type { Redis } from 'ioredis';
import type { Queue } from 'bullmq';
import type { Logger } from '../core/logger.js';
import type { Metrics } from '../core/metrics.js';
import { describeSubject, type Incident } from '../core/incident.js';
import { errorMessage } from '../core/errors.js';
import { seenKey } from '../core/queue.js';

export type SubmitResult = 'enqueued' | 'duplicate' | 'deferred';

export interface IncidentSinkDeps {
  queue: Queue<Incident>;
  redis: Redis;
  queueName: string;
  dedupeTtlMs: number;
  metrics: Metrics;
  log: Logger;
  /** How long one enqueue may take before it is deferred and retried in the background. */
  timeoutMs?: number;
  retryEveryMs?: number;
  /**
   * Writes a kill seen in a pod's status on a first look, older than the look-back, into the incident
   * history (not an alert). Without it such kills are dropped.
   */
  history?: (incident: Incident) => Promise<void>;
}

/**
 * Puts each incident on the queue exactly once, whoever detects it and however often.
 *
 * Two guards, in this order:
 * 1. a `seen` key per incident id with a TTL (the dedupe window, default 7 days): present means done;
 * 2. the BullMQ job id is the incident id: adding an id that exists is a no-op, so two replicas
 *    racing past guard 1 at the same moment still create one job.
 * The `seen` key is written after the job, so a crash between the two leaves a job and no key;
 * the next attempt then re-adds the same id, which BullMQ ignores. Nothing is lost, nothing doubles.
 *
 * When Redis is unreachable the incident is kept in memory and retried until it lands.
 */
export class IncidentSink {
  private readonly pending = new Map<string, Incident>();
  private retryTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly deps: IncidentSinkDeps) {}

  get pendingCount(): number {
    return this.pending.size;
  }

  /** Whether this incident waits in memory for Redis (deferred, not queued yet). */
  isPending(id: string): boolean {
    return this.pending.has(id);
  }

  async submit(incident: Incident, cluster = incident.cluster): Promise<SubmitResult> {
    // Redis known to be away: defer at once. Waiting out the timeout for each incident would hold up
    // the watch behind it for as long as Redis is down, and delay every alert after it.
    if (this.redisAway() && !this.pending.has(incident.id)) return this.defer(incident, cluster, new Error(`Redis connection is ${this.deps.redis.status}`));
    try {
      const result = await withTimeout(this.enqueue(incident), this.deps.timeoutMs ?? 5_000);
      this.pending.delete(incident.id);
      const counter = result === 'enqueued' ? this.deps.metrics.incidentsEnqueued : this.deps.metrics.duplicatesDropped;
      counter.inc({ cluster, kind: incident.kind });
      if (result === 'enqueued') {
        this.deps.log.info(
          { incident: incident.id, kind: incident.kind, subject: describeSubject(incident), occurredAt: incident.occurredAt },
          'incident queued',
        );
      } else {
        this.deps.log.debug({ incident: incident.id }, 'incident already queued');
      }
      return result;
    } catch (err) {
      return this.defer(incident, cluster, err);
    }
  }

  /**
   * Records an incident as history, not an alert: written to the history once, and its id marked seen, so
   * the same kill is never queued as an alert later (by this watcher, another replica or a restart).
   * Best effort: history that cannot be written now is simply not there (nothing is alerted instead).
   */
  async recordHistory(incident: Incident): Promise<'recorded' | 'duplicate' | 'skipped'> {
    const { redis, queueName, dedupeTtlMs, history, log } = this.deps;
    if (!history || this.redisAway()) return 'skipped';
    const key = seenKey(queueName, incident.id);
    try {
      if ((await withTimeout(redis.exists(key), this.deps.timeoutMs ?? 5_000)) === 1) return 'duplicate';
      await withTimeout(history(incident), this.deps.timeoutMs ?? 5_000);
      await redis.set(key, incident.occurredAt, 'PX', dedupeTtlMs, 'NX');
      log.debug({ incident: incident.id, kind: incident.kind, subject: describeSubject(incident), occurredAt: incident.occurredAt }, 'recorded as history');
      return 'recorded';
    } catch (err) {
      log.debug({ incident: incident.id, err: errorMessage(err) }, 'history not recorded');
      return 'skipped';
    }
  }

  /** Lost (reconnecting), or not back yet while incidents already wait for it. */
  private redisAway(): boolean {
    const status = this.deps.redis.status;
    if (status === 'ready') return false;
    return status === 'reconnecting' || status === 'close' || status === 'end' || this.pending.size > 0;
  }

  private defer(incident: Incident, cluster: string, err: unknown): 'deferred' {
    const fresh = !this.pending.has(incident.id);
    this.pending.set(incident.id, incident);
    this.deps.metrics.enqueueFailures.inc({ cluster });
    if (fresh) {
      this.deps.log.warn(
        { incident: incident.id, err: errorMessage(err), pending: this.pending.size },
        'cannot queue incident yet (is Redis reachable?): will retry',
      );
    }
    this.scheduleRetry();
    return 'deferred';
  }

  private async enqueue(incident: Incident): Promise<'enqueued' | 'duplicate'> {
    const { redis, queue, queueName, dedupeTtlMs } = this.deps;
    const key = seenKey(queueName, incident.id);
    if ((await redis.exists(key)) === 1) return 'duplicate';
    await queue.add(incident.kind, incident, { jobId: incident.id });
    const won = await redis.set(key, incident.occurredAt, 'PX', dedupeTtlMs, 'NX');
    return won === 'OK' ? 'enqueued' : 'duplicate';
  }

  private scheduleRetry(): void {
    if (this.retryTimer || this.closed) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.flush();
    }, this.deps.retryEveryMs ?? 2_000);
    this.retryTimer.unref();
  }

  /** Retries every deferred incident once; reschedules itself while some remain. */
  async flush(): Promise<void> {
    for (const incident of [...this.pending.values()]) {
      if (this.closed) return;
      // Redis still down: stop here, the failed submit has already scheduled the next round.
      if ((await this.submit(incident)) === 'deferred') return;
    }
  }

  /** Stops retrying; returns the incidents that never landed (they are detected again after a restart). */
  close(): Incident[] {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    return [...this.pending.values()];
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
