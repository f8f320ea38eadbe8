/**
 * MessageModel → readable console text (the `oombot` CLI, logs of a dry run). No Slack escaping, but
 * every untrusted string is cleaned (no ANSI escapes or control characters can reach a terminal) and
 * kept to a sane length.
 */
import type { MessageModel } from './message.js';
import type { RepeatInfo } from './alert-state.js';
import { clipPlain } from '../core/text-safety.js';

const MAX_LINE = 1000;

function t(raw: unknown, max = MAX_LINE): string {
  return clipPlain(String(raw ?? ''), max).replace(/\n/g, ' ');
}

function list(lines: string[], indent = '  - '): string[] {
  return lines.map((l) => `${indent}${l}`);
}

export function renderText(model: MessageModel, repeat?: RepeatInfo): string {
  const out: string[] = [];
  out.push(`[${model.severity.toUpperCase()}] ${t(model.title, 200)}`);
  if (repeat) {
    out.push(
      `Seen ${Math.max(1, Math.floor(repeat.count))} times, first ${t(repeat.firstSeenAt, 60)}, last ${t(repeat.lastSeenAt, 60)}${repeat.lastPod ? `, latest pod ${t(repeat.lastPod, 200)}` : ''}`,
    );
  }
  out.push(t(model.headline, 2000));
  out.push(`Cause: ${t(model.causeLabel, 200)} (confidence ${t(model.confidence, 20)})`);
  if (model.facts.length > 0) {
    out.push('', 'Facts');
    const facts = model.facts.slice(0, 40).map((f) => ({ label: t(f.label, 40), value: t(f.value, 300) }));
    const width = Math.max(...facts.map((f) => f.label.length));
    for (const f of facts) out.push(`  ${f.label.padEnd(width)}  ${f.value}`);
  }
  if (model.evidence.length > 0) {
    out.push('', 'Why');
    out.push(...list(model.evidence.slice(0, 40).map((e) => `${t(e.text)} (${t(e.source, 40)})`)));
  }
  if (model.warnings.length > 0 || model.advice.length > 0) {
    out.push('', 'What to do');
    out.push(
      ...list(
        model.warnings.slice(0, 10).map((w) => t(w)),
        '  ! ',
      ),
    );
    out.push(...list(model.advice.slice(0, 40).map((a) => t(a))));
  }
  if (model.proposal) {
    out.push('', 'Proposed change');
    out.push(`  ${t(model.proposal.summary)}`);
    out.push(`  ${t(model.proposal.reason)}`);
    out.push(
      ...list(
        model.proposal.notes.slice(0, 10).map((n) => t(n)),
        '  * ',
      ),
    );
  }
  if (model.events.length > 0) {
    out.push('', 'Recent events');
    for (const ev of model.events.slice(0, 20)) {
      const count = ev.count > 1 ? ` x${ev.count}` : '';
      const on = ev.object ? ` on ${t(ev.object, 120)}` : '';
      const at = ev.at ? ` (${t(ev.at, 40)})` : '';
      out.push(`  ${t(ev.type, 20)} ${t(ev.reason, 60)}${count}${on}${at}: ${t(ev.message, 400)}`);
    }
  }
  if (model.logs && model.logs.lines.length > 0) {
    const lines = model.logs.lines.slice(-50);
    out.push(
      '',
      `Previous logs${model.logs.container ? ` of ${t(model.logs.container, 100)}` : ''}${model.logs.truncated || model.logs.lines.length > lines.length ? ' (last lines only)' : ''}`,
    );
    for (const line of lines) out.push(`  | ${t(line, 500)}`);
  }
  if (model.actions.length > 0) {
    out.push(
      '',
      `Actions: ${model.actions
        .slice(0, 25)
        .map((a) => `[${t(a.label, 75)}]`)
        .join(' ')}`,
    );
  }
  out.push('', t(model.footer, 500));
  return `${out.join('\n')}\n`;
}
