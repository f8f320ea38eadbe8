import { afterEach, describe, expect, it } from 'vitest';
import { KEY_PREFIX } from '../../core/queue.js';
import type { SimCluster } from '../../sim/kube/index.js';
import { startBotHarness, type BotHarness } from '../bot/bot-harness.js';

const MiB = 2 ** 20;

const firstPod = (cluster: SimCluster) =>
  cluster
    .list('pods', 'shop')
    .map((p) => p.metadata.name as string)
    .sort()[0]!;

function kill(cluster: SimCluster): string {
  const pod = firstPod(cluster);
  cluster.setUsage('shop', pod, 'api', 510 * MiB);
  cluster.oomKill('shop', pod, 'api', { startedAt: new Date(Date.now() - 3600_000).toISOString() });
  return pod;
}

/**
 * A hub (worker without any kubeconfig) over two simulated clusters that both run Deployment shop/api, each
 * with its own watcher on the same queue: an incident is read in the cluster it names, and only there.
 */
describe('a hub worker over two clusters', () => {
  let h: BotHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('a kill in beta alerts naming beta, reading only beta; each cluster has its own shared cache', async () => {
    h = await startBotHarness({ clusters: ['alpha', 'beta'], roles: ['worker'] });
    const { sims, directory } = h.hub!;
    const pod = kill(sims.beta!.cluster);
    const slack = h.slack;
    await slack.waitFor(() => slack.messagesIn('#alerts').length === 1, 15_000);
    const alert = slack.messagesIn('#alerts')[0]!;
    const json = JSON.stringify(alert.blocks);
    expect(alert.text).toContain(pod);
    expect(json).toContain('Cluster beta');
    expect(json).not.toContain('Cluster alpha');
    expect(directory.calls.beta).toBeGreaterThan(0);
    expect(directory.calls.alpha).toBe(0);

    // The same Deployment killed in alpha is another alert, read in alpha.
    const alphaPod = kill(sims.alpha!.cluster);
    await slack.waitFor(() => slack.messagesIn('#alerts').length === 2, 15_000);
    const second = slack.messagesIn('#alerts').find((m) => m.ts !== alert.ts)!;
    expect(second.text).toContain(alphaPod);
    expect(JSON.stringify(second.blocks)).toContain('Cluster alpha');
    expect(directory.calls.alpha).toBeGreaterThan(0);
    const cached = await h.app.redis.keys(`${KEY_PREFIX}:${h.queueName}:cache:*nodes`);
    expect(cached.sort()).toEqual([`${KEY_PREFIX}:${h.queueName}:cache:alpha/nodes`, `${KEY_PREFIX}:${h.queueName}:cache:beta/nodes`]);
  });

  it("an away agent's kill still alerts, saying the details come from the watcher only", async () => {
    h = await startBotHarness({ clusters: ['alpha', 'beta'], roles: ['worker'] });
    const { sims, directory } = h.hub!;
    directory.setAway('beta', 3 * 60_000);
    const pod = kill(sims.beta!.cluster);
    const slack = h.slack;
    await slack.waitFor(() => slack.messagesIn('#alerts').length === 1, 15_000);
    const alert = slack.messagesIn('#alerts')[0]!;
    expect(alert.text).toContain(pod);
    const json = JSON.stringify(alert.blocks);
    expect(json).toContain("Cluster beta's agent was last seen 3 min ago: details from the watcher only.");
    // The watcher's view still gives the kill: the memory limit it was killed at.
    expect(json).toContain('512Mi');
    expect(directory.calls.alpha).toBe(0);
  });

  it('a kill in a cluster the hub has no way to reach still alerts, saying so', async () => {
    h = await startBotHarness({ clusters: ['alpha', 'beta'], roles: ['worker'] });
    const { sims, directory } = h.hub!;
    const beta = sims.beta!;
    directory.forget('beta');
    const pod = kill(beta.cluster);
    const slack = h.slack;
    await slack.waitFor(() => slack.messagesIn('#alerts').length === 1, 15_000);
    const alert = slack.messagesIn('#alerts')[0]!;
    expect(alert.text).toContain(pod);
    const json = JSON.stringify(alert.blocks);
    expect(json).toContain('No cluster named \\"beta\\" is connected (known: alpha): details from the watcher only.');
    expect(json).toContain('Cluster beta');
    expect(directory.calls.alpha).toBe(0);
  });

  it('reads a cluster whose agent serves some namespaces in those namespaces, never across all', async () => {
    // beta's agent watches shop only (so its watcher keeps no cluster-wide lists); alpha's every namespace.
    h = await startBotHarness({ clusters: ['alpha', 'beta'], roles: ['worker'], clusterEnv: { beta: { WATCH_NAMESPACES: 'shop' } } });
    const { sims, directory } = h.hub!;
    directory.setNamespaces('beta', ['shop']);
    const beta = sims.beta!;
    const slack = h.slack;
    kill(beta.cluster);
    await slack.waitFor(() => slack.messagesIn('#alerts').length === 1, 15_000);
    const reads = (sim: typeof beta, path: string) => sim.server.requests((r) => r.method === 'GET' && r.path === path).length;
    expect(reads(beta, '/api/v1/namespaces/shop/limitranges')).toBe(1);
    expect(reads(beta, '/api/v1/limitranges')).toBe(0);

    // alpha serves every namespace: its LimitRanges come from across them (kept by its watcher), never one namespace's.
    kill(sims.alpha!.cluster);
    await slack.waitFor(() => slack.messagesIn('#alerts').length === 2, 15_000);
    expect(reads(sims.alpha!, '/api/v1/namespaces/shop/limitranges')).toBe(0);
    expect(reads(sims.alpha!, '/api/v1/limitranges')).toBeGreaterThan(0);
  });
});
