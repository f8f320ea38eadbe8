/**
 * MessageModel → Slack Block Kit. Every message stays inside Slack's limits whatever the model holds:
 * at most 50 blocks, section text 3000, 10 fields of 2000, header 150, button text 75, action_id 255,
 * value 2000, block_id 255, context elements 10, confirm title 100 / text 300 / buttons 30, and the
 * fallback text far below 40000. Every text is cleaned and escaped (see text-safety.ts); logs go in a
 * code block with ``` neutralised. Buttons whose action_id or value would not fit are left out rather
 * than sent cut (a cut id would point at the wrong thing).
 */
import type { ActionsBlock, Button, ContextBlock, HeaderBlock, KnownBlock, SectionBlock } from '@slack/types';
import type { AlertChange, RepeatInfo } from './alert-state.js';
import type { MessageAction, MessageModel } from './message.js';
import { clip, neutraliseFences } from '../core/text-safety.js';

export const SLACK_LIMITS = {
  blocks: 50,
  sectionText: 3000,
  fields: 10,
  fieldText: 2000,
  headerText: 150,
  buttonText: 75,
  actionId: 255,
  value: 2000,
  blockId: 255,
  contextElements: 10,
  contextText: 2000,
  actionsElements: 25,
  confirmTitle: 100,
  confirmText: 300,
  confirmButton: 30,
  fallbackText: 40000,
} as const;

export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

const MAX_FACT_SECTIONS = 2;
const MAX_FALLBACK = 3000;

const SEVERITY_EMOJI: Record<string, string> = { critical: ':rotating_light:', warning: ':warning:' };

function section(blockId: string, text: string): SectionBlock {
  return { type: 'section', block_id: blockId, text: { type: 'mrkdwn', text: text || ' ' } };
}

/**
 * A titled bullet list inside one section: as many items as fit in `max`, then "…and N more".
 * Items are already-escaped mrkdwn lines.
 */
function fitList(heading: string, items: string[], max = SLACK_LIMITS.sectionText): string {
  let text = heading;
  for (let i = 0; i < items.length; i++) {
    const line = `\n${items[i]}`;
    const more = `\n…and ${items.length - i} more`;
    const reserve = i < items.length - 1 ? more.length + 8 : 0;
    if (text.length + line.length + reserve > max) {
      return text.length + more.length <= max ? text + more : text;
    }
    text += line;
  }
  return text;
}

function bullet(raw: string, max = 1000): string {
  return `• ${clip(raw, max)}`;
}

function headerBlock(title: string): HeaderBlock {
  return { type: 'header', block_id: 'oom_header', text: { type: 'plain_text', text: clip(title, SLACK_LIMITS.headerText) || ' ', emoji: true } };
}

function factSections(model: MessageModel): SectionBlock[] {
  const fields = model.facts.map((f) => ({ type: 'mrkdwn' as const, text: `*${clip(String(f.label), 100)}*\n${clip(String(f.value), 1000)}` }));
  const out: SectionBlock[] = [];
  for (let i = 0; i < fields.length && out.length < MAX_FACT_SECTIONS; i += SLACK_LIMITS.fields) {
    out.push({ type: 'section', block_id: `oom_facts_${out.length}`, fields: fields.slice(i, i + SLACK_LIMITS.fields) });
  }
  return out;
}

function logsSection(model: MessageModel): SectionBlock | undefined {
  const logs = model.logs;
  if (!logs || logs.lines.length === 0) return undefined;
  const heading = `*Previous logs*${logs.container ? ` of ${clip(logs.container, 100)}` : ''}`;
  const open = '\n```\n';
  const close = '\n```';
  const budget = SLACK_LIMITS.sectionText - heading.length - open.length - close.length - 40;
  const kept: string[] = [];
  let used = 0;
  let cut = logs.truncated;
  for (let i = logs.lines.length - 1; i >= 0; i--) {
    const line = clip(neutraliseFences(String(logs.lines[i] ?? '')), 500);
    if (used + line.length + 1 > budget) {
      cut = true;
      break;
    }
    kept.unshift(line);
    used += line.length + 1;
  }
  if (kept.length === 0) return undefined;
  const note = cut ? ' _(last lines only)_' : '';
  return section('oom_logs', `${heading}${note}${open}${kept.join('\n')}${close}`);
}

/** One model action as a Block Kit button (the alert's and the bot's own buttons render alike). */
export function renderButton(a: MessageAction): Button | undefined {
  const actionId = String(a.id);
  const value = String(a.value ?? '');
  if (actionId === '' || actionId.length > SLACK_LIMITS.actionId || value.length > SLACK_LIMITS.value) return undefined;
  const b: Button = {
    type: 'button',
    action_id: actionId,
    text: { type: 'plain_text', text: clip(a.label, SLACK_LIMITS.buttonText) || 'Open', emoji: true },
  };
  if (value !== '') b.value = value;
  if (a.style) b.style = a.style;
  if (a.confirm) {
    b.confirm = {
      title: { type: 'plain_text', text: clip(a.confirm.title, SLACK_LIMITS.confirmTitle) || 'Confirm' },
      text: { type: 'plain_text', text: clip(a.confirm.text, SLACK_LIMITS.confirmText) || 'Are you sure?' },
      confirm: { type: 'plain_text', text: clip(a.confirm.confirm, SLACK_LIMITS.confirmButton) || 'Confirm' },
      deny: { type: 'plain_text', text: clip(a.confirm.deny, SLACK_LIMITS.confirmButton) || 'Cancel' },
    };
  }
  return b;
}

function actionsBlock(model: MessageModel): ActionsBlock | undefined {
  const seen = new Set<string>();
  const elements: Button[] = [];
  for (const a of model.actions) {
    if (elements.length >= SLACK_LIMITS.actionsElements) break;
    const b = renderButton(a);
    // action_ids must be unique within a block.
    if (!b || seen.has(b.action_id ?? '')) continue;
    seen.add(b.action_id ?? '');
    elements.push(b);
  }
  return elements.length > 0 ? { type: 'actions', block_id: 'oom_actions', elements } : undefined;
}

function context(blockId: string, text: string): ContextBlock {
  return { type: 'context', block_id: blockId, elements: [{ type: 'mrkdwn', text: text || ' ' }] };
}

/** Fallback text for notifications and clients without blocks. */
export function fallbackText(model: MessageModel, prefix = ''): string {
  return clip(`${prefix}${model.title}: ${model.headline}`, MAX_FALLBACK);
}

/** The alert as Block Kit. */
export function renderSlack(model: MessageModel): SlackMessage {
  const blocks: KnownBlock[] = [headerBlock(model.title)];
  const emoji = SEVERITY_EMOJI[model.severity] ?? ':warning:';
  blocks.push(
    section(
      'oom_headline',
      clip(
        `${emoji} *${clip(model.headline, 2500)}*\n_Cause: ${clip(model.causeLabel, 200)} · confidence ${clip(model.confidence, 20)}_`,
        SLACK_LIMITS.sectionText,
        { escape: false },
      ),
    ),
  );
  blocks.push(...factSections(model));
  if (model.evidence.length > 0) {
    blocks.push(
      section(
        'oom_evidence',
        fitList(
          '*Why*',
          model.evidence.map((e) => `${bullet(e.text)} _(${clip(e.source, 40)})_`),
        ),
      ),
    );
  }
  const todo = [...model.warnings.map((w) => `:no_entry: ${clip(w, 1000)}`), ...model.advice.map((a) => bullet(a))];
  if (todo.length > 0) blocks.push(section('oom_advice', fitList('*What to do*', todo)));
  if (model.proposal) {
    const p = model.proposal;
    const lines = [`:wrench: *${clip(p.summary, 600)}*`, clip(p.reason, 1000), ...p.notes.map((n) => `:information_source: ${clip(n, 600)}`)];
    blocks.push(section('oom_proposal', fitList('*Proposed change*', lines)));
  }
  if (model.events.length > 0) {
    const lines = model.events.map((ev) => {
      const count = ev.count > 1 ? ` ×${ev.count}` : '';
      const on = ev.object ? ` on ${clip(ev.object, 120)}` : '';
      const at = ev.at ? ` (${clip(ev.at, 40)})` : '';
      return `• ${clip(ev.type, 20)} *${clip(ev.reason, 60)}*${count}${on}${at}: ${clip(ev.message, 400)}`;
    });
    blocks.push(section('oom_events', fitList('*Recent events*', lines)));
  }
  const logs = logsSection(model);
  if (logs) blocks.push(logs);
  const actions = actionsBlock(model);
  if (actions) blocks.push(actions);
  blocks.push(context('oom_footer', clip(model.footer, SLACK_LIMITS.contextText)));
  return { text: fallbackText(model), blocks: blocks.slice(0, SLACK_LIMITS.blocks) };
}

/** The first alert of a workload, updated to stand for its repeats (for chat.update). */
export function renderRepeatUpdate(model: MessageModel, repeat: RepeatInfo): SlackMessage {
  const base = renderSlack(model);
  const count = Number.isFinite(repeat.count) ? Math.max(1, Math.floor(repeat.count)) : 1;
  const pod = repeat.lastPod ? ` · latest pod ${clip(repeat.lastPod, 200)}` : '';
  const line = `:repeat: *Seen ${count} times* · first ${clip(repeat.firstSeenAt, 60)} · last ${clip(repeat.lastSeenAt, 60)}${pod}`;
  const blocks = [...base.blocks];
  blocks.splice(1, 0, context('oom_repeat', clip(line, SLACK_LIMITS.contextText, { escape: false })));
  return { text: fallbackText(model, `(${count}×) `), blocks: blocks.slice(0, SLACK_LIMITS.blocks) };
}

/**
 * The alert's blocks with one audit line per change under the header, and the Raise/Undo buttons
 * replaced by the last change's Undo (or none). `removeIds` are the action ids that a change retires.
 */
export function withChanges(blocks: readonly unknown[], changes: readonly AlertChange[], removeIds: readonly string[]): KnownBlock[] {
  if (changes.length === 0) return blocks as KnownBlock[];
  const audit: KnownBlock[] = changes.map((c) =>
    context(`oom_audit_${c.id}`.slice(0, SLACK_LIMITS.blockId), clip(c.text, SLACK_LIMITS.contextText, { escape: false })),
  );
  const undo = changes.at(-1)?.undo;
  const out: KnownBlock[] = [];
  let inserted = false;
  for (const raw of blocks) {
    const b = raw as KnownBlock & { elements?: Button[] };
    if (b.type === 'actions' && Array.isArray(b.elements)) {
      const kept = b.elements.filter((e) => !removeIds.includes(e.action_id ?? ''));
      if (undo) kept.unshift(undo);
      if (kept.length > 0) out.push({ ...b, elements: kept } as KnownBlock);
      continue;
    }
    out.push(b);
    if (!inserted && b.type === 'header') {
      out.push(...audit);
      inserted = true;
    }
  }
  if (!inserted) out.unshift(...audit);
  return out.slice(0, SLACK_LIMITS.blocks);
}
