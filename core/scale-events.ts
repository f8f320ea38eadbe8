/**
 * Scale events of workloads, kept by the watcher (which already watches every Event) so the worker can
 * tell that kills began after a scale-down without reading the cluster: the deployment controller's
 * `ScalingReplicaSet` "Scaled down replica set ..." on a Deployment, and an HPA's `SuccessfulRescale`.
 * Bounded: the last few per object, in one sorted set per object (the event's name as member, so a
 * relist or a count bump never adds a second entry), each with a TTL.
 */
import type { Redis } from 'ioredis';
import { KEY_PREFIX } from './queue.js';

/** Long enough to cover a slow leak's first kill after a scale-down. */
export const SCALE_EVENTS_TTL_MS = 24 * 3600_000;
/** Scale events kept per object. */
export const SCALE_EVENTS_KEEP = 6;

export interface ScaleEvent {
  /** `Deployment` (ScalingReplicaSet) or `HorizontalPodAutoscaler` (SuccessfulRescale). */
  kind: string;
  name: string;
  reason: 'ScalingReplicaSet' | 'SuccessfulRescale';
  message: string;
  /** When it last happened, ISO 8601. */
  at: string;
  /** The controller that wrote it (reportingController, else source.component). */
  component?: string;
}

interface EventLike {
  metadata?: { name?: string; namespace?: string };
  involvedObject?: { kind?: string; name?: string; namespace?: string };
  reason?: string;
  message?: string;
  lastTimestamp?: string | Date;
  eventTime?: string | Date;
  firstTimestamp?: string | Date;
  reportingComponent?: string;
  source?: { component?: string };
}

/** The scale event worth keeping, or undefined: only scale-downs of Deployments, and HPA rescales. */
export function scaleEventOf(e: EventLike): (ScaleEvent & { namespace: string; id: string }) | undefined {
  const reason = e?.reason;
  const kind = e?.involvedObject?.kind;
  const name = e?.involvedObject?.name;
  const namespace = e?.involvedObject?.namespace ?? e?.metadata?.namespace;
  const message = typeof e?.message === 'string' ? e.message.slice(0, 300) : '';
  if (!name || !namespace || !kind) return undefined;
  const keep =
    (reason === 'ScalingReplicaSet' && kind === 'Deployment' && message.startsWith('Scaled down replica set ')) ||
    (reason === 'SuccessfulRescale' && kind === 'HorizontalPodAutoscaler' && message.startsWith('New size: '));
  if (!keep) return undefined;
  const at = iso(e.lastTimestamp) ?? iso(e.eventTime) ?? iso(e.firstTimestamp);
  if (!at) return undefined;
  const component = e.reportingComponent || e.source?.component;
  return {
    kind,
    name,
    namespace,
    reason,
    message,
    at,
    id: e.metadata?.name ?? `${name}.${at}`,
    ...(component ? { component: component.slice(0, 100) } : {}),
  };
}

export class ScaleEvents {
  constructor(
    private readonly redis: Redis,
    private readonly queueName: string,
    private readonly ttlMs = SCALE_EVENTS_TTL_MS,
    private readonly keep = SCALE_EVENTS_KEEP,
  ) {}

  private key(cluster: string, namespace: string, kind: string): string {
    // HPAs are kept per namespace: an HPA's event does not name the workload it scales.
    return `${KEY_PREFIX}:${this.queueName}:scale:${cluster}/${namespace}/${kind}`;
  }

  private objectKey(cluster: string, namespace: string, kind: string, name: string): string {
    return kind === 'HorizontalPodAutoscaler' ? this.key(cluster, namespace, kind) : `${this.key(cluster, namespace, kind)}/${name}`;
  }

  /** Keeps the event when it is a scale event worth keeping; true when it was. */
  async record(cluster: string, event: EventLike): Promise<boolean> {
    const e = scaleEventOf(event);
    if (!e) return false;
    const key = this.objectKey(cluster, e.namespace, e.kind, e.name);
    const { id, namespace: _ns, ...value } = e;
    // One member per Event object: its latest state replaces the earlier one.
    return this.store(key, id, value);
  }

  private async store(key: string, id: string, value: ScaleEvent): Promise<boolean> {
    const member = JSON.stringify({ id, ...value });
    const existing = await this.redis.zrange(key, '0', '-1');
    const stale = existing.filter((m) => {
      try {
        return (JSON.parse(m) as { id?: string }).id === id && m !== member;
      } catch {
        return true;
      }
    });
    const tx = this.redis.multi();
    if (stale.length > 0) tx.zrem(key, ...stale);
    tx.zadd(key, Date.parse(value.at), member)
      .zremrangebyrank(key, 0, -(this.keep + 1))
      .pexpire(key, this.ttlMs);
    await tx.exec();
    return true;
  }

  /** The kept scale events of a workload, and of the HPAs in its namespace, oldest first. */
  async forWorkload(cluster: string, namespace: string, kind: string, name: string): Promise<{ workload: ScaleEvent[]; hpa: ScaleEvent[] }> {
    const [workload, hpa] = await Promise.all([
      this.redis.zrange(this.objectKey(cluster, namespace, kind, name), '0', '-1'),
      this.redis.zrange(this.key(cluster, namespace, 'HorizontalPodAutoscaler'), '0', '-1'),
    ]);
    return { workload: parse(workload), hpa: parse(hpa) };
  }
}

function parse(members: string[]): ScaleEvent[] {
  const out: ScaleEvent[] = [];
  for (const m of members) {
    try {
      const v = JSON.parse(m) as Partial<ScaleEvent> & { id?: string };
      if (typeof v.kind !== 'string' || typeof v.name !== 'string' || typeof v.message !== 'string' || typeof v.at !== 'string') continue;
      if (v.reason !== 'ScalingReplicaSet' && v.reason !== 'SuccessfulRescale') continue;
      out.push({
        kind: v.kind,
        name: v.name,
        reason: v.reason,
        message: v.message.slice(0, 300),
        at: v.at,
        ...(typeof v.component === 'string' ? { component: v.component } : {}),
      });
    } catch {
      // A malformed member is skipped.
    }
  }
  return out;
}

function iso(t: string | Date | undefined): string | undefined {
  if (t === undefined || t === null) return undefined;
  const ms = t instanceof Date ? t.getTime() : Date.parse(t);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
}
