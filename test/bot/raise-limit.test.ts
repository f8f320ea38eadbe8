import { afterEach, describe, expect, it } from 'vitest';
import { replaySignedRequest } from '../../sim/slack/index.js';
import { makeLimitRange } from '../../sim/kube/index.js';
import { ProposalStore } from '../../core/proposal-store.js';
import { ACTION_RAISE_LIMIT, ACTION_UNDO } from '../../handlers/model/action-ids.js';
import { APPROVER, OTHER, startBotHarness, type BotHarness } from './bot-harness.js';

const DEPLOYMENT = '/apis/apps/v1/namespaces/shop/deployments/api';
const STRATEGIC = 'application/strategic-merge-patch+json';

function liveLimit(h: BotHarness): string | undefined {
  const d = h.cluster.get('deployments', 'shop', 'api');
  return d?.spec.template.spec.containers.find((c: { name: string }) => c.name === 'api')?.resources?.limits?.memory;
}

describe('Raise limit button', () => {
  let h: BotHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('an approver click dry-runs, then patches the Deployment once with a strategic merge patch, and leaves an audit trail', async () => {
    h = await startBotHarness();
    const stored = await h.createProposal();
    const ts = await h.postAlert(stored);
    const res = await h.click(ACTION_RAISE_LIMIT, stored.id, { messageTs: ts });
    expect(res.status).toBe(200);
    const answer = await h.answer(res);
    expect(answer).toContain('Done');
    expect(answer).toContain('512Mi → 640Mi');

    const patches = h.patches();
    expect(patches.map((p) => [p.path, p.contentType, p.dryRun])).toEqual([
      [DEPLOYMENT, STRATEGIC, true],
      [DEPLOYMENT, STRATEGIC, false],
    ]);
    expect(JSON.parse(patches[1]!.body!)).toEqual({ spec: { template: { spec: { containers: [{ name: 'api', resources: { limits: { memory: '640Mi' } } }] } } } });
    expect(liveLimit(h)).toBe('640Mi');

    // Audit: the alert says who and what, with an Undo button instead of Raise; a thread reply; an Event; a log line.
    const alert = await h.slack.waitFor(() => {
      const m = h!.slack.message('C0ALERTS', ts);
      return m && m.history.length > 0 ? m : undefined;
    });
    const blocks = JSON.stringify(alert.blocks);
    expect(blocks).toContain(`<@${APPROVER}>`);
    expect(blocks).toContain('512Mi → 640Mi');
    expect(blocks).toContain(ACTION_UNDO);
    expect(blocks).not.toContain(ACTION_RAISE_LIMIT);
    await h.slack.waitFor(() => h!.slack.threadOf('C0ALERTS', ts).length === 1);
    expect(h.slack.threadOf('C0ALERTS', ts)[0]!.text).toContain('640Mi');
    await expect.poll(() => h!.cluster.list('events', 'shop').filter((e) => e.reason === 'OombotLimitRaised').length).toBe(1);
    const event = h.cluster.list('events', 'shop').find((e) => e.reason === 'OombotLimitRaised')!;
    expect(event.involvedObject).toMatchObject({ kind: 'Deployment', name: 'api', namespace: 'shop', apiVersion: 'apps/v1' });
    expect(event.message).toContain('512Mi -> 640Mi');
    expect(h.logs.lines().some((l) => l.msg === 'memory raised from Slack' && l.user === APPROVER)).toBe(true);
  });

  it('a double click and a replayed payload patch once', async () => {
    h = await startBotHarness();
    const stored = await h.createProposal();
    const ts = await h.postAlert(stored);
    const [a, b] = await Promise.all([h.click(ACTION_RAISE_LIMIT, stored.id, { messageTs: ts }), h.click(ACTION_RAISE_LIMIT, stored.id, { messageTs: ts })]);
    const answers = await Promise.all([h.answer(a), h.answer(b)]);
    expect(answers.filter((t) => t.includes('Done'))).toHaveLength(1);
    expect(answers.filter((t) => t.includes('at most once'))).toHaveLength(1);
    const replay = await replaySignedRequest(a.request);
    expect(replay.status).toBe(200);
    await h.bot.idle();
    expect(h.patches({ dryRun: false })).toHaveLength(1);
  });

  it('a non-approver is refused, and nothing is patched', async () => {
    h = await startBotHarness();
    const stored = await h.createProposal();
    const res = await h.click(ACTION_RAISE_LIMIT, stored.id, { user: OTHER });
    const answer = await h.answer(res, OTHER);
    expect(answer).toContain('Only approvers');
    expect(h.patches()).toHaveLength(0);
    expect(h.logs.lines().some((l) => l.msg === 'change refused: user is not an approver' && l.user === OTHER)).toBe(true);
    // The refusal did not use up the proposal: an approver can still apply it.
    expect(await h.answer(await h.click(ACTION_RAISE_LIMIT, stored.id))).toContain('Done');
  });

  it('without approvers nobody can apply, and the answer says to set OOMBOT_APPROVERS', async () => {
    h = await startBotHarness({ env: { OOMBOT_APPROVERS: '' } });
    const stored = await h.createProposal();
    const answer = await h.answer(await h.click(ACTION_RAISE_LIMIT, stored.id));
    expect(answer).toContain('OOMBOT_APPROVERS');
    expect(h.patches()).toHaveLength(0);
  });

  it('a tampered, unknown or expired proposal id is refused', async () => {
    h = await startBotHarness();
    const tampered = await h.answer(await h.click(ACTION_RAISE_LIMIT, '{"toLimit":"64Gi"}'));
    expect(tampered).toContain('not carry a valid proposal');
    const unknown = await h.answer(await h.click(ACTION_RAISE_LIMIT, 'p_AAAAAAAAAAAAAAAAAAAAAA'));
    expect(unknown).toContain('expired');
    const shortLived = new ProposalStore(h.app.redis, h.queueName, 50);
    const stored = await shortLived.create({ incidentId: 'inc-x', cluster: 'sim', proposal: (await h.createProposal()).proposal });
    await new Promise((r) => setTimeout(r, 120));
    const expired = await h.answer(await h.click(ACTION_RAISE_LIMIT, stored.id));
    expect(expired).toContain('expired');
    expect(h.patches()).toHaveLength(0);
  });

  it('a limit changed since the proposal is a conflict: nothing is patched and a fresh proposal is offered', async () => {
    h = await startBotHarness();
    const stored = await h.createProposal();
    h.cluster.update('deployments', 'shop', 'api', (d) => {
      d.spec.template.spec.containers[0].resources.limits.memory = '576Mi';
    });
    const answer = await h.answer(await h.click(ACTION_RAISE_LIMIT, stored.id));
    expect(answer).toContain('now `576Mi`, not `512Mi`');
    expect(answer).toContain('Fresh proposal');
    expect(answer).toContain(ACTION_RAISE_LIMIT);
    expect(h.patches()).toHaveLength(0);
    // The fresh proposal applies from the live value.
    const freshId = /"value":"(p_[A-Za-z0-9_-]{22})"/.exec(answer)![1]!;
    expect(await h.answer(await h.click(ACTION_RAISE_LIMIT, freshId))).toContain('576Mi → 640Mi');
    expect(liveLimit(h)).toBe('640Mi');
  });

  it('a dry run refused by the LimitRange shows the admission message and patches nothing', async () => {
    h = await startBotHarness();
    h.cluster.create('limitranges', makeLimitRange({ namespace: 'shop', max: { memory: '600Mi' } }));
    const stored = await h.createProposal();
    const answer = await h.answer(await h.click(ACTION_RAISE_LIMIT, stored.id));
    expect(answer).toContain('LimitRange');
    expect(answer).toContain('maximum memory usage per Container is 600Mi');
    expect(h.patches({ dryRun: true })).toHaveLength(1);
    expect(h.patches({ dryRun: false })).toHaveLength(0);
    expect(liveLimit(h)).toBe('512Mi');
  });

  it('Undo restores the previous limit under the same rules', async () => {
    h = await startBotHarness();
    const stored = await h.createProposal();
    const ts = await h.postAlert(stored);
    await h.answer(await h.click(ACTION_RAISE_LIMIT, stored.id, { messageTs: ts }));
    await h.bot.idle();
    const updated = JSON.stringify(h.slack.message('C0ALERTS', ts)!.blocks);
    const undoId = new RegExp(`"action_id":"${ACTION_UNDO}"[^}]*?"value":"(p_[A-Za-z0-9_-]{22})"|"value":"(p_[A-Za-z0-9_-]{22})"[^}]*?"action_id":"${ACTION_UNDO}"`).exec(updated);
    const id = undoId?.[1] ?? undoId?.[2];
    expect(id).toBeDefined();
    expect(await h.answer(await h.click(ACTION_UNDO, id!, { user: OTHER }), OTHER)).toContain('Only approvers');
    expect(await h.answer(await h.click(ACTION_UNDO, id!, { messageTs: ts }))).toContain('Undone');
    expect(liveLimit(h)).toBe('512Mi');
    await expect.poll(() => h!.cluster.list('events', 'shop').filter((e) => e.reason === 'OombotLimitRestored').length).toBe(1);
  });

  it('a workload managed by Argo CD is patched with a warning and the YAML to commit', async () => {
    h = await startBotHarness();
    const stored = await h.createProposal({ managedBy: { tool: 'argocd', name: 'shop' }, revertWarning: 'reverted' });
    const answer = await h.answer(await h.click(ACTION_RAISE_LIMIT, stored.id));
    expect(answer).toContain('Argo CD');
    expect(answer).toContain('revert');
    expect(answer).toMatch(/containers:\\n\s+- name: api\\n\s+resources:\\n\s+limits:\\n\s+memory: 640Mi/);
  });

  it('a CronJob is patched in its job template', async () => {
    h = await startBotHarness();
    h.cluster.createCronJob({ name: 'report', namespace: 'shop', memoryRequest: '128Mi', memoryLimit: '256Mi' });
    const stored = await h.createProposal({ owner: { kind: 'CronJob', name: 'report', namespace: 'shop' }, container: 'report', fromLimit: '256Mi', toLimit: '384Mi', fromLimitBytes: 256 * 2 ** 20, toLimitBytes: 384 * 2 ** 20, fromRequest: '128Mi' });
    expect(await h.answer(await h.click(ACTION_RAISE_LIMIT, stored.id))).toContain('Done');
    const real = h.patches({ dryRun: false });
    expect(real).toHaveLength(1);
    expect(real[0]!.path).toBe('/apis/batch/v1/namespaces/shop/cronjobs/report');
    expect(JSON.parse(real[0]!.body!)).toEqual({ spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: 'report', resources: { limits: { memory: '384Mi' } } }] } } } } } });
    expect(h.cluster.get('cronjobs', 'shop', 'report')!.spec.jobTemplate.spec.template.spec.containers[0].resources.limits.memory).toBe('384Mi');
  });

  it('an unreachable API server changes nothing and offers Try again, which then works', async () => {
    h = await startBotHarness();
    const stored = await h.createProposal();
    await h.kube.setUnreachable(true);
    const answer = await h.answer(await h.click(ACTION_RAISE_LIMIT, stored.id));
    await h.kube.setUnreachable(false);
    expect(answer).toContain('could not be reached');
    expect(answer).toContain('Try again');
    expect(h.patches()).toHaveLength(0);
    const retryId = /"value":"(p_[A-Za-z0-9_-]{22})"/.exec(answer)![1]!;
    expect(retryId).not.toBe(stored.id);
    expect(await h.answer(await h.click(ACTION_RAISE_LIMIT, retryId))).toContain('Done');
    expect(h.patches({ dryRun: false })).toHaveLength(1);
  });

  it('a bare pod cannot be patched, and the answer says what to change instead', async () => {
    h = await startBotHarness();
    const stored = await h.createProposal({ owner: { kind: 'Pod', name: 'debug', namespace: 'shop' } });
    const answer = await h.answer(await h.click(ACTION_RAISE_LIMIT, stored.id));
    expect(answer).toContain('bare pod');
    expect(answer).toContain('re-create');
    expect(h.patches()).toHaveLength(0);
  });
});
