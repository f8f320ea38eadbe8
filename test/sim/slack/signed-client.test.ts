import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { verifySlackRequest } from '@slack/bolt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type blockActionPayload, sendBlockAction, sendSlashCommand, signSlackRequest, slashCommandFields } from '../../../sim/slack/signed-client.js';

describe('signSlackRequest', () => {
  it('matches the example in Slack’s request-signing documentation', () => {
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar' +
      '&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com' +
      '%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    expect(signSlackRequest('8f742231b10e8888abcd99yyyzzz85a5', body, 1531420618)).toBe('v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503');
  });

  it('is accepted by Bolt’s own verifier', () => {
    const ts = Math.floor(Date.now() / 1000);
    const body = 'payload=%7B%7D';
    expect(() =>
      verifySlackRequest({
        signingSecret: 's3cret',
        body,
        headers: { 'x-slack-signature': signSlackRequest('s3cret', body, ts), 'x-slack-request-timestamp': ts },
      }),
    ).not.toThrow();
  });
});

describe('what the client sends', () => {
  let server: Server;
  let url: string;
  const seen: Array<{ headers: IncomingMessage['headers']; body: string }> = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ headers: req.headers, body });
        res.end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('a slash command carries every field Slack sends, form-encoded and signed', async () => {
    await sendSlashCommand(url, 'sec', { text: 'shop/api --since 1h', response_url: 'http://x/respond/1', trigger_id: 't.1.a' });
    const req = seen.at(-1)!;
    expect(req.headers['content-type']).toBe('application/x-www-form-urlencoded');
    const ts = req.headers['x-slack-request-timestamp'] as string;
    expect(req.headers['x-slack-signature']).toBe(signSlackRequest('sec', req.body, ts));
    expect(req.body).toContain('text=shop%2Fapi+--since+1h');
    expect(Object.keys(Object.fromEntries(new URLSearchParams(req.body)))).toEqual([
      'token',
      'team_id',
      'team_domain',
      'channel_id',
      'channel_name',
      'user_id',
      'user_name',
      'command',
      'text',
      'api_app_id',
      'is_enterprise_install',
      'response_url',
      'trigger_id',
    ]);
  });

  it('stale and forged options change only what they say', async () => {
    await sendSlashCommand(url, 'sec', { text: 'a' }, { ageSeconds: 301 });
    const stale = seen.at(-1)!;
    expect(Math.floor(Date.now() / 1000) - Number(stale.headers['x-slack-request-timestamp'])).toBeGreaterThanOrEqual(301);
    expect(stale.headers['x-slack-signature']).toBe(signSlackRequest('sec', stale.body, stale.headers['x-slack-request-timestamp'] as string));
    await sendSlashCommand(url, 'sec', { text: 'a' }, { forgeWithSecret: 'other' });
    const forged = seen.at(-1)!;
    expect(forged.headers['x-slack-signature']).not.toBe(signSlackRequest('sec', forged.body, forged.headers['x-slack-request-timestamp'] as string));
  });

  it('a block action is payload=<json> with the documented block_actions shape', async () => {
    const message = {
      type: 'message',
      ts: '1700000000.000100',
      text: 'OOM',
      blocks: [
        {
          type: 'actions',
          block_id: 'oom_actions',
          elements: [{ type: 'button', action_id: 'raise_limit', text: { type: 'plain_text', text: 'Raise' }, value: 'shop/api' }],
        },
      ],
    };
    await sendBlockAction(url, 'sec', { action_id: 'raise_limit', message_ts: message.ts, message });
    const payload = JSON.parse(new URLSearchParams(seen.at(-1)!.body).get('payload')!) as ReturnType<typeof blockActionPayload>;
    expect(payload).toMatchObject({
      type: 'block_actions',
      user: { id: 'U0ALICE', username: 'alice', name: 'alice', team_id: 'T0SIMTEAM' },
      api_app_id: 'A0OOMBOT',
      container: { type: 'message', message_ts: message.ts, channel_id: 'C0ALERTS', is_ephemeral: false },
      trigger_id: expect.stringMatching(/^\d+\.\d+\.[0-9a-f]+$/),
      team: { id: 'T0SIMTEAM', domain: 'oombot-sim' },
      channel: { id: 'C0ALERTS', name: 'alerts' },
      message,
      response_url: expect.any(String),
      actions: [
        {
          action_id: 'raise_limit',
          block_id: 'oom_actions',
          text: { type: 'plain_text', text: 'Raise' },
          value: 'shop/api',
          type: 'button',
          action_ts: expect.stringMatching(/^\d{10}\.\d{6}$/),
        },
      ],
    });
  });

  it('never defaults to a routable Slack host for response_url', () => {
    expect(new URL(slashCommandFields({}).response_url!).hostname).toBe('hooks.slack.invalid');
  });
});
