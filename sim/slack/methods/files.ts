/**
 * Slack's external file upload flow: files.getUploadURLExternal reserves a file id and an upload URL (on
 * this server, 127.0.0.1), the client POSTs the bytes there, and files.completeUploadExternal shares the
 * file into a channel, or into a thread with `thread_ts`, with the `initial_comment` as the message text.
 */
import { randomBytes } from 'node:crypto';
import { parseJsonArgument } from '../validate-blocks.js';
import type { SimFile } from '../types.js';
import { asString, fail, type MethodHandler } from './common.js';

/** Slack's limit for one file (1 GB). */
const MAX_LENGTH = 1_000_000_000;

function fileId(): string {
  return `F${randomBytes(6).toString('hex').toUpperCase().slice(0, 10)}`;
}

export const getUploadURLExternal: MethodHandler = (args, { ws, uploadUrl }) => {
  const filename = asString(args.filename);
  const lengthRaw = asString(args.length);
  if (!filename || lengthRaw === undefined) return fail('invalid_arguments', [`[ERROR] missing required field: ${!filename ? 'filename' : 'length'}`]);
  const length = Number(lengthRaw);
  if (!/^\d+$/.test(lengthRaw) || length < 1 || length > MAX_LENGTH) return fail('invalid_arguments', ['[ERROR] length must be a positive integer']);
  const id = fileId();
  const altText = asString(args.alt_text ?? args.alt_txt);
  ws.files.set(id, { id, name: filename, length, ...(altText !== undefined && { altText }) });
  return { ok: true, upload_url: uploadUrl(id), file_id: id };
};

/** The file object Slack returns and lists on a message. */
function fileJson(f: SimFile): Record<string, unknown> {
  const png = f.name.toLowerCase().endsWith('.png');
  return {
    id: f.id,
    name: f.name,
    title: f.title ?? f.name,
    mimetype: png ? 'image/png' : 'application/octet-stream',
    filetype: png ? 'png' : 'binary',
    size: f.bytes?.length ?? 0,
    ...(f.altText !== undefined && { alt_txt: f.altText }),
  };
}

export const completeUploadExternal: MethodHandler = (args, { ws }) => {
  const parsed = parseJsonArgument(args.files);
  const list = parsed.value;
  if (parsed.invalid || !Array.isArray(list) || list.length === 0) return fail('invalid_arguments', ['[ERROR] missing required field: files']);
  const files: SimFile[] = [];
  for (const item of list as unknown[]) {
    const id = typeof item === 'object' && item !== null ? asString((item as Record<string, unknown>).id) : undefined;
    const f = id ? ws.files.get(id) : undefined;
    // A file never reserved, never uploaded, uploaded with another length than announced, or already shared.
    if (!f?.bytes || f.bytes.length !== f.length || f.shared) return fail('file_not_found');
    const title = asString((item as Record<string, unknown>).title);
    if (title !== undefined) f.title = title;
    files.push(f);
  }
  const channelId = asString(args.channel_id);
  if (channelId === undefined) return { ok: true, files: files.map(fileJson) };
  const channel = ws.resolveChannel(channelId, false);
  if (!channel) return fail('channel_not_found');
  if (!channel.member) return fail('not_in_channel');
  const threadTs = asString(args.thread_ts);
  if (threadTs !== undefined) {
    const parent = ws.findMessage(channel.id, threadTs);
    if (!parent || parent.thread_ts !== undefined) return fail('invalid_thread_ts');
  }
  const comment = asString(args.initial_comment);
  const message = ws.addMessage({
    channel: channel.id,
    user: ws.bot.userId,
    bot_id: ws.bot.botId,
    via: 'files.completeUploadExternal',
    text: comment ?? '',
    files: files.map(fileJson),
    ...(threadTs !== undefined && { thread_ts: threadTs }),
  });
  for (const f of files) f.shared = { channel: channel.id, ts: message.ts, ...(threadTs !== undefined && { threadTs }) };
  return { ok: true, files: files.map(fileJson) };
};
