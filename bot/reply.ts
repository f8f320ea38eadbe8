import type { KnownBlock } from '@slack/types';
import { clip, escapeMrkdwn } from '../core/text-safety.js';

/** An answer to one person (ephemeral unless said otherwise). Text is mrkdwn, already escaped. */
export interface Reply {
  text: string;
  blocks?: KnownBlock[];
  inChannel?: boolean;
}

const SECTION_MAX = 3000;

/** A text answer in one or more sections (Slack's 3000-character section limit), at most 10 of them. */
export function textReply(text: string): Reply {
  const blocks: KnownBlock[] = [];
  let rest = text;
  while (rest.length > 0 && blocks.length < 10) {
    let cut = rest.length <= SECTION_MAX ? rest.length : rest.lastIndexOf('\n', SECTION_MAX);
    if (cut <= 0) cut = SECTION_MAX;
    blocks.push({ type: 'section', text: { type: 'mrkdwn', text: rest.slice(0, cut) } });
    rest = rest.slice(cut).replace(/^\n/, '');
  }
  return { text: clip(text, 3000, { escape: false }), blocks };
}

/** Untrusted text, escaped for mrkdwn and clipped. */
export function safe(text: string, max = 300): string {
  return clip(text, max);
}

/** A name in backticks, escaped (a name may be anything the user typed). */
export function code(text: string, max = 253): string {
  return `\`${clip(text, max).replace(/`/g, "'")}\``;
}

/** A block of untrusted lines in a code block: escaped, ``` neutralised by `clip`. */
export function codeBlock(lines: string[], max = 2800): string {
  const body = clip(lines.join('\n'), max);
  return `\`\`\`\n${body || ' '}\n\`\`\``;
}

export { escapeMrkdwn };
