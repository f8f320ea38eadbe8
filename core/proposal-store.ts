import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import { KEY_PREFIX } from './queue.js';
import type { Proposal } from '../handlers/model/propose-limit.js';

/**
 * Proposed fixes live server-side; a Slack button carries only the proposal's id, an unguessable
 * random token. A proposal expires, and is applied at most once (see `claim`).
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
}

export const PROPOSAL_TTL_MS = 24 * 3600 * 1000;
const ID_PATTERN = /^p_[A-Za-z0-9_-]{22}$/;

export class ProposalStore {
  constructor(
    private readonly redis: Redis,
    private readonly queueName: string,
    private readonly ttlMs = PROPOSAL_TTL_MS,
  ) {}

  private key(id: string): string {
    return `${KEY_PREFIX}:${this.queueName}:proposal:${id}`;
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
    await this.redis.set(this.key(id), JSON.stringify(stored), 'PX', this.ttlMs);
    return stored;
  }

  async get(id: string): Promise<StoredProposal | undefined> {
    if (!ProposalStore.isId(id)) return undefined;
    const raw = await this.redis.get(this.key(id));
    return raw ? (JSON.parse(raw) as StoredProposal) : undefined;
  }

  /** Marks where the alert carrying the proposal is. */
  async attachMessage(id: string, channel: string, ts: string): Promise<void> {
    const p = await this.get(id);
    if (!p) return;
    const ttl = await this.redis.pttl(this.key(id));
    if (ttl > 0) await this.redis.set(this.key(id), JSON.stringify({ ...p, channel, ts }), 'PX', ttl);
  }

  /**
   * Takes the proposal for applying: the first caller gets it, every later caller (a double click,
   * a replayed payload) gets undefined. Atomic in Redis, so it holds across bot replicas.
   */
  async claim(id: string, by: string): Promise<StoredProposal | undefined> {
    if (!ProposalStore.isId(id)) return undefined;
    const ok = await this.redis.set(`${this.key(id)}:claimed`, by, 'PX', this.ttlMs, 'NX');
    if (ok !== 'OK') return undefined;
    return this.get(id);
  }
}
