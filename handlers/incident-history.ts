import type { Redis } from 'ioredis';
import { KEY_PREFIX } from '../core/queue.js';
import type { IncidentKind } from '../core/incident.js';

/** What is remembered of one incident: enough for leak detection, `/oom why` and `/oom history`. */
export interface HistoryRecord {
  id: string;
  kind: IncidentKind;
  cluster: string;
  namespace?: string;
  pod?: string;
  podUid?: string;
  container?: string;
  /** "Deployment/api", "StatefulSet/db", "Pod/debug" */
  workload?: string;
  occurredAt: string;
  startedAt?: string;
  finishedAt?: string;
  restartCount?: number;
  exitCode?: number;
  limitBytes?: number;
  usageBytes?: number;
  node?: string;
  cause?: string;
  headline?: string;
}

const PER_WORKLOAD = 50;

/**
 * Incident history in Redis: one record per incident id, and per workload the newest ids first.
 * Everything expires after the retention (default 7 days), so Redis memory stays bounded.
 */
export class IncidentHistory {
  constructor(
    private readonly redis: Redis,
    private readonly queueName: string,
    private readonly retentionMs: number,
  ) {}

  private k(suffix: string): string {
    return `${KEY_PREFIX}:${this.queueName}:${suffix}`;
  }

  static workloadKey(cluster: string, namespace: string | undefined, workload: string | undefined): string {
    return `${cluster}/${namespace ?? '-'}/${workload ?? '-'}`;
  }

  async add(record: HistoryRecord): Promise<void> {
    const wk = this.k(`history:${IncidentHistory.workloadKey(record.cluster, record.namespace, record.workload)}`);
    const rk = this.k(`incident:${record.id}`);
    const exists = await this.redis.exists(rk);
    const multi = this.redis.multi().set(rk, JSON.stringify(record), 'PX', this.retentionMs);
    // A retried job must not list the same incident twice.
    if (!exists) multi.lpush(wk, record.id).ltrim(wk, 0, PER_WORKLOAD - 1);
    multi.pexpire(wk, this.retentionMs);
    // Pod names index, so `/oom why <pod>` finds gone pods.
    if (record.namespace && record.pod) {
      multi.zadd(this.k(`pods:${record.cluster}`), Date.parse(record.occurredAt) || Date.now(), `${record.namespace}/${record.pod}/${record.id}`);
      multi.pexpire(this.k(`pods:${record.cluster}`), this.retentionMs);
    }
    await multi.exec();
  }

  async get(id: string): Promise<HistoryRecord | undefined> {
    const raw = await this.redis.get(this.k(`incident:${id}`));
    return raw ? (JSON.parse(raw) as HistoryRecord) : undefined;
  }

  /** Newest first. */
  async forWorkload(cluster: string, namespace: string | undefined, workload: string | undefined, limit = PER_WORKLOAD): Promise<HistoryRecord[]> {
    const ids = await this.redis.lrange(this.k(`history:${IncidentHistory.workloadKey(cluster, namespace, workload)}`), 0, limit - 1);
    if (ids.length === 0) return [];
    const raws = await this.redis.mget(ids.map((id) => this.k(`incident:${id}`)));
    return raws.filter((r): r is string => r !== null).map((r) => JSON.parse(r) as HistoryRecord);
  }

  /** Drops index entries older than the retention. */
  async prune(cluster: string, now = Date.now()): Promise<void> {
    await this.redis.zremrangebyscore(this.k(`pods:${cluster}`), '-inf', now - this.retentionMs);
  }
}
