/**
 * Read-only lookups in the incident history's Redis layout (handlers/incident-history.ts writes it):
 * which workloads have a history, and the pod-name index that lets `/oom why` find pods that are gone.
 */
import type { Redis } from 'ioredis';
import { KEY_PREFIX } from '../core/queue.js';

export interface WorkloadRef {
  namespace: string;
  kind: string;
  name: string;
}

export interface HistoryPod {
  namespace: string;
  pod: string;
  /** Incident ids, newest first. */
  ids: string[];
  /** Epoch ms of the newest incident. */
  latest: number;
}

export class HistoryIndex {
  constructor(
    private readonly redis: Redis,
    private readonly queueName: string,
  ) {}

  private k(suffix: string): string {
    return `${KEY_PREFIX}:${this.queueName}:${suffix}`;
  }

  /** Workloads of `cluster` that have incidents in the history (up to `max`). */
  async workloads(cluster: string, max = 5000): Promise<WorkloadRef[]> {
    const prefix = this.k(`history:${cluster}/`);
    const out: WorkloadRef[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`, 'COUNT', 500);
      cursor = next;
      for (const key of keys) {
        const [namespace, kind, ...name] = key.slice(prefix.length).split('/');
        if (namespace && kind && name.length > 0 && namespace !== '-' && kind !== '-') out.push({ namespace, kind, name: name.join('/') });
      }
    } while (cursor !== '0' && out.length < max);
    return out;
  }

  /** Pods with incidents in the history, newest incident first. */
  async pods(cluster: string, max = 20000): Promise<HistoryPod[]> {
    const raw = await this.redis.zrevrange(this.k(`pods:${cluster}`), 0, max - 1, 'WITHSCORES');
    const byPod = new Map<string, HistoryPod>();
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const member = raw[i]!;
      const score = Number(raw[i + 1]);
      const [namespace, pod, ...id] = member.split('/');
      if (!namespace || !pod || id.length === 0) continue;
      const key = `${namespace}/${pod}`;
      const entry = byPod.get(key) ?? { namespace, pod, ids: [], latest: score };
      entry.ids.push(id.join('/'));
      byPod.set(key, entry);
    }
    return [...byPod.values()];
  }
}
