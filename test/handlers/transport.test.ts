import { WebClient } from '@slack/web-api';
import { afterEach, describe, expect, it } from 'vitest';
import { startSlackServer, type SlackServer } from '../../sim/slack/index.js';
import { ALERT_EVENT_TYPE, REPEATS_EVENT_TYPE, SlackTransport, type PostOnce } from '../../handlers/transport.js';
import { captureLogger } from '../helpers/silent-logger.js';

/** SlackTransport against the Slack-compatible server: posts that must reach Slack exactly once. */
describe('SlackTransport: posting once', () => {
  let slack: SlackServer | undefined;
  afterEach(async () => {
    await slack?.close();
    slack = undefined;
  });

  async function setup(opts: Parameters<typeof startSlackServer>[0] = {}) {
    slack = await startSlackServer({ rateLimits: { 'chat.postMessage': null }, ...opts });
    const logs = captureLogger();
    const transport = new SlackTransport({ token: slack.token, apiUrl: slack.apiUrl, log: logs.log, postIntervalMs: 1, maxWaitMs: 10_000 });
    const client = new WebClient(slack.token, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
    return { s: slack, transport, client, logs };
  }

  const once = (value: string, retry: boolean, eventType = ALERT_EVENT_TYPE): PostOnce => ({
    eventType,
    key: 'incident_id',
    value,
    sinceMs: Date.now() - 1_000,
    retry,
  });

  it('marks the message with the metadata it will be found by, keeping what the renderer put there', async () => {
    const { s, transport } = await setup();
    await transport.post(
      '#alerts',
      { text: 'alert', metadata: { event_type: ALERT_EVENT_TYPE, event_payload: { incident_id: 'x', kind: 'container-oom' } } },
      0,
      once('container-oom-1', false),
    );
    expect(s.messagesIn('#alerts')[0]?.metadata).toEqual({
      event_type: ALERT_EVENT_TYPE,
      event_payload: { incident_id: 'container-oom-1', kind: 'container-oom' },
    });
    // The normal path reads nothing.
    expect(s.callsTo('conversations.history')).toHaveLength(0);
  });

  it('a retry finds the message an earlier attempt posted (channel given by name) and posts nothing', async () => {
    const { s, transport, client } = await setup();
    // What a worker killed before hearing Slack's answer left behind.
    const earlier = await client.chat.postMessage({
      channel: 'C0ALERTS',
      text: 'alert',
      metadata: { event_type: ALERT_EVENT_TYPE, event_payload: { incident_id: 'container-oom-2' } },
    });
    await client.chat.postMessage({
      channel: 'C0ALERTS',
      text: 'another alert',
      metadata: { event_type: ALERT_EVENT_TYPE, event_payload: { incident_id: 'container-oom-3' } },
    });
    const res = await transport.post('#alerts', { text: 'alert' }, 0, once('container-oom-2', true));
    expect(res).toEqual({ channel: 'C0ALERTS', ts: earlier.ts, found: true });
    expect(s.messagesIn('#alerts')).toHaveLength(2);
    expect(s.callsTo('conversations.list')).toHaveLength(1);
  });

  it('a retry that finds nothing posts; a thread reply is looked for in its thread', async () => {
    const { s, transport } = await setup();
    const parent = await transport.post('C0ALERTS', { text: 'alert' }, 0, once('container-oom-4', true));
    expect(parent.found).toBeUndefined();
    const reply = { text: '3 more incidents', threadTs: parent.ts };
    const first = await transport.post('C0ALERTS', reply, 2, once('batch-1', true, REPEATS_EVENT_TYPE));
    const again = await transport.post('C0ALERTS', reply, 2, once('batch-1', true, REPEATS_EVENT_TYPE));
    expect(again).toEqual({ channel: 'C0ALERTS', ts: first.ts, found: true });
    expect(s.threadOf('C0ALERTS', parent.ts)).toHaveLength(1);
    expect(s.callsTo('conversations.replies').length).toBeGreaterThan(0);
  });

  it('after a 500 it looks before posting again; after a 429 it does not need to', async () => {
    const { s, transport } = await setup();
    s.failNext('chat.postMessage', 1, { status: 500 });
    await transport.post('C0ALERTS', { text: 'alert' }, 0, once('container-oom-5', false));
    expect(s.callsTo('conversations.history')).toHaveLength(1);
    s.failNext('chat.postMessage', 1, { status: 429, retryAfter: 1 });
    await transport.post('C0ALERTS', { text: 'alert' }, 0, once('container-oom-6', false));
    expect(s.callsTo('conversations.history')).toHaveLength(1);
    expect(s.messagesIn('C0ALERTS')).toHaveLength(2);
  });

  it('when Slack does not let it read the channel, it says how to fix that and posts', async () => {
    const { s, transport, logs } = await setup();
    s.failNext('conversations.list', 1, { error: 'missing_scope' });
    await transport.post('#alerts', { text: 'alert' }, 0, once('container-oom-7', true));
    expect(s.messagesIn('#alerts')).toHaveLength(1);
    const warning = logs.lines().find((l) => String(l.msg).includes('cannot check Slack'));
    expect(warning?.hint).toMatch(/channels:history/);
  });
});
