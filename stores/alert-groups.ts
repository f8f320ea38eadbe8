import { randomUUID } from 'node:crypto';
import { KEY_PREFIX, replicated, type RedisClient } from '../core/queue.js';
import type { AlertChange } from '../alert/alert-state.js';
import { type FacetKind, parseChecked, RepeatNoteSchema } from './schemas.js';

/**
 * Alert groups: one Slack message per workload (and kind of incident) per window. The first incident
 * of a group posts; repeats only bump the group in Redis and mark it dirty, and a flusher turns all
 * repeats of a group into one message update and one thread reply. Slack calls then grow with the
 * number of workloads, not the number of kills, and nothing is lost: a repeat is durable in Redis
 * before its job completes.
 *
 * Every Slack post is made exactly once, even when a worker dies in the middle of it (see
 * handlers/publisher.ts for the whole design). Redis holds what is in flight: the `claim` of the group's
 * first message (the incident that posts it, and since when), and the `batch` of repeats a flush took
 * for a thread reply. A claim or batch found still open by a later attempt means an earlier one may
 * already have posted it: that attempt looks in Slack before posting.
 */

export type RecordDecision =
  /**
   * This job owns the group's first message and must post it. `retry`: this incident claimed it
   * before (at `claimedAt`, epoch ms), so an earlier attempt may have posted it already.
   */
  | { action: 'post'; retry: boolean; claimedAt: number }
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
  /** Changes applied from Slack to this alert (AlertChange[] as JSON), so updates keep them. */
  changes?: string;
  /** Repeats the first message listed itself (RepeatNote[] as JSON), so updates keep them. */
  earlier?: string;
  /** The facets shown so far (SeenFacets as JSON): a repeat with none new needs no thread reply. */
  seen?: string;
  /** Repeats with something new shown on the alert itself rather than in its thread (JSON list). */
  noted?: string;
}

export interface PendingRepeats {
  notes: RepeatNote[];
  /** Older repeats beyond MAX_NOTES, counted but not kept word for word. */
  trimmed: number;
}

/** Repeats taken by a flush for one thread reply. */
export interface RepeatBatch extends PendingRepeats {
  /** Marks the thread reply (message metadata), so a later flush can tell whether it was posted. */
  id: string;
  /** Taken by an earlier flush that did not finish: its reply may be in Slack already. */
  retry: boolean;
}

export interface RepeatNote {
  incidentId: string;
  at: string;
  line: string;
  /** What the repeat is about: a repeat gets a thread reply only when one of these is new to its alert. */
  facets?: RepeatFacets;
}

export { FACET_KINDS, type FacetKind } from './schemas.js';
export type RepeatFacets = Partial<Record<FacetKind, string>>;
/** Values of each facet an alert (its first message and thread replies) has shown. */
export type SeenFacets = Partial<Record<FacetKind, string[]>>;

/**
 * KEYS: group, ids, dirty, pending. ARGV: incidentId, jobClaim, at, windowMs, flushAtMs, note, maxNotes, nowMs.
 * Returns {decision, claimedAt}: 'post' (first claim), 'retry' (this incident's own claim, still open),
 * 'repeat' or 'done'.
 */
const RECORD = `
local added = redis.call('SADD', KEYS[2], ARGV[1])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
local ts = redis.call('HGET', KEYS[1], 'ts')
local claim = redis.call('HGET', KEYS[1], 'claim')
if added == 0 then
  if (not ts) and claim == ARGV[2] then return {'retry', redis.call('HGET', KEYS[1], 'claimAt') or '0'} end
  return {'done', '0'}
end
redis.call('HINCRBY', KEYS[1], 'count', 1)
redis.call('HSETNX', KEYS[1], 'firstAt', ARGV[3])
redis.call('HSET', KEYS[1], 'lastAt', ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[4])
if (not ts) and (not claim) then
  redis.call('HSET', KEYS[1], 'claim', ARGV[2], 'claimAt', ARGV[8])
  return {'post', ARGV[8]}
end
redis.call('ZADD', KEYS[3], 'NX', ARGV[5], KEYS[1])
-- Keep the newest notes for the thread; older ones are only counted.
if redis.call('RPUSH', KEYS[4], ARGV[6]) > tonumber(ARGV[7]) then
  redis.call('LPOP', KEYS[4])
  redis.call('HINCRBY', KEYS[1], 'trimmed', 1)
end
redis.call('PEXPIRE', KEYS[4], ARGV[4])
return {'repeat', '0'}
`;

/**
 * KEYS: group, pending, batch. ARGV: batchId, windowMs.
 * Takes the repeats not yet in the thread as one batch. A batch left by an unfinished flush is handed
 * out again, marked as a retry, before any newer repeats. Returns {} when there is nothing to post,
 * else {batchId, retry ('1'/'0'), trimmed, note...}.
 */
const TAKE_BATCH = `
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[2], KEYS[3])
  return {}
end
local open = redis.call('HGET', KEYS[1], 'batch')
if open then
  return {open, '1', redis.call('HGET', KEYS[1], 'batchTrimmed') or '0', unpack(redis.call('LRANGE', KEYS[3], 0, -1))}
end
local trimmed = redis.call('HGET', KEYS[1], 'trimmed') or '0'
if redis.call('LLEN', KEYS[2]) == 0 and tonumber(trimmed) == 0 then return {} end
redis.call('DEL', KEYS[3])
if redis.call('EXISTS', KEYS[2]) == 1 then
  redis.call('RENAME', KEYS[2], KEYS[3])
  redis.call('PEXPIRE', KEYS[3], ARGV[2])
end
redis.call('HSET', KEYS[1], 'batch', ARGV[1], 'batchTrimmed', trimmed)
redis.call('HDEL', KEYS[1], 'trimmed')
return {ARGV[1], '0', trimmed, unpack(redis.call('LRANGE', KEYS[3], 0, -1))}
`;

/**
 * KEYS: group, pending, batch, flushing, dirty. ARGV: shown, retryAtMs ('' for none), nextFlushAtMs,
 * batchDone ('1'/'0'), seen (JSON, '' to keep), noted (JSON, '' to keep).
 * Ends a flush. Never brings back a group that expired meanwhile (a key without a TTL would stay for
 * good); a group with more to show stays dirty.
 */
const FLUSHED = `
redis.call('DEL', KEYS[4])
if ARGV[4] == '1' then
  redis.call('DEL', KEYS[3])
  redis.call('HDEL', KEYS[1], 'batch', 'batchTrimmed')
end
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('ZREM', KEYS[5], KEYS[1])
  return 0
end
redis.call('HSET', KEYS[1], 'shown', ARGV[1])
if ARGV[5] ~= '' then redis.call('HSET', KEYS[1], 'seen', ARGV[5]) end
if ARGV[6] ~= '' then redis.call('HSET', KEYS[1], 'noted', ARGV[6]) end
if ARGV[2] ~= '' then
  redis.call('ZADD', KEYS[5], ARGV[2], KEYS[1])
  return 1
end
local count = tonumber(redis.call('HGET', KEYS[1], 'count') or '0')
local more = count > tonumber(ARGV[1]) or redis.call('LLEN', KEYS[2]) > 0 or redis.call('HEXISTS', KEYS[1], 'batch') == 1
  or tonumber(redis.call('HGET', KEYS[1], 'trimmed') or '0') > 0
if more then
  redis.call('ZADD', KEYS[5], ARGV[3], KEYS[1])
  return 1
end
redis.call('ZREM', KEYS[5], KEYS[1])
return 0
`;

/**
 * KEYS: dirty. ARGV: nowMs, limit, leaseMs.
 * Leases up to `limit` due groups to this worker and moves them to the end of their lease in the dirty
 * set, so that the next claim looks past groups already being flushed (which may wait a while for
 * Slack's budget). A worker that dies leaves its groups due again when the lease runs out.
 */
const CLAIM_DUE = `
local keys = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[2]) * 2)
local claimed = {}
local untilMs = tonumber(ARGV[1]) + tonumber(ARGV[3])
for _, key in ipairs(keys) do
  if #claimed >= tonumber(ARGV[2]) then break end
  if redis.call('SET', key .. ':flushing', '1', 'PX', ARGV[3], 'NX') then
    redis.call('ZADD', KEYS[1], 'XX', untilMs, key)
    table.insert(claimed, key)
  end
end
return claimed
`;

/** KEYS: dirty. ARGV: nowMs, leaseMs, group keys... Extends the leases still held (a finished flush holds none). */
const RENEW = `
local untilMs = tonumber(ARGV[1]) + tonumber(ARGV[2])
for i = 3, #ARGV do
  if redis.call('PEXPIRE', ARGV[i] .. ':flushing', ARGV[2]) == 1 then
    redis.call('ZADD', KEYS[1], 'XX', 'GT', untilMs, ARGV[i])
  end
end
return 0
`;

/** Repeats kept word for word per group between two flushes; beyond that they are only counted. */
export const MAX_NOTES = 200;

const RECORD_CHANGE_LUA = `
if redis.call('HGET', KEYS[1], 'ts') ~= ARGV[1] then return 0 end
local cur = redis.call('HGET', KEYS[1], 'changes')
local list = {}
if cur then list = cjson.decode(cur) end
table.insert(list, cjson.decode(ARGV[2]))
while #list > 5 do table.remove(list, 1) end
redis.call('HSET', KEYS[1], 'changes', cjson.encode(list))
return 1
`;

/** Like RECORD_CHANGE_LUA, but a change with the same id is replaced where it stands (a status that moves on). */
const SET_CHANGE_LUA = `
if redis.call('HGET', KEYS[1], 'ts') ~= ARGV[1] then return 0 end
local cur = redis.call('HGET', KEYS[1], 'changes')
local list = {}
if cur then list = cjson.decode(cur) end
local change = cjson.decode(ARGV[2])
local done = false
for i, c in ipairs(list) do
  if c.id == change.id then
    list[i] = change
    done = true
  end
end
if not done then table.insert(list, change) end
while #list > 5 do table.remove(list, 1) end
redis.call('HSET', KEYS[1], 'changes', cjson.encode(list))
return 1
`;

export class AlertGroups {
  constructor(
    private readonly redis: RedisClient,
    private readonly queueName: string,
    private readonly windowMs: number,
    /** How long repeats are collected before one update goes out. */
    private readonly flushDelayMs = 5_000,
  ) {}

  private k(suffix: string): string {
    return `${KEY_PREFIX}:${this.queueName}:${suffix}`;
  }

  /**
   * Waits until a replica holds what was recorded so far (through Sentinel; at once otherwise), so that
   * a failover after a Slack post cannot take back the claim or batch id the post's retry looks for.
   */
  async durable(): Promise<boolean> {
    return replicated(this.redis);
  }

  groupKey(group: string): string {
    return this.k(`group:${group}`);
  }

  get dirtyKey(): string {
    return this.k('dirty');
  }

  async record(group: string, incidentId: string, at: string, note: RepeatNote): Promise<RecordDecision> {
    const key = this.groupKey(group);
    const [decision, claimedAt] = (await this.redis.eval(
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
      String(Date.now()),
    )) as ['post' | 'retry' | 'repeat' | 'done', string];
    if (decision === 'post' || decision === 'retry') return { action: 'post', retry: decision === 'retry', claimedAt: Number(claimedAt) || 0 };
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
      changes: h.changes,
      earlier: h.earlier,
      seen: h.seen,
      noted: h.noted,
    };
  }

  /** After the first message is out: remember where it is; repeats that came meanwhile get flushed. */
  async posted(
    group: string,
    channel: string,
    ts: string,
    shown: number,
    model: string,
    folded?: { raw: readonly string[]; notes: readonly RepeatNote[] },
    seen?: SeenFacets,
  ): Promise<void> {
    const key = this.groupKey(group);
    const count = Number((await this.redis.hget(key, 'count')) ?? 0);
    const multi = this.redis
      .multi()
      .hset(key, { channel, ts, shown: String(shown), model, ...(seen ? { seen: JSON.stringify(seen) } : {}) })
      .hdel(key, 'claim', 'claimAt')
      .pexpire(key, this.windowMs);
    // Repeats the first message already lists are not posted again in the thread.
    if (folded && folded.raw.length > 0) {
      for (const raw of folded.raw) multi.lrem(`${key}:pending`, 1, raw);
      multi.hset(key, 'earlier', JSON.stringify(folded.notes));
    }
    if (count > shown) multi.zadd(this.dirtyKey, 'NX', Date.now() + this.flushDelayMs, key);
    await multi.exec();
  }

  /**
   * Records a change applied from Slack on the group's alert, so that later repeat updates, which are
   * drawn from the stored model, keep its audit line and Undo button. Only while the group still shows
   * the message at `ts`; keeps the last five changes. False when the group has moved on or expired.
   */
  async recordChange(group: string, ts: string, change: AlertChange): Promise<boolean> {
    const done = await this.redis.eval(RECORD_CHANGE_LUA, 1, this.groupKey(group), ts, JSON.stringify(change));
    return done === 1;
  }

  /**
   * Sets a change shown on the alert by its id: replaced in place when the alert shows it already (the
   * status of a followed fix), else added like `recordChange`. False when the group moved on or expired.
   */
  async setChange(group: string, ts: string, change: AlertChange): Promise<boolean> {
    const done = await this.redis.eval(SET_CHANGE_LUA, 1, this.groupKey(group), ts, JSON.stringify(change));
    return done === 1;
  }

  /**
   * The repeats waiting for the thread, when there are at most `max` and none was only counted: the
   * first message can list them itself (`raw` goes back to `posted` to take them off the thread).
   */
  async peekPending(group: string, max: number): Promise<{ notes: RepeatNote[]; raw: string[] } | undefined> {
    const key = this.groupKey(group);
    const [[, raw], [, trimmed]] = (await this.redis.multi().lrange(`${key}:pending`, 0, max).hget(key, 'trimmed').exec()) as [
      [unknown, string[]],
      [unknown, string | null],
    ];
    if (raw.length === 0 || raw.length > max || Number(trimmed ?? 0) > 0) return undefined;
    const notes: RepeatNote[] = [];
    for (const r of raw) {
      const note = parseChecked(RepeatNoteSchema, r);
      if (!note.ok) return undefined;
      notes.push(note.value);
    }
    return { notes, raw };
  }

  /** Gives up the first-post claim (the job failed permanently) so a later incident can post. */
  async release(group: string): Promise<void> {
    await this.redis.hdel(this.groupKey(group), 'claim', 'claimAt');
  }

  /**
   * Groups whose repeats are due for an update, leased for `leaseMs` so one worker flushes each. A
   * worker that dies mid-flush leaves the lease to run out; `renew` keeps a long flush's lease alive.
   */
  async claimDue(limit: number, leaseMs: number, now = Date.now()): Promise<string[]> {
    return (await this.redis.eval(CLAIM_DUE, 1, this.dirtyKey, String(now), String(limit), String(leaseMs))) as string[];
  }

  /** Extends the flush leases of `keys`. */
  async renew(keys: string[], leaseMs: number): Promise<void> {
    if (keys.length === 0) return;
    await this.redis.eval(RENEW, 1, this.dirtyKey, String(Date.now()), String(leaseMs), ...keys);
  }

  /**
   * The repeats to put in the thread next, as one batch kept in Redis until `flushed(..., batchDone)`:
   * the newest notes, and how many older ones were only counted. A batch an earlier flush took and did
   * not finish comes back first, marked `retry`. Undefined when there is nothing to post.
   */
  async takeBatch(key: string): Promise<RepeatBatch | undefined> {
    const res = (await this.redis.eval(TAKE_BATCH, 3, key, `${key}:pending`, `${key}:batch`, randomUUID(), String(this.windowMs))) as string[];
    if (res.length === 0) return undefined;
    const [id, retry, trimmed, ...raw] = res;
    const notes = raw.flatMap((r) => {
      const note = parseChecked(RepeatNoteSchema, r);
      return note.ok ? [note.value] : [];
    });
    return { id: id!, retry: retry === '1', trimmed: Number(trimmed ?? 0), notes };
  }

  /**
   * The flush of `key` is done up to `shown`; more repeats since then stay dirty. `batchDone`: the
   * batch taken is in Slack (or given up for good) and is dropped; otherwise it stays for the next flush.
   */
  async flushed(
    key: string,
    shown: number,
    opts: { retryAtMs?: number; batchDone?: boolean; seen?: SeenFacets; noted?: readonly unknown[] } = {},
  ): Promise<void> {
    await this.redis.eval(
      FLUSHED,
      5,
      key,
      `${key}:pending`,
      `${key}:batch`,
      `${key}:flushing`,
      this.dirtyKey,
      String(shown),
      opts.retryAtMs === undefined ? '' : String(opts.retryAtMs),
      String(Date.now() + this.flushDelayMs),
      opts.batchDone ? '1' : '0',
      opts.seen ? JSON.stringify(opts.seen) : '',
      opts.noted ? JSON.stringify(opts.noted) : '',
    );
  }

  /** Groups with repeats not yet shown in Slack. */
  async dirtyCount(): Promise<number> {
    return this.redis.zcard(this.dirtyKey);
  }
}
