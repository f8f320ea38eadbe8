/**
 * "Raise limit" cannot be pushed past its rules: fresh proposals are capped, the checked value and the
 * patched one are one step (resourceVersion precondition), a ReplicaSet or Job with a controller is
 * never patched, and a claim is a lease that a crashed bot does not hold for a day.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ACTION_RAISE_LIMIT } from '../../alert/action-ids.js';
import { APPROVER, startBotHarness, type BotHarness } from './bot-harness.js';

let h: BotHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

/** Someone (kubectl, Argo CD) sets the limit through the API server. */
async function setLimit(b: BotHarness, memory: string): Promise<void> {
  const res = await fetch(`${b.kube.url}/apis/apps/v1/namespaces/shop/deployments/api`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/strategic-merge-patch+json' },
    body: JSON.stringify({ spec: { template: { spec: { containers: [{ name: 'api', resources: { limits: { memory } } }] } } } }),
  });
  expect(res.status).toBe(200);
}

/** PATCH requests oombot sent (its own carry fieldManager=oombot). */
const oombotPatches = (b: BotHarness) => b.kube.requests({ method: 'PATCH' }).filter((r) => r.query.fieldManager === 'oombot');

describe('Raise limit safety', () => {
  it('a fresh proposal after a live change obeys OOMBOT_MAX_MEMORY_LIMIT: at the cap it offers nothing and patches nothing', async () => {
    h = await startBotHarness({ env: { OOMBOT_MAX_MEMORY_LIMIT: '4Gi' } });
    const stored = await h.createProposal();
    // Someone set the limit to the cap meanwhile.
    await setLimit(h, '4Gi');
    const answer = await h.answer(await h.click(ACTION_RAISE_LIMIT, stored.id, { user: APPROVER }));
    expect(answer).toContain('someone changed it since');
    expect(answer).toContain('already at the policy maximum (OOMBOT_MAX_MEMORY_LIMIT)');
    expect(answer).not.toContain('Fresh proposal');
    expect(oombotPatches(h)).toEqual([]);
  });

  it('a fresh proposal below the cap is capped to it, never 1.2× past it', async () => {
    h = await startBotHarness({ env: { OOMBOT_MAX_MEMORY_LIMIT: '4Gi' } });
    const stored = await h.createProposal();
    await setLimit(h, '3584Mi');
    const answer = await h.answer(await h.click(ACTION_RAISE_LIMIT, stored.id, { user: APPROVER }));
    expect(answer).toContain('Fresh proposal');
    // 3.5Gi × 1.2 would be 4.2Gi: capped at 4Gi.
    expect(answer).toContain('3584Mi → 4Gi');
    expect(answer).not.toMatch(/4\.2Gi|4300Mi|4\.5Gi/);
    expect(oombotPatches(h)).toEqual([]);
  });

  it('never patches a ReplicaSet that a Deployment controls', async () => {
    h = await startBotHarness();
    const rs = h.cluster.list('replicasets', 'shop').find((r) => String(r.metadata.name).startsWith('api-'))!;
    const stored = await h.createProposal({ owner: { kind: 'ReplicaSet', namespace: 'shop', name: String(rs.metadata.name) } });
    const answer = await h.answer(await h.click(ACTION_RAISE_LIMIT, stored.id, { user: APPROVER }));
    expect(answer).toContain('is controlled by Deployment shop/api, which would roll a change here back');
    expect(oombotPatches(h)).toEqual([]);
  });

  it('a claim left by a crashed bot is a lease: the proposal can be applied once it runs out', async () => {
    h = await startBotHarness();
    const stored = await h.createProposal();
    // A bot that claimed it and died: a short lease stands in for the minute.
    expect(await h.proposals.claim(stored.id, APPROVER, 200)).toBeDefined();
    expect(await h.answer(await h.click(ACTION_RAISE_LIMIT, stored.id, { user: APPROVER }))).toContain('already applied (or is being applied right now)');
    await new Promise((r) => setTimeout(r, 300));
    expect(await h.answer(await h.click(ACTION_RAISE_LIMIT, stored.id, { user: APPROVER }))).toContain('Done');
    // Applied: the claim now lasts as long as the proposal, so it stays applied.
    expect(await h.proposals.claimedBy(stored.id)).toBe(APPROVER);
  });
});
