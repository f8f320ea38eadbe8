/** Conversations and messages as the Web API returns them. */
import type { Workspace } from '../workspace.js';
import type { SimChannel, SimMessage } from '../types.js';

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
  if (m.files) json.files = m.files;
  if (m.metadata !== undefined) json.metadata = m.metadata;
  if (m.thread_ts !== undefined && m.thread_ts !== m.ts) {
    json.thread_ts = m.thread_ts;
    json.parent_user_id = ws.messages.find((p) => p.channel === m.channel && p.ts === m.thread_ts)?.user ?? m.user;
  }
  if (m.edited) json.edited = { user: m.user, ts: `${Math.floor(m.edited.at / 1000)}.000000` };
  return json;
}
