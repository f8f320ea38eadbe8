/**
 * After the click: a raise applied from Slack is followed until it held, failed or was reverted, against
 * the simulated API server (whose controllers roll Deployments in maxSurge/maxUnavailable steps) and the
 * Slack-compatible server. Each test reads what a person reads: the replies in the alert's thread.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ACTION_RAISE_LIMIT, ACTION_UNDO } from '../../alert/action-ids.js';
import { makeStatefulSet } from '../../sim/kube/index.js';
import { FixStore } from '../../stores/fix-store.js';
import { IncidentHistory } from '../../stores/incident-history.js';
import { APPROVER, startBotHarness, type BotHarness } from '../bot/bot-harness.js';
import { ROLE_STARTERS, startOombot, type Oombot } from '../../bin/start.js';
import { loadConfig } from '../../core/config.js';
import { loadKubeTarget } from '../../core/kube.js';
import { startWorkerRole } from '../../handlers/start-worker.js';
import { REDIS_URL } from '../helpers/redis.js';
import { captureLogger } from '../helpers/silent-logger.js';

const GiB = 2 ** 30;
const MiB = 2 ** 20;
const DEPLOYMENT = '/apis/apps/v1/namespaces/shop/deployments/api';

interface Btn {
  action_id?: string;
  value?: string;
}

function buttons(blocks: unknown): Btn[] {
  return ((blocks ?? []) as { elements?: Btn[] }[]).flatMap((b) => b.elements ?? []);
}

function threadText(h: BotHarness, ts: string): string {
  return h.slack
    .threadOf('C0ALERTS', ts)
    .map((m) => m.text ?? '')
    .join('\n---\n');
}

async function threadWith(h: BotHarness, ts: string, needle: string, timeout = 10_000): Promise<string> {
  await h.slack
    .waitFor(() => threadText(h, ts).includes(needle), timeout)
    .catch((err: Error) => {
      throw new Error(`${err.message}\nthe thread reads:\n${threadText(h, ts)}`);
    });
  return threadText(h, ts);
}

function fixes(h: BotHarness, kind = 'Deployment', name = 'api'): Promise<ReturnType<FixStore['forWorkload']> extends Promise<infer T> ? T : never> {
  return new FixStore(h.app.redis, h.queueName, 3_600_000).forWorkload(IncidentHistory.workloadKey('sim', 'shop', `${kind}/${name}`));
}

/** Raises shop/api's limit from the alert, the way a person clicks it; returns the alert's ts. */
async function raise(h: BotHarness, overrides: Parameters<BotHarness['createProposal']>[0] = {}): Promise<string> {
  const stored = await h.createProposal(overrides);
  const ts = await h.postAlert(stored);
  const answer = await h.answer(await h.click(ACTION_RAISE_LIMIT, stored.id, { messageTs: ts }));
  expect(answer).toContain('Done');
  return ts;
}

describe('after the click: a fix followed through', () => {
  let h: BotHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('rolled out: the thread shows N of M pods replaced, then done with the time it took', async () => {
    h = await startBotHarness({ roles: ['worker', 'bot'], worker: { followIntervalMs: 150 } });
    // `kubectl rollout pause`: the new template waits, as a slow rollout would.
    h.cluster.update('deployments', 'shop', 'api', (d) => {
      d.spec.paused = true;
    });
    const ts = await raise(h);
    const paused = await threadWith(h, ts, 'pods replaced');
    expect(paused).toContain('Rollout of the new memory limit 640Mi in Deployment `shop/api`: 0 of 2 pods replaced.');
    h.cluster.update('deployments', 'shop', 'api', (d) => {
      d.spec.paused = false;
    });
    const done = await threadWith(h, ts, 'Rolled out');
    expect(done).toMatch(/Rolled out: 2 of 2 pods of Deployment `shop\/api` run with the new memory limit 640Mi \(took \d+s\)/);
    // The controller really replaced them: every pod of the Deployment runs with 640Mi.
    const pods = h.cluster.list('pods', 'shop').filter((p) => !p.metadata.deletionTimestamp);
    expect(pods.map((p) => p.spec.containers[0].resources.limits.memory)).toEqual(['640Mi', '640Mi']);
    const [fix] = await fixes(h);
    expect(fix?.transitions.map((t) => t.state)).toEqual(['applied', 'rolling-out', 'rolled-out']);
    const metrics = await (await fetch(`http://127.0.0.1:${h.app.port}/metrics`)).text();
    expect(metrics).toMatch(/oombot_fix_outcomes_total\{outcome="rolled-out"\} 1/);
    expect(metrics).toMatch(/oombot_fix_outcomes_total\{outcome="applied"\} 1/);
  });

  it('costs one read of the workload per check, a pod list only while the rollout is not done, and nothing without an open fix', async () => {
    h = await startBotHarness({ roles: ['worker', 'bot'], worker: { followIntervalMs: 200 } });
    const gets = () => h!.kube.requests({ method: 'GET' }).filter((r) => r.path === DEPLOYMENT).length;
    const podLists = () => h!.kube.requests({ method: 'GET' }).filter((r) => r.path === '/api/v1/namespaces/shop/pods' && r.query.labelSelector).length;
    // No open fix: the follower reads nothing.
    await new Promise((r) => setTimeout(r, 1_000));
    expect([gets(), podLists()]).toEqual([0, 0]);
    h.cluster.update('deployments', 'shop', 'api', (d) => {
      d.spec.paused = true;
    });
    const ts = await raise(h);
    const afterClick = gets();
    await threadWith(h, ts, 'pods replaced');
    await new Promise((r) => setTimeout(r, 1_000));
    const rollingChecks = gets() - afterClick;
    // While rolling: each check is one GET of the Deployment and one list of its pods.
    // At most one check per 200 ms interval (at least one, however busy the machine is).
    expect(rollingChecks).toBeGreaterThanOrEqual(1);
    expect(rollingChecks).toBeLessThanOrEqual(7);
    // (A check may be between its two reads right now.)
    const lists = podLists();
    expect(lists === rollingChecks || lists === rollingChecks - 1).toBe(true);
    h.cluster.update('deployments', 'shop', 'api', (d) => {
      d.spec.paused = false;
    });
    await threadWith(h, ts, 'Rolled out');
    const [g, l] = [gets(), podLists()];
    await new Promise((r) => setTimeout(r, 1_000));
    // Rolled out: only the GET (for a revert) every interval, no pod list.
    expect(gets() - g).toBeLessThanOrEqual(6);
    expect(gets() - g).toBeGreaterThanOrEqual(1);
    expect(podLists()).toBe(l);
  });

  it('stuck Pending for memory: the scheduler says why, no node has room, and Undo is offered', async () => {
    h = await startBotHarness({ roles: ['worker', 'bot'], worker: { followIntervalMs: 150 } });
    h.cluster.scheduleByMemory = true;
    // The raise takes the request to 9Gi: no 8Gi node can hold it.
    const ts = await raise(h, { toLimit: '10Gi', toLimitBytes: 10 * GiB, toRequest: '9Gi', toRequestBytes: 9 * GiB });
    const text = await threadWith(h, ts, 'is stuck');
    expect(text).toContain('0/2 nodes are available: 2 Insufficient memory.');
    expect(text).toContain('No node has room for the memory request of 9Gi of the new pods');
    expect(text).toContain('The old pods keep running');
    // What the cluster did: one surge pod Pending with the scheduler's event, the old pods still Running.
    const pods = h.cluster.list('pods', 'shop');
    expect(pods.filter((p) => p.status.phase === 'Pending')).toHaveLength(1);
    expect(pods.filter((p) => p.status.phase === 'Running')).toHaveLength(2);
    expect(h.cluster.list('events', 'shop').some((e) => e.reason === 'FailedScheduling' && e.source?.component === 'default-scheduler')).toBe(true);
    // Past its progressDeadlineSeconds the Deployment says so, and the thread with it.
    h.cluster.update('deployments', 'shop', 'api', (d) => {
      d.spec.progressDeadlineSeconds = 1;
    });
    // Its times have whole seconds: past the deadline for sure after two.
    await new Promise((r) => setTimeout(r, 2_100));
    h.cluster.resyncDeployments();
    const late = await threadWith(h, ts, 'ProgressDeadlineExceeded');
    expect(late).toMatch(/the Deployment reports `ProgressDeadlineExceeded`: ReplicaSet "api-[0-9a-f]+" has timed out progressing\./);
    // The stuck reply carries Undo; clicking it restores the old value and closes the fix as undone.
    const reply = h.slack.threadOf('C0ALERTS', ts).find((m) => m.text?.includes('Insufficient memory'))!;
    const undo = buttons(reply.blocks).find((b) => b.action_id === ACTION_UNDO);
    expect(undo?.value).toMatch(/^p_/);
    expect(await h.answer(await h.click(ACTION_UNDO, undo!.value!))).toContain('Undone');
    await expect.poll(async () => (await fixes(h!))[0]?.state, { timeout: 5_000 }).toBe('undone');
    const history = await h.answer(await h.command('history shop/api'));
    expect(history).toContain('memory limit of `api` 512Mi → 10Gi');
    expect(history).toMatch(/applied → stuck (→ stuck )?→ \*undone\*/);
  });

  it('held: no kill at the new limit within OOMBOT_VERIFY_WINDOW', async () => {
    h = await startBotHarness({ roles: ['worker', 'bot'], worker: { followIntervalMs: 150 }, env: { OOMBOT_VERIFY_WINDOW: '1s' } });
    const ts = await raise(h);
    const text = await threadWith(h, ts, 'Held');
    expect(text).toContain('Rolled out: 2 of 2 pods');
    expect(text).toMatch(/Held: no OOM kill of Deployment `shop\/api` at 640Mi in the 1s since/);
    const [fix] = await fixes(h);
    expect(fix?.state).toBe('held');
    // Closed: no more reads of the workload for it.
    const reads = () => h!.kube.requests({ method: 'GET' }).filter((r) => r.path === DEPLOYMENT).length;
    const before = reads();
    await new Promise((r) => setTimeout(r, 600));
    expect(reads()).toBe(before);
  });

  it('reverted by another field manager: the thread names it, when, and the YAML to commit; oombot does not patch again', async () => {
    h = await startBotHarness({ roles: ['worker', 'bot'], worker: { followIntervalMs: 150 } });
    const ts = await raise(h);
    await threadWith(h, ts, 'Rolled out');
    // Argo CD syncs the old manifest back.
    const res = await fetch(`${h.kube.url}${DEPLOYMENT}?fieldManager=argocd-controller`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/strategic-merge-patch+json' },
      body: JSON.stringify({ spec: { template: { spec: { containers: [{ name: 'api', resources: { limits: { memory: '512Mi' } } }] } } } }),
    });
    expect(res.status).toBe(200);
    const text = await threadWith(h, ts, 'Reverted');
    expect(text).toContain('is back at 512Mi, below the 640Mi applied by <@U0APPROVER>: changed by `argocd-controller` at ');
    expect(text).toContain('oombot does not change it again');
    expect(text).toContain('containers:\n        - name: api\n          resources:\n            limits:\n              memory: 640Mi');
    await new Promise((r) => setTimeout(r, 500));
    const ours = h.kube.requests({ method: 'PATCH' }).filter((r) => r.query.fieldManager === 'oombot' && r.query.dryRun !== 'All');
    expect(ours).toHaveLength(1);
    expect((await fixes(h))[0]?.state).toBe('reverted');
  });

  it('a StatefulSet with OnDelete: the new limit takes effect when each pod is deleted, then it counts as rolled out', async () => {
    h = await startBotHarness({ roles: ['worker', 'bot'], worker: { followIntervalMs: 150 } });
    const sts = makeStatefulSet({ name: 'db', namespace: 'shop', replicas: 2, memoryRequest: '256Mi', memoryLimit: '512Mi' });
    sts.spec.updateStrategy = { type: 'OnDelete' };
    h.cluster.createStatefulSet(sts);
    const container = sts.spec.template.spec.containers[0].name as string;
    const ts = await raise(h, { owner: { kind: 'StatefulSet', name: 'db', namespace: 'shop' }, container });
    const text = await threadWith(h, ts, 'OnDelete');
    expect(text).toContain(
      'StatefulSet `shop/db` updates its pods `OnDelete`: the new memory limit 640Mi takes effect when each pod is deleted; nothing rolls by itself. 0 of 2 pods run with it now.',
    );
    // Nothing rolled by itself.
    expect(h.cluster.get('pods', 'shop', 'db-0')!.spec.containers[0].resources.limits.memory).toBe('512Mi');
    h.cluster.delete('pods', 'shop', 'db-0');
    h.cluster.delete('pods', 'shop', 'db-1');
    const done = await threadWith(h, ts, 'Rolled out');
    expect(done).toContain('Rolled out: 2 of 2 pods of StatefulSet `shop/db` run with the new memory limit 640Mi');
  });

  it('the outcome survives a restart: a fix applied while no worker ran is followed by the worker that starts later', async () => {
    const first = await startBotHarness({ roles: ['bot'] });
    const ts = await raise(first);
    expect((await fixes(first))[0]?.state).toBe('applied');
    await first.app.stop();
    h = await startBotHarness({
      roles: ['worker', 'bot'],
      worker: { followIntervalMs: 150 },
      env: { OOMBOT_VERIFY_WINDOW: '1s' },
      sim: first.sim,
      slack: first.slack,
      queueName: first.queueName,
    });
    const text = await threadWith(h, ts, 'Held');
    expect(text).toContain('Rolled out: 2 of 2 pods');
    expect((await fixes(h))[0]?.transitions.map((t) => t.state)).toEqual(['applied', 'rolled-out', 'held']);
  });
});

describe('two workers', () => {
  let h: BotHarness | undefined;
  let second: Oombot | undefined;
  afterEach(async () => {
    await second?.stop();
    await h?.close();
    h = second = undefined;
  });

  it('follow each fix once: every state is told once in the thread, whichever worker checks it', async () => {
    h = await startBotHarness({ roles: ['worker', 'bot'], worker: { followIntervalMs: 100 }, env: { OOMBOT_VERIFY_WINDOW: '1s' } });
    const registered = ROLE_STARTERS.worker;
    ROLE_STARTERS.worker = (ctx) => startWorkerRole({ ...ctx, clusters: ctx.clusters(), followIntervalMs: 100 });
    try {
      second = await startOombot({
        config: loadConfig({
          REDIS_URL,
          OOMBOT_QUEUE: h.queueName,
          SLACK_BOT_TOKEN: 'xoxb-test-token',
          SLACK_API_URL: h.slack.apiUrl,
          SLACK_CHANNEL: '#alerts',
          OOMBOT_VERIFY_WINDOW: '1s',
          PORT: '0',
        }),
        roles: ['worker'],
        log: captureLogger().log,
        kubeTarget: loadKubeTarget({ kubeconfig: h.sim.kubeconfig, clusterName: 'sim' }),
        host: '127.0.0.1',
      });
    } finally {
      ROLE_STARTERS.worker = registered;
    }
    const ts = await raise(h);
    await threadWith(h, ts, 'Held');
    await new Promise((r) => setTimeout(r, 500));
    const replies = h.slack.threadOf('C0ALERTS', ts).map((m) => m.text ?? '');
    expect(replies.filter((t) => t.includes('Rolled out'))).toHaveLength(1);
    expect(replies.filter((t) => t.includes('Held'))).toHaveLength(1);
    expect((await fixes(h))[0]?.transitions.map((t) => t.state)).toEqual(['applied', 'rolled-out', 'held']);
  });
});

describe('killed again at the raised limit', () => {
  let h: BotHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('is one incident with the first: the thread names the raise and a likely leak, and no plain second raise is offered', async () => {
    h = await startBotHarness({ roles: ['watcher', 'worker', 'bot'], worker: { followIntervalMs: 150 } });
    await expect.poll(async () => (await h!.app.http.readiness()).ok, { timeout: 10_000 }).toBe(true);
    const pod = h.cluster
      .list('pods', 'shop')
      .map((p) => p.metadata.name as string)
      .sort()[0]!;
    h.cluster.setUsage('shop', pod, 'api', 510 * MiB);
    // It ran 40 minutes before reaching 512Mi.
    h.cluster.oomKill('shop', pod, 'api', { startedAt: new Date(Date.now() - 40 * 60_000).toISOString() });
    await h.slack.waitFor(() => h!.slack.messagesIn('#alerts').length === 1, 15_000);
    const alert = h.slack.messagesIn('#alerts')[0]!;
    const value = buttons(alert.blocks).find((b) => b.action_id === ACTION_RAISE_LIMIT)?.value;
    expect(value).toMatch(/^p_/);
    expect(await h.answer(await h.click(ACTION_RAISE_LIMIT, value!, { messageTs: alert.ts }))).toContain('Done');
    await threadWith(h, alert.ts, 'Rolled out');
    // The alert itself shows the rollout, under the audit line of the raise, and keeps its Undo button.
    await h.slack.waitFor(() => JSON.stringify(h!.slack.message('C0ALERTS', alert.ts)!.blocks).includes('Rolled out (2 of 2 pods)'), 5_000);
    const shown = JSON.stringify(h.slack.message('C0ALERTS', alert.ts)!.blocks);
    expect(shown).toContain(`Raised by <@${APPROVER}>`);
    // The raise's own Undo button, with its confirmation, stays while the fix is open.
    const undo = buttons(h.slack.message('C0ALERTS', alert.ts)!.blocks).find((b) => b.action_id === ACTION_UNDO) as Btn & { confirm?: unknown };
    expect(undo?.confirm).toBeDefined();
    expect(buttons(h.slack.message('C0ALERTS', alert.ts)!.blocks).map((b) => b.action_id)).not.toContain(ACTION_RAISE_LIMIT);
    const newLimit = h.cluster.get('deployments', 'shop', 'api')!.spec.template.spec.containers[0].resources.limits.memory as string;
    // A new pod, at the raised limit, killed again after a run that fits the same growth.
    const newPod = h.cluster
      .list('pods', 'shop')
      .filter((p) => p.spec.containers[0].resources.limits.memory === newLimit)
      .map((p) => p.metadata.name as string)[0]!;
    h.cluster.setUsage('shop', newPod, 'api', 600 * MiB);
    h.cluster.oomKill('shop', newPod, 'api', { startedAt: new Date(Date.now() - 50 * 60_000).toISOString() });
    const text = await threadWith(h, alert.ts, 'Killed again', 15_000);
    expect(text).toContain(`Killed again at the raised limit ${newLimit}`);
    expect(text).toContain(`after the raise by <@${APPROVER}> at `);
    expect(text).toContain(`(512Mi → ${newLimit})`);
    expect(text).toContain('the raise did not fix it, a leak is likely');
    // The alert itself says so, in place of "Rolled out".
    await h.slack.waitFor(() => JSON.stringify(h!.slack.message('C0ALERTS', alert.ts)!.blocks).includes('the raise did not fix it; a leak is likely'), 5_000);
    expect(JSON.stringify(h.slack.message('C0ALERTS', alert.ts)!.blocks)).not.toContain('Rolled out (2 of 2 pods)');
    // One incident: still one alert in the channel, and no new Raise button anywhere.
    expect(h.slack.messagesIn('#alerts')).toHaveLength(1);
    expect((await fixes(h))[0]?.state).toBe('killed-again');
    const history = await h.answer(await h.command('history shop/api'));
    expect(history).toContain('*killed again*');
  });

  it('after the alert window closed, the new alert names the raise and offers no Raise button', async () => {
    h = await startBotHarness({ roles: ['watcher', 'worker', 'bot'], worker: { followIntervalMs: 150 }, env: { OOMBOT_GROUP_WINDOW: '1s' } });
    await expect.poll(async () => (await h!.app.http.readiness()).ok, { timeout: 10_000 }).toBe(true);
    const pod = h.cluster
      .list('pods', 'shop')
      .map((p) => p.metadata.name as string)
      .sort()[0]!;
    h.cluster.setUsage('shop', pod, 'api', 510 * MiB);
    h.cluster.oomKill('shop', pod, 'api', { startedAt: new Date(Date.now() - 40 * 60_000).toISOString() });
    await h.slack.waitFor(() => h!.slack.messagesIn('#alerts').length === 1, 15_000);
    const alert = h.slack.messagesIn('#alerts')[0]!;
    const value = buttons(alert.blocks).find((b) => b.action_id === ACTION_RAISE_LIMIT)?.value;
    expect(await h.answer(await h.click(ACTION_RAISE_LIMIT, value!, { messageTs: alert.ts }))).toContain('Done');
    await threadWith(h, alert.ts, 'Rolled out');
    await new Promise((r) => setTimeout(r, 1_500));
    const newPod = h.cluster.list('pods', 'shop').map((p) => p.metadata.name as string)[0]!;
    h.cluster.setUsage('shop', newPod, 'api', 600 * MiB);
    // A much longer run this time: memory grew slower, so no leak is claimed, only that the raise did not fix it.
    h.cluster.oomKill('shop', newPod, 'api', { startedAt: new Date(Date.now() - 10 * 3600_000).toISOString() });
    await h.slack.waitFor(() => h!.slack.messagesIn('#alerts').length === 2, 15_000);
    const second = h.slack.messagesIn('#alerts')[1]!;
    const blocks = JSON.stringify(second.blocks);
    expect(blocks).toContain('Killed again at the raised limit 640Mi');
    expect(blocks).toContain('(512Mi → 640Mi): the raise did not fix it.');
    expect(blocks).not.toContain('a leak is likely');
    expect(buttons(second.blocks).map((b) => b.action_id)).not.toContain(ACTION_RAISE_LIMIT);
    // The first alert's thread, where the raise is, is told too (once).
    const told = await threadWith(h, alert.ts, 'It is posted as a new alert.');
    expect(told.match(/Killed again at the raised limit 640Mi/g)).toHaveLength(1);
  });
});
