import type { Redis } from 'ioredis';
import { KEY_PREFIX } from '../core/queue.js';
import type { WorkloadChange } from '../diagnosis/enriched.js';
import { parseChecked, WorkloadChangeSchema } from './schemas.js';

/** A revision's change is the same for every incident of it: kept a day, so repeats cost no read. */
export const CHANGE_TTL_MS = 24 * 3600_000;

/**
 * The change that made each workload revision, shared by every worker: the first incident of a revision
 * reads the workload's history once, the others find it here. `null` is remembered too (a first revision).
 */
export class ChangeCache {
  constructor(
    private readonly redis: Redis,
    private readonly queueName: string,
    private readonly ttlMs = CHANGE_TTL_MS,
  ) {}

  /** `<cluster>/<namespace>/<kind>/<name>/<revision>` */
  static key(cluster: string, namespace: string, workload: string, revision: string | number): string {
    return `${cluster}/${namespace}/${workload}/${revision}`;
  }

  private k(key: string): string {
    return `${KEY_PREFIX}:${this.queueName}:change:${key}`;
  }

  /** The change, `null` when known to be none, undefined when not cached (or not a valid record). */
  async get(key: string): Promise<WorkloadChange | null | undefined> {
    const raw = await this.redis.get(this.k(key));
    if (!raw) return undefined;
    const r = parseChecked(WorkloadChangeSchema, raw);
    if (!r.ok) return undefined;
    return 'none' in r.value ? null : (r.value as WorkloadChange);
  }

  async set(key: string, change: WorkloadChange | null): Promise<void> {
    await this.redis.set(this.k(key), JSON.stringify(change ?? { none: true }), 'PX', this.ttlMs);
  }
}
