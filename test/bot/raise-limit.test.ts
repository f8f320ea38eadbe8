import { afterEach, describe, expect, it } from 'vitest';
import { replaySignedRequest, validateMessage } from '../../sim/slack/index.js';
import { makeDeployment, makeLimitRange, makeResourceQuota, type KubeObject } from '../../sim/kube/index.js';
import { ProposalStore } from '../../stores/proposal-store.js';
import { ACTION_RAISE_LIMIT, ACTION_UNDO } from '../../alert/action-ids.js';
import { proposalConfirm } from '../../alert/message.js';
import { APPROVER, OTHER, startBotHarness, type BotHarness } from './bot-harness.js';

const DEPLOYMENT = '/apis/apps/v1/namespaces/shop/deployments/api';
const STRATEGIC = 'application/strategic-merge-patch+json';

interface Btn {
  action_id?: string;
  value?: string;
  confirm?: { text?: { text?: string } };
}

function buttonsOf(blocks: unknown): Btn[] {
  return ((blocks ?? []) as { elements?: Btn[] }[]).flatMap((b) => b.elements ?? []);
}

/** The blocks of an answer read by `h.answer` (its last line). */
function blocksOf(answer: string): unknown {
  return JSON.parse(answer.slice(answer.lastIndexOf('\n') + 1));
}

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
    // The resourceVersion that was checked goes with the patch: a change landing in between fails it (409).
    expect(JSON.parse(patches[1]!.body!)).toEqual({
      metadata: { resourceVersion: expect.stringMatching(/^\d+$/) },
      spec: { template: { spec: { containers: [{ name: 'api', resources: { limits: { memory: '640Mi' } } }] } } },
    });
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
    const id = buttonsOf(h.slack.message('C0ALERTS', ts)!.blocks).find((b) => b.action_id === ACTION_UNDO)?.value;
    expect(id).toMatch(/^p_/);
    expect(await h.answer(await h.click(ACTION_UNDO, id!, { user: OTHER }), OTHER)).toContain('Only approvers');
    expect(await h.answer(await h.click(ACTION_UNDO, id!, { messageTs: ts }))).toContain('Undone');
    expect(liveLimit(h)).toBe('512Mi');
    await expect.poll(() => h!.cluster.list('events', 'shop').filter((e) => e.reason === 'OombotLimitRestored').length).toBe(1);
  });

  it('a dry run refused by the ResourceQuota shows its message; the claim is given back, so the same button works once the quota allows it', async () => {
    h = await startBotHarness();
    // Two replicas at 512Mi use 1Gi of limits; 640Mi each would need 1280Mi.
    h.cluster.create('resourcequotas', makeResourceQuota({ namespace: 'shop', hard: { 'limits.memory': '1100Mi' } }));
    const stored = await h.createProposal();
    const refused = await h.answer(await h.click(ACTION_RAISE_LIMIT, stored.id));
    expect(refused).toContain('ResourceQuota does not leave room');
    expect(refused).toContain('exceeded quota: compute');
    expect(refused).toContain('nothing was changed');
    expect(h.patches({ dryRun: false })).toHaveLength(0);
    expect(await h.proposals.claimedBy(stored.id)).toBeUndefined();

    h.cluster.update('resourcequotas', 'shop', 'compute', (q) => {
      q.spec.hard['limits.memory'] = '2Gi';
    });
    expect(await h.answer(await h.click(ACTION_RAISE_LIMIT, stored.id))).toContain('Done');
    expect(h.patches({ dryRun: false })).toHaveLength(1);
    expect(liveLimit(h)).toBe('640Mi');
  });

  it('a refusal after the claim releases it only for its own click: a concurrent approver click still applies once', async () => {
    h = await startBotHarness();
    const stored = await h.createProposal();
    const claim = await h.proposals.claim(stored.id, APPROVER);
    expect(claim).toBeDefined();
    // Someone else's release (a stale token) does not free it.
    expect(await h.proposals.release({ id: stored.id, token: `${APPROVER} not-the-token` })).toBe(false);
    expect(await h.answer(await h.click(ACTION_RAISE_LIMIT, stored.id))).toContain('at most once');
    expect(await h.proposals.release(claim!)).toBe(true);
    expect(await h.answer(await h.click(ACTION_RAISE_LIMIT, stored.id))).toContain('Done');
    expect(h.patches({ dryRun: false })).toHaveLength(1);
  });

  it.each([
    ['StatefulSet', 'statefulsets', '/apis/apps/v1/namespaces/shop/statefulsets/db'],
    ['DaemonSet', 'daemonsets', '/apis/apps/v1/namespaces/shop/daemonsets/db'],
    ['ReplicaSet', 'replicasets', '/apis/apps/v1/namespaces/shop/replicasets/db'],
  ])('a %s is patched in its pod template, the container by name', async (kind, plural, path) => {
    h = await startBotHarness();
    const object: KubeObject = {
      ...makeDeployment({
        name: 'db',
        namespace: 'shop',
        replicas: 1,
        containers: [
          { name: 'sidecar', memoryLimit: '64Mi' },
          { name: 'db', memoryRequest: '256Mi', memoryLimit: '512Mi' },
        ],
      }),
      kind,
    };
    if (kind === 'DaemonSet') delete object.spec.replicas;
    h.cluster.create(plural, object);
    const stored = await h.createProposal({ owner: { kind, name: 'db', namespace: 'shop' }, container: 'db' });
    expect(await h.answer(await h.click(ACTION_RAISE_LIMIT, stored.id))).toContain('Done');
    const patches = h.patches();
    expect(patches.map((p) => [p.path, p.contentType, p.dryRun])).toEqual([
      [path, STRATEGIC, true],
      [path, STRATEGIC, false],
    ]);
    const containers = h.cluster.get(plural, 'shop', 'db')!.spec.template.spec.containers as { name: string; resources: { limits: { memory: string } } }[];
    expect(containers.map((c) => [c.name, c.resources.limits.memory])).toEqual([
      ['sidecar', '64Mi'],
      ['db', '640Mi'],
    ]);
  });

  it('a click on the alert teaches the proposal where its alert is, so an Undo from the ephemeral answer updates the alert too', async () => {
    h = await startBotHarness();
    const stored = await h.createProposal();
    expect(stored.ts).toBeUndefined();
    const ts = await h.postAlert(stored);
    const done = await h.answer(await h.click(ACTION_RAISE_LIMIT, stored.id, { messageTs: ts }));
    expect(await h.proposals.get(stored.id)).toMatchObject({ channel: 'C0ALERTS', ts });
    const undoId = buttonsOf(blocksOf(done)).find((b) => b.action_id === ACTION_UNDO)?.value;
    expect(undoId).toMatch(/^p_/);
    expect(await h.proposals.get(undoId!)).toMatchObject({ channel: 'C0ALERTS', ts });
    await h.bot.idle();

    // The ephemeral answer's Undo: no message in the payload, yet the alert is updated and the thread told.
    expect(await h.answer(await h.click(ACTION_UNDO, undoId!))).toContain('Undone');
    expect(liveLimit(h)).toBe('512Mi');
    const alert = await h.slack.waitFor(() => {
      const m = h!.slack.message('C0ALERTS', ts);
      return m && JSON.stringify(m.blocks).includes('Restored by') ? m : undefined;
    });
    const blocks = JSON.stringify(alert.blocks);
    expect(blocks).toContain('640Mi → 512Mi');
    expect(blocks).toContain('Raised by');
    expect(buttonsOf(alert.blocks).map((b) => b.action_id)).not.toContain(ACTION_UNDO);
    await h.slack.waitFor(() => h!.slack.threadOf('C0ALERTS', ts).length === 2);
    expect(h.slack.threadOf('C0ALERTS', ts)[1]!.text).toContain('Restored by');
  });

  it('every button the bot offers shows the same confirm dialog as the alert: object, path, old → new limit and request, and the rules', async () => {
    h = await startBotHarness();
    const stored = await h.createProposal({ toRequest: '640Mi', toRequestBytes: 640 * 2 ** 20 });
    const done = await h.answer(await h.click(ACTION_RAISE_LIMIT, stored.id));
    const undo = buttonsOf(blocksOf(done)).find((b) => b.action_id === ACTION_UNDO)!;
    const undoText = undo.confirm?.text?.text ?? '';
    expect(undoText).toBe(proposalConfirm((await h.proposals.get(undo.value!))!.proposal, 'undo').text);
    expect(undoText).toBe(
      'Deployment shop/api, spec.template.spec.containers[api].resources: memory limit 640Mi → 512Mi, request 640Mi → 256Mi. Dry run first; refused if changed since read (resourceVersion). Approvers only (OOMBOT_APPROVERS).',
    );

    // A conflict's fresh proposal (the limit is 640Mi now, not 512Mi).
    const again = await h.createProposal({ toLimit: '576Mi', toLimitBytes: 576 * 2 ** 20 });
    const fresh = buttonsOf(blocksOf(await h.answer(await h.click(ACTION_RAISE_LIMIT, again.id)))).find((b) => b.action_id === ACTION_RAISE_LIMIT)!;
    const freshText = fresh.confirm?.text?.text ?? '';
    expect(freshText).toBe(proposalConfirm((await h.proposals.get(fresh.value!))!.proposal).text);
    expect(freshText).toContain('spec.template.spec.containers[api].resources: memory limit 640Mi → 768Mi');
    expect(freshText).toContain('Cap: OOMBOT_MAX_MEMORY_LIMIT, largest node.');
    for (const b of [undo, fresh]) expect(validateMessage({ text: 'x', blocks: [{ type: 'actions', elements: [b] }] }).error).toBeUndefined();
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
    const stored = await h.createProposal({
      owner: { kind: 'CronJob', name: 'report', namespace: 'shop' },
      container: 'report',
      fromLimit: '256Mi',
      toLimit: '384Mi',
      fromLimitBytes: 256 * 2 ** 20,
      toLimitBytes: 384 * 2 ** 20,
      fromRequest: '128Mi',
    });
    expect(await h.answer(await h.click(ACTION_RAISE_LIMIT, stored.id))).toContain('Done');
    const real = h.patches({ dryRun: false });
    expect(real).toHaveLength(1);
    expect(real[0]!.path).toBe('/apis/batch/v1/namespaces/shop/cronjobs/report');
    expect(JSON.parse(real[0]!.body!)).toEqual({
      metadata: { resourceVersion: expect.stringMatching(/^\d+$/) },
      spec: { jobTemplate: { spec: { template: { spec: { containers: [{ name: 'report', resources: { limits: { memory: '384Mi' } } }] } } } } },
    });
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
    // Nothing changed, so the claim was given back: Try again is the same proposal, and so is the alert's button.
    const retryId = /"value":"(p_[A-Za-z0-9_-]{22})"/.exec(answer)![1]!;
    expect(retryId).toBe(stored.id);
    expect(await h.proposals.claimedBy(stored.id)).toBeUndefined();
    expect(await h.answer(await h.click(ACTION_RAISE_LIMIT, retryId))).toContain('Done');
    expect(h.patches({ dryRun: false })).toHaveLength(1);
    expect(await h.answer(await h.click(ACTION_RAISE_LIMIT, stored.id))).toContain('at most once');
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
