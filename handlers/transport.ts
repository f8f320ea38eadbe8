import { ErrorCode, WebClient, LogLevel as SlackLogLevel, type WebAPICallError } from '@slack/web-api';
import type { KnownBlock } from '@slack/types';
import { OombotError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { Backoff } from '../core/backoff.js';
import { Pacer } from './pacer.js';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';

/**
 * chat.postMessage per channel: Slack allows about 1 message a second with short bursts. oombot keeps
 * a margin under it: a little under one a second on average, and a burst of 2.
 */
export const POST_PACE = { intervalMs: 1_020, burst: 2 } as const;
/** chat.update for the whole workspace: Slack's tier 3 is about 50 a minute; oombot makes at most 46. */
export const UPDATE_PACE = { intervalMs: 1_300, burst: 5 } as const;
/** How long a channel list read to map `#name` to an id is trusted for names it did not hold. */
const CHANNEL_LIST_TTL_MS = 60_000;

export interface OutgoingMessage {
  text: string;
  blocks?: KnownBlock[];
  threadTs?: string;
  /** Slack message metadata: lets oombot find its own message again (incident id). */
  metadata?: { event_type: string; event_payload: Record<string, string | number | boolean> };
}

export type MessageSource = OutgoingMessage | (() => Promise<OutgoingMessage>);

/** Metadata event type of an alert (a group's first message); its payload names the incident. */
export const ALERT_EVENT_TYPE = 'oombot_incident';
/** Metadata event type of a thread reply telling a raised alert of a kill at its new limit; its payload names the incident. */
export const FIX_KILL_EVENT_TYPE = 'oombot_fix_kill';
/** Metadata event type of a thread reply listing repeats; its payload names the batch. */
export const REPEATS_EVENT_TYPE = 'oombot_repeats';

/**
 * Makes one post idempotent: the message carries metadata of `eventType` whose payload field `key` is
 * `value`, and when an earlier attempt may have posted it already, the channel (or the thread) is
 * searched for that metadata first. See handlers/publisher.ts for the whole design.
 */
export interface PostOnce {
  eventType: string;
  key: string;
  value: string;
  /** The first attempt was made at or after this time (epoch ms): the search goes back to it. */
  sinceMs: number;
  /** An earlier attempt may have posted it (a retried job, an unfinished flush): search before posting. */
  retry: boolean;
}

export interface PostResult {
  channel: string;
  ts: string;
  /** The message was found in Slack, posted by an earlier attempt; nothing was posted now. */
  found?: boolean;
}

async function resolveMessage(source: MessageSource): Promise<OutgoingMessage> {
  return typeof source === 'function' ? source() : source;
}

/** Lower goes first when a channel is busy. */
export const PRIORITY = { alert: 0, update: 1, thread: 2 } as const;

/** Where alerts go: Slack, or the console when no Slack token is configured. */
export interface AlertTransport {
  readonly kind: 'slack' | 'console';
  /**
   * `message` may be a function: it is then rendered when the channel's turn comes, so an alert that
   * waited behind others shows the latest count instead of needing an update right after.
   */
  post(channel: string, message: MessageSource, priority?: number, once?: PostOnce): Promise<PostResult>;
  /**
   * `message` may be a function: it is rendered when the update's turn comes, so of several changes to
   * one alert waiting for Slack's budget, the latest state is what goes out.
   */
  update(channel: string, ts: string, message: MessageSource): Promise<void>;
  /** First alerts waiting for their turn at `channel` (its name or id): the channel is busy with new alerts. */
  alertsWaiting?(channel: string): number;
  /** Shares a file in the thread of `threadTs` (the memory chart of an alert). */
  uploadFile?(channel: string, threadTs: string, file: OutgoingFile): Promise<UploadResult>;
}

/** A file for an alert's thread, e.g. its memory chart (PNG). */
export interface OutgoingFile {
  filename: string;
  title: string;
  bytes: Buffer;
  /** Text for screen readers. */
  altText: string;
  /** The message introducing the file (the text sparkline on the console). */
  comment: string;
  /** One line printed instead of the image on the console. */
  consoleLine?: string;
}

export interface UploadResult {
  /** Slack's file id, or the path the console wrote the file to. */
  id: string;
}

/** Slack errors that retrying cannot fix, with what to do about each. */
const PERMANENT: Record<string, string> = {
  channel_not_found: 'the channel does not exist or is private: check SLACK_CHANNEL / OOMBOT_ROUTES and invite the bot',
  not_in_channel: 'invite the bot to the channel (/invite @oombot) or grant chat:write.public',
  is_archived: 'the channel is archived: unarchive it or route alerts elsewhere',
  invalid_auth: "SLACK_BOT_TOKEN is not valid: copy the Bot User OAuth Token again from the app's OAuth & Permissions page",
  not_authed: 'SLACK_BOT_TOKEN is missing from the request: set it',
  account_inactive: 'the Slack app was uninstalled or its user deactivated: reinstall the app and update SLACK_BOT_TOKEN',
  token_revoked: 'the bot token was revoked: reinstall the app and update SLACK_BOT_TOKEN',
  missing_scope: 'the app lacks a scope: compare its scopes with deploy/slack/manifest.yaml (chat:write, channels:history, ...) and reinstall it',
  invalid_blocks: 'Slack refused the message layout: this is a bug in oombot, please report it with the log line',
  msg_too_long: 'Slack refused a message as too long: this is a bug in oombot, please report it',
  message_not_found: 'the alert message was deleted in Slack',
  cant_update_message: 'the alert message can no longer be updated',
};

export interface SlackTransportOptions {
  token: string;
  apiUrl?: string;
  log: Logger;
  /** Average spacing of chat.postMessage per channel (Slack: about 1 per second); POST_PACE by default. */
  postIntervalMs?: number;
  /** Calls of chat.postMessage a channel may make at once after a quiet spell. */
  postBurst?: number;
  /** Average spacing of chat.update for the workspace (Slack tier 3: about 50 per minute); UPDATE_PACE by default. */
  updateIntervalMs?: number;
  updateBurst?: number;
  /** How long one call may wait out 429s and 5xx before the job is retried later. */
  maxWaitMs?: number;
  client?: WebClient;
}

/** Slack errors that say a read (history, channel list) is not allowed, not that Slack is unwell. */
const TRANSIENT_PLATFORM = new Set(['internal_error', 'fatal_error', 'service_unavailable', 'request_timeout', 'ratelimited']);
const CHANNEL_ID = /^[CGD][A-Z0-9]{2,}$/;
const READ_HINT =
  'give the Slack app the channels:history and channels:read scopes (groups:history and groups:read for private channels) so that oombot can check what it posted before a crash';

/**
 * chat.postMessage / chat.update with oombot owning the waiting: the WebClient rejects rate-limited
 * calls at once (rejectRateLimitedCalls) and does not retry, so a 429's Retry-After paces only the
 * channel it concerns, 5xx back off, and permanent errors fail fast with a hint.
 */
export class SlackTransport implements AlertTransport {
  readonly kind = 'slack' as const;
  readonly client: WebClient;
  readonly pacer: Pacer;
  private readonly updatePacer: Pacer;
  calls = 0;
  rateLimited = 0;
  /** Calls made, by method (429s and failures included). */
  readonly callsByMethod: Record<string, number> = {};
  /** Channel ids by the name they were configured with, learnt from posts and conversations.list. */
  private readonly channelIds = new Map<string, string>();
  /** The workspace's channels by name, read once (shared by every name) and again when a name is missing. */
  private channelList: { at: number; ids: Promise<Map<string, string> | undefined> } | undefined;
  /** Channels whose history oombot was refused, warned about once. */
  private readonly readWarned = new Set<string>();

  constructor(private readonly opts: SlackTransportOptions) {
    this.client =
      opts.client ??
      new WebClient(opts.token, {
        slackApiUrl: opts.apiUrl,
        rejectRateLimitedCalls: true,
        retryConfig: { retries: 0 },
        logLevel: SlackLogLevel.ERROR,
        timeout: 15_000,
      });
    this.pacer = new Pacer({ intervalMs: opts.postIntervalMs ?? POST_PACE.intervalMs, burst: opts.postBurst ?? POST_PACE.burst });
    this.updatePacer = new Pacer({ intervalMs: opts.updateIntervalMs ?? UPDATE_PACE.intervalMs, burst: opts.updateBurst ?? UPDATE_PACE.burst });
  }

  /**
   * The pacing lane of a channel: its id. Slack counts a channel's messages once, whether oombot names
   * it `#oom` (configuration) or `C0123` (the `channel` of Slack's answers, used for thread replies and
   * updates): two lanes for one channel would post at twice Slack's pace and earn 429s. A name is
   * looked up once in the channel list; when that cannot be read, the name is its own lane until the
   * first post's answer says which id it is, and the two lanes are then merged.
   */
  private async lane(channel: string): Promise<string> {
    if (CHANNEL_ID.test(channel)) return channel;
    const known = this.channelIds.get(channel);
    if (known) return known;
    const id = await this.lookUpChannel(channel).catch(() => undefined);
    if (id) {
      this.channelIds.set(channel, id);
      this.pacer.alias(channel, id);
      return id;
    }
    return channel;
  }

  /** A channel's id from the workspace's channel list (read at most once a minute), or undefined. */
  private async lookUpChannel(channel: string): Promise<string | undefined> {
    const name = channel.replace(/^#/, '');
    const cached = this.channelList;
    if (cached) {
      const ids = await cached.ids;
      const hit = ids?.get(name);
      if (hit || Date.now() - cached.at < CHANNEL_LIST_TTL_MS) return hit;
    }
    if (this.channelList === cached) {
      const entry = { at: Date.now(), ids: this.readChannelList(channel) };
      this.channelList = entry;
      // A transient failure is not remembered: the next caller reads again.
      entry.ids.catch(() => {
        if (this.channelList === entry) this.channelList = undefined;
      });
    }
    return (await this.channelList!.ids)?.get(name);
  }

  /** Every channel the token can see, by name; undefined when Slack does not let oombot list them. */
  private async readChannelList(channel: string): Promise<Map<string, string> | undefined> {
    const ids = new Map<string, string>();
    let cursor: string | undefined;
    for (let page = 0; page < 50; page++) {
      let res: { channels?: { id?: string; name?: string }[]; response_metadata?: { next_cursor?: string } };
      try {
        this.count('conversations.list');
        res = await this.client.conversations.list({ types: 'public_channel,private_channel', exclude_archived: true, limit: 1000, cursor });
      } catch (err) {
        if (this.cannotRead(err, channel)) return undefined;
        throw err;
      }
      for (const c of res.channels ?? []) if (c.id && c.name) ids.set(c.name, c.id);
      cursor = res.response_metadata?.next_cursor || undefined;
      if (!cursor) break;
    }
    return ids;
  }

  private count(method: string): void {
    this.callsByMethod[method] = (this.callsByMethod[method] ?? 0) + 1;
  }

  async post(channel: string, source: MessageSource, priority: number = PRIORITY.alert, once?: PostOnce): Promise<PostResult> {
    let unsure = once?.retry ?? false;
    let found = false;
    const lane = await this.lane(channel);
    const res = await this.call('chat.postMessage', lane, priority, this.pacer, async () => {
      const message = await resolveMessage(source);
      if (once && unsure) {
        const existing = await this.findPosted(channel, message.threadTs, once);
        if (existing) {
          found = true;
          return { ok: true, ...existing };
        }
      }
      try {
        return await this.client.chat.postMessage({
          channel,
          text: message.text,
          blocks: message.blocks,
          thread_ts: message.threadTs,
          metadata: once ? marked(message.metadata, once) : message.metadata,
          unfurl_links: false,
          unfurl_media: false,
        });
      } catch (err) {
        // Only an answer that refused the call proves that nothing was posted. After a timeout, a reset
        // connection or a 5xx, Slack may have stored the message: look before posting again.
        if (!refused(err)) unsure = true;
        throw err;
      }
    });
    const posted = { channel: String(res.channel ?? channel), ts: String(res.ts) };
    if (posted.channel !== channel && CHANNEL_ID.test(posted.channel)) {
      this.channelIds.set(channel, posted.channel);
      this.pacer.alias(channel, posted.channel);
    }
    return found ? { ...posted, found } : posted;
  }

  /**
   * The message of `once` in the channel (or in the thread of `threadTs`), posted since `once.sinceMs`.
   * When Slack does not let oombot read (missing scope, not a member), says so once and answers
   * undefined: the caller then posts, and an alert may show twice rather than not at all.
   */
  private async findPosted(channel: string, threadTs: string | undefined, once: PostOnce): Promise<{ channel: string; ts: string } | undefined> {
    const id = await this.channelId(channel);
    if (!id) return undefined;
    // Back a little further than the first attempt, for clocks that disagree.
    const oldest = String(Math.max(0, Math.floor(once.sinceMs / 1000) - 120));
    let cursor: string | undefined;
    for (let page = 0; page < 10; page++) {
      let res: {
        messages?: { ts?: string; metadata?: { event_type?: string; event_payload?: Record<string, unknown> } }[];
        has_more?: boolean;
        response_metadata?: { next_cursor?: string };
      };
      try {
        res = threadTs
          ? await this.client.conversations.replies({ channel: id, ts: threadTs, oldest, include_all_metadata: true, limit: 200, cursor })
          : await this.client.conversations.history({ channel: id, oldest, include_all_metadata: true, limit: 200, cursor });
      } catch (err) {
        if (this.cannotRead(err, channel)) return undefined;
        throw err;
      }
      const hit = res.messages?.find((m) => m.metadata?.event_type === once.eventType && String(m.metadata.event_payload?.[once.key]) === once.value);
      if (hit?.ts) return { channel: id, ts: hit.ts };
      cursor = res.response_metadata?.next_cursor || undefined;
      if (!res.has_more || !cursor) return undefined;
    }
    return undefined;
  }

  /** A channel's id: conversations.history takes ids only, SLACK_CHANNEL and routes may be names. */
  private async channelId(channel: string): Promise<string | undefined> {
    if (CHANNEL_ID.test(channel)) return channel;
    const known = this.channelIds.get(channel);
    if (known) return known;
    const id = await this.lookUpChannel(channel);
    if (id) {
      this.channelIds.set(channel, id);
      return id;
    }
    this.cannotRead(undefined, channel);
    return undefined;
  }

  /** True (after one warning per channel) when Slack refuses the read for good; false for transient errors. */
  private cannotRead(err: unknown, channel: string): boolean {
    const e = err as WebAPICallError | undefined;
    if (e && (e.code !== ErrorCode.PlatformError || TRANSIENT_PLATFORM.has(e.data.error))) return false;
    if (!this.readWarned.has(channel)) {
      this.readWarned.add(channel);
      const why = e?.code === ErrorCode.PlatformError ? e.data.error : 'channel not found by name';
      this.opts.log.warn({ channel, err: why, hint: READ_HINT }, 'cannot check Slack for a message posted before a crash: posting it (it may show twice)');
    }
    return true;
  }

  alertsWaiting(channel: string): number {
    return this.pacer.waiting(this.channelIds.get(channel) ?? channel, PRIORITY.alert);
  }

  /** chat.update on its own budget (tier 3, the whole workspace): it never waits behind a channel's posts. */
  async update(channel: string, ts: string, source: MessageSource): Promise<void> {
    await this.call('chat.update', 'chat.update', PRIORITY.update, this.updatePacer, async () => {
      const message = await resolveMessage(source);
      return this.client.chat.update({ channel, ts, text: message.text, blocks: message.blocks, metadata: message.metadata });
    });
  }

  /**
   * Slack's external upload flow: files.getUploadURLExternal (name, length) → the bytes POSTed to the
   * upload URL → files.completeUploadExternal, which shares the file into the thread. Paced with the
   * updates (both methods are tier 4); needs the files:write scope.
   */
  async uploadFile(channel: string, threadTs: string, file: OutgoingFile): Promise<UploadResult> {
    const reserved = await this.call('files.getUploadURLExternal', 'files', PRIORITY.thread, this.updatePacer, () =>
      this.client.files.getUploadURLExternal({ filename: file.filename, length: file.bytes.length, alt_text: file.altText }),
    );
    if (!reserved.upload_url || !reserved.file_id)
      throw new OombotError('SLACK_REQUEST', 'files.getUploadURLExternal: no upload_url in the answer', { retryable: false });
    const form = new FormData();
    form.append('filename', new Blob([new Uint8Array(file.bytes)], { type: 'image/png' }), file.filename);
    let res: Response;
    try {
      res = await fetch(reserved.upload_url, { method: 'POST', body: form, signal: AbortSignal.timeout(15_000) });
    } catch (err) {
      throw new OombotError('SLACK_UNAVAILABLE', `file upload: ${errorMessage(err)}`, { retryable: true, cause: err });
    }
    await res.arrayBuffer().catch(() => undefined);
    if (!res.ok) throw new OombotError('SLACK_REQUEST', `file upload: HTTP ${res.status}`, { retryable: res.status >= 500 });
    const fileId = reserved.file_id;
    await this.call('files.completeUploadExternal', 'files', PRIORITY.thread, this.updatePacer, () =>
      this.client.files.completeUploadExternal({
        files: [{ id: fileId, title: file.title }],
        channel_id: channel,
        thread_ts: threadTs,
        initial_comment: file.comment,
      }),
    );
    return { id: fileId };
  }

  private async call<T extends { ok?: boolean; ts?: string; channel?: string }>(
    method: string,
    paceKey: string,
    priority: number,
    pacer: Pacer,
    fn: () => Promise<T>,
  ): Promise<T> {
    const started = Date.now();
    const maxWait = this.opts.maxWaitMs ?? 120_000;
    const backoff = new Backoff(500, 15_000);
    for (;;) {
      await pacer.slot(paceKey, priority);
      this.calls++;
      this.count(method);
      try {
        return await fn();
      } catch (err) {
        const e = err as WebAPICallError;
        if (e.code === ErrorCode.RateLimitedError) {
          this.rateLimited++;
          const waitMs = Math.max(1, e.retryAfter) * 1_000;
          pacer.penalize(paceKey, waitMs);
          this.opts.log.info({ method, channel: paceKey, retryAfterS: e.retryAfter }, 'Slack rate limit: waiting as asked');
          if (Date.now() - started + waitMs > maxWait) {
            throw new OombotError('SLACK_RATE_LIMITED', `${method}: rate limited for ${e.retryAfter}s`, { retryable: true, cause: err });
          }
          continue;
        }
        if (e.code === ErrorCode.PlatformError) {
          const code = e.data.error;
          const hint = PERMANENT[code];
          if (hint) {
            throw new OombotError(
              code.includes('auth') || code.includes('token') || code === 'account_inactive' || code === 'missing_scope'
                ? 'SLACK_AUTH'
                : code.includes('channel') || code === 'is_archived'
                  ? 'SLACK_CHANNEL'
                  : 'SLACK_REQUEST',
              `${method} to ${paceKey}: ${code}`,
              { hint, retryable: false, cause: err },
            );
          }
          // Unknown platform errors (fatal_error, internal_error, ...) are Slack's side: retry.
        }
        const status = e.code === ErrorCode.HTTPError ? e.statusCode : undefined;
        if (status !== undefined && status < 500 && status !== 408) {
          throw new OombotError('SLACK_REQUEST', `${method}: HTTP ${status}`, { retryable: false, cause: err });
        }
        const waitMs = backoff.next();
        this.opts.log.warn({ method, channel: paceKey, err: errorMessage(err), retryInMs: waitMs }, 'Slack call failed: retrying');
        if (Date.now() - started + waitMs > maxWait) {
          throw new OombotError('SLACK_UNAVAILABLE', `${method}: ${errorMessage(err)}`, { retryable: true, cause: err });
        }
        await new Promise((r) => setTimeout(r, waitMs));
      }
    }
  }
}

/** The message's metadata with the mark of `once` in it. */
function marked(metadata: OutgoingMessage['metadata'], once: PostOnce): NonNullable<OutgoingMessage['metadata']> {
  const payload = metadata?.event_type === once.eventType ? metadata.event_payload : {};
  return { event_type: once.eventType, event_payload: { ...payload, [once.key]: once.value } };
}

/** Slack answered and refused the call, so the message was certainly not posted. */
function refused(err: unknown): boolean {
  const e = err as WebAPICallError;
  if (e.code === ErrorCode.RateLimitedError || e.code === ErrorCode.PlatformError) return true;
  if (e.code === ErrorCode.HTTPError) return e.statusCode < 500;
  if (e.code === ErrorCode.RequestError) return (e.original as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED';
  return false;
}

/** Prints alerts readably when no Slack token is configured (and in the demo). */
export class ConsoleTransport implements AlertTransport {
  readonly kind = 'console' as const;
  private n = 0;
  private dir: string | undefined;
  constructor(private readonly write: (text: string) => void = (t) => process.stdout.write(t)) {}

  async post(channel: string, source: MessageSource): Promise<PostResult> {
    const message = await resolveMessage(source);
    const ts = `${Math.floor(Date.now() / 1000)}.${String(++this.n).padStart(6, '0')}`;
    const text = message.threadTs ? indent(message.text, '   | ') : message.text;
    this.write(`${text}\n${message.threadTs ? '' : '\n'}`);
    return { channel, ts };
  }

  async update(_channel: string, _ts: string, source: MessageSource): Promise<void> {
    const message = await resolveMessage(source);
    this.write(`${indent(message.text.split('\n')[0] ?? '', '   ~ ')}\n`);
  }

  /** Writes the file to a temporary folder and prints its line (the sparkline) and path. */
  async uploadFile(_channel: string, _threadTs: string, file: OutgoingFile): Promise<UploadResult> {
    this.dir ??= await mkdtemp(join(tmpdir(), 'oombot-charts-'));
    const path = join(this.dir, basename(file.filename));
    await writeFile(path, file.bytes);
    this.write(`${indent(`${file.consoleLine ?? file.comment} (chart: ${path})`, '   | ')}\n`);
    return { id: path };
  }
}

function indent(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((l) => prefix + l)
    .join('\n');
}
