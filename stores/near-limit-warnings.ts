import type { RedisClient } from '../core/queue.js';
import { KEY_PREFIX } from '../core/queue.js';

/** A workload's near-limit warning message, as one Redis hash. */
export interface NearLimitRecord {
  /** When the first post was claimed (epoch ms). */
  claimedAt: number;
  channel?: string;
  ts?: string;
  /** When the warning began, ISO 8601. */
  since: string;
  state: 'rising' | 'resolved';
  /** Latest share of the limit (0..1) and the highest while it lasted. */
  share: number;
  peak: number;
}

export type NearLimitClaim = { action: 'post'; retry: boolean; record: NearLimitRecord } | { action: 'update'; record: NearLimitRecord };

/**
 * One warning message per workload per window. The first rising sample claims the workload (HSETNX) and
 * posts; later ones update that message. A resolved warning stays for the window (OOMBOT_GROUP_WINDOW):
 * rising again within it updates the same message back to a warning instead of posting another.
 */
export class NearLimitWarnings {
  constructor(
    private readonly redis: RedisClient,
    private readonly queueName: string,
    private readonly windowMs: number,
  ) {}

  private key(workloadKey: string): string {
    return `${KEY_PREFIX}:${this.queueName}:nearlimit:msg:${workloadKey}`;
  }

  /** Claims the workload's message for a rising sample: 'post' the first time (or again after a failed attempt), else 'update'. */
  async claim(workloadKey: string, at: string, share: number, now = Date.now()): Promise<NearLimitClaim> {
    const key = this.key(workloadKey);
    const [[, fresh]] = (await this.redis
      .multi()
      .hsetnx(key, 'claimedAt', String(now))
      .hsetnx(key, 'since', at)
      .pexpire(key, this.windowMs + 3600_000)
      .exec()) as [[Error | null, number]];
    const record = await this.get(workloadKey);
    if (!record) throw new Error(`near-limit record ${workloadKey} vanished`);
    if (record.state === 'resolved') {
      // Rising again within the window: the same message turns back into a warning, from now.
      await this.redis.hset(key, { since: at, peak: String(share) });
      record.since = at;
      record.peak = share;
    }
    if (record.ts && record.channel) return { action: 'update', record };
    return { action: 'post', retry: fresh !== 1, record };
  }

  async posted(workloadKey: string, channel: string, ts: string): Promise<void> {
    await this.redis.hset(this.key(workloadKey), { channel, ts });
  }

  /** Records the latest state; a resolved warning is kept for the window, then forgotten. */
  async note(workloadKey: string, state: 'rising' | 'resolved', share: number): Promise<NearLimitRecord | undefined> {
    const key = this.key(workloadKey);
    const before = await this.get(workloadKey);
    if (!before) return undefined;
    const peak = Math.max(before.peak, share);
    await this.redis
      .multi()
      .hset(key, { state, share: String(share), peak: String(peak) })
      .pexpire(key, state === 'resolved' ? this.windowMs : this.windowMs + 3600_000)
      .exec();
    return { ...before, state, share, peak };
  }

  async get(workloadKey: string): Promise<NearLimitRecord | undefined> {
    const h = await this.redis.hgetall(this.key(workloadKey));
    const claimedAt = Number(h.claimedAt);
    if (!h.since || !Number.isFinite(claimedAt)) return undefined;
    return {
      claimedAt,
      ...(h.channel ? { channel: h.channel } : {}),
      ...(h.ts ? { ts: h.ts } : {}),
      since: h.since,
      state: h.state === 'resolved' ? 'resolved' : 'rising',
      share: Number(h.share) || 0,
      peak: Number(h.peak) || Number(h.share) || 0,
    };
  }
}
