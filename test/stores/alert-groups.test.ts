import { afterEach, describe, expect, it } from 'vitest';
import { connectRedis } from '../../core/queue.js';
import { AlertGroups } from '../../stores/alert-groups.js';
import { REDIS_URL, removeQueueData, uniqueQueueName } from '../helpers/redis.js';

/** AlertGroups keeps in Redis what is in flight, so that a crashed worker's successor posts nothing twice. */
describe('AlertGroups: what is in flight survives a crash', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  function setup(windowMs = 60_000) {
    const queueName = uniqueQueueName('groups');
    const redis = connectRedis(REDIS_URL);
    cleanups.push(async () => {
      redis.disconnect();
      await removeQueueData(queueName);
    });
    return { groups: new AlertGroups(redis, queueName, windowMs, 0), redis };
  }

  const note = (i: number) => ({ incidentId: `container-oom-${i}`, at: new Date(1_700_000_000_000 + i * 1000).toISOString(), line: `kill ${i}` });
  const record = (groups: AlertGroups, i: number) => groups.record('g', `container-oom-${i}`, note(i).at, note(i));

  it('the first incident claims the post; the same incident again is a retry of that claim, since when it was claimed', async () => {
    const { groups } = setup();
    const before = Date.now();
    const first = await record(groups, 1);
    expect(first).toMatchObject({ action: 'post', retry: false });
    const again = await record(groups, 1);
    expect(again).toMatchObject({ action: 'post', retry: true });
    expect(again.action === 'post' && again.claimedAt).toBeGreaterThanOrEqual(before);
    expect(await record(groups, 2)).toEqual({ action: 'repeat' });
    await groups.posted('g', 'C0ALERTS', '1.000001', 1, '{}');
    expect(await record(groups, 1)).toEqual({ action: 'done' });
  });

  it('a batch of repeats stays taken until its reply is out; an unfinished flush hands it out again as a retry', async () => {
    const { groups } = setup();
    await record(groups, 1);
    await groups.posted('g', 'C0ALERTS', '1.000001', 1, '{}');
    for (const i of [2, 3]) await record(groups, i);
    const key = groups.groupKey('g');
    const batch = await groups.takeBatch(key);
    expect(batch).toMatchObject({ retry: false, trimmed: 0 });
    expect(batch!.notes.map((n) => n.line)).toEqual(['kill 2', 'kill 3']);
    // The worker dies here. A repeat arrives meanwhile; the next flush gets the same batch first.
    await record(groups, 4);
    const again = await groups.takeBatch(key);
    expect(again).toMatchObject({ id: batch!.id, retry: true });
    expect(again!.notes.map((n) => n.line)).toEqual(['kill 2', 'kill 3']);
    await groups.flushed(key, 3, { batchDone: true });
    const next = await groups.takeBatch(key);
    expect(next).toMatchObject({ retry: false });
    expect(next!.id).not.toBe(batch!.id);
    expect(next!.notes.map((n) => n.line)).toEqual(['kill 4']);
    await groups.flushed(key, 4, { batchDone: true });
    expect(await groups.takeBatch(key)).toBeUndefined();
    expect(await groups.dirtyCount()).toBe(0);
  });

  it('ending the flush of a group that expired meanwhile leaves no key behind', async () => {
    const { groups, redis } = setup(50);
    await record(groups, 1);
    await record(groups, 2);
    const key = groups.groupKey('g');
    await new Promise((r) => setTimeout(r, 120));
    expect(await redis.exists(key)).toBe(0);
    expect(await groups.takeBatch(key)).toBeUndefined();
    await groups.flushed(key, 0);
    expect(await redis.exists(key)).toBe(0);
    expect(await groups.dirtyCount()).toBe(0);
  });
});
