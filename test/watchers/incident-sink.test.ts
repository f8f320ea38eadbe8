import { afterEach, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { connectRedis, createIncidentQueue, seenKey } from '../../core/queue.js';
import { Metrics } from '../../core/metrics.js';
import { INCIDENT_VERSION, type Incident } from '../../core/incident.js';
import { IncidentSink } from '../../watchers/incident-sink.js';
import { REDIS_URL, removeQueueData, uniqueQueueName } from '../helpers/redis.js';
import { captureLogger } from '../helpers/silent-logger.js';

function incident(id: string): Incident {
  return {
    v: INCIDENT_VERSION,
    id,
    kind: 'container-oom',
    cluster: 'test',
    occurredAt: '2026-11-23T10:00:00.000Z',
    detectedAt: '2026-11-23T10:00:01.000Z',
    pod: { namespace: 'shop', name: 'api-7f9c-abcde', uid: 'uid-1' },
    termination: { container: 'api', init: false, restartCount: 3, exitCode: 137, reason: 'OOMKilled', from: 'lastState', finishedAt: '2026-11-23T10:00:00Z' },
  };
}

describe('IncidentSink', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  function setup(queueName = uniqueQueueName('sink'), history?: (incident: Incident) => Promise<void>) {
    const redis = connectRedis(REDIS_URL);
    const queue = createIncidentQueue(redis, queueName);
    const metrics = new Metrics({ defaultMetrics: false });
    const { log } = captureLogger();
    const sink = new IncidentSink({ queue, redis, queueName, dedupeTtlMs: 60_000, metrics, log, history });
    cleanups.push(async () => {
      sink.close();
      await queue.close();
      redis.disconnect();
      await removeQueueData(queueName);
    });
    return { redis, queue, metrics, sink, queueName };
  }

  it('a kill recorded as history is written once and never queued as an alert afterwards', async () => {
    const written: string[] = [];
    const { sink, queue } = setup(undefined, async (i) => {
      written.push(i.id);
    });
    expect(await sink.recordHistory(incident('container-oom-hist'))).toBe('recorded');
    expect(await sink.recordHistory(incident('container-oom-hist'))).toBe('duplicate');
    expect(await sink.submit(incident('container-oom-hist'))).toBe('duplicate');
    expect(written).toEqual(['container-oom-hist']);
    expect(await queue.getJobs(['waiting'])).toHaveLength(0);
  });

  it('a kill already queued as an alert is not recorded as history too', async () => {
    const written: string[] = [];
    const { sink } = setup(undefined, async (i) => {
      written.push(i.id);
    });
    expect(await sink.submit(incident('container-oom-live'))).toBe('enqueued');
    expect(await sink.recordHistory(incident('container-oom-live'))).toBe('duplicate');
    expect(written).toEqual([]);
  });

  it('without a history writer, recording is skipped and the id stays free', async () => {
    const { sink } = setup();
    expect(await sink.recordHistory(incident('container-oom-none'))).toBe('skipped');
    expect(await sink.submit(incident('container-oom-none'))).toBe('enqueued');
  });

  it('queues an incident once, whatever the number of submissions', async () => {
    const { sink, queue } = setup();
    expect(await sink.submit(incident('container-oom-aaa'))).toBe('enqueued');
    expect(await sink.submit(incident('container-oom-aaa'))).toBe('duplicate');
    expect(await sink.submit(incident('container-oom-aaa'))).toBe('duplicate');
    const jobs = await queue.getJobs(['waiting']);
    expect(jobs.map((j) => j.id)).toEqual(['container-oom-aaa']);
    expect(jobs[0]!.data.termination?.reason).toBe('OOMKilled');
  });

  it('two sinks (two watcher replicas) racing on the same incidents create one job each', async () => {
    const queueName = uniqueQueueName('race');
    const a = setup(queueName);
    const b = setup(queueName);
    const ids = Array.from({ length: 50 }, (_, i) => `container-oom-${i.toString(16).padStart(4, '0')}`);
    const results = await Promise.all(ids.flatMap((id) => [a.sink.submit(incident(id)), b.sink.submit(incident(id))]));
    expect(results.filter((r) => r === 'enqueued')).toHaveLength(50);
    expect(results.filter((r) => r === 'duplicate')).toHaveLength(50);
    expect(await a.queue.getJobCountByTypes('waiting')).toBe(50);
  });

  it('a crash between queueing and marking seen does not double the job', async () => {
    const { sink, queue, redis, queueName } = setup();
    const inc = incident('container-oom-bbb');
    await queue.add(inc.kind, inc, { jobId: inc.id }); // what a crashed replica left behind
    expect(await redis.exists(seenKey(queueName, inc.id))).toBe(0);
    await sink.submit(inc);
    expect(await queue.getJobCountByTypes('waiting')).toBe(1);
    expect(await redis.exists(seenKey(queueName, inc.id))).toBe(1);
  });

  it('keeps an incident while Redis is unreachable and queues it when Redis is back', async () => {
    const queueName = uniqueQueueName('down');
    const metrics = new Metrics({ defaultMetrics: false });
    const { log, lines } = captureLogger();
    // A Redis that refuses commands until the test lets them through.
    const real = connectRedis(REDIS_URL);
    const queue = createIncidentQueue(real, queueName);
    let down = true;
    const flaky = new Proxy(real, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver) as unknown;
        if ((prop === 'exists' || prop === 'set') && typeof value === 'function') {
          return (...args: unknown[]) =>
            down ? Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:6379')) : (value as (...a: unknown[]) => unknown).apply(target, args);
        }
        return value;
      },
    }) as Redis;
    const sink = new IncidentSink({ queue, redis: flaky, queueName, dedupeTtlMs: 60_000, metrics, log, retryEveryMs: 50 });
    cleanups.push(async () => {
      sink.close();
      await queue.close();
      real.disconnect();
      await removeQueueData(queueName);
    });
    expect(await sink.submit(incident('container-oom-ccc'))).toBe('deferred');
    expect(sink.pendingCount).toBe(1);
    expect(lines().some((l) => String(l.msg).includes('will retry'))).toBe(true);
    down = false;
    await expect.poll(() => sink.pendingCount, { timeout: 5_000 }).toBe(0);
    expect((await queue.getJobs(['waiting'])).map((j) => j.id)).toEqual(['container-oom-ccc']);
    const text = await metrics.render();
    expect(text).toMatch(/oombot_enqueue_failures_total\{cluster="test"\} [1-9]/);
    expect(text).toMatch(/oombot_incidents_enqueued_total\{cluster="test",kind="container-oom"\} 1/);
  });
});
