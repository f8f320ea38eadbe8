/**
 * The scale events the watcher keeps in Redis for the worker: only scale-downs of Deployments and HPA
 * rescales, one entry per Event object (a count bump replaces it), a bounded number per object, with a TTL.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { ScaleEvents } from '../../core/scale-events.js';
import { eventObject, scalingReplicaSetEvent, successfulRescaleEvent, type EventText } from '../../sim/kube/build/index.js';
import { REDIS_URL, removeQueueData, uniqueQueueName } from '../helpers/redis.js';

function event(kind: string, name: string, text: EventText, component: string, at: string, id = `${name}.${Date.parse(at).toString(16)}`) {
  return eventObject({
    metadata: { name: id, namespace: 'shop' },
    involvedObject: { kind, namespace: 'shop', name, uid: `${kind}-uid`, apiVersion: kind === 'Deployment' ? 'apps/v1' : 'autoscaling/v2' },
    ...text,
    component,
    firstTimestamp: at,
  });
}

const deployment = (rs: string, from: number, to: number, at: string, id?: string) =>
  event('Deployment', 'api', scalingReplicaSetEvent(rs, from, to), 'deployment-controller', at, id);

describe('ScaleEvents', () => {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  let queueName = uniqueQueueName('scale');
  afterEach(async () => {
    await removeQueueData(queueName);
    queueName = uniqueQueueName('scale');
  });
  afterAll(() => redis.disconnect());

  it('keeps scale-downs and HPA rescales, not scale-ups or other events', async () => {
    const store = new ScaleEvents(redis, queueName);
    expect(await store.record('prod', deployment('api-7f9c6b8d4', 4, 2, '2025-11-20T09:29:05Z'))).toBe(true);
    expect(await store.record('prod', deployment('api-7f9c6b8d4', 2, 4, '2025-11-20T09:35:05Z'))).toBe(false);
    expect(
      await store.record(
        'prod',
        event('HorizontalPodAutoscaler', 'api', successfulRescaleEvent(2, 'All metrics below target'), 'horizontal-pod-autoscaler', '2025-11-20T09:29:04Z'),
      ),
    ).toBe(true);
    expect(
      await store.record(
        'prod',
        event('Pod', 'api-x', { type: 'Normal', reason: 'Scheduled', message: 'Scaled down replica set x to 1' }, 'default-scheduler', '2025-11-20T09:29:04Z'),
      ),
    ).toBe(false);
    const kept = await store.forWorkload('prod', 'shop', 'Deployment', 'api');
    expect(kept.workload).toEqual([
      {
        kind: 'Deployment',
        name: 'api',
        reason: 'ScalingReplicaSet',
        message: 'Scaled down replica set api-7f9c6b8d4 from 4 to 2',
        at: '2025-11-20T09:29:05.000Z',
        component: 'deployment-controller',
      },
    ]);
    expect(kept.hpa.map((e) => e.message)).toEqual(['New size: 2; reason: All metrics below target']);
    // Another workload, another cluster: nothing.
    expect((await store.forWorkload('prod', 'shop', 'Deployment', 'web')).workload).toEqual([]);
    expect((await store.forWorkload('staging', 'shop', 'Deployment', 'api')).workload).toEqual([]);
    const ttl = await redis.pttl(`oombot:${queueName}:scale:prod/shop/Deployment/api`);
    expect(ttl).toBeGreaterThan(23 * 3600_000);
  });

  it('keeps one entry per Event object, and only the last few per workload', async () => {
    const store = new ScaleEvents(redis, queueName, 60_000, 3);
    const first = deployment('api-7f9c6b8d4', 4, 3, '2025-11-20T09:00:00Z', 'api.same');
    await store.record('prod', first);
    // The same Event again (a relist) and with a later lastTimestamp (the correlator bumped its count).
    await store.record('prod', first);
    await store.record('prod', { ...first, count: 2, lastTimestamp: '2025-11-20T09:05:00Z' } as typeof first);
    let kept = (await store.forWorkload('prod', 'shop', 'Deployment', 'api')).workload;
    expect(kept.map((e) => e.at)).toEqual(['2025-11-20T09:05:00.000Z']);
    for (let i = 1; i <= 4; i++) await store.record('prod', deployment('api-7f9c6b8d4', 10 - i, 9 - i, `2025-11-20T10:0${i}:00Z`));
    kept = (await store.forWorkload('prod', 'shop', 'Deployment', 'api')).workload;
    expect(kept.map((e) => e.message)).toEqual([
      'Scaled down replica set api-7f9c6b8d4 from 8 to 7',
      'Scaled down replica set api-7f9c6b8d4 from 7 to 6',
      'Scaled down replica set api-7f9c6b8d4 from 6 to 5',
    ]);
  });
});
