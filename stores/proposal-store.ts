import { randomBytes } from 'node:crypto';
import type { RedisClient } from '../core/queue.js';
import type { Logger } from '../core/logger.js';
import { KEY_PREFIX } from '../core/queue.js';
import type { Proposal } from '../diagnosis/propose-limit.js';
import { open, PROCESS_KEY, seal } from './sealed.js';
import { check, StoredProposalSchema } from './schemas.js';

/**
 * Proposed fixes live server-side; a Slack button carries only the proposal's id, an unguessable
 * random token. A proposal expires, and is applied at most once (see `claim` and `release`). Each is
 * sealed with an HMAC (stores/sealed.ts) and checked against its schema when read: a record written
 * into Redis by anyone else, or altered there, is refused and logged, never applied.
 */
export interface StoredProposal {
  id: string;
  incidentId: string;
  cluster: string;
  proposal: Proposal;
  createdAt: string;
  expiresAt: string;
  /** Where the alert is, to update it after the fix. */
  channel?: string;
  ts?: string;
  /** The alert's group (see AlertLocation). */
  group?: string;
}

/** A proposal taken for applying; `token` releases it. */
export interface ProposalClaim {
  id: string;
  token: string;
  stored: StoredProposal;
}

/** Where an alert message is in Slack. */
export interface AlertLocation {
  channel: string;
  ts: string;
  /** The alert group the message belongs to, so a change is kept by the group's later updates. */
  group?: string;
}

export const PROPOSAL_TTL_MS = 24 * 3600 * 1000;
const ID_PATTERN = /^p_[A-Za-z0-9_-]{22}$/;

/** How long a claim holds without being renewed: a bot that dies mid-apply frees the proposal after this. */
export const CLAIM_LEASE_MS = 60_000;

/** KEYS: claim. ARGV: claimer, ms. Extends the claim only when this claimer holds it. */
const EXTEND = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;

/** KEYS: claim. ARGV: claimer. Deletes the claim only when this claimer holds it. */
const RELEASE = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`;

export interface ProposalStoreOptions {
  /** OOMBOT_PROPOSAL_KEY; this process's own key when absent. */
  key?: string | Buffer;
  /** Where refused records are reported. */
  log?: Logger;
}

export class ProposalStore {
  private readonly sealKey: string | Buffer;
  private readonly log: Logger | undefined;

  constructor(
    private readonly redis: RedisClient,
    private readonly queueName: string,
    private readonly ttlMs = PROPOSAL_TTL_MS,
    opts: ProposalStoreOptions = {},
  ) {
    this.sealKey = opts.key ?? PROCESS_KEY;
    this.log = opts.log;
  }

  private key(id: string): string {
    return `${KEY_PREFIX}:${this.queueName}:proposal:${id}`;
  }

  private claimKey(id: string): string {
    return `${this.key(id)}:claimed`;
  }

  static isId(value: unknown): value is string {
    return typeof value === 'string' && ID_PATTERN.test(value);
  }

  async create(input: Omit<StoredProposal, 'id' | 'createdAt' | 'expiresAt'>, now = new Date()): Promise<StoredProposal> {
    const id = `p_${randomBytes(16).toString('base64url')}`;
    const stored: StoredProposal = {
      ...input,
      id,
      createdAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + this.ttlMs).toISOString(),
    };
    await this.redis.set(this.key(id), seal(this.sealKey, stored), 'PX', this.ttlMs);
    return stored;
  }

  /**
   * The proposal an incident's alert shows: made once per incident, so that a retried job (a worker
   * died after posting) renders the same button as the alert already in Slack.
   */
  async createForIncident(input: Omit<StoredProposal, 'id' | 'createdAt' | 'expiresAt'>, now = new Date()): Promise<StoredProposal> {
    const fresh = await this.create(input, now);
    const slot = `${KEY_PREFIX}:${this.queueName}:proposal-of:${input.incidentId}`;
    if ((await this.redis.set(slot, fresh.id, 'PX', this.ttlMs, 'NX')) === 'OK') return fresh;
    const earlier = await this.get((await this.redis.get(slot)) ?? '');
    if (earlier) {
      await this.redis.del(this.key(fresh.id));
      return earlier;
    }
    // The earlier one expired: this one takes its place.
    await this.redis.set(slot, fresh.id, 'PX', this.ttlMs);
    return fresh;
  }

  async get(id: string): Promise<StoredProposal | undefined> {
    if (!ProposalStore.isId(id)) return undefined;
    const raw = await this.redis.get(this.key(id));
    if (!raw) return undefined;
    const opened = open(this.sealKey, raw);
    const checked = opened.ok ? check(StoredProposalSchema, opened.value) : opened;
    if (!checked.ok || checked.value.id !== id) {
      const reason = checked.ok ? 'its id is not the key it is stored under' : checked.reason;
      this.log?.error(
        { proposal: id, reason },
        'stored proposal refused: set the same OOMBOT_PROPOSAL_KEY for the worker and the bot; otherwise someone wrote to Redis',
      );
      return undefined;
    }
    return checked.value as StoredProposal;
  }

  /**
   * Records where the alert carrying the proposal is, so that applying it (or its Undo, or a retry from
   * an ephemeral answer) can update that alert. The proposal keeps its expiry, and one that expired
   * meanwhile is not brought back. Returns whether anything changed.
   */
  async attachMessage(id: string, channel: string, ts: string, group?: string): Promise<boolean> {
    const p = await this.get(id);
    if (!p || !channel || !ts || (p.channel === channel && p.ts === ts && (!group || p.group === group))) return false;
    const sameMessage = p.channel === channel && p.ts === ts;
    const where = { channel, ts, ...(group ? { group } : sameMessage && p.group ? { group: p.group } : {}) };
    const { group: _old, ...rest } = p;
    return (await this.redis.set(this.key(id), seal(this.sealKey, { ...rest, ...where }), 'KEEPTTL', 'XX')) === 'OK';
  }

  /**
   * Takes the proposal for applying: the first caller gets it, every later caller (a double click,
   * a replayed payload) gets undefined until the claim is released. Atomic in Redis, so it holds across
   * bot replicas. The claim is a lease of `leaseMs` (renewed while applying, see `renew`), so a bot that
   * dies mid-apply frees the proposal within a minute; `settle` makes it permanent once applied.
   */
  async claim(id: string, by: string, leaseMs = CLAIM_LEASE_MS): Promise<ProposalClaim | undefined> {
    if (!ProposalStore.isId(id)) return undefined;
    // The user plus a random token: two clicks of one person are two claimers.
    const token = `${by} ${randomBytes(9).toString('base64url')}`;
    const ok = await this.redis.set(this.claimKey(id), token, 'PX', leaseMs, 'NX');
    if (ok !== 'OK') return undefined;
    const stored = await this.get(id);
    if (!stored) {
      // Expired between the lookup and the claim: nothing to hold.
      await this.release({ id, token });
      return undefined;
    }
    return { id, token, stored };
  }

  /** Extends the holder's lease; false when the claim is no longer this holder's. */
  async renew(claim: Pick<ProposalClaim, 'id' | 'token'>, leaseMs = CLAIM_LEASE_MS): Promise<boolean> {
    if (!ProposalStore.isId(claim.id)) return false;
    return (await this.redis.eval(EXTEND, 1, this.claimKey(claim.id), claim.token, String(leaseMs))) === 1;
  }

  /** The proposal was applied: the claim lasts as long as a proposal can, so it stays applied. */
  async settle(claim: Pick<ProposalClaim, 'id' | 'token'>): Promise<boolean> {
    return this.renew(claim, this.ttlMs);
  }

  /**
   * Gives a claim back when applying stopped before anything changed (a refusal by the dry run, a slow
   * or unreachable API server, a conflict), so the same button can be tried again. Only the holder's
   * own claim is released: a late release never frees a claim someone else took since.
   */
  async release(claim: Pick<ProposalClaim, 'id' | 'token'>): Promise<boolean> {
    if (!ProposalStore.isId(claim.id)) return false;
    return (await this.redis.eval(RELEASE, 1, this.claimKey(claim.id), claim.token)) === 1;
  }

  /**
   * Whether this claim holds the proposal right now, without extending it: a cluster's agent asks this
   * before it carries out a write for the proposal.
   */
  async holds(claim: Pick<ProposalClaim, 'id' | 'token'>): Promise<boolean> {
    if (!ProposalStore.isId(claim.id) || !claim.token) return false;
    return (await this.redis.get(this.claimKey(claim.id))) === claim.token;
  }

  /** The user id holding the claim, if any. */
  async claimedBy(id: string): Promise<string | undefined> {
    if (!ProposalStore.isId(id)) return undefined;
    const raw = await this.redis.get(this.claimKey(id));
    return raw ? raw.split(' ')[0] : undefined;
  }
}
