import { ErrorCode, WebClient, LogLevel as SlackLogLevel, type WebAPICallError } from '@slack/web-api';
import type { KnownBlock } from '@slack/types';
import { OombotError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { Backoff } from '../core/backoff.js';
import { Pacer } from './pacer.js';

export interface OutgoingMessage {
  text: string;
  blocks?: KnownBlock[];
  threadTs?: string;
  /** Slack message metadata: lets oombot find its own message again (incident id). */
  metadata?: { event_type: string; event_payload: Record<string, string | number | boolean> };
}

export type MessageSource = OutgoingMessage | (() => Promise<OutgoingMessage>);

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
  post(channel: string, message: MessageSource, priority?: number): Promise<{ channel: string; ts: string }>;
  update(channel: string, ts: string, message: OutgoingMessage): Promise<void>;
}

/** Slack errors that retrying cannot fix, with what to do about each. */
const PERMANENT: Record<string, string> = {
  channel_not_found: 'the channel does not exist or is private: check SLACK_CHANNEL / OOMBOT_ROUTES and invite the bot',
  not_in_channel: 'invite the bot to the channel (/invite @oombot) or grant chat:write.public',
  is_archived: 'the channel is archived: unarchive it or route alerts elsewhere',
  invalid_auth: 'SLACK_BOT_TOKEN is not valid: copy the Bot User OAuth Token again from the app\'s OAuth & Permissions page',
  not_authed: 'SLACK_BOT_TOKEN is missing from the request: set it',
  account_inactive: 'the Slack app was uninstalled or its user deactivated: reinstall the app and update SLACK_BOT_TOKEN',
  token_revoked: 'the bot token was revoked: reinstall the app and update SLACK_BOT_TOKEN',
  missing_scope: 'the app lacks a scope: add chat:write (see deploy/slack-app-manifest.yaml) and reinstall',
  invalid_blocks: 'Slack refused the message layout: this is a bug in oombot, please report it with the log line',
  msg_too_long: 'Slack refused a message as too long: this is a bug in oombot, please report it',
  message_not_found: 'the alert message was deleted in Slack',
  cant_update_message: 'the alert message can no longer be updated',
};

export interface SlackTransportOptions {
  token: string;
  apiUrl?: string;
  log: Logger;
  /** Spacing of chat.postMessage per channel (Slack: about 1 per second). */
  postIntervalMs?: number;
  /** Spacing of chat.update for the workspace (Slack tier 3: about 50 per minute). */
  updateIntervalMs?: number;
  /** How long one call may wait out 429s and 5xx before the job is retried later. */
  maxWaitMs?: number;
  client?: WebClient;
}

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
    this.pacer = new Pacer(opts.postIntervalMs ?? 1_000);
    this.updatePacer = new Pacer(opts.updateIntervalMs ?? 1_200);
  }

  async post(channel: string, source: MessageSource, priority: number = PRIORITY.alert): Promise<{ channel: string; ts: string }> {
    const res = await this.call('chat.postMessage', channel, priority, this.pacer, async () => {
      const message = await resolveMessage(source);
      return this.client.chat.postMessage({
        channel,
        text: message.text,
        blocks: message.blocks,
        thread_ts: message.threadTs,
        metadata: message.metadata,
        unfurl_links: false,
        unfurl_media: false,
      });
    });
    return { channel: String(res.channel ?? channel), ts: String(res.ts) };
  }

  async update(channel: string, ts: string, message: OutgoingMessage): Promise<void> {
    await this.call('chat.update', 'chat.update', PRIORITY.update, this.updatePacer, () =>
      this.client.chat.update({ channel, ts, text: message.text, blocks: message.blocks, metadata: message.metadata }),
    );
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
            throw new OombotError(code.includes('auth') || code.includes('token') || code === 'account_inactive' || code === 'missing_scope' ? 'SLACK_AUTH' : code.includes('channel') || code === 'is_archived' ? 'SLACK_CHANNEL' : 'SLACK_REQUEST', `${method} to ${paceKey}: ${code}`, { hint, retryable: false, cause: err });
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

/** Prints alerts readably when no Slack token is configured (and in the demo). */
export class ConsoleTransport implements AlertTransport {
  readonly kind = 'console' as const;
  private n = 0;
  constructor(private readonly write: (text: string) => void = (t) => process.stdout.write(t)) {}

  async post(channel: string, source: MessageSource): Promise<{ channel: string; ts: string }> {
    const message = await resolveMessage(source);
    const ts = `${Math.floor(Date.now() / 1000)}.${String(++this.n).padStart(6, '0')}`;
    const text = message.threadTs ? indent(message.text, '   | ') : message.text;
    this.write(`${text}\n${message.threadTs ? '' : '\n'}`);
    return { channel, ts };
  }

  async update(_channel: string, _ts: string, message: OutgoingMessage): Promise<void> {
    this.write(`${indent(message.text.split('\n')[0] ?? '', '   ~ ')}\n`);
  }
}

function indent(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((l) => prefix + l)
    .join('\n');
}
