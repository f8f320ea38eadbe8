import type { RedisClient } from '../core/queue.js';
import { sharedCacheKey } from '../core/cluster-lists.js';

/**
 * The cache of one cluster's reads that every worker and bot shares (nodes, LimitRanges, owner chains,
 * VPAs), in Redis with a time to live. Values are JSON written by oombot; what reads them treats them
 * like an API answer (defensively), and a value that does not parse is a miss. Keys name the cluster:
 * a hub serves several, and `nodes` or `owners/shop/ReplicaSet/api-7f9c` mean another thing in each.
 */
export class RedisSharedCache {
  constructor(
    private readonly redis: RedisClient,
    private readonly queueName: string,
    private readonly cluster: string,
  ) {}

  private key(key: string): string {
    return sharedCacheKey(this.queueName, this.cluster, key);
  }

  async get(key: string): Promise<string | null> {
    return this.redis.get(this.key(key));
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    await this.redis.set(this.key(key), value, 'PX', Math.max(1, Math.round(ttlMs)));
  }
}
