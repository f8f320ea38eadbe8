import type { Redis } from 'ioredis';
import { KEY_PREFIX } from '../core/queue.js';

/**
 * Alert groups: one Slack message per workload (and kind of incident) per window. The first incident
 * of a group posts; repeats only bump the group in Redis and mark it dirty, and a flusher turns all
 * repeats of a group into one message update and one thread reply. Slack calls then grow with the
 * number of workloads, not the number of kills, and nothing is lost: a repeat is durable in Redis
 * before its job completes.
 */

export type RecordDecision =
  /** This job owns the group's first message and must post it. */
  | { action: 'post' }
  /** Counted as a repeat; the flusher updates the message and thread. */
  | { action: 'repeat' }
  /** This incident was already recorded (a retried job) and nothing is left to do for it. */
  | { action: 'done' };

export interface GroupState {
  key: string;
  channel?: string;
  ts?: string;
  count: number;
  /** Count shown in Slack by the last post/update. */
  shown: number;
  firstAt?: string;
  lastAt?: string;
  /** The first message's model (JSON), kept to render updates. */
  model?: string;
}

export interface PendingRepeats {
  notes: RepeatNote[];
  /** Older repeats beyond MAX_NOTES, counted but not kept word for word. */
  trimmed: number;
}

export interface RepeatNote {
  incidentId: string;
  at: string;
  line: string;
}

/** KEYS: group, ids, dirty, pending. ARGV: incidentId, jobClaim, at, windowMs, flushAtMs, note, maxNotes */
const RECORD = `
local added = redis.call('SADD', KEYS[2], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
local ts = redis.call('HGET', KEYS[1], 'ts')
local claim = redis.call('HGET', KEYS[1], 'claim')
if added == 0 then
  if (not ts) and claim == ARGV[2] then return 'post' end
  return 'done'
end
redis.call('HINCRBY', KEYS[1], 'count', 1)
redis.call('HSETNX', KEYS[1], 'firstAt', ARGV[3])
redis.call('HSET', KEYS[1], 'lastAt', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
if (not ts) and (not claim) then
  redis.call('HSET', KEYS[1], 'claim', ARGV[2])
  return 'post'
end
redis.call('ZADD', KEYS[3], 'NX', ARGV[5], KEYS[1])
-- Keep the newest notes for the thread; older ones are only counted.
if redis.call('RPUSH', KEYS[4], ARGV[6]) > tonumber(ARGV[7]) then
  redis.call('LPOP', KEYS[4])
  redis.call('HINCRBY', KEYS[1], 'trimmed', 1)
end
redis.call('PEXPIRE', KEYS[4], ARGV[4])
return 'repeat'
`;

/** Repeats kept word for word per group between two flushes; beyond that they are only counted. */
export const MAX_NOTES = 200;

export class AlertGroups {
  constructor(
    private readonly redis: Redis,
    private readonly queueName: string,
    private readonly windowMs: number,
    /** How long repeats are collected before one update goes out. */
    private readonly flushDelayMs = 5_000,
  ) {}

  private k(suffix: string): string {
    return `${KEY_PREFIX}:${this.queueName}:${suffix}`;
  }

  groupKey(group: string): string {
    return this.k(`group:${group}`);
  }

  get dirtyKey(): string {
    return this.k('dirty');
  }

  async record(group: string, incidentId: string, at: string, note: RepeatNote): Promise<RecordDecision> {
    const key = this.groupKey(group);
    const decision = (await this.redis.eval(
      RECORD,
      4,
      key,
      `${key}:ids`,
      this.dirtyKey,
      `${key}:pending`,
      incidentId,
      incidentId,
      at,
      String(this.windowMs),
      String(Date.now() + this.flushDelayMs),
      JSON.stringify(note),
      String(MAX_NOTES),
    )) as 'post' | 'repeat' | 'done';
    return { action: decision };
  }

  async get(group: string): Promise<GroupState> {
    return this.read(this.groupKey(group));
  }

  async read(key: string): Promise<GroupState> {
    const h = await this.redis.hgetall(key);
    return {
      key,
      channel: h.channel,
      ts: h.ts,
      count: Number(h.count ?? 0),
      shown: Number(h.shown ?? 0),
      firstAt: h.firstAt,
      lastAt: h.lastAt,
      model: h.model,
    };
  }

  /** After the first message is out: remember where it is; repeats that came meanwhile get flushed. */
  async posted(group: string, channel: string, ts: string, shown: number, model: string): Promise<void> {
    const key = this.groupKey(group);
    const count = Number((await this.redis.hget(key, 'count')) ?? 0);
    const multi = this.redis.multi().hset(key, { channel, ts, shown: String(shown), model }).hdel(key, 'claim').pexpire(key, this.windowMs);
    if (count > shown) multi.zadd(this.dirtyKey, 'NX', Date.now() + this.flushDelayMs, key);
    await multi.exec();
  }

  /** Gives up the first-post claim (the job failed permanently) so a later incident can post. */
  async release(group: string): Promise<void> {
    await this.redis.hdel(this.groupKey(group), 'claim');
  }

  /** Groups whose repeats are due for an update, claimed for `leaseMs` so one worker flushes each. */
  async claimDue(limit: number, leaseMs: number, now = Date.now()): Promise<string[]> {
    const keys = await this.redis.zrangebyscore(this.dirtyKey, '-inf', now, 'LIMIT', 0, limit);
    const claimed: string[] = [];
    for (const key of keys) {
      const ok = await this.redis.set(`${key}:flushing`, '1', 'PX', leaseMs, 'NX');
      if (ok === 'OK') claimed.push(key);
    }
    return claimed;
  }

  /** The repeats not yet in the thread: the newest notes, and how many older ones were only counted. */
  async takePending(key: string): Promise<PendingRepeats> {
    const res = await this.redis.multi().lrange(`${key}:pending`, 0, -1).del(`${key}:pending`).hget(key, 'trimmed').hdel(key, 'trimmed').exec();
    const raw = (res?.[0]?.[1] as string[] | undefined) ?? [];
    return { notes: raw.map((r) => JSON.parse(r) as RepeatNote), trimmed: Number(res?.[2]?.[1] ?? 0) };
  }

  /** Puts repeats back after a failed flush, so nothing is lost. */
  async restorePending(key: string, pending: PendingRepeats): Promise<void> {
    const multi = this.redis.multi();
    if (pending.notes.length > 0) multi.lpush(`${key}:pending`, ...pending.notes.map((n) => JSON.stringify(n)).reverse());
    if (pending.trimmed > 0) multi.hincrby(key, 'trimmed', pending.trimmed);
    await multi.exec();
  }

  /** The flush of `key` is done up to `shown`; more repeats since then stay dirty. */
  async flushed(key: string, shown: number, retryAtMs?: number): Promise<void> {
    const count = Number((await this.redis.hget(key, 'count')) ?? 0);
    const pending = await this.redis.llen(`${key}:pending`);
    const multi = this.redis.multi().hset(key, 'shown', String(shown)).del(`${key}:flushing`);
    if (retryAtMs !== undefined) multi.zadd(this.dirtyKey, retryAtMs, key);
    else if (count > shown || pending > 0) multi.zadd(this.dirtyKey, Date.now() + this.flushDelayMs, key);
    else multi.zrem(this.dirtyKey, key);
    await multi.exec();
  }

  /** Groups with repeats not yet shown in Slack. */
  async dirtyCount(): Promise<number> {
    return this.redis.zcard(this.dirtyKey);
  }
}
