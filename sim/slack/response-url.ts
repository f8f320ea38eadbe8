/**
 * response_url handling: Slack lets an app answer an interaction at its response_url up to 5 times within
 * 30 minutes; the message goes to the user (ephemeral, the default), to the channel (`in_channel`), or replaces
 * or deletes the message the interaction came from.
 *
 * Slack does not document the body of a refused response_url call; this answers HTTP 404 with
 * `{ok:false,error:'used_url'|'expired_url'|'invalid_url'}` and HTTP 400 for payload errors.
 */
import { randomBytes } from 'node:crypto';
import { parseJsonArgument, validateMessage } from './validate-blocks.js';
import { withGeneratedIds, type Workspace } from './workspace.js';
import type { ResponseUrlRecord } from './types.js';

export interface ResponseUrlLimits {
  maxUses: number;
  ttlMs: number;
}

export interface ResponseUrlTarget {
  channel: string;
  user: string;
  /** The message the interaction came from; needed for `replace_original` / `delete_original`. */
  messageTs?: string;
}

export function mintResponseUrl(ws: Workspace, baseUrl: string, target: ResponseUrlTarget): string {
  const channel = ws.resolveChannel(target.channel)?.id ?? target.channel;
  const id = `${ws.team.id}/${Math.floor(ws.now() / 1000)}/${randomBytes(12).toString('hex')}`;
  const record: ResponseUrlRecord = {
    id,
    url: `${baseUrl}/respond/${id}`,
    channel,
    user: target.user,
    createdAt: ws.now(),
    uses: [],
    ...(target.messageTs !== undefined && { messageTs: target.messageTs }),
  };
  ws.responseUrls.push(record);
  return record.url;
}

export interface RespondOutcome {
  status: number;
  body: Record<string, unknown>;
}

export function handleResponseUrl(ws: Workspace, id: string, body: Record<string, unknown>, limits: ResponseUrlLimits): RespondOutcome {
  const record = ws.responseUrls.find((r) => r.id === id);
  if (!record) return { status: 404, body: { ok: false, error: 'invalid_url' } };
  const refuse = (status: number, error: string): RespondOutcome => {
    record.uses.push({ at: ws.now(), body, status, error });
    ws.changed();
    return { status, body: { ok: false, error } };
  };
  if (ws.now() - record.createdAt > limits.ttlMs) return refuse(404, 'expired_url');
  if (record.uses.filter((u) => u.status === 200).length >= limits.maxUses) return refuse(404, 'used_url');

  const original = record.messageTs !== undefined ? ws.findMessage(record.channel, record.messageTs) : undefined;
  if (body.delete_original === true || body.delete_original === 'true') {
    if (original) ws.deleteMessage(original);
  } else {
    const check = validateMessage(body);
    if (check.error) return refuse(400, check.error);
    const text = typeof body.text === 'string' ? body.text : undefined;
    const parsedBlocks = parseJsonArgument(body.blocks).value;
    const blocks = Array.isArray(parsedBlocks) ? withGeneratedIds(parsedBlocks) : undefined;
    const replace = body.replace_original === true || body.replace_original === 'true';
    const threadTs = typeof body.thread_ts === 'string' ? body.thread_ts : undefined;
    if (replace && original) {
      ws.updateMessage(original, { ...(text !== undefined && { text }), ...(blocks && { blocks }) });
    } else if (body.response_type === 'in_channel') {
      ws.addMessage({
        channel: record.channel,
        user: ws.bot.userId,
        bot_id: ws.bot.botId,
        via: 'response_url',
        ...(text !== undefined && { text }),
        ...(blocks && { blocks }),
        ...(threadTs && { thread_ts: threadTs }),
      });
    } else {
      ws.addEphemeral({
        channel: record.channel,
        user: record.user,
        via: 'response_url',
        ...(text !== undefined && { text }),
        ...(blocks && { blocks }),
      });
    }
  }
  record.uses.push({ at: ws.now(), body, status: 200 });
  ws.changed();
  return { status: 200, body: { ok: true } };
}
