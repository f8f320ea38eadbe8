/**
 * The moments between the bot's check and its patch, and a patch whose answer is lost, as the simulated
 * API server produces them: another writer lands between the GET and the PATCH (the real resourceVersion
 * precondition answers 409), and the connection resets after, or before, the API server committed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ACTION_RAISE_LIMIT, ACTION_UNDO } from '../../alert/action-ids.js';
import type { RecordedRequest } from '../../sim/kube/types.js';
import { APPROVER, startBotHarness, type BotHarness } from './bot-harness.js';

const DEPLOYMENT = '/apis/apps/v1/namespaces/shop/deployments/api';

/** The bot's real (not dry-run) PATCH of shop/api. */
const realPatch = (r: RecordedRequest): boolean => r.method === 'PATCH' && r.path === DEPLOYMENT && r.query.dryRun !== 'All';

function liveLimit(h: BotHarness): string | undefined {
  return h.cluster.get('deployments', 'shop', 'api')!.spec.template.spec.containers[0].resources?.limits?.memory;
}

interface Btn {
  action_id?: string;
  value?: string;
}
const buttonsOf = (answer: string): Btn[] =>
  (JSON.parse(answer.slice(answer.lastIndexOf('\n') + 1)) as { elements?: Btn[] }[]).flatMap((b) => b.elements ?? []);

describe('Raise limit: races and lost answers', () => {
  let h: BotHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('another writer changes the limit between the check and the patch: 409, nothing overwritten, "changed" with a fresh proposal', async () => {
    h = await startBotHarness();
    const stored = await h.createProposal();
    const ts = await h.postAlert(stored);
    // kubectl (or Argo CD, or another approver) lands after the bot read the Deployment and dry-ran its patch.
    h.kube.intercept(realPatch, (_r, cluster) => {
      cluster.update('deployments', 'shop', 'api', (d) => {
        d.spec.template.spec.containers[0].resources.limits.memory = '576Mi';
      });
    });
    const answer = await h.answer(await h.click(ACTION_RAISE_LIMIT, stored.id, { messageTs: ts }));

    // The patch carried the resourceVersion the bot had checked: the API server refused it, nothing was overwritten.
    const real = h.kube.requests(realPatch);
    expect(real).toHaveLength(1);
    expect(real[0]!.status).toBe(409);
    expect(liveLimit(h)).toBe('576Mi');
    // The check ran again on what is there now, and the person reads it.
    expect(answer).toContain(
      'The memory limit of `api` in Deployment shop/api is now `576Mi`, not `512Mi` as when this was proposed: someone changed it since. Nothing was changed.',
    );
    expect(answer).toContain('Fresh proposal: Deployment shop/api, container api: memory limit 576Mi → 640Mi.');
    const fresh = buttonsOf(answer).find((b) => b.action_id === ACTION_RAISE_LIMIT);
    expect(fresh?.value).toMatch(/^p_/);
    expect(fresh?.value).not.toBe(stored.id);
    expect(h.logs.lines().some((l) => l.msg === 'the workload changed while applying: checking again')).toBe(true);
    expect(answer).not.toContain('Done');

    // The fresh proposal applies from the live value.
    expect(await h.answer(await h.click(ACTION_RAISE_LIMIT, fresh!.value!))).toContain('576Mi → 640Mi');
    expect(liveLimit(h)).toBe('640Mi');
  });

  it('the API server commits the patch and the connection resets: read back, reported applied with the full audit', async () => {
    h = await startBotHarness();
    const stored = await h.createProposal();
    const ts = await h.postAlert(stored);
    h.kube.intercept(realPatch, () => 'commit-then-reset');
    const answer = await h.answer(await h.click(ACTION_RAISE_LIMIT, stored.id, { messageTs: ts }));

    expect(h.kube.requests(realPatch).map((r) => r.reset)).toEqual([{ committed: true }]);
    expect(liveLimit(h)).toBe('640Mi');
    expect(answer).toContain('Done: Deployment shop/api, container api: memory limit 512Mi → 640Mi');
    expect(answer).not.toContain('nothing was changed');
    expect(answer).not.toContain('Nothing was changed');
    expect(buttonsOf(answer).map((b) => b.action_id)).toContain(ACTION_UNDO);
    // The bot read the Deployment back after the reset, rather than guessing.
    const after = h.kube.requests((r) => r.method === 'GET' && r.path === DEPLOYMENT && r.at >= h!.kube.requests(realPatch)[0]!.at);
    expect(after.length).toBeGreaterThanOrEqual(1);
    expect(h.logs.lines().some((l) => l.msg === 'patch answer lost, but reading it back shows it applied')).toBe(true);

    // The audit: who, from, to on the alert, in its thread, as a Kubernetes Event and in the log.
    const alert = await h.slack.waitFor(() => {
      const m = h!.slack.message('C0ALERTS', ts);
      return m && JSON.stringify(m.blocks).includes('Raised by') ? m : undefined;
    });
    expect(JSON.stringify(alert.blocks)).toContain(`Raised by <@${APPROVER}>`);
    expect(JSON.stringify(alert.blocks)).toContain('512Mi → 640Mi');
    await h.slack.waitFor(() => h!.slack.threadOf('C0ALERTS', ts).length === 1);
    await expect.poll(() => h!.cluster.list('events', 'shop').find((e) => e.reason === 'OombotLimitRaised')?.message).toContain('512Mi -> 640Mi');
    expect(h.logs.lines().some((l) => l.msg === 'memory raised from Slack' && l.user === APPROVER && l.from === '512Mi' && l.to === '640Mi')).toBe(true);
    // Applied means applied: the proposal is used up.
    expect(await h.answer(await h.click(ACTION_RAISE_LIMIT, stored.id))).toContain('at most once');
  });

  it('the connection resets before the API server commits: read back, "nothing was changed", and the same button tries again', async () => {
    h = await startBotHarness();
    const stored = await h.createProposal();
    h.kube.intercept(realPatch, () => 'reset');
    const answer = await h.answer(await h.click(ACTION_RAISE_LIMIT, stored.id));

    expect(h.kube.requests(realPatch).map((r) => r.reset)).toEqual([{ committed: false }]);
    expect(liveLimit(h)).toBe('512Mi');
    expect(answer).toContain('nothing was changed');
    expect(answer).not.toContain('Done');
    expect(h.cluster.list('events', 'shop').some((e) => e.reason === 'OombotLimitRaised')).toBe(false);
    const retry = buttonsOf(answer).find((b) => b.action_id === ACTION_RAISE_LIMIT);
    expect(retry?.value).toBe(stored.id);
    expect(await h.answer(await h.click(ACTION_RAISE_LIMIT, stored.id))).toContain('Done');
    expect(liveLimit(h)).toBe('640Mi');
  });
});
