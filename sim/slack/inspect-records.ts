import { channelJson, messageJson } from './web-api-methods.js';
import type { Workspace } from './workspace.js';

/** Body of `GET /_sim/messages[?channel=alerts]`: each channel with its messages, their replies and edits. */
export function inspectRecords(ws: Workspace, only: string | null): Record<string, unknown> {
  const channels = ws.channels
    .filter((c) => !only || c.id === only || c.name === only.replace(/^#/, ''))
    .map((c) => ({
      ...channelJson(ws, c),
      messages: ws.messagesIn(c.id).map((m) => ({
        ...messageJson(ws, m),
        history: m.history,
        replies: ws.threadOf(c.id, m.ts).map((r) => messageJson(ws, r)),
      })),
    }));
  return { ok: true, channels, ephemerals: ws.ephemerals, views: ws.views };
}
