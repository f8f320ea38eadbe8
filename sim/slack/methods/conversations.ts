/** conversations.info, .join, .list, .history and .replies, with Slack's paging and visibility rules. */
import type { Workspace } from '../workspace.js';
import type { SimChannel, SimMessage } from '../types.js';
import { asBool, asString, fail, isBody, type Args, type Body, type MethodContext, type MethodHandler } from './common.js';
import { channelJson, messageJson } from './json.js';

export const conversationsInfo: MethodHandler = (args, { ws }) => {
  const channel = ws.resolveChannel(args.channel, false);
  if (!channel) return fail('channel_not_found');
  return { ok: true, channel: channelJson(ws, channel) };
};

export const conversationsJoin: MethodHandler = (args, { ws }) => {
  const channel = ws.resolveChannel(args.channel, false);
  if (!channel) return fail('channel_not_found');
  if (channel.is_archived) return fail('is_archived');
  if (channel.is_private || channel.id.startsWith('D')) return fail('method_not_supported_for_channel_type');
  if (channel.member) {
    return {
      ok: true,
      channel: channelJson(ws, channel),
      warning: 'already_in_channel',
      response_metadata: { warnings: ['already_in_channel'] },
    };
  }
  channel.member = true;
  ws.changed();
  return { ok: true, channel: channelJson(ws, channel) };
};

/**
 * conversations.list: the conversations of the given `types` (default public_channel) the app can see:
 * every public channel, and private channels it is a member of. Paged with `limit` (default 100, at most
 * 1000) and `response_metadata.next_cursor` ('' on the last page), as Slack does.
 */
export const conversationsList: MethodHandler = (args, { ws }) => {
  const types = new Set((asString(args.types) ?? 'public_channel').split(',').map((t) => t.trim()));
  const excludeArchived = asBool(args.exclude_archived) ?? false;
  const visible = ws.channels.filter((c) => {
    if (c.id.startsWith('D')) return types.has('im');
    if (excludeArchived && c.is_archived) return false;
    return c.is_private ? types.has('private_channel') && c.member : types.has('public_channel');
  });
  let start = 0;
  if (args.cursor !== undefined && args.cursor !== '') {
    const match = /^offset:(\d+)$/.exec(Buffer.from(String(args.cursor), 'base64').toString('utf8'));
    if (!match) return fail('invalid_cursor');
    start = Number(match[1]);
  }
  const raw = args.limit === undefined ? NaN : Number(args.limit);
  const limit = Number.isFinite(raw) && raw > 0 ? Math.min(Math.floor(raw), 1000) : 100;
  const page = visible.slice(start, start + limit);
  const next = start + limit < visible.length ? Buffer.from(`offset:${start + limit}`).toString('base64') : '';
  return { ok: true, channels: page.map((c) => channelJson(ws, c)), response_metadata: { next_cursor: next } };
};

/** Slack's cursors are opaque base64; this one names the ts to continue below (history) or above (replies). */
const encodeCursor = (ts: string) => Buffer.from(`next_ts:${ts}`).toString('base64');
function decodeCursor(cursor: unknown): string | undefined | null {
  if (cursor === undefined || cursor === '') return undefined;
  const text = Buffer.from(String(cursor), 'base64').toString('utf8');
  const match = /^next_ts:(\d+\.\d{6})$/.exec(text);
  return match ? match[1] : null;
}

/** `limit` as Slack reads it: absent, 0 or junk means the default; above the maximum is clamped. */
function pageSize(raw: unknown, limits: MethodContext['historyLimit']): number {
  const n = raw === undefined ? NaN : Number(raw);
  if (!Number.isFinite(n) || n <= 0) return limits.default;
  return Math.min(Math.floor(n), limits.max);
}

/** Keeps messages inside `oldest`/`latest` (exclusive unless `inclusive`). */
function inRange(args: Args): (m: SimMessage) => boolean {
  const oldest = args.oldest === undefined || args.oldest === '' ? undefined : Number(args.oldest);
  const latest = args.latest === undefined || args.latest === '' ? undefined : Number(args.latest);
  const inclusive = asBool(args.inclusive) ?? false;
  return (m) => {
    const ts = Number(m.ts);
    if (oldest !== undefined && (inclusive ? ts < oldest : ts <= oldest)) return false;
    if (latest !== undefined && (inclusive ? ts > latest : ts >= latest)) return false;
    return true;
  };
}

/** A message as conversations.history/replies return it: thread summary on parents, metadata only on request. */
function historyJson(ws: Workspace, m: SimMessage, includeMetadata: boolean): Record<string, unknown> {
  const json = messageJson(ws, m);
  if (!includeMetadata) delete json.metadata;
  const replies = ws.threadOf(m.channel, m.ts);
  if (replies.length > 0) {
    const users = [...new Set(replies.map((r) => r.user))];
    Object.assign(json, {
      thread_ts: m.ts,
      reply_count: replies.length,
      reply_users_count: users.length,
      reply_users: users,
      latest_reply: replies[replies.length - 1]?.ts,
      is_locked: false,
      subscribed: false,
    });
  }
  return json;
}

/** Resolves the conversation a read targets: an id only, and the bot must be a member. */
function readableChannel(ws: Workspace, ref: unknown): SimChannel | Body {
  const channel = ws.resolveChannel(ref, false);
  if (!channel) return fail('channel_not_found');
  if (!channel.member) return fail('not_in_channel');
  return channel;
}

/**
 * conversations.history: top-level messages, newest first, `limit` per page with `has_more` and a
 * `response_metadata.next_cursor`. Message `metadata` is returned only with `include_all_metadata`.
 */
export const conversationsHistory: MethodHandler = (args, { ws, historyLimit }) => {
  const channel = readableChannel(ws, args.channel);
  if (isBody(channel)) return channel;
  const cursorTs = decodeCursor(args.cursor);
  if (cursorTs === null) return fail('invalid_cursor');
  const limit = pageSize(args.limit, historyLimit);
  const includeMetadata = asBool(args.include_all_metadata) ?? false;
  const range = inRange(args);
  const candidates = ws
    .messagesIn(channel.id)
    .filter((m) => range(m) && (cursorTs === undefined || Number(m.ts) < Number(cursorTs)))
    .reverse();
  const page = candidates.slice(0, limit);
  const hasMore = candidates.length > limit;
  const last = page[page.length - 1];
  return {
    ok: true,
    messages: page.map((m) => historyJson(ws, m, includeMetadata)),
    has_more: hasMore,
    pin_count: 0,
    channel_actions_ts: null,
    channel_actions_count: 0,
    ...(hasMore && last && { response_metadata: { next_cursor: encodeCursor(last.ts) } }),
  };
};

/** conversations.replies: the parent first, then its replies oldest first, paged like history. */
export const conversationsReplies: MethodHandler = (args, { ws, historyLimit }) => {
  const channel = readableChannel(ws, args.channel);
  if (isBody(channel)) return channel;
  const ts = asString(args.ts);
  const parent = ts === undefined ? undefined : ws.findMessage(channel.id, ts);
  if (!parent || !ts) return fail('thread_not_found');
  const cursorTs = decodeCursor(args.cursor);
  if (cursorTs === null) return fail('invalid_cursor');
  const limit = pageSize(args.limit, historyLimit);
  const includeMetadata = asBool(args.include_all_metadata) ?? false;
  const range = inRange(args);
  const candidates = [parent, ...ws.threadOf(channel.id, ts)].filter((m) => range(m) && (cursorTs === undefined || Number(m.ts) > Number(cursorTs)));
  const page = candidates.slice(0, limit);
  const hasMore = candidates.length > limit;
  const last = page[page.length - 1];
  return {
    ok: true,
    messages: page.map((m) => (m === parent ? historyJson(ws, m, includeMetadata) : withoutMetadata(messageJson(ws, m), includeMetadata))),
    has_more: hasMore,
    ...(hasMore && last && { response_metadata: { next_cursor: encodeCursor(last.ts) } }),
  };
};

function withoutMetadata(json: Record<string, unknown>, keep: boolean): Record<string, unknown> {
  if (!keep) delete json.metadata;
  return json;
}
