/** Checks a rendered message against Slack's Block Kit limits; returns the problems found. */
import type { KnownBlock } from '@slack/types';
import type { SlackMessage } from '../../alert/render-slack.js';

interface TextObject {
  type: string;
  text: string;
}

export function slackLimitProblems(msg: SlackMessage): string[] {
  const problems: string[] = [];
  const check = (ok: boolean, what: string) => {
    if (!ok) problems.push(what);
  };
  const text = (t: TextObject | undefined, max: number, where: string) => {
    if (!t) return problems.push(`${where}: missing text`);
    check(typeof t.text === 'string' && t.text.length >= 1, `${where}: empty text`);
    check(t.text.length <= max, `${where}: ${t.text.length} > ${max}`);
    check(t.text.isWellFormed(), `${where}: not well-formed UTF-16`);
    // Nothing from the cluster can make a mention or a link: no raw angle brackets at all.
    check(!/[<>]/.test(t.text), `${where}: raw < or >`);
    check(!/&(?!amp;|lt;|gt;)/.test(t.text), `${where}: unescaped &`);
    if (t.type === 'mrkdwn') {
      const fences = t.text.match(/```/g)?.length ?? 0;
      check(fences % 2 === 0, `${where}: unbalanced code fences`);
    }
  };
  check(typeof msg.text === 'string' && msg.text.length >= 1 && msg.text.length <= 40000, `fallback text length ${msg.text.length}`);
  check(msg.text.isWellFormed() && !/[<>]/.test(msg.text), 'fallback text not safe');
  check(msg.blocks.length <= 50, `${msg.blocks.length} blocks`);
  const blockIds = new Set<string>();
  msg.blocks.forEach((b: KnownBlock, i) => {
    const where = `block ${i} (${b.type})`;
    if ('block_id' in b && b.block_id !== undefined) {
      check(b.block_id.length <= 255, `${where}: block_id too long`);
      check(!blockIds.has(b.block_id), `${where}: duplicate block_id ${b.block_id}`);
      blockIds.add(b.block_id);
    }
    switch (b.type) {
      case 'header':
        check(b.text.type === 'plain_text', `${where}: header must be plain_text`);
        text(b.text as TextObject, 150, where);
        break;
      case 'section':
        if (b.text) text(b.text as TextObject, 3000, where);
        if (b.fields) {
          check(b.fields.length <= 10, `${where}: ${b.fields.length} fields`);
          for (const [j, f] of b.fields.entries()) text(f as TextObject, 2000, `${where} field ${j}`);
        }
        check(b.text !== undefined || (b.fields?.length ?? 0) > 0, `${where}: empty section`);
        break;
      case 'context':
        check(b.elements.length >= 1 && b.elements.length <= 10, `${where}: ${b.elements.length} elements`);
        for (const [j, e] of b.elements.entries()) text(e as TextObject, 2000, `${where} element ${j}`);
        break;
      case 'actions': {
        check(b.elements.length >= 1 && b.elements.length <= 25, `${where}: ${b.elements.length} elements`);
        const ids = new Set<string>();
        for (const e of b.elements) {
          if (e.type !== 'button') continue;
          text(e.text as TextObject, 75, `${where} button`);
          check(typeof e.action_id === 'string' && e.action_id.length >= 1 && e.action_id.length <= 255, `${where}: action_id`);
          check(!ids.has(e.action_id ?? ''), `${where}: duplicate action_id`);
          ids.add(e.action_id ?? '');
          check(e.value === undefined || (e.value.length >= 1 && e.value.length <= 2000), `${where}: value length`);
          if (e.confirm) {
            text(e.confirm.title as TextObject, 100, `${where} confirm title`);
            text(e.confirm.text as TextObject, 300, `${where} confirm text`);
            text(e.confirm.confirm as TextObject, 30, `${where} confirm button`);
            text(e.confirm.deny as TextObject, 30, `${where} deny button`);
          }
        }
        break;
      }
      default:
        problems.push(`${where}: unexpected block type`);
    }
  });
  return problems;
}
