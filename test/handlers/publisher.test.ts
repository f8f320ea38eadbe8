import { afterEach, describe, expect, it } from 'vitest';
import { connectRedis } from '../../core/queue.js';
import { OombotError } from '../../core/errors.js';
import { AlertGroups, type RepeatFacets } from '../../stores/alert-groups.js';
import { Publisher, type GroupView } from '../../handlers/publisher.js';
import type { AlertTransport, MessageSource, OutgoingMessage } from '../../handlers/transport.js';
import { REDIS_URL, removeQueueData, uniqueQueueName } from '../helpers/redis.js';
import { captureLogger } from '../helpers/silent-logger.js';
import { diagnose } from '../../diagnosis/diagnose.js';
import { buildMessage } from '../../alert/message.js';
import { earlierLines, slackRenderer } from '../../handlers/renderers.js';
import { createEnriched } from '../diagnosis/factories.js';

/** Records what would reach Slack; can be told to fail. */
class RecordingTransport implements AlertTransport {
  readonly kind = 'slack' as const;
  posts: { channel: string; message: OutgoingMessage }[] = [];
  updates: { channel: string; ts: string; message: OutgoingMessage }[] = [];
  failWith: Error | undefined;
  delayMs = 0;
  async post(channel: string, source: MessageSource) {
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
    if (this.failWith) throw this.failWith;
    const message = typeof source === 'function' ? await source() : source;
    this.posts.push({ channel, message });
    return { channel, ts: `1700000000.${String(this.posts.length).padStart(6, '0')}` };
  }
  async update(channel: string, ts: string, source: MessageSource) {
    if (this.failWith) throw this.failWith;
    const message = typeof source === 'function' ? await source() : source;
    this.updates.push({ channel, ts, message });
  }
}

describe('Publisher: one message per workload, repeats coalesced', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0)) await c();
  });

  function setup(opts: { foldRepeats?: number } = {}) {
    const queueName = uniqueQueueName('pub');
    const redis = connectRedis(REDIS_URL);
    const transport = new RecordingTransport();
    const groups = new AlertGroups(redis, queueName, 60_000, 0);
    const publisher = new Publisher({
      groups,
      transport,
      log: captureLogger().log,
      renderUpdate: (_model, view: GroupView) => ({ text: `updated x${view.count}` }),
      renderThread: ({ items, repeats }) => ({ text: [`${repeats} more`, ...items.map((i) => i.note.line)].join('\n') }),
      ...opts,
    });
    cleanups.push(async () => {
      await publisher.stop();
      redis.disconnect();
      await removeQueueData(queueName);
    });
    return { publisher, transport, groups };
  }

  const input = (
    i: number,
    group = 'prod/shop/Deployment/api/container-oom',
    facets: RepeatFacets = { node: 'node-a', container: 'api', cause: 'limit-too-low' },
  ) => ({
    group,
    incidentId: `container-oom-${i}`,
    occurredAt: new Date(1_700_000_000_000 + i * 1000).toISOString(),
    channel: '#alerts',
    render: (view: GroupView) => ({ text: `first x${view.count}` }),
    model: '{}',
    repeatLine: `kill ${i}`,
    facets,
  });

  it('300 kills of one Deployment on one node make one message and one update, no thread reply', async () => {
    const { publisher, transport } = setup();
    const results = await Promise.all(Array.from({ length: 300 }, (_, i) => publisher.publish(input(i))));
    expect(results.filter((r) => r === 'posted')).toHaveLength(1);
    expect(results.filter((r) => r === 'repeat')).toHaveLength(299);
    await publisher.flushOnce();
    expect(transport.posts).toHaveLength(1);
    // Whatever the first message did not show yet, one update shows: all 300.
    expect(transport.updates.length).toBeLessThanOrEqual(1);
    expect(transport.updates.at(-1)?.message.text ?? transport.posts[0]!.message.text).toMatch(/x300$/);
    expect(await publisher.flushOnce()).toBe(0);
  });

  it('300 kills spread over new nodes: one update, and one thread reply listing the repeats that brought a new node', async () => {
    const { publisher, transport } = setup();
    expect(await publisher.publish(input(0))).toBe('posted');
    // 299 repeats; every 10th on a node not seen before (node-1 ... node-29), the rest on node-a.
    const node = (i: number) => (i % 10 === 0 ? `node-${i / 10}` : 'node-a');
    await Promise.all(
      Array.from({ length: 299 }, (_, i) => publisher.publish(input(i + 1, undefined, { node: node(i + 1), container: 'api', cause: 'limit-too-low' }))),
    );
    await publisher.flushOnce();
    const firstPosts = transport.posts.filter((p) => !p.message.threadTs);
    expect(firstPosts).toHaveLength(1);
    // Whatever the first message did not show yet, one update shows: all 300.
    const shown = transport.updates.at(-1)?.message.text ?? firstPosts[0]!.message.text;
    expect(shown).toMatch(/x300$/);
    expect(transport.updates.length).toBeLessThanOrEqual(1);
    // One thread reply: of the newest 200 repeats, the 20 that ran on a new node.
    const replies = transport.posts.filter((p) => p.message.threadTs);
    expect(replies).toHaveLength(1);
    const [head, ...lines] = replies[0]!.message.text.split('\n');
    expect(head).toBe('299 more');
    expect(lines).toEqual(Array.from({ length: 20 }, (_, i) => `kill ${100 + i * 10}`));
    // Those nodes are shown now: the same nodes again bring no reply.
    await publisher.publish(input(400, undefined, { node: 'node-15', container: 'api', cause: 'limit-too-low' }));
    await publisher.flushOnce();
    expect(transport.posts.filter((p) => p.message.threadTs)).toHaveLength(1);
    expect(transport.updates.at(-1)?.message.text).toBe('updated x301');
    expect(await publisher.flushOnce()).toBe(0);
  });

  it('repeats that come while the first message waits for its turn are listed in it, not in a thread reply', async () => {
    const { publisher, transport, groups } = setup({ foldRepeats: 20 });
    transport.delayMs = 300; // Slack's pace: the first post waits while repeats arrive
    const first = publisher.publish({
      ...input(0),
      render: (view: GroupView) => ({ text: [`first x${view.count}`, ...(view.earlier ?? []).map((n) => n.line)].join('\n') }),
    });
    await new Promise((r) => setTimeout(r, 50));
    for (let i = 1; i <= 4; i++) expect(await publisher.publish(input(i))).toBe('repeat');
    expect(await first).toBe('posted');
    transport.delayMs = 0;
    expect(transport.posts).toHaveLength(1);
    expect(transport.posts[0]!.message.text).toBe('first x5\nkill 1\nkill 2\nkill 3\nkill 4');
    await publisher.flushOnce();
    expect(transport.posts).toHaveLength(1); // no thread reply: all four are in the message
    // A later repeat with something new (another container) goes to the thread; the update still lists the earlier ones.
    expect(await publisher.publish(input(5, undefined, { node: 'node-a', container: 'sidecar', cause: 'limit-too-low' }))).toBe('repeat');
    await publisher.flushOnce();
    const replies = transport.posts.filter((p) => p.message.threadTs);
    expect(replies.map((r) => r.message.text)).toEqual(['1 more\nkill 5']);
    // A repeat on the node and container the first message already listed adds to the count only.
    expect(await publisher.publish(input(6, undefined, { node: 'node-a', container: 'sidecar', cause: 'limit-too-low' }))).toBe('repeat');
    await publisher.flushOnce();
    expect(transport.posts.filter((p) => p.message.threadTs)).toHaveLength(1);
    // Kept with the group, so that updates drawn from the stored model list them too.
    const kept = JSON.parse((await groups.get(input(0).group)).earlier ?? '[]') as { line: string }[];
    expect(kept.map((n) => n.line)).toEqual(['kill 1', 'kill 2', 'kill 3', 'kill 4']);
    const update = slackRenderer.update(JSON.stringify(buildMessage(createEnriched(), diagnose(createEnriched()))), { count: 6, earlier: kept as never });
    expect(earlierLines(update.blocks)).toEqual(['• kill 1', '• kill 2', '• kill 3', '• kill 4']);
  });

  it('a retried job does not count or post twice', async () => {
    const { publisher, transport } = setup();
    expect(await publisher.publish(input(1))).toBe('posted');
    expect(await publisher.publish(input(1))).toBe('done');
    expect(await publisher.publish(input(2))).toBe('repeat');
    expect(await publisher.publish(input(2))).toBe('done');
    await publisher.flushOnce();
    expect(transport.posts.filter((p) => !p.message.threadTs)).toHaveLength(1);
    expect(transport.updates.at(-1)?.message.text).toBe('updated x2');
  });

  it('separate workloads get separate messages', async () => {
    const { publisher, transport } = setup();
    await Promise.all(Array.from({ length: 20 }, (_, i) => publisher.publish(input(i, `prod/shop/Deployment/app-${i % 5}/container-oom`))));
    await publisher.flushOnce();
    expect(transport.posts.filter((p) => !p.message.threadTs)).toHaveLength(5);
  });

  it('a job whose post failed retries as the poster; a permanent failure frees the group', async () => {
    const { publisher, transport } = setup();
    transport.failWith = new OombotError('SLACK_UNAVAILABLE', 'HTTP 503', { retryable: true });
    await expect(publisher.publish(input(1))).rejects.toThrow('503');
    transport.failWith = undefined;
    expect(await publisher.publish(input(1))).toBe('posted');

    const other = 'prod/shop/Deployment/worker/container-oom';
    transport.failWith = new OombotError('SLACK_CHANNEL', 'channel_not_found', { retryable: false });
    await expect(publisher.publish(input(10, other))).rejects.toThrow('channel_not_found');
    transport.failWith = undefined;
    // After the operator fixes the channel, the next incident of that workload posts.
    expect(await publisher.publish(input(11, other))).toBe('posted');
  });
});
