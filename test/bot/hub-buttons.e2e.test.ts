import { afterEach, describe, expect, it } from 'vitest';
import { ACTION_EXPLAIN, ACTION_RAISE_LIMIT, ACTION_RESIZE, ACTION_SHOW_LOGS, ACTION_SNOOZE } from '../../alert/action-ids.js';
import { IncidentHistory } from '../../stores/incident-history.js';
import { SnoozeStore } from '../../stores/snooze-store.js';
import { startBotHarness, type BotHarness } from './bot-harness.js';

const MiB = 2 ** 20;

function buttons(blocks: unknown): { action_id?: string; value?: string }[] {
  return ((blocks ?? []) as { elements?: { action_id?: string; value?: string }[] }[]).flatMap((b) => b.elements ?? []);
}

const limitOf = (h: BotHarness, cluster: string) =>
  h.hub!.sims[cluster]!.cluster.get('deployments', 'shop', 'api')!.spec.template.spec.containers[0].resources.limits.memory as string;

/** The alert buttons of a hub over two clusters that both run Deployment shop/api: each acts in the alert's own cluster. */
describe('alert buttons at a hub over two clusters', () => {
  let h: BotHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('Raise limit patches only the cluster of the alert, every write carrying the proposal and its claim; Show logs and Snooze stay there too', async () => {
    h = await startBotHarness({ clusters: ['alpha', 'beta'], roles: ['worker', 'bot'] });
    const beta = h.hub!.sims.beta!;
    const alpha = h.hub!.sims.alpha!;
    const pod = beta.cluster
      .list('pods', 'shop')
      .map((p) => p.metadata.name as string)
      .sort()[0]!;
    beta.cluster.setUsage('shop', pod, 'api', 510 * MiB);
    beta.cluster.setLogs('shop', pod, 'api', { previous: 'boot\nbeta heap exhausted\n' });
    beta.cluster.oomKill('shop', pod, 'api', { startedAt: new Date(Date.now() - 3600_000).toISOString() });
    const slack = h.slack;
    await slack.waitFor(() => slack.messagesIn('#alerts').length === 1, 15_000);
    const alert = slack.messagesIn('#alerts')[0]!;
    const raise = buttons(alert.blocks).find((b) => b.action_id === ACTION_RAISE_LIMIT)!;
    const incidentId = buttons(alert.blocks).find((b) => b.action_id === ACTION_EXPLAIN)!.value!;

    const logs = await h.answer(await h.click(ACTION_SHOW_LOGS, incidentId, { messageTs: alert.ts }));
    expect(logs).toContain('beta heap exhausted');

    // Paused, so the running pods keep the old value for the resize below.
    beta.cluster.update('deployments', 'shop', 'api', (d) => {
      d.spec.paused = true;
    });
    const raised = await h.answer(await h.click(ACTION_RAISE_LIMIT, raise.value!, { messageTs: alert.ts }));
    expect(raised).toContain('Done');
    expect(limitOf(h, 'beta')).not.toBe('512Mi');
    expect(limitOf(h, 'alpha')).toBe('512Mi');
    expect(beta.server.requests({ method: 'PATCH' })).toHaveLength(2);
    expect(alpha.server.requests({ method: 'PATCH' })).toHaveLength(0);
    expect(alpha.server.requests({ method: 'POST' })).toHaveLength(0);
    // The audit Event goes to beta too, after the answer.
    await expect.poll(() => h!.hub!.directory.writes.filter((w) => w.method === 'POST').length, { timeout: 5_000 }).toBe(1);
    const writes = h.hub!.directory.writes;
    expect(writes.map((w) => w.cluster)).toEqual(writes.map(() => 'beta'));
    for (const w of writes) {
      expect(w.proposal?.id).toBe(raise.value);
      expect(w.proposal?.claim).toMatch(/^U0APPROVER \S+$/);
    }
    expect(new Set(writes.map((w) => w.proposal?.claim)).size).toBe(1);

    // Resizing the running pods in place: beta's pods, under the resize's own proposal.
    const resize = buttons(JSON.parse(raised.slice(raised.lastIndexOf('\n') + 1))).find((b) => b.action_id === ACTION_RESIZE)!;
    expect(resize.value).toMatch(/^p_/);
    const resized = await h.answer(await h.click(ACTION_RESIZE, resize.value!));
    expect(resized).toContain('Resizing the running pods of Deployment shop/api');
    const resizes = h.hub!.directory.writes.filter((w) => w.path.endsWith('/resize'));
    expect(resizes.length).toBeGreaterThan(0);
    for (const w of resizes) {
      expect(w.cluster).toBe('beta');
      expect(w.proposal?.id).toBe(resize.value);
    }
    expect(alpha.server.requests((r) => r.path.endsWith('/resize'))).toHaveLength(0);

    const snoozed = await h.answer(await h.click(ACTION_SNOOZE, incidentId, { messageTs: alert.ts }));
    expect(snoozed).toContain('snoozed for 24h');
    const snoozes = new SnoozeStore(h.app.redis, h.queueName);
    expect(await snoozes.until(IncidentHistory.workloadKey('beta', 'shop', 'Deployment/api'))).toBeDefined();
    expect(await snoozes.until(IncidentHistory.workloadKey('alpha', 'shop', 'Deployment/api'))).toBeUndefined();
  });

  it("the raised fix is followed in its own cluster: beta's rollout is told, alpha's unchanged limit is never taken for a revert", async () => {
    h = await startBotHarness({ clusters: ['alpha', 'beta'], roles: ['worker', 'bot'], worker: { followIntervalMs: 100 } });
    const beta = h.hub!.sims.beta!;
    const pod = beta.cluster
      .list('pods', 'shop')
      .map((p) => p.metadata.name as string)
      .sort()[0]!;
    beta.cluster.setUsage('shop', pod, 'api', 510 * MiB);
    beta.cluster.oomKill('shop', pod, 'api', { startedAt: new Date(Date.now() - 3600_000).toISOString() });
    const slack = h.slack;
    await slack.waitFor(() => slack.messagesIn('#alerts').length === 1, 15_000);
    const alert = slack.messagesIn('#alerts')[0]!;
    const raise = buttons(alert.blocks).find((b) => b.action_id === ACTION_RAISE_LIMIT)!;
    expect(await h.answer(await h.click(ACTION_RAISE_LIMIT, raise.value!, { messageTs: alert.ts }))).toContain('Done');
    const thread = () =>
      slack
        .threadOf('C0ALERTS', alert.ts)
        .map((m) => m.text ?? '')
        .join('\n');
    await slack.waitFor(() => thread().includes('Rolled out'), 15_000);
    expect(thread()).toMatch(/Rolled out: 2 of 2 pods of Deployment `shop\/api`/);
    expect(thread()).not.toContain('Reverted');
    expect(limitOf(h, 'alpha')).toBe('512Mi');
    expect(h.hub!.directory.calls.alpha).toBe(0);
  });
});
