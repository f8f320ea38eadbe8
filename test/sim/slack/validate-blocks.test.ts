import { WebAPIPlatformError, WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSlackServer, type SlackServer } from '../../../sim/slack/server.js';
import { validateMessage, validateView } from '../../../sim/slack/validate-blocks.js';

const s = (n: number) => 'x'.repeat(n);
const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });
const button = (over: Record<string, unknown> = {}) => ({
  type: 'button',
  text: { type: 'plain_text', text: 'Raise limit' },
  action_id: 'raise_limit',
  value: 'shop/api',
  ...over,
});
const actions = (elements: unknown[], over: Record<string, unknown> = {}) => ({ type: 'actions', elements, ...over });

/** One payload per limit, each exactly one step over it. */
const BREACHES: Array<[string, unknown[]]> = [
  ['51 blocks', Array.from({ length: 51 }, () => ({ type: 'divider' }))],
  ['section text 3001', [section(s(3001))]],
  ['11 section fields', [{ type: 'section', fields: Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: 'f' })) }]],
  ['section field 2001', [{ type: 'section', fields: [{ type: 'mrkdwn', text: s(2001) }] }]],
  ['header 151', [{ type: 'header', text: { type: 'plain_text', text: s(151) } }]],
  ['button text 76', [actions([button({ text: { type: 'plain_text', text: s(76) } })])]],
  ['action_id 256', [actions([button({ action_id: s(256) })])]],
  ['button value 2001', [actions([button({ value: s(2001) })])]],
  ['block_id 256', [{ ...section('ok'), block_id: s(256) }]],
  ['duplicate action_id in one block', [actions([button(), button()])]],
  ['26 elements in actions', [actions(Array.from({ length: 26 }, (_, i) => button({ action_id: `a${i}` })))]],
  ['button url 3001', [actions([button({ url: `https://x/${s(2992)}` })])]],
  ['mrkdwn header', [{ type: 'header', text: { type: 'mrkdwn', text: 'no' } }]],
  ['empty section text', [section('')]],
  ['section without text or fields', [{ type: 'section' }]],
  ['unknown block type', [{ type: 'carousel' }]],
  [
    'confirm title 101',
    [
      actions([
        button({
          confirm: {
            title: { type: 'plain_text', text: s(101) },
            text: { type: 'mrkdwn', text: 'sure?' },
            confirm: { type: 'plain_text', text: 'Yes' },
            deny: { type: 'plain_text', text: 'No' },
          },
        }),
      ]),
    ],
  ],
];

/** The same payloads exactly at the limit, which Slack accepts. */
const AT_LIMIT: Array<[string, unknown[]]> = [
  ['50 blocks', Array.from({ length: 50 }, () => ({ type: 'divider' }))],
  ['section text 3000 with 10 fields of 2000', [{ ...section(s(3000)), fields: Array.from({ length: 10 }, () => ({ type: 'mrkdwn', text: s(2000) })) }]],
  ['header 150', [{ type: 'header', text: { type: 'plain_text', text: s(150) } }]],
  ['button at every limit', [actions([button({ text: { type: 'plain_text', text: s(75) }, action_id: s(255), value: s(2000) })], { block_id: s(255) })]],
  ['25 elements', [actions(Array.from({ length: 25 }, (_, i) => button({ action_id: `a${i}` })))]],
  ['the same action_id in two blocks', [actions([button()]), actions([button()])]],
];

describe('validateMessage (pure)', () => {
  it.each(BREACHES)('rejects %s with invalid_blocks', (_name, blocks) => {
    const result = validateMessage({ text: 'fallback', blocks });
    expect(result.error).toBe('invalid_blocks');
    expect(result.messages[0]).toMatch(/^\[ERROR\] .+ \[json-pointer:\/blocks.*\]$/);
  });

  it.each(AT_LIMIT)('accepts %s', (_name, blocks) => {
    expect(validateMessage({ text: 'fallback', blocks })).toEqual({ messages: [] });
  });

  it('answers no_text, msg_too_long and invalid_blocks_format', () => {
    expect(validateMessage({}).error).toBe('no_text');
    expect(validateMessage({ text: '', blocks: [] }).error).toBe('no_text');
    expect(validateMessage({ text: s(40_001) }).error).toBe('msg_too_long');
    expect(validateMessage({ text: s(40_000) }).error).toBeUndefined();
    expect(validateMessage({ text: 'x', blocks: '{not json' }).error).toBe('invalid_blocks_format');
    expect(validateMessage({ blocks: JSON.stringify([section('from a form-encoded call')]) }).error).toBeUndefined();
  });

  it('allows 100 blocks in a modal but not 101, and checks the title', () => {
    const modal = (n: number, title = 'OOM') => ({
      type: 'modal',
      title: { type: 'plain_text', text: title },
      blocks: Array.from({ length: n }, () => ({ type: 'divider' })),
    });
    expect(validateView(modal(100))).toEqual([]);
    expect(validateView(modal(101))).toHaveLength(1);
    expect(validateView(modal(1, s(25)))).toHaveLength(1);
  });
});

describe('chat.postMessage validation over HTTP', () => {
  let slack: SlackServer;
  let client: WebClient;
  beforeAll(async () => {
    slack = await startSlackServer({ rateLimits: { 'chat.postMessage': null } });
    client = new WebClient(slack.token, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 }, logger: silent() });
  });
  afterAll(async () => {
    await slack.close();
  });

  const errorOf = async (p: Promise<unknown>) => {
    const err = await p.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WebAPIPlatformError);
    return (err as WebAPIPlatformError).data;
  };

  it.each(BREACHES)('answers invalid_blocks for %s with Slack-style messages', async (_name, blocks) => {
    const data = await errorOf(client.chat.postMessage({ channel: 'C0ALERTS', text: 'fallback', blocks: blocks as never }));
    expect(data.error).toBe('invalid_blocks');
    expect(data.response_metadata?.messages?.[0]).toMatch(/json-pointer/);
  });

  it('answers no_text and msg_too_long, and stores nothing that was refused', async () => {
    expect((await errorOf(client.chat.postMessage({ channel: 'C0ALERTS' } as never))).error).toBe('no_text');
    expect((await errorOf(client.chat.postMessage({ channel: 'C0ALERTS', text: s(40_001) }))).error).toBe('msg_too_long');
    const { ts } = await client.chat.postMessage({ channel: 'C0ALERTS', text: 'ok' });
    expect((await errorOf(client.chat.update({ channel: 'C0ALERTS', ts: ts!, blocks: [section(s(3001))] as never }))).error).toBe('invalid_blocks');
    expect(slack.messages.map((m) => m.text)).toEqual(['ok']);
  });
});

function silent() {
  const noop = () => undefined;
  return { debug: noop, info: noop, warn: noop, error: noop, setLevel: noop, getLevel: () => 'error' as never, setName: noop };
}
