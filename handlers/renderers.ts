import type { MessageModel } from '../alert/message.js';
import { ACTION_RAISE_LIMIT, ACTION_UNDO } from '../alert/action-ids.js';
import type { KnownBlock } from '@slack/types';
import type { RepeatInfo } from '../alert/alert-state.js';
import { renderRepeatUpdate, renderSlack, SLACK_LIMITS, withChanges } from '../alert/render-slack.js';
import { clip, escapeMrkdwn } from '../core/text-safety.js';
import { renderText } from '../alert/render-text.js';
import type { FacetKind } from '../stores/alert-groups.js';
import type { GroupView, ThreadNews } from './publisher.js';
import { ALERT_EVENT_TYPE, type OutgoingMessage } from './transport.js';

/** How alerts look on one transport: Block Kit for Slack, readable text for the console. */
export interface AlertRenderer {
  /** How many repeats that came before the first message it lists itself (0: none, they go to the thread). */
  foldsRepeats: number;
  first(model: MessageModel, view: GroupView): OutgoingMessage;
  update(modelJson: string, view: GroupView): OutgoingMessage;
  /** A thread reply for repeats that brought something new (a node, container, cause or image). */
  thread(news: ThreadNews, view: GroupView): OutgoingMessage;
}

const THREAD_LINES = 20;

function repeatInfo(view: GroupView): RepeatInfo {
  const now = new Date().toISOString();
  return { count: view.count, firstSeenAt: view.firstAt ?? now, lastSeenAt: view.lastAt ?? now };
}

function metadata(model: MessageModel) {
  return { event_type: ALERT_EVENT_TYPE, event_payload: { incident_id: model.incidentId, kind: model.kind } };
}

const FACET_NAMES: Record<FacetKind, string> = { node: 'node', container: 'container', process: 'process', cause: 'cause', image: 'image' };

/**
 * "New since the alert: node `worker-7`" and the repeats that brought it, one line each. Repeats that
 * bring nothing new are only counted, in the alert itself.
 */
function threadText({ items, repeats }: ThreadNews, view: GroupView): string {
  const shown = items.slice(-THREAD_LINES);
  const what = [...new Set(items.flatMap((i) => i.news.map((n) => `${FACET_NAMES[n.kind]} \`${escapeMrkdwn(n.value)}\``)))];
  const head = `New since the alert: ${clip(what.join(', '), 1_000, { escape: false })} (${repeats} more ${repeats === 1 ? 'incident' : 'incidents'}, ${view.count} in all):`;
  const more = items.length - shown.length;
  return [head, ...shown.map((i) => `• ${i.note.line}`), ...(more > 0 ? [`…and ${more} earlier`] : [])].join('\n');
}

/** Repeats that came before the first message went out: listed in it (above the buttons), not in a thread reply. */
function withEarlier(blocks: KnownBlock[], view: GroupView): KnownBlock[] {
  const earlier = view.earlier ?? [];
  if (earlier.length === 0) return blocks;
  const list = clip([`*Also, before this message* (${earlier.length})`, ...earlier.map((n) => `• ${n.line}`)].join('\n'), SLACK_LIMITS.sectionText, {
    escape: false,
  });
  const block: KnownBlock = { type: 'section', block_id: 'oom_earlier', text: { type: 'mrkdwn', text: list } };
  const at = blocks.findIndex((b) => b.type === 'actions');
  const out = [...blocks];
  out.splice(at < 0 ? out.length : at, 0, block);
  return out.slice(0, SLACK_LIMITS.blocks);
}

/** News from repeats shown on the alert itself (the channel was busy with new alerts): a section above the buttons. */
function withNews(blocks: KnownBlock[], view: GroupView): KnownBlock[] {
  const items = view.news ?? [];
  if (items.length === 0) return blocks;
  const lines = items.map((i) => `• ${i.note.line} (new: ${i.news.map((n) => `${FACET_NAMES[n.kind]} \`${escapeMrkdwn(n.value)}\``).join(', ')})`);
  const list = clip(['*New since this alert*', ...lines].join('\n'), SLACK_LIMITS.sectionText, { escape: false });
  const block: KnownBlock = { type: 'section', block_id: 'oom_news', text: { type: 'mrkdwn', text: list } };
  const at = blocks.findIndex((b) => b.type === 'actions');
  const out = [...blocks];
  out.splice(at < 0 ? out.length : at, 0, block);
  return out.slice(0, SLACK_LIMITS.blocks);
}

/** The repeat lines an alert lists itself (its "Also, before this message" section), as posted. */
export function earlierLines(blocks: unknown): string[] {
  const block = (Array.isArray(blocks) ? blocks : []).find((b: { block_id?: unknown }) => b?.block_id === 'oom_earlier') as
    | { text?: { text?: string } }
    | undefined;
  return (block?.text?.text ?? '').split('\n').filter((l) => l.startsWith('• '));
}

export const slackRenderer: AlertRenderer = {
  foldsRepeats: THREAD_LINES,
  first(model, view) {
    const msg = view.count > 1 ? renderRepeatUpdate(model, repeatInfo(view)) : renderSlack(model);
    return { ...msg, blocks: withEarlier(msg.blocks, view), metadata: metadata(model) };
  },
  update(modelJson, view) {
    const model = JSON.parse(modelJson) as MessageModel;
    const msg = renderRepeatUpdate(model, repeatInfo(view));
    const blocks = withNews(withEarlier(view.changes ? withChanges(msg.blocks, view.changes, [ACTION_RAISE_LIMIT, ACTION_UNDO]) : msg.blocks, view), view);
    return { ...msg, blocks, metadata: metadata(model) };
  },
  thread(news, view) {
    return { text: threadText(news, view) };
  },
};

export const consoleRenderer: AlertRenderer = {
  foldsRepeats: 0,
  first(model, view) {
    return { text: renderText(model, view.count > 1 ? repeatInfo(view) : undefined) };
  },
  update(modelJson, view) {
    const model = JSON.parse(modelJson) as MessageModel;
    return { text: `${model.title}: now ${view.count} incidents, last at ${view.lastAt ?? '?'}` };
  },
  thread(news, view) {
    return { text: threadText(news, view) };
  },
};
