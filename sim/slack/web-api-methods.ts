/**
 * The Web API methods the simulated workspace answers, with Slack's argument handling and error names.
 * Each handler takes the parsed arguments and returns Slack's JSON body (`ok: false` bodies are answered with
 * HTTP 200, as Slack does).
 */
import { parseJsonArgument, validateMessage, validateView } from './validate-blocks.js';
import { slackId, withGeneratedIds, type Workspace } from './workspace.js';
import type { SimChannel, SimMessage } from './types.js';

export type Args = Record<string, unknown>;
export type Body = Record<string, unknown> & { ok: boolean; error?: string };

export interface MethodContext {
  ws: Workspace;
  triggerIdTtlMs: number;
  strictTriggerIds: boolean;
  /** `limit` of conversations.history / conversations.replies: default and maximum. */
  historyLimit: { default: number; max: number };
}

export type MethodHandler = (args: Args, ctx: MethodContext) => Body;

const fail = (error: string, messages?: string[]): Body =>
  messages && messages.length > 0 ? { ok: false, error, response_metadata: { messages } } : { ok: false, error };

const asBool = (v: unknown): boolean | undefined =>
  v === undefined ? undefined : v === true || v === 'true' || v === '1' || v === 1;

const asString = (v: unknown): string | undefined =>
  v === undefined || v === null ? undefined : typeof v === 'string' ? v : String(v);

export function channelJson(ws: Workspace, c: SimChannel): Record<string, unknown> {
  const isIm = c.id.startsWith('D');
  return {
    id: c.id,
    name: c.name,
    name_normalized: c.name,
    is_channel: !isIm && !c.is_private,
    is_group: false,
    is_im: isIm,
    is_mpim: false,
    is_private: c.is_private ?? false,
    is_archived: c.is_archived ?? false,
    is_general: c.name === 'general',
    is_member: c.member,
    is_shared: false,
    is_ext_shared: false,
    is_org_shared: false,
    created: Math.floor(ws.now() / 1000) - 86_400,
    creator: ws.users[0]?.id ?? ws.bot.userId,
    context_team_id: ws.team.id,
    topic: { value: '', creator: '', last_set: 0 },
    purpose: { value: '', creator: '', last_set: 0 },
  };
}

export function messageJson(ws: Workspace, m: SimMessage): Record<string, unknown> {
  const json: Record<string, unknown> = {
    type: 'message',
    user: m.user,
    ts: m.ts,
    text: m.text ?? '',
    team: ws.team.id,
  };
  if (m.bot_id) {
    json.bot_id = m.bot_id;
    json.app_id = ws.bot.appId;
    json.bot_profile = { id: m.bot_id, app_id: ws.bot.appId, name: ws.bot.name, deleted: false, team_id: ws.team.id };
  }
  if (m.blocks) json.blocks = m.blocks;
  if (m.attachments) json.attachments = m.attachments;
  if (m.metadata !== undefined) json.metadata = m.metadata;
  if (m.thread_ts !== undefined && m.thread_ts !== m.ts) {
    json.thread_ts = m.thread_ts;
    json.parent_user_id = ws.messages.find((p) => p.channel === m.channel && p.ts === m.thread_ts)?.user ?? m.user;
  }
  if (m.edited) json.edited = { user: m.user, ts: `${Math.floor(m.edited.at / 1000)}.000000` };
  return json;
}

/** Resolves the channel a chat.* call targets and checks the bot may post there. */
function postableChannel(ws: Workspace, ref: unknown): SimChannel | Body {
  const channel = ws.resolveChannel(ref);
  if (!channel) return fail('channel_not_found');
  if (channel.is_archived) return fail('is_archived');
  if (!channel.member) return fail('not_in_channel');
  return channel;
}

const isBody = (v: unknown): v is Body => typeof v === 'object' && v !== null && 'ok' in v;

function parseMetadata(raw: unknown): { value?: unknown; error?: string } {
  if (raw === undefined) return {};
  const parsed = parseJsonArgument(raw);
  const v = parsed.value as Record<string, unknown> | undefined;
  if (parsed.invalid || typeof v !== 'object' || v === null || typeof v.event_type !== 'string' || typeof v.event_payload !== 'object') {
    return { error: 'invalid_metadata_format' };
  }
  return { value: v };
}

function parseBlocks(raw: unknown): unknown[] | undefined {
  const parsed = parseJsonArgument(raw).value;
  return Array.isArray(parsed) ? withGeneratedIds(parsed) : undefined;
}

const authTest: MethodHandler = (_args, { ws }) => ({
  ok: true,
  url: `https://${ws.team.domain}.slack.com/`,
  team: ws.team.name,
  user: ws.bot.name,
  team_id: ws.team.id,
  user_id: ws.bot.userId,
  bot_id: ws.bot.botId,
  is_enterprise_install: false,
});

const postMessage: MethodHandler = (args, { ws }) => {
  const channel = postableChannel(ws, args.channel);
  if (isBody(channel)) return channel;
  const check = validateMessage(args);
  if (check.error) return fail(check.error, check.messages);
  const metadata = parseMetadata(args.metadata);
  if (metadata.error) return fail(metadata.error);
  const threadTs = asString(args.thread_ts);
  const blocks = parseBlocks(args.blocks);
  const attachments = parseJsonArgument(args.attachments).value;
  const text = asString(args.text);
  const unfurlLinks = asBool(args.unfurl_links);
  const unfurlMedia = asBool(args.unfurl_media);
  const broadcast = asBool(args.reply_broadcast);
  const message = ws.addMessage({
    channel: channel.id,
    user: ws.bot.userId,
    bot_id: ws.bot.botId,
    via: 'chat.postMessage',
    ...(text !== undefined && { text }),
    ...(blocks && { blocks }),
    ...(Array.isArray(attachments) && { attachments }),
    ...(metadata.value !== undefined && { metadata: metadata.value }),
    ...(threadTs && { thread_ts: threadTs }),
    ...(unfurlLinks !== undefined && { unfurl_links: unfurlLinks }),
    ...(unfurlMedia !== undefined && { unfurl_media: unfurlMedia }),
    ...(broadcast !== undefined && { reply_broadcast: broadcast }),
  });
  return { ok: true, channel: channel.id, ts: message.ts, message: messageJson(ws, message) };
};

const update: MethodHandler = (args, { ws }) => {
  // chat.update takes a conversation id only, not a name
  const channel = ws.resolveChannel(args.channel, false);
  if (!channel) return fail('channel_not_found');
  const message = ws.findMessage(channel.id, args.ts);
  if (!message) return fail('message_not_found');
  if (message.user !== ws.bot.userId) return fail('cant_update_message');
  const check = validateMessage(args);
  if (check.error) return fail(check.error, check.messages);
  const metadata = parseMetadata(args.metadata);
  if (metadata.error) return fail(metadata.error);
  const text = asString(args.text);
  const blocks = parseBlocks(args.blocks);
  ws.updateMessage(message, {
    ...(text !== undefined && { text }),
    ...(blocks && { blocks }),
    ...(metadata.value !== undefined && { metadata: metadata.value }),
  });
  return { ok: true, channel: channel.id, ts: message.ts, text: message.text ?? '', message: messageJson(ws, message) };
};

const postEphemeral: MethodHandler = (args, { ws }) => {
  const channel = postableChannel(ws, args.channel);
  if (isBody(channel)) return channel;
  const user = ws.user(args.user);
  if (!user) return fail('user_not_in_channel');
  const check = validateMessage(args);
  if (check.error) return fail(check.error, check.messages);
  const text = asString(args.text);
  const threadTs = asString(args.thread_ts);
  const blocks = parseBlocks(args.blocks);
  const e = ws.addEphemeral({
    channel: channel.id,
    user: user.id,
    via: 'chat.postEphemeral',
    ...(text !== undefined && { text }),
    ...(blocks && { blocks }),
    ...(threadTs && { thread_ts: threadTs }),
  });
  return { ok: true, message_ts: e.message_ts };
};

const deleteMessage: MethodHandler = (args, { ws }) => {
  const channel = ws.resolveChannel(args.channel, false);
  if (!channel) return fail('channel_not_found');
  const message = ws.findMessage(channel.id, args.ts);
  if (!message) return fail('message_not_found');
  if (message.user !== ws.bot.userId) return fail('cant_delete_message');
  ws.deleteMessage(message);
  return { ok: true, channel: channel.id, ts: message.ts };
};

const viewsOpen: MethodHandler = (args, { ws, triggerIdTtlMs, strictTriggerIds }) => {
  const triggerId = asString(args.trigger_id);
  if (!triggerId) return fail('invalid_arguments', ['[ERROR] missing required field: trigger_id']);
  const trigger = ws.triggers.get(triggerId);
  if (trigger) {
    if (trigger.used) return fail('exchanged_trigger_id');
    if (ws.now() - trigger.issuedAt > triggerIdTtlMs) return fail('expired_trigger_id');
  } else if (strictTriggerIds) {
    return fail('invalid_trigger_id');
  }
  const parsed = parseJsonArgument(args.view);
  if (parsed.invalid || parsed.value === undefined) return fail('invalid_arguments', ['[ERROR] missing required field: view']);
  const problems = validateView(parsed.value);
  if (problems.length > 0) return fail('invalid_arguments', problems);
  if (trigger) trigger.used = true;
  const view = parsed.value as Record<string, unknown>;
  const id = slackId('V');
  const blocks = Array.isArray(view.blocks) ? withGeneratedIds(view.blocks) : [];
  const output = {
    id,
    team_id: ws.team.id,
    app_id: ws.bot.appId,
    bot_id: ws.bot.botId,
    app_installed_team_id: ws.team.id,
    type: view.type,
    title: view.title,
    submit: view.submit ?? null,
    close: view.close ?? null,
    blocks,
    private_metadata: view.private_metadata ?? '',
    callback_id: view.callback_id ?? '',
    external_id: view.external_id ?? '',
    state: { values: {} },
    hash: `${Math.floor(ws.now() / 1000)}.${slackId('', 8)}`,
    clear_on_close: view.clear_on_close ?? false,
    notify_on_close: view.notify_on_close ?? false,
    root_view_id: id,
    previous_view_id: null,
  };
  ws.views.push({ id, trigger_id: triggerId, view: output, at: ws.now() });
  ws.changed();
  return { ok: true, view: output };
};

const conversationsInfo: MethodHandler = (args, { ws }) => {
  const channel = ws.resolveChannel(args.channel, false);
  if (!channel) return fail('channel_not_found');
  return { ok: true, channel: channelJson(ws, channel) };
};

const conversationsJoin: MethodHandler = (args, { ws }) => {
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
const conversationsList: MethodHandler = (args, { ws }) => {
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
const conversationsHistory: MethodHandler = (args, { ws, historyLimit }) => {
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
const conversationsReplies: MethodHandler = (args, { ws, historyLimit }) => {
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
  const candidates = [parent, ...ws.threadOf(channel.id, ts)].filter(
    (m) => range(m) && (cursorTs === undefined || Number(m.ts) > Number(cursorTs)),
  );
  const page = candidates.slice(0, limit);
  const hasMore = candidates.length > limit;
  const last = page[page.length - 1];
  return {
    ok: true,
    messages: page.map((m) =>
      m === parent ? historyJson(ws, m, includeMetadata) : withoutMetadata(messageJson(ws, m), includeMetadata),
    ),
    has_more: hasMore,
    ...(hasMore && last && { response_metadata: { next_cursor: encodeCursor(last.ts) } }),
  };
};

function withoutMetadata(json: Record<string, unknown>, keep: boolean): Record<string, unknown> {
  if (!keep) delete json.metadata;
  return json;
}

const usersInfo: MethodHandler = (args, { ws }) => {
  const user = ws.user(args.user);
  if (!user) return fail('user_not_found');
  return {
    ok: true,
    user: {
      id: user.id,
      team_id: ws.team.id,
      name: user.name,
      real_name: user.real_name ?? user.name,
      deleted: false,
      tz: user.tz ?? 'UTC',
      is_bot: user.is_bot ?? false,
      is_admin: false,
      profile: { real_name: user.real_name ?? user.name, display_name: user.name, team: ws.team.id },
    },
  };
};

export const METHODS: Record<string, MethodHandler> = {
  'auth.test': authTest,
  'chat.postMessage': postMessage,
  'chat.update': update,
  'chat.postEphemeral': postEphemeral,
  'chat.delete': deleteMessage,
  'views.open': viewsOpen,
  'conversations.info': conversationsInfo,
  'conversations.join': conversationsJoin,
  'conversations.list': conversationsList,
  'conversations.history': conversationsHistory,
  'conversations.replies': conversationsReplies,
  'users.info': usersInfo,
};
