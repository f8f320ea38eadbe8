/**
 * Pacing, threads and priorities as Slack sees them: the publisher and the Slack transport against the
 * Slack-compatible server (which enforces Slack's rate limits with 429s) and a real Redis.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { connectRedis } from '../../core/queue.js';
import { AlertGroups, type RepeatFacets } from '../../stores/alert-groups.js';
import { Publisher, type GroupView, type PublishInput } from '../../handlers/publisher.js';
import { SlackTransport } from '../../handlers/transport.js';
import { slackRenderer } from '../../handlers/renderers.js';
import { buildMessage } from '../../alert/message.js';
import { diagnose } from '../../diagnosis/diagnose.js';
import { startSlackServer, type SlackServer } from '../../sim/slack/index.js';
import type { RecordedCall } from '../../sim/slack/types.js';
import { REDIS_URL, removeQueueData, uniqueQueueName } from '../helpers/redis.js';
import { captureLogger } from '../helpers/silent-logger.js';
import { createEnriched } from '../diagnosis/factories.js';

const isAlertPost = (c: RecordedCall) => c.method === 'chat.postMessage' && c.ok && !c.args.thread_ts;
const isThreadPost = (c: RecordedCall) => c.method === 'chat.postMessage' && c.ok && Boolean(c.args.thread_ts);

describe('Slack pacing, threads and priorities', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  async function slackServer(opts: Parameters<typeof startSlackServer>[0] = {}): Promise<SlackServer> {
    const slack = await startSlackServer(opts);
    cleanups.push(() => slack.close());
    return slack;
  }

  function transportFor(slack: SlackServer, opts: Partial<ConstructorParameters<typeof SlackTransport>[0]> = {}) {
    return new SlackTransport({ token: slack.token, apiUrl: slack.apiUrl, log: captureLogger().log, maxWaitMs: 30_000, ...opts });
  }

  function publisherFor(transport: SlackTransport) {
    const queueName = uniqueQueueName('pace');
    const redis = connectRedis(REDIS_URL);
    const groups = new AlertGroups(redis, queueName, 60_000, 0);
    const publisher = new Publisher({
      groups,
      transport,
      log: captureLogger().log,
      renderUpdate: (model, view) => slackRenderer.update(model, view),
      renderThread: (news, view) => slackRenderer.thread(news, view),
    });
    cleanups.push(async () => {
      await publisher.stop();
      redis.disconnect();
      await removeQueueData(queueName);
    });
    return publisher;
  }

  const model = buildMessage(createEnriched(), diagnose(createEnriched()));
  const facets: RepeatFacets = { node: 'worker-3', container: 'api', cause: 'limit-too-low', image: 'shop/api:1.4.2' };
  const input = (workload: string, i: number, f: RepeatFacets = facets): PublishInput => ({
    group: `prod/shop/Deployment/${workload}/container-oom`,
    incidentId: `${workload}-kill-${i}`,
    occurredAt: new Date(1_700_000_000_000 + i * 1000).toISOString(),
    channel: '#alerts',
    render: (view: GroupView) => slackRenderer.first({ ...model, incidentId: `${workload}-kill-${i}`, title: `${model.title} [${workload}]` }, view),
    model: JSON.stringify({ ...model, title: `${model.title} [${workload}]` }),
    repeatLine: `kill ${i} of ${workload}`,
    facets: f,
  });

  it('a channel named in the configuration and its id from Slack are one lane: a burst by name then by id gets no 429', { timeout: 20_000 }, async () => {
    const slack = await slackServer();
    const transport = transportFor(slack);
    const posts = [
      ...Array.from({ length: 3 }, (_, i) => transport.post('#alerts', { text: `by name ${i}` })),
      ...Array.from({ length: 3 }, (_, i) => transport.post('C0ALERTS', { text: `by id ${i}` })),
    ];
    await Promise.all(posts);
    expect(slack.messagesIn('C0ALERTS')).toHaveLength(6);
    expect(slack.rateLimitedCount).toBe(0);
    // The name was looked up once, for every later post.
    expect(slack.callsTo('conversations.list')).toHaveLength(1);
  });

  it('without the channel list, the first answer makes the name and the id one lane', { timeout: 20_000 }, async () => {
    const slack = await slackServer();
    slack.failNext('conversations.list', 1, { error: 'missing_scope' });
    const transport = transportFor(slack);
    await transport.post('#alerts', { text: 'first, by name' });
    await Promise.all([
      ...Array.from({ length: 3 }, (_, i) => transport.post('#alerts', { text: `by name ${i}` })),
      ...Array.from({ length: 3 }, (_, i) => transport.post('C0ALERTS', { text: `by id ${i}` })),
    ]);
    expect(slack.messagesIn('C0ALERTS')).toHaveLength(7);
    expect(slack.rateLimitedCount).toBe(0);
  });

  it('a repeat with nothing new updates the alert and posts no thread reply', { timeout: 20_000 }, async () => {
    const slack = await slackServer();
    const publisher = publisherFor(transportFor(slack));
    expect(await publisher.publish(input('api', 1))).toBe('posted');
    for (let i = 2; i <= 4; i++) expect(await publisher.publish(input('api', i))).toBe('repeat');
    await publisher.flushOnce();
    const [alert] = slack.messagesIn('#alerts');
    expect(slack.threadOf('#alerts', alert!.ts)).toHaveLength(0);
    expect(slack.callsTo('chat.update').filter((c) => c.ok)).toHaveLength(1);
    expect(JSON.stringify(alert!.blocks)).toContain('Seen 4 times');
    expect(alert!.text).toMatch(/^\(4×\) .*\[api\]/);
  });

  it('a repeat on a new node, in a new container or with a new cause gets a thread reply saying what is new', { timeout: 20_000 }, async () => {
    const slack = await slackServer();
    const publisher = publisherFor(transportFor(slack));
    await publisher.publish(input('api', 1));
    await publisher.publish(input('api', 2, { ...facets, node: 'worker-7' }));
    await publisher.publish(input('api', 3));
    await publisher.flushOnce();
    const [alert] = slack.messagesIn('#alerts');
    let replies = slack.threadOf('#alerts', alert!.ts);
    expect(replies.map((r) => r.text)).toEqual(['New since the alert: node `worker-7` (2 more incidents, 3 in all):\n• kill 2 of api']);

    await publisher.publish(input('api', 4, { ...facets, container: 'sidecar' }));
    await publisher.publish(input('api', 5, { ...facets, cause: 'leak' }));
    await publisher.publish(input('api', 6, { ...facets, node: 'worker-7' })); // shown already
    await publisher.flushOnce();
    replies = slack.threadOf('#alerts', alert!.ts);
    expect(replies).toHaveLength(2);
    expect(replies[1]!.text).toBe('New since the alert: container `sidecar`, cause `leak` (3 more incidents, 6 in all):\n• kill 4 of api\n• kill 5 of api');
    expect(JSON.stringify(slack.message('#alerts', alert!.ts)!.blocks)).toContain('Seen 6 times');
  });

  it('several updates of one alert waiting for their turn go out as one, with the latest count', { timeout: 20_000 }, async () => {
    const slack = await slackServer();
    // One update every 500 ms: the second flush's update waits while more repeats come.
    const publisher = publisherFor(transportFor(slack, { updateIntervalMs: 500, updateBurst: 1 }));
    await publisher.publish(input('api', 1));
    await publisher.publish(input('other', 1));
    await publisher.publish(input('other', 2));
    await publisher.publish(input('api', 2));
    const flushing = publisher.flushOnce(); // "other" takes the update budget, "api" waits its turn
    for (let i = 3; i <= 8; i++) await publisher.publish(input('api', i));
    await flushing;
    await publisher.flushOnce();
    const updatesOfApi = slack.callsTo('chat.update').filter((c) => c.ok && c.args.ts === slack.messagesIn('#alerts')[0]!.ts);
    expect(updatesOfApi.length).toBeLessThanOrEqual(2);
    expect(JSON.stringify(slack.messagesIn('#alerts')[0]!.blocks)).toContain('Seen 8 times');
  });

  it("a new workload's first alert goes before the updates and thread replies queued for others", { timeout: 30_000 }, async () => {
    const slack = await slackServer({ rateLimits: { 'chat.postMessage': { perSecond: 4, burst: 1 }, 'chat.update': { perSecond: 2, burst: 1 } } });
    const transport = transportFor(slack, { postIntervalMs: 300, postBurst: 1, updateIntervalMs: 600, updateBurst: 1 });
    const publisher = publisherFor(transport);
    const storm = ['a1', 'a2', 'a3', 'a4', 'a5'];
    for (const w of storm) await publisher.publish(input(w, 1));
    // Each storming workload has a repeat on a new node: an update and a thread reply each.
    for (const w of storm) await publisher.publish(input(w, 2, { ...facets, node: `${w}-node` }));
    const flushing = publisher.flushOnce();
    await slack.waitFor(() => transport.pacer.waiting('C0ALERTS') >= 3, 5_000);
    const before = slack.calls.length;
    expect(await publisher.publish(input('unrelated', 1))).toBe('posted');
    await flushing;

    const after = slack.calls.slice(before);
    const newAlert = after.findIndex((c) => isAlertPost(c) && String(c.args.text).includes('[unrelated]'));
    expect(newAlert).toBeGreaterThanOrEqual(0);
    // At most the one thread reply whose turn had come went before it; the other replies and the updates waited.
    expect(after.slice(0, newAlert).filter(isThreadPost).length).toBeLessThanOrEqual(1);
    expect(after.slice(newAlert + 1).filter(isThreadPost).length).toBeGreaterThanOrEqual(3);
    expect(after.slice(newAlert + 1).filter((c) => c.method === 'chat.update' && c.ok).length).toBeGreaterThanOrEqual(2);
    expect(slack.rateLimitedCount).toBe(0);
    for (const w of storm) {
      const alert = slack.messagesIn('#alerts').find((m) => String(m.text).includes(`[${w}]`))!;
      expect(slack.threadOf('#alerts', alert.ts)).toHaveLength(1);
    }
  });

  it('while new alerts wait for the channel, news goes on the alert itself instead of taking their turn', { timeout: 30_000 }, async () => {
    const slack = await slackServer();
    const transport = transportFor(slack, { postIntervalMs: 1_000, postBurst: 1 });
    const publisher = publisherFor(transport);
    await publisher.publish(input('api', 1));
    await publisher.publish(input('api', 2, { ...facets, node: 'worker-7' }));
    // Three other workloads' first alerts now wait for the channel, one a second.
    const others = ['b', 'c', 'd'].map((w) => publisher.publish(input(w, 1)));
    await slack.waitFor(() => transport.alertsWaiting('#alerts') >= 2, 5_000);
    await publisher.flushOnce();
    const alert = slack.messagesIn('#alerts')[0]!;
    expect(slack.threadOf('#alerts', alert.ts)).toHaveLength(0);
    const blocks = JSON.stringify(slack.message('#alerts', alert.ts)!.blocks);
    expect(blocks).toContain('New since this alert');
    expect(blocks).toContain('kill 2 of api (new: node `worker-7`)');
    await Promise.all(others);
    // The channel is free again: the next news goes to the thread, and the alert keeps what it showed.
    await publisher.publish(input('api', 3, { ...facets, node: 'worker-9' }));
    await publisher.flushOnce();
    expect(slack.threadOf('#alerts', alert.ts).map((r) => r.text)).toEqual([
      'New since the alert: node `worker-9` (1 more incident, 3 in all):\n• kill 3 of api',
    ]);
    expect(JSON.stringify(slack.message('#alerts', alert.ts)!.blocks)).toContain('kill 2 of api (new: node `worker-7`)');
    expect(slack.rateLimitedCount).toBe(0);
  });
});
