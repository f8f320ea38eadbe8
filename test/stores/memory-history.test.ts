import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { connectRedis } from '../../core/queue.js';
import { COARSE_POINTS, MemoryHistory, RECENT_POINTS } from '../../stores/memory-history.js';
import { removeQueueData, REDIS_URL, uniqueQueueName } from '../helpers/redis.js';

describe('MemoryHistory', () => {
  const redis = connectRedis(REDIS_URL);
  const queueName = uniqueQueueName('mem');
  afterEach(async () => removeQueueData(queueName));
  afterAll(() => redis.disconnect());

  it('keeps the recent samples at the interval and the largest of each minute, both bounded, and answers the last points', async () => {
    const h = new MemoryHistory(redis, queueName, 'sim');
    const t0 = 1_800_000_000 - (1_800_000_000 % 60);
    const n = RECENT_POINTS + 100;
    let last: Awaited<ReturnType<MemoryHistory['record']>> | undefined;
    for (let i = 0; i < n; i++) {
      // A spike at the second sample of every 6th minute (the minute's largest).
      const bytes = (100 + i) * 1024 * 1024 + (i % 12 === 1 ? 50 * 1024 * 1024 : 0);
      last = await h.record([{ container: 'shop/api-1/api', at: t0 + i * 30, bytes }], 4);
    }
    const recent = last!.get('shop/api-1/api')!;
    expect(recent).toHaveLength(4);
    expect(recent.map((p) => p.at)).toEqual([n - 4, n - 3, n - 2, n - 1].map((i) => t0 + i * 30));
    expect(recent[3]!.bytes).toBe((100 + n - 1) * 1024 * 1024);

    const all = await h.read('shop/api-1/api');
    // The recent tier holds RECENT_POINTS; the coarse tier (one a minute) adds the minutes before it.
    const fine = all.filter((p) => p.at >= t0 + (n - RECENT_POINTS) * 30);
    expect(fine).toHaveLength(RECENT_POINTS);
    const rough = all.filter((p) => p.at < t0 + (n - RECENT_POINTS) * 30);
    expect(rough.length).toBe(50);
    // The minute's largest sample survives the downsampling: the spike of minute 0 (sample 1).
    expect(rough[0]).toEqual({ at: t0 + 30, bytes: 151 * 1024 * 1024 });
    const keys = await redis.keys(`oombot:${queueName}:mem:*`);
    expect(keys).toHaveLength(2);
    for (const k of keys) {
      expect(await redis.strlen(k)).toBeLessThanOrEqual(Math.max(RECENT_POINTS, COARSE_POINTS) * 8);
      expect(await redis.pttl(k)).toBeGreaterThan(4 * 3600_000);
    }
  });
});
