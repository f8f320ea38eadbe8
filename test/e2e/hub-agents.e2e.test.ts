/**
 * Many clusters, one Slack app, end to end with nothing stood in: two simulated clusters (alpha and beta,
 * both running Deployment shop/api), each with its own agent (`oombot start --roles agent`: the watcher
 * and the agent server, with the cluster's kubeconfig), and one hub (`--roles worker,bot`) with no
 * kubeconfig at all, reaching each cluster only through its agent over Redis (BullMQ). Slack is the
 * Slack-compatible server; commands and clicks go in signed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ACTION_EXPLAIN, ACTION_RAISE_LIMIT } from '../../alert/action-ids.js';
import { startBotHarness, type BotHarness } from '../bot/bot-harness.js';

const MiB = 2 ** 20;

const buttons = (blocks: unknown): { action_id?: string; value?: string }[] =>
  ((blocks ?? []) as { elements?: { action_id?: string; value?: string }[] }[]).flatMap((b) => b.elements ?? []);

let h: BotHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function hubWithAgents(): Promise<BotHarness> {
  h = await startBotHarness({ clusters: ['alpha', 'beta'], agents: true, roles: ['worker', 'bot'] });
  const ready = async () =>
    (await h!.app.http.readiness()).ok && (await Promise.all(Object.values(h!.agents!.apps).map((a) => a.http.readiness()))).every((r) => r.ok);
  await expect.poll(ready, { timeout: 20_000 }).toBe(true);
  return h;
}

const sims = (h: BotHarness) => h.agents!.sims as Record<'alpha' | 'beta', NonNullable<BotHarness['agents']>['sims'][string]>;
const limitOf = (h: BotHarness, cluster: 'alpha' | 'beta') =>
  sims(h)[cluster].cluster.get('deployments', 'shop', 'api')!.spec.template.spec.containers[0].resources.limits.memory as string;

function podOf(h: BotHarness, cluster: 'alpha' | 'beta', i = 0): string {
  return sims(h)
    [cluster].cluster.list('pods', 'shop')
    .map((p) => String(p.metadata.name))
    .filter((n) => n.startsWith('api-'))
    .sort()[i]!;
}

function kill(h: BotHarness, cluster: 'alpha' | 'beta', pod: string, container = 'api'): void {
  const c = sims(h)[cluster].cluster;
  c.setUsage('shop', pod, container, 510 * MiB);
  c.setLogs('shop', pod, container, { previous: `boot\n${cluster} heap exhausted\n` });
  c.oomKill('shop', pod, container, { startedAt: new Date(Date.now() - 3600_000).toISOString() });
}

describe('a hub and two agents', () => {
  it('a kill in beta alerts naming beta; Raise limit patches beta only, through its agent', async () => {
    const h = await hubWithAgents();
    const { alpha, beta } = sims(h);
    const pod = podOf(h, 'beta');
    kill(h, 'beta', pod);
    await h.slack.waitFor(() => h.slack.messagesIn('#alerts').length === 1, 20_000);
    const alert = h.slack.messagesIn('#alerts')[0]!;
    expect(JSON.stringify(alert.blocks)).toContain('Cluster beta');
    expect(alert.text).toContain(`shop/${pod}`);
    const incidentId = buttons(alert.blocks).find((b) => b.action_id === ACTION_EXPLAIN)!.value!;
    expect(incidentId).toBeTruthy();
    expect(JSON.stringify(alert.blocks)).toContain('beta heap exhausted');
    // The hub read beta (through beta's agent) for the alert; alpha's API server saw no read of one object,
    // only its own agent's watches and lists.
    expect(beta.server.requests((r) => r.method === 'GET' && r.path === `/api/v1/namespaces/shop/pods/${pod}/log`).length).toBeGreaterThan(0);
    expect(alpha.server.requests((r) => r.method === 'GET' && /\/namespaces\/shop\/[a-z]+\/[^/]+/.test(r.path))).toEqual([]);

    const raise = buttons(alert.blocks).find((b) => b.action_id === ACTION_RAISE_LIMIT);
    expect(raise, 'the alert offers a raise').toBeDefined();
    const raised = await h.answer(await h.click(ACTION_RAISE_LIMIT, raise!.value!, { messageTs: alert.ts }));
    expect(raised).toContain('Done');
    expect(limitOf(h, 'beta')).not.toBe('512Mi');
    expect(limitOf(h, 'alpha')).toBe('512Mi');
    // A dry run and the patch, both in beta; nothing written to alpha.
    expect(beta.server.requests({ method: 'PATCH' }).map((r) => r.query.dryRun ?? 'real')).toEqual(['All', 'real']);
    expect(alpha.server.requests({ method: 'PATCH' })).toHaveLength(0);
    await expect
      .poll(() => beta.server.requests({ method: 'POST' }).filter((r) => r.path === '/api/v1/namespaces/shop/events').length, { timeout: 5_000 })
      .toBe(1);
    expect(alpha.server.requests({ method: 'POST' })).toHaveLength(0);
  });

  it('/oom why finds the pod in its cluster, asks which cluster when the name is in both, and takes beta/ns/pod; /oom clusters lists both agents', async () => {
    const h = await hubWithAgents();
    const { alpha, beta } = sims(h);
    beta.cluster.createPod({ name: 'checkout-x', namespace: 'shop', memoryLimit: '256Mi' });
    expect(await h.answer(await h.command('why checkout-x'))).toContain('Pod `shop/checkout-x` in cluster `beta` is Running');
    alpha.cluster.createPod({ name: 'checkout-x', namespace: 'shop', memoryLimit: '128Mi' });
    const both = await h.answer(await h.command('why checkout-x'));
    expect(both).toContain('`alpha/shop/checkout-x`');
    expect(both).toContain('`beta/shop/checkout-x`');
    const inAlpha = await h.answer(await h.command('why alpha/shop/checkout-x'));
    expect(inAlpha).toContain('in cluster `alpha`');
    expect(inAlpha).toContain('128Mi');
    const clusters = await h.answer(await h.command('clusters'));
    expect(clusters).toContain('*Clusters* (2)');
    expect(clusters).toMatch(/`alpha`: agent \S+ · Kubernetes v1\.\d+/);
    expect(clusters).toMatch(/`beta`: agent \S+ · Kubernetes v1\.\d+/);
  });

  it("beta's agent stopped and started again: a kill while it was down is alerted once it is back, nothing is lost or doubled", async () => {
    const h = await hubWithAgents();
    const { beta } = sims(h);
    beta.cluster.createDeployment({ name: 'batch', namespace: 'shop', replicas: 1, memoryRequest: '256Mi', memoryLimit: '512Mi' });
    const first = podOf(h, 'beta', 0);
    kill(h, 'beta', first);
    await h.slack.waitFor(() => h.slack.messagesIn('#alerts').length === 1, 20_000);

    await h.agents!.stop('beta');
    // While beta's agent is down, nobody watches beta; alpha keeps alerting.
    const whileDown = beta.cluster
      .list('pods', 'shop')
      .map((p) => String(p.metadata.name))
      .find((n) => n.startsWith('batch-'))!;
    kill(h, 'beta', whileDown, 'batch');
    const alphaPod = podOf(h, 'alpha', 0);
    kill(h, 'alpha', alphaPod);
    await h.slack.waitFor(() => h.slack.messagesIn('#alerts').some((m) => m.text?.includes(alphaPod)), 20_000);
    expect(h.slack.messagesIn('#alerts').some((m) => m.text?.includes(whileDown))).toBe(false);

    await h.agents!.start('beta');
    await h.slack.waitFor(() => h.slack.messagesIn('#alerts').some((m) => m.text?.includes(whileDown)), 30_000);
    const alert = h.slack.messagesIn('#alerts').find((m) => m.text?.includes(whileDown))!;
    expect(JSON.stringify(alert.blocks)).toContain('Cluster beta');
    // Anything doubled would have arrived by now: the restarted watcher saw the first kill again, in the pod's status.
    await new Promise((r) => setTimeout(r, 3_000));
    const mentions = (pod: string) => h.slack.messagesIn('#alerts').filter((m) => m.text?.includes(pod)).length;
    expect(mentions(first)).toBe(1);
    expect(mentions(whileDown)).toBe(1);
    expect(mentions(alphaPod)).toBe(1);
    expect(h.slack.messagesIn('#alerts')).toHaveLength(3);
  });
});
