/** What oombot sent to Slack, and the check that none of it can notify, broadcast or link. */
import { expect } from 'vitest';
import type { SlackServer } from '../../sim/slack/index.js';

/**
 * Every Web API call's arguments (chat.postMessage, chat.update, chat.postEphemeral, ...) and every
 * response_url post, as one JSON text. Acknowledgement bodies are in each SignedResponse's `text`.
 */
export function everythingSentToSlack(slack: SlackServer): string {
  return JSON.stringify({
    calls: slack.calls.map((c) => ({ method: c.method, args: c.args })),
    responses: slack.responseUrls.map((r) => r.uses.map((u) => u.body)),
  });
}

/**
 * Slack turns `<!channel>`, `<!here>`, `<!everyone>`, `<!subteam^…>`, `<@U…>`, `<#C…>` and `<url|text>` into
 * notifications, mentions and links. Only the user mentions oombot writes itself (the clicker, the
 * approvers) may be there. `parse: full` or `link_names` would make even plain `@channel` notify, so
 * they must not be used either.
 */
export function expectNoActiveMention(text: string, allowedUsers: readonly string[] = []): void {
  for (const m of text.matchAll(/<([!#@]|[a-z][a-z0-9+.-]*:|[^<>]*\|)[^<>]{0,200}>?/gi)) {
    const user = /^<@([^|>]+)(\|[^>]*)?>$/.exec(m[0]);
    const where = JSON.stringify(text.slice(Math.max(0, (m.index ?? 0) - 80), (m.index ?? 0) + 80));
    expect(user !== null && allowedUsers.includes(user[1]!), `active mrkdwn ${JSON.stringify(m[0])} in ${where}`).toBe(true);
  }
  expect(text).not.toMatch(/"parse":"full"|"link_names":(true|1|"1"|"true")/);
}
