import { afterEach, describe, expect, it } from 'vitest';
import { ACTION_RAISE_LIMIT, ACTION_RESIZE } from '../../alert/action-ids.js';
import type { LimitProposal } from '../../diagnosis/propose-limit.js';
import { APPROVER, OTHER, startBotHarness, type BotHarness } from './bot-harness.js';

const STRATEGIC = 'application/strategic-merge-patch+json';
const MiB = 2 ** 20;

interface Btn {
  action_id?: string;
  value?: string;
  text?: { text?: string };
}

function buttonsOf(answer: string): Btn[] {
  const blocks = JSON.parse(answer.slice(answer.lastIndexOf('\n') + 1)) as { elements?: Btn[] }[];
  return blocks.flatMap((b) => b.elements ?? []);
}

/** The pods of shop/api as the simulated cluster holds them, by name. */
function pods(
  h: BotHarness,
): Array<{ name: string; node: string; limit?: string; request?: string; running?: string; pending?: { reason: string; message: string } }> {
  return h.cluster
    .list('pods', 'shop')
    .map((p) => {
      const c = p.spec.containers.find((x: { name: string }) => x.name === 'api');
      const s = (p.status.containerStatuses ?? []).find((x: { name: string }) => x.name === 'api');
      const pending = (p.status.conditions ?? []).find((x: { type: string }) => x.type === 'PodResizePending');
      return {
        name: p.metadata.name,
        node: p.spec.nodeName,
        limit: c.resources?.limits?.memory,
        request: c.resources?.requests?.memory,
        running: s?.resources?.limits?.memory,
        pending,
      };
    })
    .sort((a, b) => a.name.localeCompare(b.name));
}

/** Raise as an approver with the rollout paused (so the running pods keep the old value); returns the answer. */
async function raise(h: BotHarness, overrides: Partial<LimitProposal> = {}): Promise<string> {
  h.cluster.update('deployments', 'shop', 'api', (d) => {
    d.spec.paused = true;
  });
  const stored = await h.createProposal(overrides);
  const ts = await h.postAlert(stored);
  const answer = await h.answer(await h.click(ACTION_RAISE_LIMIT, stored.id, { messageTs: ts }));
  expect(answer).toContain('Done');
  return answer;
}

function resizePatches(h: BotHarness) {
  return h.patches().filter((p) => p.path.endsWith('/resize'));
}

describe('Resize running pods now', () => {
  let h: BotHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('an approver resizes the two running pods after a raise: a dry run and a resize PATCH each; status shows the new memory', async () => {
    h = await startBotHarness();
    const answer = await raise(h);
    const button = buttonsOf(answer).find((b) => b.action_id === ACTION_RESIZE);
    expect(button?.text?.text).toBe('Resize running pods now');
    const before = pods(h);
    expect(before).toHaveLength(2);
    expect(before.every((p) => p.limit === '512Mi')).toBe(true);

    const result = await h.answer(await h.click(ACTION_RESIZE, button!.value!));
    const patches = resizePatches(h);
    expect(patches.map((p) => [p.path, p.contentType, p.dryRun])).toEqual(
      before.flatMap((p) => [
        [`/api/v1/namespaces/shop/pods/${p.name}/resize`, STRATEGIC, true],
        [`/api/v1/namespaces/shop/pods/${p.name}/resize`, STRATEGIC, false],
      ]),
    );
    expect(JSON.parse(patches[1]!.body!)).toEqual({ spec: { containers: [{ name: 'api', resources: { limits: { memory: '640Mi' } } }] } });
    expect(h.kube.requests((r) => r.path.endsWith('/resize')).every((r) => r.query.fieldManager === 'oombot')).toBe(true);
    for (const p of pods(h)) {
      expect(p.limit).toBe('640Mi');
      expect(p.running).toBe('640Mi');
      expect(p.pending).toBeUndefined();
    }
    for (const p of before) expect(result).toContain(`\`${p.name}\`: resized`);
    expect(result).toContain('The next rollout reverts running pods to the template unless the template is raised too');
    expect(result).toContain('new pods start with the new value');
    expect(h.logs.lines().some((l) => l.msg === 'running pods resized from Slack' && l.user === APPROVER && l.resized === 2)).toBe(true);

    // At most once: a second click patches nothing more.
    const again = await h.answer(await h.click(ACTION_RESIZE, button!.value!));
    expect(again).toContain('already resized');
    expect(resizePatches(h)).toHaveLength(4);
  });

  it('a non-approver is refused with the approver wording, and no pod is patched', async () => {
    h = await startBotHarness();
    const button = buttonsOf(await raise(h)).find((b) => b.action_id === ACTION_RESIZE)!;
    const res = await h.click(ACTION_RESIZE, button.value!, { user: OTHER });
    const answer = await h.answer(res, OTHER);
    expect(answer).toContain(`Only approvers may change workloads from Slack, and <@${OTHER}> is not one`);
    expect(resizePatches(h)).toHaveLength(0);
    expect(pods(h).every((p) => p.limit === '512Mi')).toBe(true);
    // The refusal did not use the resize up.
    await h.answer(await h.click(ACTION_RESIZE, button.value!));
    expect(resizePatches(h)).toHaveLength(4);
  });

  it('a pod whose node cannot fit the new request is reported Infeasible with the condition message', async () => {
    h = await startBotHarness();
    const small = pods(h)[0]!;
    h.cluster.update('nodes', undefined, small.node, (n) => {
      n.status.allocatable.memory = '1Gi';
    });
    const button = buttonsOf(await raise(h, { toLimit: '2Gi', toLimitBytes: 2048 * MiB, toRequest: '2Gi' })).find((b) => b.action_id === ACTION_RESIZE)!;
    const result = await h.answer(await h.click(ACTION_RESIZE, button.value!));
    const after = pods(h);
    const infeasible = after.find((p) => p.name === small.name)!;
    expect(infeasible.pending?.reason).toBe('Infeasible');
    expect(result).toContain(`\`${small.name}\`: \`Infeasible\``);
    expect(result).toContain('enough capacity: memory');
    const other = after.find((p) => p.name !== small.name)!;
    expect(other.running).toBe('2Gi');
    expect(result).toContain(`\`${other.name}\`: resized`);
  });

  it('is not offered where discovery does not list pods/resize', async () => {
    h = await startBotHarness();
    h.cluster.podResizeEnabled = false;
    const answer = await raise(h);
    expect(buttonsOf(answer).map((b) => b.action_id)).not.toContain(ACTION_RESIZE);
    expect(h.kube.requestCount({ method: 'GET', path: '/api/v1' })).toBe(1);
  });

  it('a failed discovery (503) is not cached as "unsupported": no button this time, the next raise asks again and offers it', async () => {
    h = await startBotHarness();
    h.kube.intercept({ method: 'GET', path: '/api/v1' }, () => ({ status: 503, message: 'the server is currently unable to handle the request' }));
    const first = await raise(h);
    expect(buttonsOf(first).map((b) => b.action_id)).not.toContain(ACTION_RESIZE);
    expect(h.kube.requests({ method: 'GET', path: '/api/v1' }).map((r) => r.status)).toEqual([503]);
    expect(h.logs.lines().some((l) => l.msg === 'cannot read /api/v1 discovery: the resize button is not offered this time')).toBe(true);

    const second = await raise(h, { fromLimit: '640Mi', fromLimitBytes: 640 * MiB, toLimit: '768Mi', toLimitBytes: 768 * MiB });
    expect(buttonsOf(second).find((b) => b.action_id === ACTION_RESIZE)?.text?.text).toBe('Resize running pods now');
    expect(h.kube.requests({ method: 'GET', path: '/api/v1' }).map((r) => r.status)).toEqual([503, 200]);
  });

  it('a stalled API server during a resize: no pod is resized, the answer says so, and the same button works later', async () => {
    h = await startBotHarness({ bot: { workTimeoutMs: 1_500 } });
    const button = buttonsOf(await raise(h)).find((b) => b.action_id === ACTION_RESIZE)!;
    h.kube.latencyMs = 6_000;
    const t0 = Date.now();
    const click = await h.click(ACTION_RESIZE, button.value!);
    expect(Date.now() - t0).toBeLessThan(3_000);
    const refused = await h.answer(click);
    expect(refused).toContain('The Kubernetes API server did not answer in time: no pod of Deployment shop/api was resized. Try again in a minute.');
    expect(await h.proposals.claimedBy(button.value!)).toBeUndefined();
    h.kube.latencyMs = 0;
    // The stalled reads are answered by now; nothing was resized behind the person's back.
    await h.bot.idle();
    await new Promise((r) => setTimeout(r, 500));
    expect(resizePatches(h)).toHaveLength(0);
    expect(pods(h).every((p) => p.limit === '512Mi')).toBe(true);

    const result = await h.answer(await h.click(ACTION_RESIZE, button.value!));
    expect(result).toContain(': resized');
    expect(resizePatches(h).filter((p) => !p.dryRun)).toHaveLength(2);
  });

  it('an older cluster (1.32) lists no pods/resize: the answer to a raise has no "Resize running pods now"', async () => {
    h = await startBotHarness();
    h.cluster.minorVersion = 32;
    const answer = await raise(h);
    expect(buttonsOf(answer).map((b) => b.action_id)).not.toContain(ACTION_RESIZE);
    expect(h.kube.requests({ method: 'GET', path: '/api/v1' }).map((r) => r.status)).toEqual([200]);
  });

  it('a pod whose node has no room now is reported Deferred (the kubelet retries), the other one resized', async () => {
    h = await startBotHarness();
    const busy = pods(h)[0]!;
    // Another pod on that node holds nearly all of its allocatable memory: the resize fits the node, not now.
    const allocatable = String(h.cluster.get('nodes', undefined, busy.node)!.status.allocatable.memory);
    h.cluster.createPod({ name: 'hog', namespace: 'other', nodeName: busy.node, memoryRequest: allocatable, memoryLimit: allocatable });
    const button = buttonsOf(await raise(h, { toRequest: '640Mi' })).find((b) => b.action_id === ACTION_RESIZE)!;
    const result = await h.answer(await h.click(ACTION_RESIZE, button.value!));
    const after = pods(h);
    expect(after.find((p) => p.name === busy.name)!.pending?.reason).toBe('Deferred');
    expect(result).toContain(`\`${busy.name}\`: \`Deferred\`: its node has no room right now; the kubelet retries when memory frees up`);
    const other = after.find((p) => p.name !== busy.name)!;
    expect(other.running).toBe('640Mi');
    expect(result).toContain(`\`${other.name}\`: resized`);
  });

  it('a pod-level proposal sent to the resize button is refused: no pod is patched', async () => {
    h = await startBotHarness();
    const stored = await h.createProposal({ scope: 'pod' });
    const answer = await h.answer(await h.click(ACTION_RESIZE, stored.id));
    expect(answer).toContain('not pod-level resources. Nothing was changed');
    expect(resizePatches(h)).toHaveLength(0);
    expect(await h.proposals.claimedBy(stored.id)).toBeUndefined();
  });
});
