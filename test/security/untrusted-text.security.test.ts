/**
 * Text from the cluster is untrusted: logs, termination messages, event reasons and messages,
 * annotations a GitOps tool or a user sets (an Argo CD tracking id, a Helm release name), and even
 * object names from something less strict than the API server can hold
 * `<!channel>`, `<!here>`, `<@U…>`, `<#C…>` or `<url|text>`. The whole product runs here (watcher →
 * worker → Slack, and the bot's buttons and commands), and nothing it sends to Slack may notify,
 * mention or link from that text: not the alert, its update, its thread, nor any answer.
 *
 * Covered elsewhere: log lines in the alert and in Show logs (test/e2e/alert-pipeline.e2e.test.ts,
 * test/bot/alert-buttons.e2e.test.ts), `/oom` arguments (test/bot/oom-command.test.ts,
 * test/fuzz/parse-oom-command.fuzz.test.ts), any model or raw pod (test/handlers/model/limits.test.ts,
 * test/fuzz/pipeline.fuzz.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACTION_EXPLAIN, ACTION_RAISE_LIMIT, ACTION_SHOW_LOGS, ACTION_SNOOZE } from '../../alert/action-ids.js';
import { podRef } from '../../sim/kube/index.js';
import type { SignedResponse } from '../../sim/slack/index.js';
import { APPROVER, startBotHarness, type BotHarness } from '../bot/bot-harness.js';
import { everythingSentToSlack, expectNoActiveMention } from './slack-output.js';

const MiB = 2 ** 20;
const PING = '<!channel> <!here> <!everyone> <!subteam^S0ONCALL> <@U0INJECT> <#C0GENERAL> <https://evil.example/login|reset your password>';

interface Btn {
  action_id?: string;
  value?: string;
}

const buttons = (blocks: unknown): Btn[] => ((blocks ?? []) as { elements?: Btn[] }[]).flatMap((b) => b.elements ?? []);

describe('untrusted text from the cluster never becomes a mention, a broadcast or a link', () => {
  let h: BotHarness;
  const acks: SignedResponse[] = [];
  const answers: string[] = [];
  const ask = async (res: Promise<SignedResponse>) => {
    const r = await res;
    acks.push(r);
    const text = await h.answer(r);
    answers.push(text);
    return text;
  };

  beforeAll(async () => {
    h = await startBotHarness({ roles: ['watcher', 'worker', 'bot'], env: { OOMBOT_GROUP_WINDOW: '10m' } });
  });
  afterAll(async () => {
    await h.close();
  });

  it('through the alert, its repeat update and thread, every button, the change audit and /oom answers', async () => {
    await expect.poll(async () => (await h.app.http.readiness()).ok, { timeout: 10_000 }).toBe(true);
    const c = h.cluster;
    c.createDeployment({
      name: 'web',
      namespace: 'shop',
      replicas: 2,
      memoryRequest: '128Mi',
      memoryLimit: '256Mi',
      annotations: { 'argocd.argoproj.io/tracking-id': `${PING}:apps/Deployment:shop/web`, 'meta.helm.sh/release-name': PING },
      podAnnotations: { 'meta.helm.sh/release-name': PING },
    });
    const pods = c
      .list('pods', 'shop')
      .filter((p) => String(p.metadata.name).startsWith('web-'))
      .map((p) => p.metadata.name as string)
      .sort();
    expect(pods).toHaveLength(2);
    const [first, second] = pods as [string, string];
    const pod = c.get('pods', 'shop', first)!;
    c.recordEvent({
      involved: podRef(pod, { name: 'web' }),
      type: 'Warning',
      reason: 'BackOff',
      message: `Back-off restarting failed container ${PING}`,
      component: 'kubelet',
      host: 'node-a',
    });
    c.recordEvent({ involved: podRef(pod), type: 'Warning', reason: `<!here>Odd`, message: PING, component: 'kubelet', host: 'node-a' });
    c.setUsage('shop', first, 'web', 250 * MiB);
    c.setLogs('shop', first, 'web', { previous: `start\n${PING}\n\`\`\`${PING}\`\`\`\n> ${PING}\nout of memory\n` });
    c.oomKill('shop', first, 'web', { startedAt: new Date(Date.now() - 3600_000).toISOString(), message: `fatal: ${PING}` });

    const slack = h.slack;
    await slack.waitFor(() => slack.messagesIn('#alerts').length === 1, 15_000);
    const alert = slack.messagesIn('#alerts')[0]!;
    const alertJson = JSON.stringify(alert.blocks);
    // The untrusted text did arrive, escaped, so the checks below are not vacuous.
    expect(alertJson).toContain('&lt;!channel&gt;');
    expect(alertJson).toContain('evil.example');

    // A repeat of the same Deployment updates the alert and adds a thread reply.
    c.setLogs('shop', second, 'web', { previous: PING });
    c.oomKill('shop', second, 'web', { message: PING });
    await slack.waitFor(() => slack.threadOf('#alerts', alert.ts).length > 0 && slack.callsTo('chat.update').length > 0, 20_000);

    // Kubernetes would refuse these names; a proxy, a fake API or a future field might not.
    c.createPod({ name: 'evil-<!here>', namespace: 'shop', containers: [{ name: '<@U0INJECT>', memoryLimit: '64Mi' }] });
    c.setLogs('shop', 'evil-<!here>', '<@U0INJECT>', { previous: PING });
    c.oomKill('shop', 'evil-<!here>', '<@U0INJECT>', { message: PING });
    await slack.waitFor(() => slack.messagesIn('#alerts').length === 2, 15_000);
    const odd = slack.messagesIn('#alerts')[1]!;
    expect(JSON.stringify(odd.blocks)).toContain('evil-&lt;!here&gt;');
    const oddId = buttons(odd.blocks).find((b) => b.action_id === ACTION_EXPLAIN)!.value!;
    await ask(h.click(ACTION_SHOW_LOGS, oddId, { messageTs: odd.ts }));
    await ask(h.click(ACTION_EXPLAIN, oddId, { messageTs: odd.ts }));

    const incidentId = buttons(alert.blocks).find((b) => b.action_id === ACTION_EXPLAIN)!.value!;
    const raise = buttons(alert.blocks).find((b) => b.action_id === ACTION_RAISE_LIMIT);
    expect(await ask(h.click(ACTION_SHOW_LOGS, incidentId, { messageTs: alert.ts }))).toContain('&lt;!channel&gt;');
    expect(await ask(h.click(ACTION_EXPLAIN, incidentId, { messageTs: alert.ts }))).toContain('All evidence');
    await ask(h.command(`why shop/${first}`));
    await ask(h.command('history shop/web'));
    await ask(h.command('top shop'));
    expect(raise?.value).toMatch(/^p_/);
    const raised = await ask(h.click(ACTION_RAISE_LIMIT, raise!.value!, { messageTs: alert.ts }));
    expect(raised).toContain('Done');
    expect(raised).toContain('Argo CD');
    await ask(h.click(ACTION_SNOOZE, incidentId, { messageTs: alert.ts }));
    await h.bot.idle();
    await slack.waitFor(() => JSON.stringify(slack.message('C0ALERTS', alert.ts)!.blocks).includes(`<@${APPROVER}>`));

    expect(slack.callsTo('chat.postMessage').length).toBeGreaterThanOrEqual(4); // two alerts, repeat thread, audit thread
    // The only mention anywhere is the approver, written by oombot itself in the audit line.
    expectNoActiveMention(everythingSentToSlack(slack), [APPROVER]);
    for (const r of acks) expectNoActiveMention(r.text, [APPROVER]);
    for (const a of answers) expectNoActiveMention(a, [APPROVER]);
    // Every message Slack now shows, in its latest version.
    expectNoActiveMention(JSON.stringify(slack.messages.map((m) => ({ text: m.text, blocks: m.blocks }))), [APPROVER]);
  });
});
