/** chat.postMessage, chat.update, chat.postEphemeral and chat.delete. */
import { parseJsonArgument, validateMessage } from '../validate-blocks.js';
import { withGeneratedIds, type Workspace } from '../workspace.js';
import type { SimChannel } from '../types.js';
import { asBool, asString, fail, isBody, type Body, type MethodHandler } from './common.js';
import { messageJson } from './json.js';

/** Resolves the channel a chat.* call targets and checks the bot may post there. */
function postableChannel(ws: Workspace, ref: unknown): SimChannel | Body {
  const channel = ws.resolveChannel(ref);
  if (!channel) return fail('channel_not_found');
  if (channel.is_archived) return fail('is_archived');
  if (!channel.member) return fail('not_in_channel');
  return channel;
}

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

export const postMessage: MethodHandler = (args, { ws }) => {
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

export const update: MethodHandler = (args, { ws }) => {
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

export const postEphemeral: MethodHandler = (args, { ws }) => {
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

export const deleteMessage: MethodHandler = (args, { ws }) => {
  const channel = ws.resolveChannel(args.channel, false);
  if (!channel) return fail('channel_not_found');
  const message = ws.findMessage(channel.id, args.ts);
  if (!message) return fail('message_not_found');
  if (message.user !== ws.bot.userId) return fail('cant_delete_message');
  ws.deleteMessage(message);
  return { ok: true, channel: channel.id, ts: message.ts };
};
