/**
 * Options and records of the simulated Slack workspace.
 * Field names follow Slack's wire format (snake_case) wherever a value is something Slack itself returns.
 */

export interface SimChannel {
  /** Conversation id, e.g. `C0ALERTS`. */
  id: string;
  /** Name without `#`, e.g. `alerts`. */
  name: string;
  /** Whether the bot user is a member (otherwise posting answers `not_in_channel`). */
  member: boolean;
  is_private?: boolean;
  is_archived?: boolean;
}

export interface SimUser {
  id: string;
  name: string;
  real_name?: string;
  tz?: string;
  is_bot?: boolean;
}

/** A token bucket: `burst` calls at once, refilled at `perSecond`. */
export interface RateLimitRule {
  perSecond: number;
  burst: number;
  /** Key the bucket per channel (chat.postMessage) or per workspace. */
  scope: 'channel' | 'workspace';
  /** Fixed Retry-After (whole seconds) instead of the computed wait. */
  retryAfterSeconds?: number;
}

export interface SlackServerOptions {
  /** Accepted bot tokens (`xoxb-...`). Default `['xoxb-test-token']`. */
  tokens?: string[];
  /** Accepted app-level tokens (`xapp-...`) for Socket Mode. Default `['xapp-1-A0OOMBOT-1-test']`. */
  appTokens?: string[];
  channels?: SimChannel[];
  users?: SimUser[];
  team?: { id: string; domain: string; name?: string };
  bot?: { userId: string; botId: string; appId: string; name: string };
  /** Port to listen on (127.0.0.1). Default 0: any free port. */
  port?: number;
  /** Delay before every answer. */
  latencyMs?: number;
  /**
   * Rate limits per method. Defaults: `chat.postMessage` 1/s per channel with a burst of 3,
   * `chat.update` 50/min per workspace (tier 3). `null` disables a limit.
   */
  rateLimits?: Record<string, Partial<RateLimitRule> | null>;
  /** response_url: uses allowed (default 5) and lifetime (default 30 min). */
  responseUrlMaxUses?: number;
  responseUrlTtlMs?: number;
  /** trigger_id lifetime (default 3000 ms). */
  triggerIdTtlMs?: number;
  /** Refuse trigger ids this server did not mint (`invalid_trigger_id`). Default false. */
  strictTriggerIds?: boolean;
  /**
   * Apply Slack's limits for commercially distributed apps that are not Marketplace-approved (since 2025):
   * `conversations.history` / `conversations.replies` at 1 request per minute with `limit` capped (and defaulting)
   * to 15. Default false: an internal app keeps tier 3 (50/min) with a default `limit` of 100 and a maximum of 999.
   */
  nonMarketplaceApp?: boolean;
  /** Injected clock, for tests that step time. Default `Date.now`. */
  now?: () => number;
}

export interface RecordedCall {
  method: string;
  args: Record<string, unknown>;
  /** Epoch ms when the request arrived. */
  at: number;
  status: number;
  ok: boolean;
  error?: string;
  /** The bearer token (or body `token`) used, if any. */
  token?: string;
}

export interface MessageVersion {
  text?: string;
  blocks?: unknown[];
  metadata?: unknown;
  /** Epoch ms at which this version was replaced. */
  replacedAt: number;
}

export interface SimMessage {
  channel: string;
  ts: string;
  thread_ts?: string;
  text?: string;
  blocks?: unknown[];
  attachments?: unknown[];
  metadata?: unknown;
  unfurl_links?: boolean;
  unfurl_media?: boolean;
  reply_broadcast?: boolean;
  /** Poster: the bot user id, or the user that answered through a response_url. */
  user: string;
  bot_id?: string;
  /** Epoch ms. */
  postedAt: number;
  /** Previous versions, oldest first (each chat.update or replace_original pushes one). */
  history: MessageVersion[];
  edited?: { at: number };
  deleted: boolean;
  /** Files shared with the message (files.completeUploadExternal), as Slack lists them. */
  files?: unknown[];
  /** How it arrived. */
  via: 'chat.postMessage' | 'response_url' | 'files.completeUploadExternal';
}

/** A POST of a file's bytes to its upload URL. */
export interface RecordedUpload {
  fileId: string;
  length: number;
  contentType: string;
  /** Epoch ms. */
  at: number;
  status: number;
}

/** A file of the external upload flow: reserved by files.getUploadURLExternal, its bytes POSTed, then shared. */
export interface SimFile {
  id: string;
  name: string;
  /** The length announced to files.getUploadURLExternal. */
  length: number;
  altText?: string;
  /** The bytes POSTed to the upload URL. */
  bytes?: Buffer;
  title?: string;
  /** Where files.completeUploadExternal shared it. */
  shared?: { channel: string; threadTs?: string; ts: string };
}

export interface SimEphemeral {
  channel: string;
  user: string;
  message_ts: string;
  thread_ts?: string;
  text?: string;
  blocks?: unknown[];
  at: number;
  via: 'chat.postEphemeral' | 'response_url';
}

export interface SimView {
  id: string;
  trigger_id: string;
  view: Record<string, unknown>;
  at: number;
}

export interface ResponseUrlRecord {
  id: string;
  url: string;
  channel: string;
  user: string;
  /** The message the interaction came from (for replace_original / delete_original). */
  messageTs?: string;
  createdAt: number;
  uses: Array<{ at: number; body: Record<string, unknown>; status: number; error?: string }>;
}

export type FailSpec = { status: number; retryAfter?: number } | { error: string };
