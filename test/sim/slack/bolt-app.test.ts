import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, ExpressReceiver, HTTPReceiver, HTTPReceiverDeferredRequestError, LogLevel } from '@slack/bolt';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSlackServer, type SlackServer } from '../../../sim/slack/server.js';
import { replaySignedRequest, sendBlockAction, sendSlashCommand, sendViewSubmission } from '../../../sim/slack/signed-client.js';

const SECRET = 'test-signing-secret';

/** The listeners under test: a /oom command, a button and a modal, each acking first. */
function registerListeners(app: App): void {
  app.command('/oom', async ({ ack, command, client, respond }) => {
    await ack({ response_type: 'ephemeral', text: `Looking up ${command.text}...` });
    await client.chat.postMessage({
      channel: command.channel_id,
      text: `OOM report for ${command.text}`,
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: `OOM report for \`${command.text}\`` } },
        {
          type: 'actions',
          block_id: 'oom_actions',
          elements: [{ type: 'button', action_id: 'raise_limit', text: { type: 'plain_text', text: 'Raise limit' }, value: command.text }],
        },
      ],
    });
    await respond({ response_type: 'ephemeral', text: 'Posted.' });
  });
  app.action('raise_limit', async ({ ack, body, client, respond }) => {
    await ack();
    if (body.type !== 'block_actions' || !body.channel || !body.message) return;
    const value = body.actions[0]?.type === 'button' ? body.actions[0].value : undefined;
    await client.chat.update({ channel: body.channel.id, ts: body.message.ts, text: `Raising limit for ${value}` });
    await respond({ replace_original: false, text: `Done by <@${body.user.id}>` });
  });
  app.view('set_limit', async ({ ack, view }) => {
    const limit = view.state.values.limit_block?.limit_input?.value;
    if (limit !== '512Mi') await ack({ response_action: 'errors', errors: { limit_block: 'Use a quantity like 512Mi' } });
    else await ack();
  });
}

let slack: SlackServer;

/** A /oom invocation with a working response_url and trigger_id from the simulator. */
const oom = (text: string) => ({ command: '/oom', text, ...slack.interaction({ channel: 'C0ALERTS', user: 'U0ALICE' }) });
let host: Server | undefined;
let app: App | undefined;

beforeEach(async () => {
  slack = await startSlackServer();
});
afterEach(async () => {
  // let listeners that run after ack() finish their respond() before the simulator goes away
  await slack.waitFor(() => slack.responseUrls.every((r) => r.uses.length > 0), 2000).catch(() => undefined);
  await app?.stop().catch(() => undefined);
  if (host) await new Promise<void>((resolve) => host!.close(() => resolve()));
  host = undefined;
  app = undefined;
  await slack.close();
});

/** Mounts Bolt's HTTPReceiver on an existing node:http server that also serves other routes. */
async function mountOnOwnServer(): Promise<string> {
  const receiver = new HTTPReceiver({ signingSecret: SECRET, endpoints: '/slack/events', logLevel: LogLevel.ERROR });
  app = new App({ token: slack.token, receiver, clientOptions: { slackApiUrl: slack.apiUrl }, logLevel: LogLevel.ERROR });
  registerListeners(app);
  host = createServer((req, res) => {
    if (req.url === '/healthz') {
      res.end('ok');
      return;
    }
    try {
      receiver.requestListener(req, res);
    } catch (err) {
      if (!(err instanceof HTTPReceiverDeferredRequestError)) throw err;
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => host!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(host.address() as AddressInfo).port}`;
}

describe('a Bolt app behind HTTPReceiver.requestListener on our own server', () => {
  it('verifies and acks a signed slash command; its client and respond() land in the simulated Slack', async () => {
    const base = await mountOnOwnServer();
    const res = await sendSlashCommand(`${base}/slack/events`, SECRET, oom('shop/api'));
    expect(res.status).toBe(200);
    expect(res.json).toEqual({ response_type: 'ephemeral', text: 'Looking up shop/api...' });

    const posted = await slack.waitFor(() => slack.messagesIn('#alerts')[0]);
    expect(posted.text).toBe('OOM report for shop/api');
    await slack.waitFor(() => slack.ephemerals.find((e) => e.text === 'Posted.'));
    expect(slack.responseUrls[0]?.uses).toHaveLength(1);
    expect(slack.callsTo('auth.test')).toHaveLength(1); // Bolt's token verification, answered by the simulator
    expect(await (await fetch(`${base}/healthz`)).text()).toBe('ok');
    expect((await fetch(`${base}/elsewhere`)).status).toBe(404);
  });

  it('refuses a forged signature, a missing one and a stale timestamp with 401', async () => {
    const base = await mountOnOwnServer();
    const url = `${base}/slack/events`;
    expect((await sendSlashCommand(url, SECRET, { text: 'x' }, { forgeWithSecret: 'not-the-secret' })).status).toBe(401);
    expect((await sendSlashCommand(url, SECRET, { text: 'x' }, { unsigned: true })).status).toBe(401);
    expect((await sendSlashCommand(url, SECRET, { text: 'x' }, { ageSeconds: 5 * 60 + 1 })).status).toBe(401);
    expect((await sendSlashCommand(url, SECRET, oom('x'), { ageSeconds: 4 * 60 })).status).toBe(200);
    await slack.waitFor(() => slack.messagesIn('alerts').length === 1);
  });

  it('accepts a replay of a fresh request (Bolt does not deduplicate within the 5-minute window)', async () => {
    const base = await mountOnOwnServer();
    const first = await sendSlashCommand(`${base}/slack/events`, SECRET, oom('shop/api'));
    const again = await replaySignedRequest(first.request);
    expect([first.status, again.status]).toEqual([200, 200]);
    await slack.waitFor(() => slack.messagesIn('alerts').length === 2);
    await slack.waitFor(() => slack.responseUrls[0]?.uses.length === 2); // same response_url, used twice
  });

  it('handles a block_actions payload built from the posted message', async () => {
    const base = await mountOnOwnServer();
    await sendSlashCommand(`${base}/slack/events`, SECRET, oom('shop/api'));
    const posted = await slack.waitFor(() => slack.messagesIn('alerts')[0]);
    const res = await sendBlockAction(`${base}/slack/events`, SECRET, {
      action_id: 'raise_limit',
      message_ts: posted.ts,
      message: slack.asSlackMessage(posted),
      ...slack.interaction({ channel: 'C0ALERTS', user: 'U0ALICE', messageTs: posted.ts }),
    });
    expect(res.status).toBe(200);
    await slack.waitFor(() => slack.message('alerts', posted.ts)?.text === 'Raising limit for shop/api');
    const reply = await slack.waitFor(() => slack.ephemerals.find((e) => e.text?.startsWith('Done by')));
    expect(reply.text).toBe('Done by <@U0ALICE>');
  });

  it('returns a view_submission ack body (response_action errors) to the sender', async () => {
    const base = await mountOnOwnServer();
    const bad = await sendViewSubmission(`${base}/slack/events`, SECRET, {
      callback_id: 'set_limit',
      values: { limit_block: { limit_input: { type: 'plain_text_input', value: 'lots' } } },
    });
    expect(bad.json).toEqual({ response_action: 'errors', errors: { limit_block: 'Use a quantity like 512Mi' } });
    const good = await sendViewSubmission(`${base}/slack/events`, SECRET, {
      callback_id: 'set_limit',
      values: { limit_block: { limit_input: { type: 'plain_text_input', value: '512Mi' } } },
    });
    expect([good.status, good.text]).toEqual([200, '']);
  });
});

describe('other ways to run Bolt against the simulator', () => {
  it('the default HTTPReceiver on its own port (app.start)', async () => {
    app = new App({ token: slack.token, signingSecret: SECRET, clientOptions: { slackApiUrl: slack.apiUrl }, logLevel: LogLevel.ERROR });
    registerListeners(app);
    const server = (await app.start({ port: 0, host: '127.0.0.1' })) as Server;
    const port = (server.address() as AddressInfo).port;
    const res = await sendSlashCommand(`http://127.0.0.1:${port}/slack/events`, SECRET, oom('shop/web'));
    expect(res.status).toBe(200);
    await slack.waitFor(() => slack.messagesIn('alerts').find((m) => m.text === 'OOM report for shop/web'));
  });

  it('ExpressReceiver.app used as a plain request handler, with processBeforeResponse', async () => {
    const receiver = new ExpressReceiver({ signingSecret: SECRET, processBeforeResponse: true, logLevel: LogLevel.ERROR });
    app = new App({ token: slack.token, receiver, clientOptions: { slackApiUrl: slack.apiUrl }, logLevel: LogLevel.ERROR });
    registerListeners(app);
    host = createServer(receiver.app);
    await new Promise<void>((resolve) => host!.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(host.address() as AddressInfo).port}/slack/events`;
    const res = await sendSlashCommand(url, SECRET, oom('shop/db'));
    expect(res.status).toBe(200);
    // processBeforeResponse: the HTTP answer only comes after the listener finished, so the post is already there
    expect(slack.messagesIn('alerts').map((m) => m.text)).toEqual(['OOM report for shop/db']);
    expect((await sendSlashCommand(url, SECRET, { text: 'x' }, { forgeWithSecret: 'nope' })).status).toBe(401);
  });
});
