import type { RedisClient } from '../core/queue.js';
import { KEY_PREFIX } from '../core/queue.js';
import { HistoryRecordSchema, parseChecked } from './schemas.js';
import type { Incident, IncidentKind, PodRef, ProcessOomDetail } from '../core/incident.js';

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
  /** The process the kernel killed (process-oom): what `/oom why` says of it once the queued job is gone. */
  processOom?: ProcessOomDetail;
  /** The Slack alert that shows this incident (its group's first message), once posted. */
  alert?: { channel: string; ts: string; group?: string };
  /** Seen in the pod's status on a first start, older than the look-back: recorded, never alerted. */
  fromStatus?: boolean;
}

/** A workload with incidents on record. */
export interface WorkloadRef {
  namespace: string;
  kind: string;
  name: string;
}

/** A pod with incidents on record (it may be gone). */
export interface HistoryPod {
  namespace: string;
  pod: string;
  /** Incident ids, newest first. */
  ids: string[];
  /** Epoch ms of the newest incident. */
  latest: number;
}

const PER_WORKLOAD = 50;

/**
 * Incident history in Redis, and the only owner of its keys: one record per incident id, per workload
 * the newest ids first, and two indexes (pods and workloads, scored by their newest incident) that let
 * `/oom` find pods that are gone and workloads by name. Everything expires after the retention
 * (default 7 days), so Redis memory stays bounded.
 */
export class IncidentHistory {
  constructor(
    private readonly redis: RedisClient,
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
    const previous = await this.get(record.id);
    // A retried job keeps what a first run learnt after posting (where the alert is).
    const stored: HistoryRecord = previous?.alert && !record.alert ? { ...record, alert: previous.alert } : record;
    const at = Date.parse(record.occurredAt) || Date.now();
    const multi = this.redis.multi().set(rk, JSON.stringify(stored), 'PX', this.retentionMs);
    // A retried job must not list the same incident twice.
    if (!previous) multi.lpush(wk, record.id).ltrim(wk, 0, PER_WORKLOAD - 1);
    multi.pexpire(wk, this.retentionMs);
    // Indexes: pod names, so `/oom why <pod>` finds gone pods; workloads, so `/oom` finds them by name.
    // Entries older than the retention go as new ones come, so a busy cluster's indexes stay bounded.
    const oldest = Date.now() - this.retentionMs;
    if (record.namespace && record.pod) {
      const pods = this.k(`pods:${record.cluster}`);
      multi.zadd(pods, at, `${record.namespace}/${record.pod}/${record.id}`).zremrangebyscore(pods, '-inf', oldest).pexpire(pods, this.retentionMs);
    }
    const [kind, ...name] = (record.workload ?? '').split('/');
    if (record.namespace && kind && name.length > 0) {
      const workloads = this.k(`workloads:${record.cluster}`);
      multi
        .zadd(workloads, 'GT', at, `${record.namespace}/${kind}/${name.join('/')}`)
        .zremrangebyscore(workloads, '-inf', oldest)
        .pexpire(workloads, this.retentionMs);
    }
    await multi.exec();
  }

  async get(id: string): Promise<HistoryRecord | undefined> {
    const raw = await this.redis.get(this.k(`incident:${id}`));
    return raw ? readRecord(raw) : undefined;
  }

  /** Records where the incident's alert is. Keeps the record's expiry; a record that expired stays gone. */
  async attachAlert(id: string, channel: string, ts: string, group?: string): Promise<boolean> {
    const r = await this.get(id);
    if (!r || !channel || !ts || (r.alert?.channel === channel && r.alert.ts === ts && r.alert.group === group)) return false;
    const alert = { channel, ts, ...(group ? { group } : {}) };
    return (await this.redis.set(this.k(`incident:${id}`), JSON.stringify({ ...r, alert }), 'KEEPTTL', 'XX')) === 'OK';
  }

  /** Newest first. */
  async forWorkload(cluster: string, namespace: string | undefined, workload: string | undefined, limit = PER_WORKLOAD): Promise<HistoryRecord[]> {
    const ids = await this.redis.lrange(this.k(`history:${IncidentHistory.workloadKey(cluster, namespace, workload)}`), 0, limit - 1);
    if (ids.length === 0) return [];
    const raws = await this.redis.mget(ids.map((id) => this.k(`incident:${id}`)));
    return raws.flatMap((r) => {
      const record = r === null ? undefined : readRecord(r);
      return record ? [record] : [];
    });
  }

  /** Workloads of `cluster` with incidents on record, the most recently hit first (at most `max`). */
  async workloads(cluster: string, max = 5000): Promise<WorkloadRef[]> {
    const members = await this.redis.zrevrangebyscore(this.k(`workloads:${cluster}`), '+inf', Date.now() - this.retentionMs, 'LIMIT', 0, max);
    const out: WorkloadRef[] = [];
    for (const m of members) {
      const [namespace, kind, ...name] = m.split('/');
      if (namespace && kind && name.length > 0) out.push({ namespace, kind, name: name.join('/') });
    }
    return out;
  }

  /** Pods of `cluster` with incidents on record (running or gone), newest incident first. */
  async pods(cluster: string, max = 20000): Promise<HistoryPod[]> {
    const raw = await this.redis.zrevrangebyscore(this.k(`pods:${cluster}`), '+inf', Date.now() - this.retentionMs, 'WITHSCORES', 'LIMIT', 0, max);
    const byPod = new Map<string, HistoryPod>();
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const [namespace, pod, ...id] = raw[i]!.split('/');
      if (!namespace || !pod || id.length === 0) continue;
      const key = `${namespace}/${pod}`;
      const entry = byPod.get(key) ?? { namespace, pod, ids: [], latest: Number(raw[i + 1]) };
      entry.ids.push(id.join('/'));
      byPod.set(key, entry);
    }
    return [...byPod.values()];
  }

  /** Drops index entries older than the retention. */
  async prune(cluster: string, now = Date.now()): Promise<void> {
    await this.redis
      .multi()
      .zremrangebyscore(this.k(`pods:${cluster}`), '-inf', now - this.retentionMs)
      .zremrangebyscore(this.k(`workloads:${cluster}`), '-inf', now - this.retentionMs)
      .exec();
  }
}

/**
 * The record of a kill or eviction seen in a pod's status when oombot first looked, older than the
 * look-back: history, not an alert. Only what the status says (no usage, no diagnosis). The workload is the
 * one an investigation would find: a ReplicaSet named `<deployment>-<pod-template-hash>` is its Deployment's.
 */
export function historyFromStatus(incident: Incident): HistoryRecord {
  return { ...historyBase(incident, incident.pod ? workloadOfPod(incident.pod) : undefined), node: incident.pod?.nodeName, fromStatus: true };
}

/** What every history record takes from the incident itself: ids, where, when, and the termination. */
export function historyBase(incident: Incident, workload: string | undefined): HistoryRecord {
  const t = incident.termination;
  return {
    id: incident.id,
    kind: incident.kind,
    cluster: incident.cluster,
    namespace: incident.pod?.namespace,
    pod: incident.pod?.name,
    podUid: incident.pod?.uid,
    container: t?.container ?? incident.processOom?.container,
    workload,
    occurredAt: incident.occurredAt,
    startedAt: t?.startedAt,
    finishedAt: t?.finishedAt,
    restartCount: t?.restartCount,
    exitCode: t?.exitCode,
  };
}

/** "Deployment/api" for a pod of ReplicaSet `api-7d9f8c6b5` (its pod-template-hash), else its owner, else the pod. */
export function workloadOfPod(pod: PodRef): string {
  const owner = pod.owner;
  if (!owner) return `Pod/${pod.name}`;
  const hash = pod.labels?.['pod-template-hash'];
  if (owner.kind === 'ReplicaSet' && hash && owner.name.endsWith(`-${hash}`) && owner.name.length > hash.length + 1) {
    return `Deployment/${owner.name.slice(0, -(hash.length + 1))}`;
  }
  return `${owner.kind}/${owner.name}`;
}

/** A stored record, or undefined when it is not one (Redis is a trust boundary: it is skipped, not used). */
function readRecord(raw: string): HistoryRecord | undefined {
  const r = parseChecked(HistoryRecordSchema, raw);
  return r.ok ? (r.value as HistoryRecord) : undefined;
}
