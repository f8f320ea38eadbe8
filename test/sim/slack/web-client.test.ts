import { ErrorCode, WebAPIPlatformError, WebClient } from '@slack/web-api';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSlackServer, type SlackServer } from '../../../sim/slack/server.js';

const TOKEN = 'xoxb-test-token';
let slack: SlackServer;
let client: WebClient;

beforeEach(async () => {
  slack = await startSlackServer({
    tokens: [TOKEN],
    channels: [
      { id: 'C0ALERTS', name: 'alerts', member: true },
      { id: 'C0OUTSIDE', name: 'outside', member: false },
      { id: 'G0PRIVATE', name: 'secret', member: false, is_private: true },
    ],
  });
  client = new WebClient(TOKEN, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
});

afterEach(async () => {
  await slack.close();
});

async function platformError(p: Promise<unknown>): Promise<WebAPIPlatformError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(WebAPIPlatformError);
  return err as WebAPIPlatformError;
}

describe('the real WebClient against the simulated Slack', () => {
  it('answers auth.test with the bot identity', async () => {
    const res = await client.auth.test();
    expect(res).toMatchObject({ ok: true, user_id: 'U0OOMBOT', bot_id: 'B0OOMBOT', team_id: 'T0SIMTEAM' });
  });

  it('posts with a channel name, returns the id and a Slack-formatted ts unique per channel', async () => {
    const a = await client.chat.postMessage({ channel: '#alerts', text: 'first' });
    const b = await client.chat.postMessage({ channel: 'C0ALERTS', text: 'second' });
    expect(a.channel).toBe('C0ALERTS');
    expect(a.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(b.ts).not.toBe(a.ts);
    expect(Number(b.ts)).toBeGreaterThan(Number(a.ts));
    expect(a.message).toMatchObject({ type: 'message', text: 'first', bot_id: 'B0OOMBOT', user: 'U0OOMBOT' });
    expect(slack.messagesIn('#alerts').map((m) => m.text)).toEqual(['first', 'second']);
  });

  it('stores blocks (with generated block_ids), metadata and unfurl flags', async () => {
    const res = await client.chat.postMessage({
      channel: 'C0ALERTS',
      text: 'OOMKilled shop/api',
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '*OOMKilled* `shop/api`' } }],
      metadata: { event_type: 'oom_incident', event_payload: { pod_uid: 'abc' } },
      unfurl_links: false,
      unfurl_media: false,
    });
    const stored = slack.message('C0ALERTS', res.ts!);
    expect(stored?.blocks?.[0]).toMatchObject({ type: 'section', block_id: expect.any(String) });
    expect(stored?.metadata).toEqual({ event_type: 'oom_incident', event_payload: { pod_uid: 'abc' } });
    expect(stored).toMatchObject({ unfurl_links: false, unfurl_media: false });
  });

  it('threads replies under a parent', async () => {
    const parent = await client.chat.postMessage({ channel: 'C0ALERTS', text: 'incident' });
    await client.chat.postMessage({ channel: 'C0ALERTS', thread_ts: parent.ts!, text: 'details 1' });
    const r2 = await client.chat.postMessage({ channel: 'C0ALERTS', thread_ts: parent.ts!, text: 'details 2' });
    expect(r2.message).toMatchObject({ thread_ts: parent.ts, parent_user_id: 'U0OOMBOT' });
    expect(slack.messagesIn('C0ALERTS')).toHaveLength(1);
    expect(slack.threadOf('C0ALERTS', parent.ts!).map((m) => m.text)).toEqual(['details 1', 'details 2']);
  });

  it('updates a message and keeps its history; unknown ts is message_not_found', async () => {
    const posted = await client.chat.postMessage({ channel: 'C0ALERTS', text: 'v1' });
    const updated = await client.chat.update({ channel: 'C0ALERTS', ts: posted.ts!, text: 'v2' });
    expect(updated).toMatchObject({ ok: true, channel: 'C0ALERTS', ts: posted.ts, text: 'v2' });
    const stored = slack.message('C0ALERTS', posted.ts!);
    expect(stored?.text).toBe('v2');
    expect(stored?.history.map((h) => h.text)).toEqual(['v1']);

    const err = await platformError(client.chat.update({ channel: 'C0ALERTS', ts: '1700000000.000001', text: 'x' }));
    expect(err.code).toBe(ErrorCode.PlatformError);
    expect(err.data.error).toBe('message_not_found');
  });

  it('deletes messages and posts ephemerals', async () => {
    const posted = await client.chat.postMessage({ channel: 'C0ALERTS', text: 'gone soon' });
    await client.chat.delete({ channel: 'C0ALERTS', ts: posted.ts! });
    expect(slack.messagesIn('C0ALERTS')).toHaveLength(0);
    expect(slack.messagesIn('C0ALERTS', { includeDeleted: true })[0]?.deleted).toBe(true);
    expect((await platformError(client.chat.delete({ channel: 'C0ALERTS', ts: posted.ts! }))).data.error).toBe('message_not_found');

    const eph = await client.chat.postEphemeral({ channel: 'C0ALERTS', user: 'U0ALICE', text: 'only you' });
    expect(eph.message_ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(slack.ephemerals[0]).toMatchObject({ channel: 'C0ALERTS', user: 'U0ALICE', text: 'only you' });
  });

  it('answers invalid_auth for a wrong token and not_authed without one', async () => {
    const wrong = new WebClient('xoxb-wrong', { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
    expect((await platformError(wrong.chat.postMessage({ channel: 'C0ALERTS', text: 'x' }))).data.error).toBe('invalid_auth');
    const none = new WebClient(undefined, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
    expect((await platformError(none.auth.test())).data.error).toBe('not_authed');
    expect(slack.calls.map((c) => c.error)).toEqual(['invalid_auth', 'not_authed']);
  });

  it('answers channel_not_found and not_in_channel, and conversations.join fixes the latter', async () => {
    expect((await platformError(client.chat.postMessage({ channel: '#nope', text: 'x' }))).data.error).toBe('channel_not_found');
    expect((await platformError(client.chat.postMessage({ channel: 'C0OUTSIDE', text: 'x' }))).data.error).toBe('not_in_channel');
    const info = await client.conversations.info({ channel: 'C0OUTSIDE' });
    expect(info.channel).toMatchObject({ id: 'C0OUTSIDE', name: 'outside', is_member: false });
    await client.conversations.join({ channel: 'C0OUTSIDE' });
    await client.chat.postMessage({ channel: 'C0OUTSIDE', text: 'now I can' });
    expect(slack.messagesIn('outside')).toHaveLength(1);
    expect((await platformError(client.conversations.join({ channel: 'G0PRIVATE' }))).data.error).toBe('method_not_supported_for_channel_type');
  });

  it('answers users.info and user_not_found', async () => {
    const res = await client.users.info({ user: 'U0ALICE' });
    expect(res.user).toMatchObject({ id: 'U0ALICE', name: 'alice', tz: 'Europe/Berlin' });
    expect((await platformError(client.users.info({ user: 'U0NOBODY' }))).data.error).toBe('user_not_found');
  });

  it('opens views with a trigger id and refuses an empty or already used one', async () => {
    const view = {
      type: 'modal' as const,
      callback_id: 'set_limit',
      title: { type: 'plain_text' as const, text: 'Set memory limit' },
      blocks: [{ type: 'section' as const, text: { type: 'mrkdwn' as const, text: 'hi' } }],
    };
    const trigger = slack.mintTriggerId();
    const opened = await client.views.open({ trigger_id: trigger, view });
    expect(opened.view).toMatchObject({ id: expect.stringMatching(/^V/), callback_id: 'set_limit' });
    expect((await platformError(client.views.open({ trigger_id: trigger, view }))).data.error).toBe('exchanged_trigger_id');
    expect((await platformError(client.views.open({ trigger_id: '', view }))).data.error).toBe('invalid_arguments');
  });

  it('accepts JSON bodies with a bearer token, like Slack', async () => {
    const res = await fetch(`${slack.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json; charset=utf-8' },
      body: JSON.stringify({ channel: 'C0ALERTS', text: 'json', blocks: [{ type: 'divider' }] }),
    });
    expect(await res.json()).toMatchObject({ ok: true, channel: 'C0ALERTS' });
    expect(slack.messagesIn('C0ALERTS')[0]?.blocks).toHaveLength(1);
  });

  it('exposes what was posted at /_sim/messages', async () => {
    const parent = await client.chat.postMessage({ channel: 'C0ALERTS', text: 'top' });
    await client.chat.postMessage({ channel: 'C0ALERTS', text: 'reply', thread_ts: parent.ts! });
    const res = await fetch(`${slack.url}/_sim/messages?channel=alerts`);
    const body = (await res.json()) as { channels: Array<{ id: string; messages: Array<{ text: string; replies: unknown[] }> }> };
    expect(body.channels).toHaveLength(1);
    expect(body.channels[0]?.messages[0]).toMatchObject({ text: 'top', replies: [{ text: 'reply' }] });
  });

  it('waitFor resolves when a message arrives and times out with context otherwise', async () => {
    const waiting = slack.waitFor(() => slack.messagesIn('alerts').find((m) => m.text === 'late'), 2000);
    setTimeout(() => void client.chat.postMessage({ channel: 'C0ALERTS', text: 'late' }), 50);
    expect((await waiting).text).toBe('late');
    await expect(slack.waitFor(() => false, 50)).rejects.toThrow(/within 50 ms \(last calls: /);
  });
});
