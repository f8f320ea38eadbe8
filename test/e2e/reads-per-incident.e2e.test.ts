import { afterEach, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../../core/config.js';
import { loadKubeTarget } from '../../core/kube.js';
import { sharedCacheKey } from '../../core/cluster-lists.js';
import { startOombot, type Oombot } from '../../bin/start.js';
import { startSlackServer, type SlackServer } from '../../sim/slack/index.js';
import type { RecordedRequest, SimApiServer, SimCluster } from '../../sim/kube/index.js';
import { removeQueueData, REDIS_URL, uniqueQueueName } from '../helpers/redis.js';
import { captureLogger } from '../helpers/silent-logger.js';
import { startSimCluster } from '../helpers/watcher-harness.js';

/** The worker's reads: every GET but the watcher's watches and paged lists (which send `limit`). */
function incidentReads(requests: RecordedRequest[]): string[] {
  // A paged list is the watcher's, but for the worker's cluster-wide LimitRanges and VPAs.
  const workerList = (path: string) => /\/(limitranges|verticalpodautoscalers)$/.test(path);
  return requests.filter((r) => r.method === 'GET' && r.query.watch !== 'true' && (r.query.limit === undefined || workerList(r.path))).map((r) => r.path);
}

/** Reads the simulated API server recorded for one incident, end to end (watcher, worker, Slack). */
describe('Kubernetes reads per incident', () => {
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

  async function start(): Promise<{ cluster: SimCluster; server: SimApiServer; slack: SlackServer }> {
    const sim = await startSimCluster({ replicas: 2 });
    kube = sim.server;
    slack = await startSlackServer();
    queueName = uniqueQueueName('reads');
    sim.cluster.createDeployment({ name: 'web', namespace: 'shop', replicas: 2, memoryRequest: '128Mi', memoryLimit: '256Mi' });
    app = await startOombot({
      config: loadConfig({
        REDIS_URL,
        OOMBOT_QUEUE: queueName,
        SLACK_BOT_TOKEN: 'xoxb-test-token',
        SLACK_API_URL: slack.apiUrl,
        SLACK_CHANNEL: '#alerts',
        PORT: '0',
      }),
      roles: ['watcher', 'worker'],
      log: captureLogger('info').log,
      kubeTarget: loadKubeTarget({ kubeconfig: sim.kubeconfig, clusterName: 'sim' }),
      host: '127.0.0.1',
    });
    await expect.poll(async () => (await app!.http.readiness()).ok, { timeout: 10_000 }).toBe(true);
    return { cluster: sim.cluster, server: sim.server, slack };
  }

  const podsOf = (cluster: SimCluster, prefix: string) =>
    cluster
      .list('pods', 'shop')
      .map((p) => p.metadata.name as string)
      .filter((n) => n.startsWith(`${prefix}-`))
      .sort();

  const completed = async () => (await app!.queue.getJobCounts('completed')).completed;

  it('are at most 3 for the first incident of a workload and at most 1 for a repeat of its posted alert', async () => {
    const { cluster, server, slack } = await start();
    cluster.setUsage('shop', podsOf(cluster, 'web')[0]!, 'web', 250 * 2 ** 20);
    cluster.setLogs('shop', podsOf(cluster, 'web')[0]!, 'web', { previous: 'allocating\nheap exhausted\n' });
    // Nodes, LimitRanges and VPAs come from the watcher's watches (in Redis within a second of its sync),
    // and a usage read that works says metrics.k8s.io exists: even the very first incident of all reads
    // nothing but its own workload, usage and logs.
    await expect
      .poll(async () => app!.redis.exists(...['nodes', 'limitranges', 'vpas'].map((k) => sharedCacheKey(queueName, 'sim', k))), { timeout: 10_000 })
      .toBe(3);
    const beforeAll = server.requests().length;
    cluster.oomKill('shop', podsOf(cluster, 'api')[0]!, 'api');
    await slack.waitFor(() => slack.messagesIn('#alerts').length === 1, 10_000);
    await expect.poll(completed, { timeout: 10_000 }).toBe(1);
    const firstOfAll = incidentReads(server.requests().slice(beforeAll));
    expect(firstOfAll.length, firstOfAll.join('\n')).toBeLessThanOrEqual(3);
    expect(firstOfAll.filter((p) => /\/nodes$|\/limitranges$|\/verticalpodautoscalers$|^\/apis\/metrics\.k8s\.io\/v1beta1$/.test(p))).toEqual([]);
    await sleep(1_200);

    const beforeFirst = server.requests().length;
    cluster.oomKill('shop', podsOf(cluster, 'web')[0]!, 'web');
    await slack.waitFor(() => slack.messagesIn('#alerts').length === 2, 10_000);
    await expect.poll(completed, { timeout: 10_000 }).toBe(2);
    const first = incidentReads(server.requests().slice(beforeFirst));
    expect(first.length, first.join('\n')).toBeLessThanOrEqual(3);
    // Nothing the watcher already had is read again: not the pod, not its events, not the node's pods.
    expect(first.filter((p) => /^\/api\/v1\/namespaces\/[^/]+\/pods\/[^/]+$|\/events$|^\/api\/v1\/pods$/.test(p))).toEqual([]);
    // The alert is as complete as before: the previous logs and the usage were read and shown.
    const firstAlert = JSON.stringify(slack.messagesIn('#alerts')[1]!.blocks);
    expect(firstAlert).toContain('heap exhausted');
    expect(firstAlert).toContain('250');

    const beforeRepeat = server.requests().length;
    cluster.oomKill('shop', podsOf(cluster, 'web')[1]!, 'web');
    await expect.poll(completed, { timeout: 10_000 }).toBe(3);
    const repeat = incidentReads(server.requests().slice(beforeRepeat));
    expect(repeat.length, repeat.join('\n')).toBeLessThanOrEqual(1);
    // Still one message for the workload: the repeat updated it.
    expect(slack.messagesIn('#alerts')).toHaveLength(2);
  });
});
