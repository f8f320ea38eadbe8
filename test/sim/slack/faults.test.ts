import { WebAPIHTTPError, type WebAPIPlatformError, WebAPIRequestError, WebClient } from '@slack/web-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSlackServer, type SlackServer } from '../../../sim/slack/server.js';

let slack: SlackServer;
let client: WebClient;

const quiet = { debug() {}, info() {}, warn() {}, error() {}, setLevel() {}, getLevel: () => 'error' as never, setName() {} };

beforeEach(async () => {
  slack = await startSlackServer({ rateLimits: { 'chat.postMessage': null } });
  client = new WebClient(slack.token, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 }, logger: quiet });
});
afterEach(async () => {
  await slack.close();
});

const failure = (p: Promise<unknown>) =>
  p.then(
    () => undefined,
    (e: unknown) => e,
  );

describe('fault injection', () => {
  it('failNext with a Slack error answers it n times, then recovers', async () => {
    slack.failNext('chat.postMessage', 2, { error: 'channel_not_found' });
    for (let i = 0; i < 2; i += 1) {
      const err = await failure(client.chat.postMessage({ channel: 'C0ALERTS', text: 'x' }));
      expect((err as WebAPIPlatformError).data.error).toBe('channel_not_found');
    }
    await client.chat.postMessage({ channel: 'C0ALERTS', text: 'through' });
    expect(slack.callsTo('chat.postMessage').map((c) => c.error ?? 'ok')).toEqual(['channel_not_found', 'channel_not_found', 'ok']);
  });

  it('failNext with an HTTP status surfaces as WebAPIHTTPError, and the default client retries through it', async () => {
    slack.failNext('*', 1, { status: 503 });
    const err = await failure(client.auth.test());
    expect(err).toBeInstanceOf(WebAPIHTTPError);
    expect((err as WebAPIHTTPError).statusCode).toBe(503);

    slack.failNext('chat.postMessage', 2, { status: 500 });
    const retrying = new WebClient(slack.token, {
      slackApiUrl: slack.apiUrl,
      retryConfig: { retries: 3, minTimeout: 5, maxTimeout: 10 },
      logger: quiet,
    });
    await retrying.chat.postMessage({ channel: 'C0ALERTS', text: 'eventually' });
    expect(slack.callsTo('chat.postMessage').map((c) => c.status)).toEqual([500, 500, 200]);
  });

  it('failNext with 429 sends the given Retry-After', async () => {
    slack.failNext('chat.update', 1, { status: 429, retryAfter: 30 });
    const res = await fetch(`${slack.apiUrl}chat.update`, { method: 'POST', headers: { authorization: `Bearer ${slack.token}` } });
    expect([res.status, res.headers.get('retry-after')]).toEqual([429, '30']);
    expect(slack.rateLimitedCount).toBe(1);
  });

  it('latency delays every answer', async () => {
    slack.setLatency(120);
    const started = Date.now();
    await client.auth.test();
    expect(Date.now() - started).toBeGreaterThanOrEqual(110);
  });

  it('setDown refuses connections, then comes back on the same URL', async () => {
    await slack.setDown(true);
    const err = await failure(client.auth.test());
    expect(err).toBeInstanceOf(WebAPIRequestError);
    expect(String((err as WebAPIRequestError).original.cause)).toMatch(/ECONNREFUSED/);
    await slack.setDown(false);
    expect((await client.auth.test()).ok).toBe(true);
  });

  it("setDown(true, '503') answers 503 to everything", async () => {
    await slack.setDown(true, '503');
    const err = await failure(client.auth.test());
    expect((err as WebAPIHTTPError).statusCode).toBe(503);
    await slack.setDown(false);
    expect((await client.auth.test()).ok).toBe(true);
  });

  it('a trigger_id minted by the server expires after 3 s', async () => {
    let clock = 1_700_000_000_000;
    const timed = await startSlackServer({ now: () => clock });
    try {
      const c = new WebClient(timed.token, { slackApiUrl: timed.apiUrl, retryConfig: { retries: 0 }, logger: quiet });
      const trigger = timed.mintTriggerId();
      clock += 3001;
      const view = { type: 'modal' as const, title: { type: 'plain_text' as const, text: 'x' }, blocks: [] };
      const err = await failure(c.views.open({ trigger_id: trigger, view }));
      expect((err as WebAPIPlatformError).data.error).toBe('expired_trigger_id');
    } finally {
      await timed.close();
    }
  });

  it('reset forgets records but keeps configuration', async () => {
    await client.chat.postMessage({ channel: 'C0ALERTS', text: 'x' });
    slack.reset();
    expect([slack.calls.length, slack.messages.length]).toEqual([0, 0]);
    await client.chat.postMessage({ channel: 'C0ALERTS', text: 'y' });
    expect(slack.messagesIn('alerts')).toHaveLength(1);
  });
});
