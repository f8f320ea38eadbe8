import { Redis } from 'ioredis';
import { Queue, type JobsOptions } from 'bullmq';
import type { Incident } from './incident.js';

/** Every Redis key oombot writes starts with this, so a shared Redis stays readable. */
export const KEY_PREFIX = 'oombot';

/**
 * Retries for a job: transient failures (Slack 5xx, 429, API server hiccups) back off for about
 * an hour in all before a job is failed; failed jobs are kept a week for inspection.
 * Completed jobs are kept a day: the job id then still blocks a re-add while the separate dedupe key
 * (watchers/incident-sink.ts) covers the longer window.
 */
export const INCIDENT_JOB_OPTIONS: JobsOptions = {
  attempts: 12,
  backoff: { type: 'exponential', delay: 2_000 },
  removeOnComplete: { age: 24 * 3600, count: 100_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

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

export function createIncidentQueue(connection: Redis, name: string): Queue<Incident> {
  return new Queue<Incident>(name, {
    connection,
    prefix: KEY_PREFIX,
    defaultJobOptions: INCIDENT_JOB_OPTIONS,
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
