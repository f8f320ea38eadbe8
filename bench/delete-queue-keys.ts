import { Redis } from 'ioredis';
import { KEY_PREFIX } from '../core/queue.js';

/** Removes every Redis key of a benchmark's queue (jobs, dedupe keys, alert groups, history) and of its agents' request queues. */
export async function deleteQueueKeys(redisUrl: string, queueName: string): Promise<number> {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    let cursor = '0';
    let deleted = 0;
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${KEY_PREFIX}:${queueName}[:-]*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) deleted += await redis.unlink(...keys);
    } while (cursor !== '0');
    return deleted;
  } finally {
    redis.disconnect();
  }
}
