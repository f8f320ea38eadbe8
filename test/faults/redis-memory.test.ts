/**
 * Redis memory stays bounded however long oombot runs: every key it writes either expires or belongs to
 * a structure with a fixed bound, and what an incident leaves behind (dedupe key, job, history record,
 * alert group) is gone after the retention window. A week of incidents is compressed into seconds by
 * shortening the retention windows the same way.
 */
import { describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { until } from './harness.js';
import { faultSuite } from './world.js';

const { faults, startWorld } = faultSuite();

/** BullMQ's own keys of a queue: one each, or bounded by BullMQ (events stream capped, sets of job ids). */
const BULLMQ_KEYS = new Set([
  'meta',
  'id',
  'events',
  'completed',
  'failed',
  'wait',
  'active',
  'delayed',
  'prioritized',
  'paused',
  'marker',
  'stalled',
  'stalled-check',
  'pc',
  'limiter',
  'metrics',
]);
/** BullMQ's default cap on a queue's events stream (Queue option streams.events.maxLen). */
const EVENTS_MAX_LEN = 10_000;

type Category = 'dedupe' | 'job' | 'history' | 'group' | 'proposal' | 'heartbeat' | 'cache' | 'queue' | 'other';

interface Sample {
  keys: number;
  byCategory: Record<Category, number>;
  /**
   * MEMORY USAGE summed over every key but the events stream (capped by length, see below) and the
   * proposals (a Raise limit button lives a day by design, which this test does not shorten).
   */
  bytes: number;
  eventsLength: number;
  /** Keys without a TTL that are not bounded by design. */
  unbounded: string[];
}

function categorize(suffix: string): Category {
  if (suffix.startsWith('seen:')) return 'dedupe';
  if (/^(container-oom|child-oom|sigkill|evicted|disruption|node-oom)-[0-9a-f]{32}(:lock)?$/.test(suffix)) return 'job';
  if (/^(incident|history|pods|workloads):/.test(suffix)) return 'history';
  if (suffix.startsWith('group:') || suffix === 'dirty') return 'group';
  if (suffix.startsWith('proposal:') || suffix.startsWith('proposal-of:')) return 'proposal';
  if (suffix.startsWith('heartbeat:')) return 'heartbeat';
  // The shared cache of cluster reads (per workload, namespace or cluster) and each cluster's node sums.
  if (suffix.startsWith('cache:') || suffix.startsWith('node-sums:')) return 'cache';
  if (BULLMQ_KEYS.has(suffix)) return 'queue';
  return 'other';
}

async function sample(redis: Redis, queueName: string): Promise<Sample> {
  const prefix = `oombot:${queueName}:`;
  const byCategory: Record<Category, number> = { dedupe: 0, job: 0, history: 0, group: 0, proposal: 0, heartbeat: 0, cache: 0, queue: 0, other: 0 };
  const unbounded: string[] = [];
  let bytes = 0;
  let keys = 0;
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', 'oombot:*', 'COUNT', 1000);
    cursor = next;
    for (const key of batch) {
      keys++;
      const suffix = key.startsWith(prefix) ? key.slice(prefix.length) : key;
      const category = categorize(suffix);
      byCategory[category]++;
      const [ttl, usage] = await Promise.all([redis.pttl(key), redis.call('MEMORY', 'USAGE', key) as Promise<number | null>]);
      if (suffix !== 'events' && category !== 'proposal') bytes += usage ?? 0;
      // Without a TTL: BullMQ's structures, job hashes (removed by age as later jobs complete), the
      // set of groups to flush (one entry per group with repeats not yet shown).
      if (ttl === -1 && category !== 'queue' && category !== 'job' && suffix !== 'dirty') unbounded.push(key);
    }
  } while (cursor !== '0');
  const eventsLength = await redis.xlen(`${prefix}events`);
  return { keys, byCategory, bytes, eventsLength, unbounded };
}

describe('Redis memory over a long run', () => {
  it('a week of kills, compressed (14 bursts, retention windows shortened to 2 s): keys expire, DBSIZE and memory stay flat', { timeout: 60_000 }, async () => {
    const redis = await faults.redis();
    // Three workloads of four pods; each burst kills every pod once.
    const w = await startWorld({ workloads: 3, replicas: 4, redisUrl: redis.url, realTime: true });
    const env = w.env({
      // Alerts print to the console: this test is about Redis, not Slack's pace.
      SLACK_BOT_TOKEN: '',
      SLACK_CHANNEL: '',
      OOMBOT_DEDUPE_TTL: '2s',
      OOMBOT_LOOKBACK: '1s',
      OOMBOT_GROUP_WINDOW: '1s',
    });
    const oombot = await faults.spawn('oombot', 'watcher,worker', env);
    await oombot.ready();
    const pods = w.pods().map((p) => p.name);
    const processed = () => oombot.logged('alert posted').length + oombot.logged('incident recorded').length;

    const rounds = 14;
    const everyMs = 1_500;
    const samples: Sample[] = [];
    for (let r = 0; r < rounds; r++) {
      const started = Date.now();
      await w.burst(pods, { everyMs: 5 });
      await until(`burst ${r + 1} to be processed`, () => processed() >= w.kills.length, 15_000);
      samples.push(await sample(w.redis, w.queueName));
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, everyMs - (Date.now() - started))));
    }
    const perBurst = pods.length;
    expect(w.kills).toHaveLength(rounds * perBurst);

    // Every key expires, or is bounded by design.
    for (const s of samples) expect(s.unbounded).toEqual([]);
    expect(samples.every((s) => s.byCategory.other === 0)).toBe(true);

    // What incidents leave behind covers the last retention window (2 s, under two bursts), not the run:
    // at most three bursts' worth at any time, while the run had fourteen.
    const bound = 3 * perBurst;
    for (const s of samples) {
      expect(s.byCategory.dedupe).toBeLessThanOrEqual(bound);
      // A job is a hash and, while active, a lock.
      expect(s.byCategory.job).toBeLessThanOrEqual(2 * bound);
      // A record per incident, plus per workload a list and the two indexes.
      expect(s.byCategory.history).toBeLessThanOrEqual(bound + 3 + 2);
    }
    // Flat, not growing: the second half of the run holds no more than the first (after its first
    // retention window) did, give or take a burst or two.
    const early = samples.slice(2, rounds / 2);
    const late = samples.slice(rounds / 2);
    const most = (list: Sample[], pick: (s: Sample) => number) => Math.max(...list.map(pick));
    // Proposals live a day, and the shared cache of cluster reads minutes, by design, not shortened here:
    // counted apart (each has its TTL, checked above).
    const keysButProposals = (s: Sample) => s.keys - s.byCategory.proposal - s.byCategory.cache;
    expect(most(late, keysButProposals)).toBeLessThanOrEqual(most(early, keysButProposals) + 2 * perBurst);
    expect(most(late, (s) => s.bytes)).toBeLessThanOrEqual(most(early, (s) => s.bytes) * 1.5);
    // The events stream is capped by length: it grows only up to BullMQ's cap.
    expect(samples.at(-1)!.eventsLength).toBeLessThanOrEqual(EVENTS_MAX_LEN);

    // Once the kills stop, what is left expires: no dedupe key, history record or alert group remains.
    await until(
      'incident keys to expire after the run',
      async () => {
        const s = await sample(w.redis, w.queueName);
        return s.byCategory.dedupe === 0 && s.byCategory.history === 0 && s.byCategory.group === 0 && s.unbounded.length === 0;
      },
      10_000,
      250,
    );
    const dbsize = await w.redis.dbsize();
    const left = await sample(w.redis, w.queueName);
    // Left: BullMQ's structure, the last window's jobs (pruned when later jobs complete), the proposals
    // (a day), the watcher's heartbeat.
    expect(dbsize).toBe(left.keys);
    expect(left.byCategory.job).toBeLessThanOrEqual(2 * bound);
    expect(left.keys - left.byCategory.proposal - left.byCategory.cache).toBeLessThanOrEqual(BULLMQ_KEYS.size + 2 * bound + 2);
    // The cache holds a few entries per workload and namespace, not per incident.
    expect(left.byCategory.cache).toBeLessThanOrEqual(perBurst + 10);
  });
});
