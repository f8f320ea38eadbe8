import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { Queue, type JobsOptions } from 'bullmq';
import type { Incident } from './incident.js';
import { parseRedisUrl } from './redis-url.js';

/** A connection to one Redis server (directly or through Sentinel) or to a Redis Cluster. */
export type RedisClient = Redis | Cluster;

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

/**
 * Every Redis connection of the process is made here, from REDIS_URL in any of its forms (see
 * redis-url.ts): as BullMQ wants it, with no per-request retry limit (it waits for Redis to return).
 * Through Sentinel it asks the sentinels for the master, and after a failover (the old master gone,
 * or demoted and answering READONLY) asks them again; on a Cluster it follows the slots.
 */
export function connectRedis(url: string, opts: { lazyConnect?: boolean; name?: string; failFast?: boolean } = {}): RedisClient {
  // `failFast`: one try, for a probe that asks "does a Redis answer there?".
  const retry = (times: number) => (opts.failFast ? null : Math.min(200 * times, 5_000));
  const base: RedisOptions = {
    maxRetriesPerRequest: opts.failFast ? 0 : null,
    enableReadyCheck: true,
    lazyConnect: opts.lazyConnect ?? false,
    connectionName: opts.name,
    retryStrategy: retry,
    ...(opts.failFast ? { connectTimeout: 1_000 } : {}),
  };
  const target = parseRedisUrl(url);
  if (target.mode === 'standalone') return new Redis(url, base);
  const auth = { ...(target.username ? { username: target.username } : {}), ...(target.password ? { password: target.password } : {}) };
  if (target.mode === 'sentinel') {
    return new Redis({
      ...base,
      ...auth,
      sentinels: target.sentinels,
      name: target.name,
      db: target.db,
      role: 'master',
      ...(target.sentinelPassword ? { sentinelPassword: target.sentinelPassword } : {}),
      sentinelRetryStrategy: retry,
      // A master demoted in a failover answers writes with READONLY, one without its replicas (with
      // min-replicas-to-write) with NOREPLICAS: reconnect, asking the sentinels again, and resend.
      // ioredis's `failoverDetector` is left off: its disconnect on +switch-master, landing while a
      // reconnect is under way, ends the connection for good.
      reconnectOnError: (err) => (/^(READONLY|NOREPLICAS)/.test(err.message) ? 2 : false),
      ...(target.tls ? { tls: {}, sentinelTLS: {}, enableTLSForSentinelMode: true } : {}),
    });
  }
  const { lazyConnect, retryStrategy: _perNode, ...nodeOptions } = base;
  const cluster: ClusterOptions = {
    lazyConnect,
    enableReadyCheck: true,
    maxRedirections: 16,
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    clusterRetryStrategy: retry,
    redisOptions: { ...nodeOptions, ...auth, ...(target.tls ? { tls: {} } : {}) },
    // Managed clusters with TLS hand out names their certificates are for: keep them, do not resolve.
    ...(target.tls ? { dnsLookup: (address, callback) => callback(null, address) } : {}),
  };
  return new Cluster(target.nodes, cluster);
}

export function createIncidentQueue(connection: RedisClient, name: string, opts: { dedupeTtlMs?: number } = {}): Queue<Incident> {
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

/** A second connection like `client` (BullMQ's workers need one of their own for blocking reads). */
export function duplicateRedis(client: RedisClient): RedisClient {
  return client instanceof Cluster ? client.duplicate() : client.duplicate();
}

const unconfirmedUntil = new WeakMap<RedisClient, number>();

/**
 * Through Sentinel, a master SIGKILLed before it passed a write on loses that write at the failover
 * (replication is asynchronous, and keeps the order of writes). Before a step that must not be undone
 * by a failover (an incident marked queued, a Slack post whose retry must find the record behind it),
 * this waits until a replica holds every write so far (`WAIT 1`). True when one does, or when there
 * is nothing to wait for (one server, a Cluster); false when no replica confirmed within `timeoutMs`
 * (none connected, or too slow): the caller goes on as with one server, and for the next 30 s no
 * step waits (a Sentinel set without a live replica is not slowed down by a wait per write).
 */
export async function replicated(redis: RedisClient, timeoutMs = 1_000): Promise<boolean> {
  if (redis instanceof Cluster || !redis.options.sentinels?.length) return true;
  if (Date.now() < (unconfirmedUntil.get(redis) ?? 0)) return true;
  if ((await redis.wait(1, timeoutMs)) >= 1) return true;
  unconfirmedUntil.set(redis, Date.now() + 30_000);
  return false;
}
