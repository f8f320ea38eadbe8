/** The record of a fix: shared by replicas through compare-and-set and leases, checked when read. */
import { afterAll, describe, expect, it } from 'vitest';
import { connectRedis, KEY_PREFIX } from '../../core/queue.js';
import { FixStore, type NewFix } from '../../stores/fix-store.js';
import { REDIS_URL, removeQueueData, uniqueQueueName } from '../helpers/redis.js';

const redis = connectRedis(REDIS_URL);
const queue = uniqueQueueName('fixes');
afterAll(async () => {
  await removeQueueData(queue);
  redis.disconnect();
});

const input: NewFix = {
  cluster: 'sim',
  workloadKey: 'sim/shop/Deployment/api',
  owner: { kind: 'Deployment', namespace: 'shop', name: 'api' },
  container: 'api',
  target: 'limit',
  from: '512Mi',
  to: '640Mi',
  toBytes: 640 * 2 ** 20,
  by: { id: 'U0APPROVER', name: 'olga' },
  appliedAt: '2026-11-23T12:00:00.000Z',
  incidentId: 'inc-1',
  proposalId: 'p_AAAAAAAAAAAAAAAAAAAAAA',
};

describe('FixStore', () => {
  it('one writer wins a change made from the same reading; the other reads again', async () => {
    const store = new FixStore(redis, queue, 60_000);
    const fix = await store.create(input);
    const a = await store.update(fix, { state: 'rolled-out' }, '2026-11-23T12:01:00.000Z');
    const b = await store.update(fix, { state: 'stuck', detail: 'x' }, '2026-11-23T12:01:00.000Z');
    expect(a?.state).toBe('rolled-out');
    expect(b).toBeUndefined();
    expect((await store.get(fix.id))?.transitions.map((t) => t.state)).toEqual(['applied', 'rolled-out']);
    expect((await store.forWorkload(input.workloadKey)).map((f) => f.id)).toContain(fix.id);
  });

  it('a due fix is leased to one checker at a time, and a closed fix is no longer due', async () => {
    const store = new FixStore(redis, queue, 60_000);
    const fix = await store.create({ ...input, workloadKey: 'sim/shop/Deployment/other' });
    const [first, second] = [await store.claimDue(100, 10_000), await store.claimDue(100, 10_000)];
    expect(first.map((c) => c.id)).toContain(fix.id);
    expect(second.map((c) => c.id)).not.toContain(fix.id);
    const lease = first.find((c) => c.id === fix.id)!;
    await store.release(lease.id, lease.token);
    expect((await store.claimDue(100, 10_000)).map((c) => c.id)).toContain(fix.id);
    await store.release(fix.id, (await redis.get(`${KEY_PREFIX}:${queue}:fix:${fix.id}:lease`))!);
    await store.update(fix, { state: 'held' }, '2026-11-24T12:00:00.000Z');
    expect((await store.claimDue(100, 10_000)).map((c) => c.id)).not.toContain(fix.id);
  });

  it('a record altered in Redis that could mention or link is refused', async () => {
    const store = new FixStore(redis, queue, 60_000);
    const fix = await store.create({ ...input, workloadKey: 'sim/shop/Deployment/third' });
    const key = `${KEY_PREFIX}:${queue}:fix:${fix.id}`;
    await redis.set(key, JSON.stringify({ ...fix, by: { id: 'x> <!here' } }), 'KEEPTTL');
    expect(await store.get(fix.id)).toBeUndefined();
  });
});
