import { ErrorCode, WebAPIRateLimitedError, WebClient, WebClientEvent } from '@slack/web-api';
import { afterEach, describe, expect, it } from 'vitest';
import { RateLimiter } from '../../../sim/slack/rate-limiter.js';
import { startSlackServer, type SlackServer } from '../../../sim/slack/server.js';

let slack: SlackServer | undefined;
afterEach(async () => {
  await slack?.close();
  slack = undefined;
});

describe('rate limits', () => {
  it('chat.postMessage allows a short burst per channel, then 429 with whole-second Retry-After', async () => {
    slack = await startSlackServer({
      channels: [
        { id: 'C0A', name: 'a', member: true },
        { id: 'C0B', name: 'b', member: true },
      ],
    });
    const post = (channel: string) =>
      fetch(`${slack!.apiUrl}chat.postMessage`, {
        method: 'POST',
        headers: { authorization: `Bearer ${slack!.token}`, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ channel, text: 'x' }).toString(),
      });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await post('C0A')).status);
    expect(statuses).toEqual([200, 200, 200, 429]); // default burst of 3, then about 1 per second
    const limited = await post('C0A');
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
    expect(await limited.json()).toEqual({ ok: false, error: 'ratelimited' });
    expect((await post('C0B')).status).toBe(200); // another channel has its own bucket
    expect(slack.rateLimitedCount).toBe(2);
    expect(slack.messagesIn('C0A')).toHaveLength(3);
  });

  it('with rejectRateLimitedCalls the WebClient throws WebAPIRateLimitedError carrying retryAfter', async () => {
    slack = await startSlackServer({ rateLimits: { 'chat.postMessage': { burst: 1, retryAfterSeconds: 7 } } });
    const client = new WebClient(slack.token, { slackApiUrl: slack.apiUrl, rejectRateLimitedCalls: true });
    const events: number[] = [];
    client.on(WebClientEvent.RATE_LIMITED, (seconds: number) => events.push(seconds));
    await client.chat.postMessage({ channel: 'C0ALERTS', text: 'one' });
    const err = await client.chat.postMessage({ channel: 'C0ALERTS', text: 'two' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WebAPIRateLimitedError);
    expect((err as WebAPIRateLimitedError).code).toBe(ErrorCode.RateLimitedError);
    expect((err as WebAPIRateLimitedError).code).toBe('slack_webapi_rate_limited_error');
    expect((err as WebAPIRateLimitedError).retryAfter).toBe(7);
    expect(events).toEqual([7]);
    expect(slack.rateLimitedCount).toBe(1);
  });

  it('by default the WebClient waits Retry-After and retries until the post lands', async () => {
    slack = await startSlackServer({ rateLimits: { 'chat.postMessage': { burst: 1, perSecond: 20, retryAfterSeconds: 1 } } });
    // Default rejectRateLimitedCalls (false). p-retry's own backoff (default minTimeout 1 s) comes on top of
    // Retry-After, so it is shortened here to keep the test quick.
    const client = new WebClient(slack.token, {
      slackApiUrl: slack.apiUrl,
      retryConfig: { retries: 3, minTimeout: 10, maxTimeout: 20 },
    });
    await client.chat.postMessage({ channel: 'C0ALERTS', text: 'one' });
    const started = Date.now();
    const second = await client.chat.postMessage({ channel: 'C0ALERTS', text: 'two' });
    expect(second.ok).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(slack.rateLimitedCount).toBe(1);
    expect(slack.callsTo('chat.postMessage').map((c) => c.status)).toEqual([200, 429, 200]);
    expect(slack.messagesIn('C0ALERTS').map((m) => m.text)).toEqual(['one', 'two']);
  });

  it('chat.update is tier 3 (50 per minute) and configurable', async () => {
    slack = await startSlackServer();
    const client = new WebClient(slack.token, { slackApiUrl: slack.apiUrl, rejectRateLimitedCalls: true });
    const { ts } = await client.chat.postMessage({ channel: 'C0ALERTS', text: 'v0' });
    for (let i = 1; i <= 50; i += 1) await client.chat.update({ channel: 'C0ALERTS', ts: ts!, text: `v${i}` });
    const err = await client.chat.update({ channel: 'C0ALERTS', ts: ts!, text: 'v51' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WebAPIRateLimitedError);
    expect((err as WebAPIRateLimitedError).retryAfter).toBeGreaterThanOrEqual(1);

    slack.setRateLimit('chat.update', null);
    await client.chat.update({ channel: 'C0ALERTS', ts: ts!, text: 'unlimited' });
    expect(slack.message('C0ALERTS', ts!)?.history).toHaveLength(51);
  });

  it('refills the bucket over time (stepped clock)', () => {
    let t = 0;
    const limiter = new RateLimiter(() => t);
    expect([1, 2, 3].map(() => limiter.take('chat.postMessage', 'C1'))).toEqual([undefined, undefined, undefined]);
    expect(limiter.take('chat.postMessage', 'C1')).toBe(1);
    t += 1000;
    expect(limiter.take('chat.postMessage', 'C1')).toBeUndefined();
    expect(limiter.take('chat.postMessage', 'C1')).toBe(1);
    expect(limiter.take('users.info', undefined)).toBeUndefined(); // no limit configured
    expect(limiter.limitedCount).toBe(2);
  });
});
