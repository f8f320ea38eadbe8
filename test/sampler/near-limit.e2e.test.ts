import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, type Role } from '../../core/config.js';
import { loadKubeTarget } from '../../core/kube.js';
import { startOombot, type Oombot } from '../../bin/start.js';
import { startSlackServer, type SlackServer } from '../../sim/slack/index.js';
import type { SimApiServer, SimCluster } from '../../sim/kube/index.js';
import { SnoozeStore } from '../../stores/snooze-store.js';
import { removeQueueData, REDIS_URL, uniqueQueueName } from '../helpers/redis.js';
import { captureLogger } from '../helpers/silent-logger.js';
import { startSimCluster } from '../helpers/watcher-harness.js';

const Mi = 2 ** 20;

/** The sampler and the worker in one process, sampling every second, against the simulated cluster and Slack. */
describe('near-limit warnings', () => {
  let app: Oombot | undefined;
  let kube: SimApiServer | undefined;
  let slack: SlackServer | undefined;
  let queueName = '';
  let logs: ReturnType<typeof captureLogger> | undefined;
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail')
      console.log(
        logs
          ?.lines()
          .map((l) => JSON.stringify(l))
          .join('\n'),
      );
    await app?.stop();
    await kube?.close();
    await slack?.close();
    await removeQueueData(queueName);
    app = undefined;
  });

  async function start(
    env: Record<string, string> = {},
    roles: Role[] = ['worker', 'sampler'],
  ): Promise<{ cluster: SimCluster; slack: SlackServer; api: string; web: string }> {
    const sim = await startSimCluster({ replicas: 1 });
    sim.cluster.createDeployment({ name: 'web', namespace: 'shop', replicas: 1, memoryRequest: '256Mi', memoryLimit: '512Mi' });
    kube = sim.server;
    slack = await startSlackServer();
    queueName = uniqueQueueName('warn');
    const pods = sim.cluster.list('pods', 'shop').map((p) => p.metadata.name as string);
    const api = pods.find((p) => p.startsWith('api-'))!;
    const web = pods.find((p) => p.startsWith('web-'))!;
    // web stays at 60% of its limit; api starts at 85% and climbs 8Mi a second (the limit in about 10 s after 90%).
    sim.cluster.setUsage('shop', web, 'web', Math.round(0.6 * 512 * Mi));
    sim.cluster.setUsageRamp('shop', api, 'api', { fromBytes: 435 * Mi, bytesPerSecond: 8 * Mi });
    const config = loadConfig({
      REDIS_URL,
      OOMBOT_QUEUE: queueName,
      SLACK_BOT_TOKEN: 'xoxb-test-token',
      SLACK_API_URL: slack.apiUrl,
      SLACK_CHANNEL: '#alerts',
      OOMBOT_SAMPLE_INTERVAL: '1s',
      PORT: '0',
      ...env,
    });
    app = await startOombot({
      config,
      roles,
      log: (logs = captureLogger('debug')).log,
      kubeTarget: loadKubeTarget({ kubeconfig: sim.kubeconfig, clusterName: 'sim' }),
      host: '127.0.0.1',
    });
    return { cluster: sim.cluster, slack, api, web };
  }

  const warnings = (s: SlackServer) => s.messagesIn('#alerts').filter((m) => m.text?.includes('Near memory limit'));

  it('warns once for a container climbing past 90%, with the time to the limit, none for one steady at 60%, and resolves when it falls', async () => {
    const { cluster, slack, api } = await start();
    const [warning] = await slack.waitFor(() => (warnings(slack).length > 0 ? warnings(slack) : undefined), 20_000);
    const body = JSON.stringify(warning!.blocks);
    expect(warning!.text).toBe('[WARNING] Near memory limit: shop/Deployment/api');
    expect(body).toContain(`container api in pod ${api} uses`);
    expect(body).toMatch(/of its 512Mi memory limit \(9\d%\) and is rising\. At this rate it reaches the limit in about \d+s/);
    expect(body).toContain('/oom snooze shop/Deployment/api 2h');
    expect((warning!.metadata as { event_type?: string }).event_type).toBe('oombot_near_limit');
    // Falls back: the same message is marked resolved; nothing new is posted.
    cluster.setUsage('shop', api, 'api', 200 * Mi);
    await slack.waitFor(() => slack.message(warning!.channel, warning!.ts)?.text?.startsWith('[RESOLVED]'), 10_000);
    const resolved = slack.message(warning!.channel, warning!.ts)!;
    expect(JSON.stringify(resolved.blocks)).toMatch(/is down to 200Mi of its 512Mi memory limit \(39%\); it peaked at 9\d%/);
    expect(warnings(slack)).toHaveLength(1);
    expect(slack.messagesIn('#alerts').filter((m) => JSON.stringify(m.blocks ?? m.text).includes('web'))).toEqual([]);
  }, 40_000);

  it('never posts a second warning for the workload within the window: climbing again updates the same message', async () => {
    const { cluster, slack, api } = await start();
    const [first] = await slack.waitFor(() => (warnings(slack).length > 0 ? warnings(slack) : undefined), 20_000);
    cluster.setUsage('shop', api, 'api', 200 * Mi);
    await slack.waitFor(() => slack.message(first!.channel, first!.ts)?.text?.startsWith('[RESOLVED]'), 10_000);
    cluster.setUsageRamp('shop', api, 'api', { fromBytes: 470 * Mi, bytesPerSecond: 4 * Mi });
    await slack.waitFor(() => slack.message(first!.channel, first!.ts)?.text?.startsWith('[WARNING]'), 15_000);
    expect(warnings(slack)).toHaveLength(1);
  }, 50_000);

  it('posts nothing for a snoozed workload', async () => {
    const { slack } = await start();
    await new SnoozeStore(app!.redis, queueName).snooze('sim/shop/Deployment/api', 3600_000, 'U0ALICE');
    // Long enough for the climb to pass 90% and be sampled rising several times.
    await new Promise((r) => setTimeout(r, 9_000));
    const msgs = logs!.lines().map((l) => l.msg);
    expect(msgs).toContain('near-limit warning queued');
    expect(msgs).toContain('workload snoozed: near-limit warning not posted');
    expect(warnings(slack)).toEqual([]);
  }, 30_000);

  it('an OOM kill of the workload after its warning shows the warning in the alert', async () => {
    const { cluster, slack, api } = await start({}, ['watcher', 'worker', 'sampler']);
    await slack.waitFor(() => warnings(slack)[0], 20_000);
    cluster.setUsage('shop', api, 'api', 511 * Mi);
    cluster.oomKill('shop', api, 'api', { startedAt: new Date(Date.now() - 600_000).toISOString() });
    const alert = await slack.waitFor(() => slack.messagesIn('#alerts').find((m) => m.text?.includes('OOMKilled')), 15_000);
    expect(JSON.stringify(alert.blocks)).toMatch(/Near-limit warning.*warned at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC, 9\d% of the limit and rising/);
  }, 50_000);
});
