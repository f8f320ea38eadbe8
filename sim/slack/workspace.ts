import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import type { MessageVersion, ResponseUrlRecord, SimChannel, SimEphemeral, SimFile, SimMessage, SimUser, SimView, SlackServerOptions } from './types.js';

export const DEFAULT_TEAM = { id: 'T0SIMTEAM', domain: 'oombot-sim', name: 'oombot sim' };
export const DEFAULT_BOT = { userId: 'U0OOMBOT', botId: 'B0OOMBOT', appId: 'A0OOMBOT', name: 'oombot' };
export const DEFAULT_CHANNELS: SimChannel[] = [
  { id: 'C0ALERTS', name: 'alerts', member: true },
  { id: 'C0GENERAL', name: 'general', member: false },
];
export const DEFAULT_USERS: SimUser[] = [{ id: 'U0ALICE', name: 'alice', real_name: 'Alice Example', tz: 'Europe/Berlin' }];

/** Slack-like random id: prefix plus upper-case alphanumerics. */
export function slackId(prefix: string, length = 10): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  const bytes = randomBytes(length);
  let id = prefix;
  for (const b of bytes) id += alphabet[b % alphabet.length];
  return id;
}

/** Formats epoch microseconds as Slack's message timestamp, e.g. "1700000000.000100". */
export function formatTs(micros: bigint): string {
  const s = micros / 1_000_000n;
  const us = micros % 1_000_000n;
  return `${s}.${us.toString().padStart(6, '0')}`;
}

/** State of the simulated workspace: conversations, users and everything that was posted. */
export class Workspace extends EventEmitter {
  readonly team: { id: string; domain: string; name: string };
  readonly bot: { userId: string; botId: string; appId: string; name: string };
  readonly channels: SimChannel[];
  readonly users: SimUser[];
  /** Every message ever stored, replies and deleted ones included, in posting order. */
  readonly messages: SimMessage[] = [];
  /** Files of the external upload flow, by id. */
  readonly files = new Map<string, SimFile>();
  readonly ephemerals: SimEphemeral[] = [];
  readonly views: SimView[] = [];
  readonly responseUrls: ResponseUrlRecord[] = [];
  readonly triggers = new Map<string, { issuedAt: number; used: boolean }>();
  private readonly lastTs = new Map<string, bigint>();

  constructor(
    opts: SlackServerOptions,
    readonly now: () => number,
  ) {
    super();
    this.team = { ...DEFAULT_TEAM, ...opts.team, name: opts.team?.name ?? opts.team?.domain ?? DEFAULT_TEAM.name };
    this.bot = { ...DEFAULT_BOT, ...opts.bot };
    this.channels = (opts.channels ?? DEFAULT_CHANNELS).map((c) => ({ ...c }));
    this.users = (opts.users ?? DEFAULT_USERS).map((u) => ({ ...u }));
  }

  changed(): void {
    this.emit('change');
  }

  /** Resolves an id, `#name` or `name`; a user id resolves to the app's DM with that user. */
  resolveChannel(ref: unknown, byNameToo = true): SimChannel | undefined {
    if (typeof ref !== 'string' || ref.length === 0) return undefined;
    const byId = this.channels.find((c) => c.id === ref);
    if (byId) return byId;
    const user = this.users.find((u) => u.id === ref);
    if (user) {
      const dm: SimChannel = { id: `D${user.id.slice(1)}`, name: user.name, member: true, is_private: true };
      this.channels.push(dm);
      return dm;
    }
    if (!byNameToo) return undefined;
    const name = ref.startsWith('#') ? ref.slice(1) : ref;
    return this.channels.find((c) => c.name === name);
  }

  user(id: unknown): SimUser | undefined {
    return typeof id === 'string' ? this.users.find((u) => u.id === id) : undefined;
  }

  /** A new timestamp, strictly increasing within the channel. */
  nextTs(channel: string): string {
    const micros = BigInt(this.now()) * 1000n;
    const last = this.lastTs.get(channel) ?? 0n;
    const next = micros > last ? micros : last + 1n;
    this.lastTs.set(channel, next);
    return formatTs(next);
  }

  findMessage(channel: string, ts: unknown): SimMessage | undefined {
    return this.messages.find((m) => m.channel === channel && m.ts === ts && !m.deleted);
  }

  addMessage(m: Omit<SimMessage, 'ts' | 'postedAt' | 'history' | 'deleted'>): SimMessage {
    const message: SimMessage = { ...m, ts: this.nextTs(m.channel), postedAt: this.now(), history: [], deleted: false };
    this.messages.push(message);
    this.changed();
    return message;
  }

  updateMessage(message: SimMessage, next: { text?: string; blocks?: unknown[]; metadata?: unknown }): void {
    const previous: MessageVersion = { replacedAt: this.now() };
    if (message.text !== undefined) previous.text = message.text;
    if (message.blocks !== undefined) previous.blocks = message.blocks;
    if (message.metadata !== undefined) previous.metadata = message.metadata;
    message.history.push(previous);
    if (next.text !== undefined) message.text = next.text;
    if (next.blocks !== undefined) message.blocks = next.blocks;
    if (next.metadata !== undefined) message.metadata = next.metadata;
    message.edited = { at: this.now() };
    this.changed();
  }

  deleteMessage(message: SimMessage): void {
    message.deleted = true;
    this.changed();
  }

  addEphemeral(e: Omit<SimEphemeral, 'message_ts' | 'at'>): SimEphemeral {
    const ephemeral: SimEphemeral = { ...e, message_ts: this.nextTs(e.channel), at: this.now() };
    this.ephemerals.push(ephemeral);
    this.changed();
    return ephemeral;
  }

  /** Top-level messages of a channel (by id or name), oldest first. */
  messagesIn(channel: string, { includeDeleted = false } = {}): SimMessage[] {
    const id = this.resolveChannel(channel)?.id ?? channel;
    return this.messages.filter((m) => m.channel === id && (m.thread_ts === undefined || m.thread_ts === m.ts) && (includeDeleted || !m.deleted));
  }

  /** Replies in the thread under `ts` (the parent itself is not included), oldest first. */
  threadOf(channel: string, ts: string, { includeDeleted = false } = {}): SimMessage[] {
    const id = this.resolveChannel(channel)?.id ?? channel;
    return this.messages.filter((m) => m.channel === id && m.thread_ts === ts && m.ts !== ts && (includeDeleted || !m.deleted));
  }

  /** Slack's trigger ids look like `13345224609.738474920.8088930838d88f008e0`. */
  mintTriggerId(): string {
    const id = `${Math.floor(this.now() / 1000)}.${Math.floor(Math.random() * 1e9)}.${randomBytes(16).toString('hex')}`;
    this.triggers.set(id, { issuedAt: this.now(), used: false });
    return id;
  }

  clearRecords(): void {
    this.messages.length = 0;
    this.ephemerals.length = 0;
    this.views.length = 0;
    this.responseUrls.length = 0;
    this.triggers.clear();
    this.files.clear();
    this.changed();
  }
}

/**
 * Fills in what Slack adds to stored blocks: a `block_id` on every block and an `action_id` on every
 * interactive element that lacks one. Returns a deep copy.
 */
export function withGeneratedIds(blocks: unknown[]): unknown[] {
  const copy = structuredClone(blocks) as Array<Record<string, unknown>>;
  for (const block of copy) {
    if (typeof block !== 'object' || block === null) continue;
    if (block.block_id === undefined) block.block_id = randomBytes(3).toString('base64url');
    const elements = [
      ...(block.type === 'actions' && Array.isArray(block.elements) ? block.elements : []),
      ...(block.accessory ? [block.accessory] : []),
      ...(block.element ? [block.element] : []),
    ] as Array<Record<string, unknown>>;
    for (const el of elements) {
      if (typeof el === 'object' && el !== null && el.type !== 'image') {
        if (el.action_id === undefined) el.action_id = randomBytes(3).toString('base64url');
      }
    }
  }
  return copy;
}
