import { Redis } from 'ioredis';
import { Queue, type JobsOptions } from 'bullmq';
import type { Incident } from './incident.js';

/** Every Redis key oombot writes starts with this, so a shared Redis stays readable. */
export const KEY_PREFIX = 'oombot';

const DAY_MS = 24 * 3600 * 1000;

/**
 * Retries for a job: transient failures (Slack 5xx, 429, API server hiccups) back off for about
 * an hour in all before a job is failed; failed jobs are kept a week for inspection.
 * Completed jobs are kept a day: the job id then still blocks a re-add while the separate dedupe key
 * (watchers/incident-sink.ts) covers the longer window. Neither outlives the dedupe window when that
 * is set shorter, so that everything oombot keeps about an incident is gone after it.
 */
export function incidentJobOptions(dedupeTtlMs = 7 * DAY_MS): JobsOptions {
  const seconds = (ms: number) => Math.max(1, Math.ceil(ms / 1000));
  return {
    attempts: 12,
    backoff: { type: 'exponential', delay: 2_000 },
    removeOnComplete: { age: seconds(Math.min(DAY_MS, dedupeTtlMs)), count: 100_000 },
    removeOnFail: { age: seconds(Math.min(7 * DAY_MS, dedupeTtlMs)) },
  };
}

export const INCIDENT_JOB_OPTIONS: JobsOptions = incidentJobOptions();

/** An ioredis connection as BullMQ wants it (no per-request retry limit: it waits for Redis to return). */
export function connectRedis(url: string, opts: { lazyConnect?: boolean; name?: string } = {}): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    lazyConnect: opts.lazyConnect ?? false,
    connectionName: opts.name,
    retryStrategy: (times) => Math.min(200 * times, 5_000),
  });
}

export function createIncidentQueue(connection: Redis, name: string, opts: { dedupeTtlMs?: number } = {}): Queue<Incident> {
  return new Queue<Incident>(name, {
    connection,
    prefix: KEY_PREFIX,
    defaultJobOptions: incidentJobOptions(opts.dedupeTtlMs),
  });
}

/** Key that remembers an incident id for the dedupe window. */
export function seenKey(queueName: string, incidentId: string): string {
  return `${KEY_PREFIX}:${queueName}:seen:${incidentId}`;
}

/** Key where watchers record that they were running, so a restart knows how far back to look. */
export function heartbeatKey(queueName: string, cluster: string): string {
  return `${KEY_PREFIX}:${queueName}:heartbeat:${cluster}`;
}
