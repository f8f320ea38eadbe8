import type { MessageModel } from './model/message.js';
import { ACTION_RAISE_LIMIT, ACTION_UNDO } from './model/action-ids.js';
import { renderRepeatUpdate, renderSlack, withChanges, type RepeatInfo } from './model/render-slack.js';
import { renderText } from './model/render-text.js';
import type { PendingRepeats } from './alert-groups.js';
import type { GroupView } from './publisher.js';
import { ALERT_EVENT_TYPE, type OutgoingMessage } from './transport.js';

/** How alerts look on one transport: Block Kit for Slack, readable text for the console. */
export interface AlertRenderer {
  first(model: MessageModel, view: GroupView): OutgoingMessage;
  update(modelJson: string, view: GroupView): OutgoingMessage;
  thread(pending: PendingRepeats, view: GroupView): OutgoingMessage;
}

const THREAD_LINES = 20;

function repeatInfo(view: GroupView): RepeatInfo {
  const now = new Date().toISOString();
  return { count: view.count, firstSeenAt: view.firstAt ?? now, lastSeenAt: view.lastAt ?? now };
}

function metadata(model: MessageModel) {
  return { event_type: ALERT_EVENT_TYPE, event_payload: { incident_id: model.incidentId, kind: model.kind } };
}

function threadText({ notes, trimmed }: PendingRepeats, view: GroupView): string {
  const shown = notes.slice(-THREAD_LINES);
  const total = notes.length + trimmed;
  const more = total - shown.length;
  const head = `${total} more ${total === 1 ? 'incident' : 'incidents'} (${view.count} in all):`;
  return [head, ...shown.map((n) => `• ${n.line}`), ...(more > 0 ? [`…and ${more} earlier`] : [])].join('\n');
}

export const slackRenderer: AlertRenderer = {
  first(model, view) {
    const msg = view.count > 1 ? renderRepeatUpdate(model, repeatInfo(view)) : renderSlack(model);
    return { ...msg, metadata: metadata(model) };
  },
  update(modelJson, view) {
    const model = JSON.parse(modelJson) as MessageModel;
    const msg = renderRepeatUpdate(model, repeatInfo(view));
    const blocks = view.changes ? withChanges(msg.blocks, view.changes, [ACTION_RAISE_LIMIT, ACTION_UNDO]) : msg.blocks;
    return { ...msg, blocks, metadata: metadata(model) };
  },
  thread(pending, view) {
    return { text: threadText(pending, view) };
  },
};

export const consoleRenderer: AlertRenderer = {
  first(model, view) {
    return { text: renderText(model, view.count > 1 ? repeatInfo(view) : undefined) };
  },
  update(modelJson, view) {
    const model = JSON.parse(modelJson) as MessageModel;
    return { text: `${model.title}: now ${view.count} incidents, last at ${view.lastAt ?? '?'}` };
  },
  thread(pending, view) {
    return { text: threadText(pending, view) };
  },
};
