import { afterEach, describe, expect, it } from 'vitest';
import { IncidentHistory } from '../../stores/incident-history.js';
import { SnoozeStore } from '../../stores/snooze-store.js';
import { startBotHarness, type BotHarness } from './bot-harness.js';

const MiB = 2 ** 20;

/**
 * `/oom` at a hub over two clusters, alpha and beta, that both run Deployment shop/api: a name found in one
 * cluster is answered naming it, a name in both is asked about, and `cluster/namespace/pod` or `--cluster`
 * say which. Over real HTTP: signed slash commands in, the simulated API servers behind.
 */
describe('/oom at a hub over two clusters', () => {
  let h: BotHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  async function hub(): Promise<BotHarness> {
    h = await startBotHarness({ clusters: ['alpha', 'beta'], roles: ['worker', 'bot'] });
    return h;
  }

  it('why: a pod in one cluster is answered naming it; a name in both asks which; beta/ns/pod and --cluster choose', async () => {
    const h = await hub();
    const { alpha, beta } = h.hub!.sims as Record<string, NonNullable<BotHarness['hub']>['sims'][string]>;
    beta!.cluster.createPod({ name: 'checkout-x', namespace: 'shop', memoryLimit: '256Mi' });
    const only = await h.answer(await h.command('why checkout-x'));
    expect(only).toContain('Pod `shop/checkout-x` in cluster `beta` is Running');

    alpha!.cluster.createPod({ name: 'checkout-x', namespace: 'shop', memoryLimit: '128Mi' });
    const both = await h.answer(await h.command('why checkout-x'));
    expect(both).toContain('in 2 clusters');
    expect(both).toContain('`alpha/shop/checkout-x`');
    expect(both).toContain('`beta/shop/checkout-x`');
    expect(both).toContain('/oom why cluster/namespace/pod');

    const inBeta = await h.answer(await h.command('why beta/shop/checkout-x'));
    expect(inBeta).toContain('in cluster `beta`');
    expect(inBeta).toContain('256Mi');
    const inAlpha = await h.answer(await h.command('why checkout-x --cluster alpha'));
    expect(inAlpha).toContain('in cluster `alpha`');
    expect(inAlpha).toContain('128Mi');
    const flagEq = await h.answer(await h.command('why shop/checkout-x --cluster=beta'));
    expect(flagEq).toContain('256Mi');

    const unknown = await h.answer(await h.command('why checkout-x --cluster gamma'));
    expect(unknown).toContain('No cluster named `gamma` is connected (known: `alpha`, `beta`)');
  });

  it('why after a kill: the incident from the right cluster; an away agent is named, not searched', async () => {
    const h = await hub();
    const beta = h.hub!.sims.beta!;
    const pod = beta.cluster
      .list('pods', 'shop')
      .map((p) => p.metadata.name as string)
      .sort()[0]!;
    beta.cluster.setUsage('shop', pod, 'api', 510 * MiB);
    beta.cluster.oomKill('shop', pod, 'api', { startedAt: new Date(Date.now() - 3600_000).toISOString() });
    await h.slack.waitFor(() => h.slack.messagesIn('#alerts').length === 1, 15_000);

    const why = await h.answer(await h.command(`why ${pod}`));
    expect(why).toContain(`Pod \`shop/${pod}\` in cluster \`beta\``);
    expect(why).toContain('OOMKilled');
    expect(why).toContain('Cluster beta');

    h.hub!.directory.setAway('alpha', 3 * 60_000);
    const alphaCalls = h.hub!.directory.calls.alpha;
    const again = await h.answer(await h.command(`why ${pod}`));
    expect(again).toContain(`Pod \`shop/${pod}\` in cluster \`beta\``);
    expect(again).toContain("cluster `alpha`'s agent was last seen 3m ago, not searched");
    expect(h.hub!.directory.calls.alpha).toBe(alphaCalls);

    // history without a cluster: the workload is on record in beta only.
    const history = await h.answer(await h.command('history api'));
    expect(history).toContain('*Incidents of Deployment shop/api* in cluster `beta`');
    expect(history).toContain(pod);
  });

  it('history, snooze and unsnooze take --cluster and cluster/namespace/Kind/name; top asks for a cluster', async () => {
    const h = await hub();
    const snoozes = new SnoozeStore(h.app.redis, h.queueName);
    // Live Deployment shop/api in both clusters, no incident yet: the name is in both.
    const ask = await h.answer(await h.command('history api'));
    expect(ask).toContain('`alpha/shop/Deployment/api`');
    expect(ask).toContain('`beta/shop/Deployment/api`');

    const snoozed = await h.answer(await h.command('snooze api 2h --cluster beta'));
    expect(snoozed).toContain('Deployment shop/api in cluster `beta` are snoozed for 2h');
    expect(snoozed).toContain('/oom unsnooze beta/shop/Deployment/api');
    expect(await snoozes.until(IncidentHistory.workloadKey('beta', 'shop', 'Deployment/api'))).toBeDefined();
    expect(await snoozes.until(IncidentHistory.workloadKey('alpha', 'shop', 'Deployment/api'))).toBeUndefined();

    const history = await h.answer(await h.command('history beta/shop/Deployment/api'));
    expect(history).toContain('in cluster `beta`');
    expect(history).toContain('Alerts snoozed until');
    const alphaHistory = await h.answer(await h.command('history alpha/shop/api'));
    expect(alphaHistory).not.toContain('Alerts snoozed until');

    const on = await h.answer(await h.command('unsnooze beta/shop/Deployment/api'));
    expect(on).toContain('Alerts for Deployment shop/api in cluster `beta` are on again');
    expect(await snoozes.until(IncidentHistory.workloadKey('beta', 'shop', 'Deployment/api'))).toBeUndefined();

    const top = await h.answer(await h.command('top shop'));
    expect(top).toContain('name one, e.g. `/oom top shop --cluster alpha`');
    const topBeta = await h.answer(await h.command('top shop --cluster beta'));
    expect(topBeta).toContain('api');
  });

  it('/oom clusters lists each cluster, how it is reached, its versions, last heartbeat and namespaces; away ones marked', async () => {
    const h = await hub();
    h.hub!.directory.setAway('beta', 3 * 60_000);
    const answer = await h.answer(await h.command('clusters'));
    expect(answer).toContain('*Clusters* (2)');
    expect(answer).toMatch(/• `alpha`: agent 1\.0\.0-test · Kubernetes v1\.35\.0 · last heartbeat \ds ago · all namespaces/);
    expect(answer).toContain('• `beta`: :warning: *away*');
    expect(answer).toContain('last heartbeat 3m ago');
    const help = await h.answer(await h.command('help'));
    expect(help).toContain('/oom clusters');
    expect(help).toContain('--cluster');
  });

  it('a cluster whose agent serves some namespaces is searched in those only, and a namespace outside them is not asked for', async () => {
    const h = await hub();
    const { alpha, beta } = h.hub!.sims;
    h.hub!.directory.setNamespaces('beta', ['shop']);
    beta!.cluster.addNamespace('other');
    beta!.cluster.createPod({ name: 'checkout-x', namespace: 'shop', memoryLimit: '256Mi' });
    const byName = (path: string) =>
      beta!.server.requests((r) => r.method === 'GET' && r.path === path && r.query.fieldSelector === 'metadata.name=checkout-x').length;
    const answer = await h.answer(await h.command('why checkout-x'));
    expect(answer).toContain('Pod `shop/checkout-x` in cluster `beta` is Running');
    expect(byName('/api/v1/namespaces/shop/pods')).toBe(1);
    expect(byName('/api/v1/pods')).toBe(0);
    // alpha serves every namespace: one list across them.
    expect(alpha!.server.requests((r) => r.path === '/api/v1/pods' && r.query.fieldSelector === 'metadata.name=checkout-x')).toHaveLength(1);

    const before = beta!.server.requests((r) => r.path.startsWith('/api/v1/namespaces/other')).length;
    const refused = await h.answer(await h.command('why beta/other/checkout-x'));
    expect(refused).toContain('oombot watches only `shop`');
    expect(beta!.server.requests((r) => r.path.startsWith('/api/v1/namespaces/other'))).toHaveLength(before);
  });

  it('a hub whose agents have not connected yet says so, for a command and for /oom clusters', async () => {
    const h = await hub();
    h.hub!.directory.forget('alpha');
    h.hub!.directory.forget('beta');
    for (const text of ['why checkout-x', 'clusters', 'history api', 'top']) {
      expect(await h.answer(await h.command(text))).toContain('No cluster is connected yet');
    }
  });
});
