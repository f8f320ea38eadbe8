import type { RedisClient } from '../core/queue.js';
import { KEY_PREFIX } from '../core/queue.js';
import { parseChecked, SnoozeSchema } from './schemas.js';

/** Snoozed workloads post nothing until the snooze ends. Keys expire by themselves. */
export class SnoozeStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly queueName: string,
  ) {}

  private key(workloadKey: string): string {
    return `${KEY_PREFIX}:${this.queueName}:snooze:${workloadKey}`;
  }

  async snooze(workloadKey: string, ms: number, by: string, now = Date.now()): Promise<string> {
    const until = new Date(now + ms).toISOString();
    await this.redis.set(this.key(workloadKey), JSON.stringify({ until, by }), 'PX', ms);
    return until;
  }

  async unsnooze(workloadKey: string): Promise<boolean> {
    return (await this.redis.del(this.key(workloadKey))) === 1;
  }

  /** When the snooze ends, or undefined when not snoozed. */
  async until(workloadKey: string): Promise<{ until: string; by: string } | undefined> {
    const raw = await this.redis.get(this.key(workloadKey));
    if (!raw) return undefined;
    // A record that is not a snooze mutes nothing: alerts keep flowing.
    const r = parseChecked(SnoozeSchema, raw);
    return r.ok ? r.value : undefined;
  }
}
