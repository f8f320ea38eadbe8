import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { IncidentHistory, workloadOfPod, type HistoryRecord } from '../../stores/incident-history.js';
import { REDIS_URL, removeQueueData, uniqueQueueName } from '../helpers/redis.js';

const DAY = 24 * 3600 * 1000;

function record(overrides: Partial<HistoryRecord> = {}): HistoryRecord {
  return {
    id: 'sim-0b7c-api-2026-11-23T10:00:00Z',
    kind: 'container-oom',
    cluster: 'sim',
    namespace: 'shop',
    pod: 'api-5d8f7c-x2x9k',
    container: 'api',
    workload: 'Deployment/api',
    occurredAt: new Date(Date.now() - 60_000).toISOString(),
    ...overrides,
  };
}

describe('IncidentHistory', () => {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  let queueName = uniqueQueueName('history');
  afterEach(async () => {
    await removeQueueData(queueName);
    queueName = uniqueQueueName('history');
  });
  afterAll(() => redis.disconnect());

  it('knows its workloads and pods (gone ones too), most recent first, without anyone reading its keys', async () => {
    const h = new IncidentHistory(redis, queueName, 7 * DAY);
    const now = Date.now();
    const at = (minutesAgo: number) => new Date(now - minutesAgo * 60_000).toISOString();
    await h.add(record({ id: 'a1', pod: 'api-1', occurredAt: at(30) }));
    await h.add(record({ id: 'a2', pod: 'api-1', occurredAt: at(10) }));
    await h.add(record({ id: 'd1', pod: 'db-0', workload: 'StatefulSet/db', occurredAt: at(20) }));
    await h.add(record({ id: 'n1', kind: 'node-oom', namespace: undefined, pod: undefined, workload: 'Node/node-a', occurredAt: at(5) }));
    await h.add(record({ id: 'o1', cluster: 'other', pod: 'x-1', workload: 'Deployment/x', occurredAt: at(1) }));

    expect(await h.workloads('sim')).toEqual([
      { namespace: 'shop', kind: 'Deployment', name: 'api' },
      { namespace: 'shop', kind: 'StatefulSet', name: 'db' },
    ]);
    const pods = await h.pods('sim');
    expect(pods.map((p) => [p.pod, p.ids])).toEqual([
      ['api-1', ['a2', 'a1']],
      ['db-0', ['d1']],
    ]);
    expect(pods[0]!.latest).toBe(Date.parse(at(10)));
    expect((await h.workloads('other')).map((w) => w.name)).toEqual(['x']);
  });

  it('leaves out incidents older than the retention', async () => {
    const h = new IncidentHistory(redis, queueName, DAY);
    await h.add(record({ id: 'old', pod: 'api-old', workload: 'Deployment/old', occurredAt: new Date(Date.now() - 2 * DAY).toISOString() }));
    await h.add(record({ id: 'new', pod: 'api-new' }));
    expect((await h.pods('sim')).map((p) => p.pod)).toEqual(['api-new']);
    expect((await h.workloads('sim')).map((w) => w.name)).toEqual(['api']);
  });

  it('remembers where the alert is, keeps it when a retried job adds the record again, and lists the incident once', async () => {
    const h = new IncidentHistory(redis, queueName, 7 * DAY);
    await h.add(record());
    expect(await h.attachAlert(record().id, 'C0ALERTS', '1700000000.000100')).toBe(true);
    await h.add(record());
    expect((await h.get(record().id))?.alert).toEqual({ channel: 'C0ALERTS', ts: '1700000000.000100' });
    expect(await h.forWorkload('sim', 'shop', 'Deployment/api')).toHaveLength(1);
    expect(await h.attachAlert('unknown', 'C0ALERTS', '1700000000.000100')).toBe(false);
    expect(await h.get('unknown')).toBeUndefined();
  });
});

describe('workloadOfPod', () => {
  it('names the Deployment of a ReplicaSet by its pod-template-hash, else the owner, else the pod', () => {
    const pod = { namespace: 'shop', name: 'api-7d9f8c6b5-x2k9p', uid: 'u' };
    expect(workloadOfPod({ ...pod, owner: { kind: 'ReplicaSet', name: 'api-7d9f8c6b5' }, labels: { 'pod-template-hash': '7d9f8c6b5' } })).toBe(
      'Deployment/api',
    );
    expect(workloadOfPod({ ...pod, owner: { kind: 'ReplicaSet', name: 'api-7d9f8c6b5' } })).toBe('ReplicaSet/api-7d9f8c6b5');
    expect(workloadOfPod({ ...pod, owner: { kind: 'ReplicaSet', name: 'standalone' }, labels: { 'pod-template-hash': '7d9f8c6b5' } })).toBe(
      'ReplicaSet/standalone',
    );
    expect(workloadOfPod({ ...pod, owner: { kind: 'StatefulSet', name: 'db' } })).toBe('StatefulSet/db');
    expect(workloadOfPod(pod)).toBe('Pod/api-7d9f8c6b5-x2k9p');
  });
});
