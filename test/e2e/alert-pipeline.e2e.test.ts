import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.js';
import { loadKubeTarget } from '../../core/kube.js';
import { startOombot, type Oombot } from '../../bin/start.js';
import { earlierLines } from '../../handlers/renderers.js';
import { startSlackServer, type SlackServer } from '../../sim/slack/index.js';
import { ManualClock, type SimApiServer, type SimCluster } from '../../sim/kube/index.js';
import { removeQueueData, REDIS_URL, uniqueQueueName } from '../helpers/redis.js';
import { captureLogger } from '../helpers/silent-logger.js';
import { startSimCluster } from '../helpers/watcher-harness.js';

/** The whole product in one process: simulated cluster → watcher → Redis → worker → Slack-compatible server. */
describe('alert pipeline end to end', () => {
  let app: Oombot | undefined;
  let kube: SimApiServer | undefined;
  let slack: SlackServer | undefined;
  let queueName = '';
  afterEach(async () => {
    await app?.stop();
    await kube?.close();
    await slack?.close();
    await removeQueueData(queueName);
    app = undefined;
  });

  async function start(
    opts: { env?: Record<string, string>; slackOpts?: Parameters<typeof startSlackServer>[0]; clock?: ManualClock } = {},
  ): Promise<{ cluster: SimCluster; slack: SlackServer }> {
    const sim = await startSimCluster({ replicas: 3, clock: opts.clock });
    kube = sim.server;
    slack = await startSlackServer(opts.slackOpts);
    queueName = uniqueQueueName('e2e');
    const config = loadConfig({
      REDIS_URL,
      OOMBOT_QUEUE: queueName,
      SLACK_BOT_TOKEN: 'xoxb-test-token',
      SLACK_API_URL: slack.apiUrl,
      SLACK_CHANNEL: '#alerts',
      PORT: '0',
      ...opts.env,
    });
    app = await startOombot({
      config,
      roles: ['watcher', 'worker'],
      log: captureLogger('info').log,
      kubeTarget: loadKubeTarget({ kubeconfig: sim.kubeconfig, clusterName: 'sim' }),
      host: '127.0.0.1',
    });
    await expect.poll(async () => (await app!.http.readiness()).ok, { timeout: 10_000 }).toBe(true);
    return { cluster: sim.cluster, slack };
  }

  const podsOf = (cluster: SimCluster) =>
    cluster
      .list('pods', 'shop')
      .map((p) => p.metadata.name as string)
      .sort();

  it('an OOM kill reaches Slack as one Block Kit alert with the diagnosis and a Raise limit button', async () => {
    const { cluster, slack } = await start();
    const pod = podsOf(cluster)[0]!;
    cluster.setUsage('shop', pod, 'api', 510 * 2 ** 20);
    cluster.setLogs('shop', pod, 'api', { previous: 'boot\n<!channel> look at me <@U0ALICE>\nheap exhausted\n' });
    cluster.oomKill('shop', pod, 'api', { startedAt: new Date(Date.now() - 3600_000).toISOString() });
    await slack.waitFor(() => slack.messagesIn('#alerts').length === 1, 10_000);
    const [msg] = slack.messagesIn('#alerts');
    const json = JSON.stringify(msg!.blocks);
    expect(msg!.text).toContain(pod);
    expect(json).toContain('512Mi');
    expect(json).toContain('oom_raise_limit');
    // Untrusted log text is escaped: nobody is pinged, nothing is linked.
    expect(json).not.toContain('<!channel>');
    expect(json).not.toContain('<@U0ALICE>');
    expect(json).toContain('&lt;!channel&gt;');
    // The button carries an opaque proposal id, never the change itself.
    const button = (msg!.blocks as { type: string; elements?: { action_id?: string; value?: string }[] }[])
      .flatMap((b) => b.elements ?? [])
      .find((e) => e.action_id === 'oom_raise_limit');
    expect(button?.value).toMatch(/^p_[A-Za-z0-9_-]{22}$/);
  });

  it('a storm of kills of one Deployment is one message whose count keeps up; its thread tells only what is new', async () => {
    // A restarted container cannot be killed twice in one second: step the cluster's clock between rounds.
    const clock = new ManualClock(Date.now() - 5 * 60_000);
    const { cluster, slack } = await start({ env: { OOMBOT_GROUP_WINDOW: '10m' }, clock });
    const pods = podsOf(cluster);
    const nodeOf = (pod: string) => String(cluster.get('pods', 'shop', pod)!.spec.nodeName);
    // The test means something only if the pods run on more than one node.
    expect(new Set(pods.map(nodeOf)).size).toBeGreaterThan(1);
    for (let round = 0; round < 4; round++) {
      clock.advance(30_000);
      for (const pod of pods) cluster.oomKill('shop', pod, 'api', { then: 'running' });
    }
    const total = 12;
    await expect.poll(async () => (await app!.queue.getJobCounts('completed')).completed, { timeout: 20_000 }).toBe(total);
    // Repeats are flushed within a few seconds: one top-level message, its update counts all 12.
    await slack.waitFor(() => {
      const [top] = slack.messagesIn('#alerts');
      return Boolean(top && JSON.stringify(top.blocks).includes(`Seen ${total} times`));
    }, 20_000);
    expect(slack.messagesIn('#alerts')).toHaveLength(1);
    const top = slack.messagesIn('#alerts')[0]!;
    // Each node is told once: on the alert itself (the first pod's node, and the repeats it lists), or in a
    // thread reply for the repeat that first ran on it. Repeats on a node already told are only counted.
    const listed = [
      ...earlierLines(top.blocks),
      ...slack.threadOf('#alerts', top.ts).flatMap((r) => (r.text ?? '').split('\n').filter((l) => l.startsWith('• '))),
    ];
    expect(new Set(listed).size).toBe(listed.length);
    const replies = slack.threadOf('#alerts', top.ts);
    expect(replies.length).toBeLessThanOrEqual(new Set(pods.map(nodeOf)).size - 1);
    for (const reply of replies) expect(reply.text).toMatch(/^New since the alert: node `node-[ab]`/);
    // More kills on the same nodes add to the count and to nothing else.
    const repliesBefore = replies.length;
    clock.advance(30_000);
    for (const pod of pods) cluster.oomKill('shop', pod, 'api', { then: 'running' });
    await slack.waitFor(() => JSON.stringify(slack.message('#alerts', top.ts)?.blocks).includes(`Seen ${total + 3} times`), 20_000);
    expect(slack.threadOf('#alerts', top.ts)).toHaveLength(repliesBefore);
  });

  it('Slack answering 429 and then 500s loses no alert and posts none twice', async () => {
    const { cluster, slack } = await start();
    slack.failNext('chat.postMessage', 2, { status: 429, retryAfter: 1 });
    slack.failNext('chat.postMessage', 2, { status: 500 });
    const pod = podsOf(cluster)[0]!;
    cluster.oomKill('shop', pod, 'api');
    await slack.waitFor(() => slack.messagesIn('#alerts').length === 1, 20_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(slack.messagesIn('#alerts')).toHaveLength(1);
    expect(slack.callsTo('chat.postMessage').filter((c) => c.status === 429).length).toBeGreaterThanOrEqual(1);
  });

  it('a channel the bot is not in fails the job at once with a hint, and nothing is retried in vain', async () => {
    const { cluster, slack } = await start({ env: { SLACK_CHANNEL: '#general' } });
    cluster.oomKill('shop', podsOf(cluster)[0]!, 'api');
    await expect.poll(async () => (await app!.queue.getJobCounts('failed')).failed, { timeout: 10_000 }).toBe(1);
    expect(slack.callsTo('chat.postMessage')).toHaveLength(1);
  });
});
