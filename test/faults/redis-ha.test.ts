/**
 * Redis beyond one node, with real redis-server processes: through Sentinel, the master SIGKILLed in the
 * middle of a storm and the replica promoted (watcher and worker follow it, every incident once, none
 * twice, none lost); and on a Redis Cluster of three masters the pipeline runs end to end with every key
 * of the queue, BullMQ's and oombot's own, in one hash slot.
 */
import { describe, expect, it } from 'vitest';
import { connectRedis } from '../../core/queue.js';
import { redisAnswers } from '../../sim/private-redis.js';
import { until } from './harness.js';
import { missingRedisBinaries, RedisCluster, SentinelSet } from './redis-ha.js';
import { faultSuite } from './world.js';

const { faults, startWorld } = faultSuite();
const missing = missingRedisBinaries();
if (missing) process.stderr.write(`skipping the Sentinel and Redis Cluster tests: ${missing}\n`);

// CI installs both (.ci/run): there a missing binary is a failure, not a skip.
it.runIf(missing && process.env.CI)('CI has redis-server and redis-cli for the Sentinel and Redis Cluster tests', () => {
  throw new Error(missing);
});

describe.skipIf(missing)('Redis beyond one node', () => {
  it('through Sentinel, the master SIGKILLed mid-storm: failover to the replica, nothing lost, nothing posted twice', { timeout: 120_000 }, async () => {
    const set = await SentinelSet.start();
    faults.onCleanup(() => set.remove());
    const w = await startWorld({ workloads: 4, replicas: 6, redisUrl: set.url });
    const watcher = await faults.spawn('watcher', 'watcher', w.env());
    const worker = await faults.spawn('worker', 'worker', w.env());
    await Promise.all([watcher.ready(), worker.ready()]);
    const pods = w.pods().map((p) => p.name);

    let killedAt = -1;
    let oldMaster = 0;
    await w.burst(pods, {
      everyMs: 60,
      between: async (i) => {
        if (killedAt >= 0 || w.kills.length < 8) return;
        await until('some alerts posted', () => w.slack.messagesIn('#alerts').length > 0);
        killedAt = i;
        oldMaster = await set.killMaster();
      },
    });
    expect(killedAt).toBeGreaterThan(0);
    const newMaster = await set.failedOver(oldMaster);
    expect(newMaster).not.toBe(oldMaster);
    // The old master comes back and the sentinels make it a replica of the new one.
    await set.restart(oldMaster);
    await Promise.all([watcher.ready(), worker.ready()]);
    // A second storm after the failover: every pod killed again.
    await w.burst(pods);

    await w.settled(60_000);
    w.expectEachIncidentOnce();
    expect(w.kills).toHaveLength(pods.length * 2);
    expect(watcher.running && worker.running).toBe(true);
    // The processes were on the master that died, and are now on the new one.
    expect(await set.masterPort()).toBe(newMaster);
    for (const p of [watcher, worker]) expect(p.logged('Redis reachable again').length).toBeGreaterThan(0);
  });

  it("passwords: the servers' from the URL, the sentinels' from sentinelPassword; a wrong one is refused", { timeout: 60_000 }, async () => {
    const set = await SentinelSet.start({ password: 'data-pw', sentinelPassword: 's/pw' });
    faults.onCleanup(() => set.remove());
    const hosts = set.url.slice('redis-sentinel://'.length);
    const good = connectRedis(`redis-sentinel://:data-pw@${hosts.replace('#', '?sentinelPassword=s%2Fpw#')}`, { failFast: true, lazyConnect: true });
    try {
      await good.connect();
      await good.set('oombot:sentinel-auth-test', 'ok', 'PX', 10_000);
      expect(await good.get('oombot:sentinel-auth-test')).toBe('ok');
    } finally {
      good.disconnect();
    }
    // The sentinels' password missing, or the servers' wrong: no connection, and the probe says no.
    expect(await redisAnswers(`redis-sentinel://:data-pw@${hosts}`)).toBe(false);
    expect(await redisAnswers(`redis-sentinel://:wrong@${hosts.replace('#', '?sentinelPassword=s%2Fpw#')}`)).toBe(false);
    expect(await redisAnswers(`redis-sentinel://:data-pw@${hosts.replace('#', '?sentinelPassword=s%2Fpw#')}`)).toBe(true);
  });

  it('on a Redis Cluster of three masters: alerts end to end, every key of the queue in one slot', { timeout: 120_000 }, async () => {
    const cluster = await RedisCluster.start();
    faults.onCleanup(() => cluster.remove());
    const w = await startWorld({ workloads: 3, replicas: 4, redisUrl: cluster.url });
    const oombot = await faults.spawn('oombot', 'watcher,worker', w.env());
    await oombot.ready();
    const pods = w.pods().map((p) => p.name);
    await w.burst(pods, { everyMs: 40 });
    await w.burst(pods.slice(0, 3));

    await w.settled(60_000);
    w.expectEachIncidentOnce();
    const byNode = await cluster.keysByNode(`oombot:{${w.queueName}}:*`);
    // BullMQ's keys (jobs, the wait and completed lists, events) and oombot's (dedupe, groups, history)
    // share the hash tag, so they all live on the one node that owns its slot.
    expect([...byNode.keys()]).toHaveLength(1);
    const keys = [...byNode.values()][0]!;
    const suffixes = new Set(keys.map((k) => k.slice(`oombot:{${w.queueName}}:`.length).split(':')[0]));
    for (const kind of ['seen', 'completed', 'meta', 'events', 'group', 'history', 'incident']) expect(suffixes).toContain(kind);
    // Nothing of the queue was written outside the hash tag.
    expect(await cluster.keysByNode(`oombot:${w.queueName}:*`)).toEqual(new Map());
  });
});
