/**
 * Making untrusted text (pod names, event messages, log lines) safe to show.
 *
 * - cleanText: well-formed UTF-16 (lone surrogates become U+FFFD), no ANSI escape sequences, no control
 *   characters except newline and tab, no bidirectional overrides (which can disguise text).
 * - escapeMrkdwn: Slack's escaping, `&` `<` `>` and nothing else. It neutralises `<!channel>`, `<@U…>`
 *   and `<https://…|links>`. Applied to every text the Slack renderer emits (plain_text included: Slack
 *   decodes these three entities for display), so no `<` or `>` from the cluster ever reaches Slack.
 * - in mrkdwn, ``` from untrusted text is split by a zero-width space so it cannot open a code block;
 * - clipping counts UTF-16 code units (what Slack limits are safe against) but cuts only between code
 *   points, so a surrogate pair is never split, nor an `&amp;` entity.
 */

const ANSI = /\u001b(?:\[[0-?]*[ -/]*[@-~]|\][^\u0007\u001b]*(?:\u0007|\u001b\\)?|[@-Z\\-_])/g;
const CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

export function cleanText(text: string): string {
  return String(text).toWellFormed().replace(ANSI, '').replace(/\r\n?/g, '\n').replace(CONTROL, '');
}

export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const ELLIPSIS = '…';

function escapedLength(cp: string): number {
  return cp === '&' ? 5 : cp === '<' || cp === '>' ? 4 : cp.length;
}

/**
 * Cleans, escapes (unless `escape` is false) and clips `raw` to at most `max` UTF-16 code units,
 * ending with an ellipsis when anything was cut. Only a bounded prefix of `raw` is ever looked at.
 */
export function clip(raw: string, max: number, options: { escape?: boolean } = {}): string {
  const shouldEscape = options.escape ?? true;
  if (max <= 0) return '';
  const window = 2 * max + 8;
  let text = String(raw);
  let cut = false;
  if (text.length > window) {
    text = text.slice(0, window).replace(/[\uD800-\uDBFF]$/, '');
    cut = true;
  }
  text = cleanText(text);
  if (shouldEscape) text = neutraliseFences(text);
  const full = shouldEscape ? escapeMrkdwn(text) : text;
  if (!cut && full.length <= max) return full;
  const room = max - ELLIPSIS.length;
  let out = '';
  let used = 0;
  for (const cp of text) {
    const len = shouldEscape ? escapedLength(cp) : cp.length;
    if (used + len > room) break;
    out += shouldEscape ? escapeMrkdwn(cp) : cp;
    used += len;
  }
  return out + ELLIPSIS;
}

/** Clips without escaping (console output, button values). */
export function clipPlain(raw: string, max: number): string {
  return clip(raw, max, { escape: false });
}

/** Stops ``` inside untrusted text from closing a Slack code block (a zero-width space splits it). */
export function neutraliseFences(text: string): string {
  return text.replace(/(?<=``)`/g, '\u200b`');
}
