import { type WebAPIPlatformError, WebAPIRateLimitedError, WebClient } from '@slack/web-api';
import { afterEach, describe, expect, it } from 'vitest';
import { startSlackServer, type SlackServer } from '../../../sim/slack/index.js';

let slack: SlackServer | undefined;
afterEach(async () => {
  await slack?.close();
  slack = undefined;
});

const quiet = { debug() {}, info() {}, warn() {}, error() {}, setLevel() {}, getLevel: () => 'error' as never, setName() {} };

async function setUp(opts: Parameters<typeof startSlackServer>[0] = {}): Promise<{ s: SlackServer; client: WebClient }> {
  slack = await startSlackServer({
    rateLimits: { 'chat.postMessage': null },
    channels: [
      { id: 'C0ALERTS', name: 'alerts', member: true },
      { id: 'C0OUTSIDE', name: 'outside', member: false },
    ],
    ...opts,
  });
  const client = new WebClient(slack.token, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 }, logger: quiet });
  return { s: slack, client };
}

const incident = (uid: string) => ({ event_type: 'oom_incident', event_payload: { pod_uid: uid } });

describe('conversations.history', () => {
  it('returns top-level messages newest first, with metadata only under include_all_metadata', async () => {
    const { client } = await setUp();
    const a = await client.chat.postMessage({ channel: 'C0ALERTS', text: 'alert a', metadata: incident('a') });
    await client.chat.postMessage({ channel: 'C0ALERTS', text: 'reply', thread_ts: a.ts! });
    await client.chat.postMessage({ channel: 'C0ALERTS', text: 'alert b', metadata: incident('b') });

    const plain = await client.conversations.history({ channel: 'C0ALERTS' });
    expect(plain.messages?.map((m) => m.text)).toEqual(['alert b', 'alert a']);
    expect(plain.messages?.every((m) => m.metadata === undefined)).toBe(true);

    const full = await client.conversations.history({ channel: 'C0ALERTS', include_all_metadata: true, limit: 50 });
    expect(full.messages?.map((m) => m.metadata)).toEqual([incident('b'), incident('a')]);
    expect(full.messages?.[1]).toMatchObject({ ts: a.ts, thread_ts: a.ts, reply_count: 1, reply_users: ['U0OOMBOT'] });
    expect(full.has_more).toBe(false);
    // how a worker finds an alert it may already have posted
    const found = full.messages?.find((m) => (m.metadata?.event_payload as { pod_uid?: string } | undefined)?.pod_uid === 'a');
    expect(found?.ts).toBe(a.ts);
  });

  it('pages with limit, has_more and next_cursor; WebClient.paginate walks every page', async () => {
    const { s, client } = await setUp();
    for (let i = 1; i <= 5; i += 1) await client.chat.postMessage({ channel: 'C0ALERTS', text: `m${i}` });
    const first = await client.conversations.history({ channel: 'C0ALERTS', limit: 2 });
    expect(first.messages?.map((m) => m.text)).toEqual(['m5', 'm4']);
    expect(first.has_more).toBe(true);
    const second = await client.conversations.history({ channel: 'C0ALERTS', limit: 2, cursor: first.response_metadata!.next_cursor! });
    expect(second.messages?.map((m) => m.text)).toEqual(['m3', 'm2']);

    const texts: string[] = [];
    for await (const page of client.paginate('conversations.history', { channel: 'C0ALERTS', limit: 2 })) {
      texts.push(...(page as unknown as { messages: Array<{ text: string }> }).messages.map((m) => m.text));
    }
    expect(texts).toEqual(['m5', 'm4', 'm3', 'm2', 'm1']);

    const [m1, m2, m3] = s.messagesIn('alerts');
    const window = await client.conversations.history({ channel: 'C0ALERTS', oldest: m1!.ts, latest: m3!.ts });
    expect(window.messages?.map((m) => m.text)).toEqual(['m2']);
    const inclusive = await client.conversations.history({ channel: 'C0ALERTS', oldest: m1!.ts, latest: m2!.ts, inclusive: true });
    expect(inclusive.messages?.map((m) => m.text)).toEqual(['m2', 'm1']);
  });

  it('answers channel_not_found, not_in_channel and invalid_cursor', async () => {
    const { client } = await setUp();
    const error = async (p: Promise<unknown>) => ((await p.catch((e: unknown) => e)) as WebAPIPlatformError).data.error;
    expect(await error(client.conversations.history({ channel: 'C0NOPE' }))).toBe('channel_not_found');
    expect(await error(client.conversations.history({ channel: 'C0OUTSIDE' }))).toBe('not_in_channel');
    expect(await error(client.conversations.history({ channel: 'C0ALERTS', cursor: 'bogus!' }))).toBe('invalid_cursor');
  });

  it('conversations.replies returns the parent then its replies', async () => {
    const { client } = await setUp();
    const parent = await client.chat.postMessage({ channel: 'C0ALERTS', text: 'parent', metadata: incident('p') });
    await client.chat.postMessage({ channel: 'C0ALERTS', text: 'r1', thread_ts: parent.ts! });
    await client.chat.postMessage({ channel: 'C0ALERTS', text: 'r2', thread_ts: parent.ts! });
    const res = await client.conversations.replies({ channel: 'C0ALERTS', ts: parent.ts!, include_all_metadata: true });
    expect(res.messages?.map((m) => m.text)).toEqual(['parent', 'r1', 'r2']);
    expect(res.messages?.[0]).toMatchObject({ reply_count: 2, metadata: incident('p') });
    const missing = await client.conversations.replies({ channel: 'C0ALERTS', ts: '1.000000' }).catch((e: unknown) => e);
    expect((missing as WebAPIPlatformError).data.error).toBe('thread_not_found');
  });

  it('nonMarketplaceApp: limit capped at 15 and 1 request per minute', async () => {
    const { client } = await setUp({ nonMarketplaceApp: true });
    for (let i = 0; i < 20; i += 1) await client.chat.postMessage({ channel: 'C0ALERTS', text: `m${i}` });
    const strict = new WebClient(slack!.token, { slackApiUrl: slack!.apiUrl, rejectRateLimitedCalls: true, logger: quiet });
    const page = await strict.conversations.history({ channel: 'C0ALERTS', limit: 200 });
    expect(page.messages).toHaveLength(15);
    expect(page.has_more).toBe(true);
    const err = await strict.conversations.history({ channel: 'C0ALERTS' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WebAPIRateLimitedError);
    expect((err as WebAPIRateLimitedError).retryAfter).toBeGreaterThanOrEqual(59);
  });
});
