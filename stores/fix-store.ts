/**
 * One record of every fix applied from Slack, followed after the click until it held, failed or was
 * reverted. Redis is the one place that knows a fix's outcome, so it survives restarts and is shared by
 * every replica: each record changes only by compare-and-set on its `rev` (two followers never write
 * over each other), and a follower holds a short lease on a fix while it checks it.
 *
 * Keys (all expire): `fix:<id>` the record; `fixes-due` the open fixes scored by when they are next
 * checked; `fixes-of:<workloadKey>` a workload's fixes by time applied (for `/oom history` and to match
 * a kill at the raised limit).
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../core/logger.js';
import { KEY_PREFIX } from '../core/queue.js';
import { check, FixRecordSchema, type FIX_STATES } from './schemas.js';
import type { z } from 'zod';

export type FixRecord = z.infer<typeof FixRecordSchema>;
export type FixState = (typeof FIX_STATES)[number];

/** States after which a fix is no longer followed. */
export const FINAL_STATES: readonly FixState[] = ['held', 'killed-again', 'reverted', 'undone'];

/** Words for each state, as `/oom history` and the metrics name them. */
export const OUTCOME_WORDS: Record<FixState, string> = {
  applied: 'applied',
  'rolling-out': 'rolling out',
  'rolled-out': 'rolled out',
  stuck: 'stuck',
  held: 'held',
  'killed-again': 'killed again',
  reverted: 'reverted',
  undone: 'undone',
};

/** KEYS: record. ARGV: expected rev, new JSON. Replaces the record only when its rev is the expected one. */
const CAS = `
local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
local ok, obj = pcall(cjson.decode, cur)
if not ok or tonumber(obj.rev) ~= tonumber(ARGV[1]) then return 0 end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return 1
`;

/** KEYS: lease. ARGV: token. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

export type NewFix = Omit<FixRecord, 'id' | 'rev' | 'state' | 'transitions'>;

export class FixStore {
  constructor(
    private readonly redis: Redis,
    private readonly queueName: string,
    /** How long a record is kept after it was applied: the verify window and a week for history. */
    private readonly retentionMs: number,
    private readonly log?: Logger,
  ) {}

  private k(suffix: string): string {
    return `${KEY_PREFIX}:${this.queueName}:${suffix}`;
  }

  private key(id: string): string {
    return this.k(`fix:${id}`);
  }

  private get dueKey(): string {
    return this.k('fixes-due');
  }

  private workloadIndex(workloadKey: string): string {
    return this.k(`fixes-of:${workloadKey}`);
  }

  /** Records a fix just applied; it is due for its first check at once. */
  async create(input: NewFix): Promise<FixRecord> {
    const id = `f_${randomBytes(16).toString('base64url')}`;
    const record: FixRecord = { ...input, id, rev: 0, state: 'applied', transitions: [{ state: 'applied', at: input.appliedAt }] };
    const at = Date.parse(input.appliedAt);
    const idx = this.workloadIndex(input.workloadKey);
    await this.redis
      .multi()
      .set(this.key(id), JSON.stringify(record), 'PX', this.retentionMs)
      .zadd(this.dueKey, Date.now(), id)
      .zadd(idx, at, id)
      .pexpire(idx, this.retentionMs)
      .exec();
    return record;
  }

  async get(id: string): Promise<FixRecord | undefined> {
    if (!/^f_[A-Za-z0-9_-]{22}$/.test(id)) return undefined;
    const raw = await this.redis.get(this.key(id));
    if (!raw) return undefined;
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      value = undefined;
    }
    const checked = check(FixRecordSchema, value);
    if (!checked.ok || checked.value.id !== id) {
      this.log?.error({ fix: id, reason: checked.ok ? 'id mismatch' : checked.reason }, 'stored fix record refused: it does not fit its schema');
      return undefined;
    }
    return checked.value;
  }

  /**
   * Writes `change` over the record when nobody changed it since `record` was read (compare-and-set on
   * rev). A new state adds a transition. Undefined when the record moved on (the caller reads it again).
   */
  async update(record: FixRecord, change: Partial<Omit<FixRecord, 'id' | 'rev' | 'transitions'>>, at: string): Promise<FixRecord | undefined> {
    const next: FixRecord = { ...record, ...change, rev: record.rev + 1 };
    if (change.state && change.state !== record.state) {
      next.transitions = [...record.transitions, { state: change.state, at, ...(change.detail ? { detail: change.detail.slice(0, 2000) } : {}) }].slice(-30);
    }
    const ok = await this.redis.eval(CAS, 1, this.key(record.id), String(record.rev), JSON.stringify(next));
    if (ok !== 1) return undefined;
    if (FINAL_STATES.includes(next.state)) await this.redis.zrem(this.dueKey, record.id);
    return next;
  }

  /** When the fix is checked next (epoch ms). */
  async schedule(id: string, atMs: number): Promise<void> {
    await this.redis.zadd(this.dueKey, 'XX', atMs, id);
  }

  /**
   * Open fixes due for a check, each leased for `leaseMs` so that one follower checks it; the lease is
   * the token to `release`.
   */
  async claimDue(limit: number, leaseMs: number, now = Date.now()): Promise<{ id: string; token: string }[]> {
    const ids = await this.redis.zrangebyscore(this.dueKey, '-inf', now, 'LIMIT', 0, limit);
    const out: { id: string; token: string }[] = [];
    for (const id of ids) {
      const token = randomBytes(9).toString('base64url');
      if ((await this.redis.set(this.k(`fix:${id}:lease`), token, 'PX', leaseMs, 'NX')) === 'OK') out.push({ id, token });
    }
    return out;
  }

  async release(id: string, token: string): Promise<void> {
    await this.redis.eval(RELEASE, 1, this.k(`fix:${id}:lease`), token);
  }

  /** Stops following a fix whose record is gone (expired or refused). */
  async forget(id: string): Promise<void> {
    await this.redis.zrem(this.dueKey, id);
  }

  /** A workload's fixes, newest first. */
  async forWorkload(workloadKey: string, limit = 20): Promise<FixRecord[]> {
    const ids = await this.redis.zrevrange(this.workloadIndex(workloadKey), 0, limit - 1);
    const out: FixRecord[] = [];
    for (const id of ids) {
      const r = await this.get(id);
      if (r) out.push(r);
    }
    return out;
  }

  /** Open fixes being followed. */
  async openCount(): Promise<number> {
    return this.redis.zcard(this.dueKey);
  }
}
