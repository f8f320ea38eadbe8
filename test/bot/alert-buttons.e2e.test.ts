import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ACTION_EXPLAIN, ACTION_RAISE_LIMIT, ACTION_SHOW_LOGS, ACTION_SNOOZE } from '../../alert/action-ids.js';
import { IncidentHistory } from '../../stores/incident-history.js';
import { SnoozeStore } from '../../stores/snooze-store.js';
import { startOombot } from '../../bin/start.js';
import { loadConfig } from '../../core/config.js';
import { loadKubeTarget } from '../../core/kube.js';
import { REDIS_URL, uniqueQueueName } from '../helpers/redis.js';
import { captureLogger } from '../helpers/silent-logger.js';
import { APPROVER, OTHER, startBotHarness, type BotHarness } from './bot-harness.js';

const MiB = 2 ** 20;

interface Btn {
  action_id?: string;
  value?: string;
  confirm?: { text?: { text?: string } };
}

function buttons(blocks: unknown): Btn[] {
  return ((blocks ?? []) as { elements?: Btn[] }[]).flatMap((b) => b.elements ?? []);
}

describe('alert buttons, end to end (watcher → worker → Slack → bot → cluster)', () => {
  let h: BotHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('Raise limit, Show logs, Explain and Snooze work from the alert the worker posted', async () => {
    h = await startBotHarness({ roles: ['watcher', 'worker', 'bot'] });
    await expect.poll(async () => (await h!.app.http.readiness()).ok, { timeout: 10_000 }).toBe(true);
    const pod = h.cluster
      .list('pods', 'shop')
      .map((p) => p.metadata.name as string)
      .sort()[0]!;
    h.cluster.setUsage('shop', pod, 'api', 510 * MiB);
    h.cluster.setLogs('shop', pod, 'api', { previous: 'boot\n<!channel> heap ``` exhausted <@U0ALICE>\nkilled\n' });
    h.cluster.oomKill('shop', pod, 'api', { startedAt: new Date(Date.now() - 3600_000).toISOString() });
    const slack = h.slack;
    await slack.waitFor(() => slack.messagesIn('#alerts').length === 1, 15_000);
    const alert = slack.messagesIn('#alerts')[0]!;
    const raise = buttons(alert.blocks).find((b) => b.action_id === ACTION_RAISE_LIMIT)!;
    expect(raise.confirm?.text?.text).toContain('512Mi → ');
    const incidentId = buttons(alert.blocks).find((b) => b.action_id === ACTION_EXPLAIN)!.value!;

    const logs = await h.answer(await h.click(ACTION_SHOW_LOGS, incidentId, { messageTs: alert.ts }));
    expect(logs).toContain('```');
    expect(logs).toContain('&lt;!channel&gt;');
    expect(logs).not.toContain('<!channel>');
    expect(logs).not.toContain('<@U0ALICE>');

    const explain = await h.answer(await h.click(ACTION_EXPLAIN, incidentId, { messageTs: alert.ts }));
    expect(explain).toContain('All evidence');
    expect(explain).toContain('OOMKilled');

    const raised = await h.answer(await h.click(ACTION_RAISE_LIMIT, raise.value!, { messageTs: alert.ts }));
    expect(raised).toContain('Done');
    expect(h.patches({ dryRun: true })).toHaveLength(1);
    expect(h.patches({ dryRun: false })).toHaveLength(1);
    const limit = h.cluster.get('deployments', 'shop', 'api')!.spec.template.spec.containers[0].resources.limits.memory;
    expect(limit).not.toBe('512Mi');
    await slack.waitFor(() => JSON.stringify(slack.message('C0ALERTS', alert.ts)!.blocks).includes(`<@${APPROVER}>`));

    // Snooze is an action: someone who is not a snoozer is refused and nothing is muted.
    const refused = await h.answer(await h.click(ACTION_SNOOZE, incidentId, { messageTs: alert.ts, user: OTHER }), OTHER);
    expect(refused).toContain('Only the people allowed to mute alerts');
    const snoozes = new SnoozeStore(h.app.redis, h.queueName);
    const key = IncidentHistory.workloadKey('sim', 'shop', 'Deployment/api');
    expect(await snoozes.until(key)).toBeUndefined();

    const snoozed = await h.answer(await h.click(ACTION_SNOOZE, incidentId, { messageTs: alert.ts }));
    expect(snoozed).toContain('snoozed for 24h, until');
    const until = await snoozes.until(key);
    expect(until?.by).toBe(APPROVER);
    // Announced in the alert's thread: who, what, until when.
    const told = await slack.waitFor(() => slack.threadOf('C0ALERTS', alert.ts).find((m) => m.text?.includes(':zzz:')), 5_000);
    expect(told.text).toContain(`<@${APPROVER}> snoozed alerts for Deployment shop/api for 24h, until`);
    expect(told.text).toContain('/oom unsnooze shop/Deployment/api');
  });

  it('the worker tells the proposal and the history where the alert is, so a Raise from /oom why updates that alert', async () => {
    h = await startBotHarness({ roles: ['watcher', 'worker', 'bot'] });
    await expect.poll(async () => (await h!.app.http.readiness()).ok, { timeout: 10_000 }).toBe(true);
    const pod = h.cluster
      .list('pods', 'shop')
      .map((p) => p.metadata.name as string)
      .sort()[0]!;
    h.cluster.setUsage('shop', pod, 'api', 510 * MiB);
    h.cluster.oomKill('shop', pod, 'api', { startedAt: new Date(Date.now() - 3600_000).toISOString() });
    const slack = h.slack;
    await slack.waitFor(() => slack.messagesIn('#alerts').length === 1, 15_000);
    const alert = slack.messagesIn('#alerts')[0]!;
    const onAlert = buttons(alert.blocks).find((b) => b.action_id === ACTION_RAISE_LIMIT)!.value!;
    const incidentId = buttons(alert.blocks).find((b) => b.action_id === ACTION_EXPLAIN)!.value!;
    await expect.poll(async () => (await h!.proposals.get(onAlert))?.ts, { timeout: 5_000 }).toBe(alert.ts);
    expect((await h.proposals.get(onAlert))?.channel).toBe(alert.channel);
    const history = new IncidentHistory(h.app.redis, h.queueName, 7 * 24 * 3600 * 1000);
    await expect.poll(async () => (await history.get(incidentId))?.alert, { timeout: 5_000 }).toMatchObject({ channel: alert.channel, ts: alert.ts });

    // /oom why offers its own proposal, which knows the alert: applying it from the ephemeral answer updates it.
    const why = await h.answer(await h.command(`why shop/${pod}`));
    const fromWhy = buttons(JSON.parse(why.slice(why.lastIndexOf('\n') + 1))).find((b) => b.action_id === ACTION_RAISE_LIMIT)!.value!;
    expect(fromWhy).not.toBe(onAlert);
    expect(await h.proposals.get(fromWhy)).toMatchObject({ channel: alert.channel, ts: alert.ts });
    expect(await h.answer(await h.click(ACTION_RAISE_LIMIT, fromWhy))).toContain('Done');
    await slack.waitFor(() => JSON.stringify(slack.message(alert.channel, alert.ts)!.blocks).includes(`Raised by <@${APPROVER}>`));
    expect(buttons(slack.message(alert.channel, alert.ts)!.blocks).map((b) => b.action_id)).not.toContain(ACTION_RAISE_LIMIT);
    await slack.waitFor(() => slack.threadOf(alert.channel, alert.ts).some((m) => (m.text ?? '').includes('Raised by')));
    // The alert's own button now finds the limit changed: nothing more is patched.
    expect(await h.answer(await h.click(ACTION_RAISE_LIMIT, onAlert, { messageTs: alert.ts }))).toContain('Nothing was changed');
    expect(h.patches({ dryRun: false })).toHaveLength(1);
  });

  it('a repeat kill after a fix updates the alert without hiding who changed what (no Raise button comes back)', async () => {
    h = await startBotHarness({ roles: ['watcher', 'worker', 'bot'] });
    await expect.poll(async () => (await h!.app.http.readiness()).ok, { timeout: 10_000 }).toBe(true);
    const podsNow = () =>
      h!.cluster
        .list('pods', 'shop')
        .map((p) => p.metadata.name as string)
        .sort();
    const first = podsNow()[0]!;
    h.cluster.setUsage('shop', first, 'api', 510 * MiB);
    h.cluster.oomKill('shop', first, 'api', { startedAt: new Date(Date.now() - 3600_000).toISOString() });
    const slack = h.slack;
    const alert = await slack.waitFor(() => slack.messagesIn('#alerts')[0], 15_000);
    const raise = buttons(alert.blocks).find((b) => b.action_id === ACTION_RAISE_LIMIT)!;
    await expect.poll(async () => (await h!.proposals.get(raise.value!))?.group, { timeout: 5_000 }).toBeTruthy();
    expect(await h.answer(await h.click(ACTION_RAISE_LIMIT, raise.value!, { messageTs: alert.ts }))).toContain('Done');
    await slack.waitFor(() => JSON.stringify(slack.message(alert.channel, alert.ts)!.blocks).includes(`Raised by <@${APPROVER}>`));

    // Another pod of the same Deployment dies: the alert's count goes up, the audit and Undo stay.
    const second = podsNow().find((p) => p !== first)!;
    h.cluster.setUsage('shop', second, 'api', 600 * MiB);
    h.cluster.oomKill('shop', second, 'api', { startedAt: new Date(Date.now() - 1800_000).toISOString() });
    await slack.waitFor(() => JSON.stringify(slack.message(alert.channel, alert.ts)!.blocks).includes('Seen 2 times'), 20_000);
    const after = slack.message(alert.channel, alert.ts)!;
    expect(JSON.stringify(after.blocks)).toContain(`Raised by <@${APPROVER}>`);
    const ids = buttons(after.blocks).map((b) => b.action_id);
    expect(ids).not.toContain(ACTION_RAISE_LIMIT);
    expect(ids).toContain('oom_undo');
    expect(slack.messagesIn('#alerts')).toHaveLength(1);
  }, 60_000);

  it('commands and clicks are acknowledged within 3 s while the cluster is slow; the answer follows', async () => {
    h = await startBotHarness();
    h.kube.latencyMs = 3_500;
    const started = Date.now();
    const res = await h.command('snooze api 1h');
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(res.status).toBe(200);
    expect((res.json as { text?: string }).text).toContain('Looking into it');
    expect(await h.answer(res)).toContain('snoozed for 1h');

    const stored = await h.createProposal();
    const t0 = Date.now();
    const click = await h.click(ACTION_RAISE_LIMIT, stored.id);
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(click.status).toBe(200);
    expect(await h.answer(click)).toContain('Done');
  });

  it('the bot role refuses to start without SLACK_SIGNING_SECRET or SLACK_APP_TOKEN', async () => {
    const config = loadConfig({ REDIS_URL, OOMBOT_QUEUE: uniqueQueueName('bot'), PORT: '0' });
    const h2 = await startBotHarness();
    try {
      await expect(
        startOombot({
          config,
          roles: ['bot'],
          log: captureLogger().log,
          kubeTarget: loadKubeTarget({ kubeconfig: h2.kube.writeKubeconfig(join(tmpdir(), `oombot-bot-${Date.now()}.yaml`)), clusterName: 'sim' }),
          host: '127.0.0.1',
        }),
      ).rejects.toThrow(/SLACK_SIGNING_SECRET/);
    } finally {
      await h2.close();
    }
  });
});
