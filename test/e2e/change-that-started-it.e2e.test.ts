/**
 * The change that started it, end to end: Argo CD rolls out a new image with a lower memory limit, the new
 * pod is OOM-killed, and the alert names the rollout (its ReplicaSet, revision, time and manager) and the
 * limit cut, with the diff; a second kill of the same revision costs no second ReplicaSet list.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startBotHarness, type BotHarness } from '../bot/bot-harness.js';

let h: BotHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const MiB = 2 ** 20;

describe('an OOM kill after a rollout', () => {
  it('cites the rollout and the limit cut, reading the ReplicaSets once', async () => {
    h = await startBotHarness({ roles: ['watcher', 'worker', 'bot'], replicas: 1 });
    const b = h;
    await expect.poll(async () => (await b.app.http.readiness()).ok, { timeout: 10_000 }).toBe(true);
    const res = await fetch(`${b.kube.url}/apis/apps/v1/namespaces/shop/deployments/api?fieldManager=argocd-controller`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/strategic-merge-patch+json' },
      body: JSON.stringify({
        spec: { template: { spec: { containers: [{ name: 'api', image: 'registry.example/shop/api:1.5', resources: { limits: { memory: '384Mi' } } }] } } },
      }),
    });
    expect(res.status).toBe(200);
    const pod = () =>
      b.cluster.list('pods', 'shop').find((p) => p.spec.containers[0].image === 'registry.example/shop/api:1.5' && !p.metadata.deletionTimestamp)?.metadata
        .name as string | undefined;
    await expect.poll(pod, { timeout: 5_000 }).toBeDefined();
    const name = pod()!;
    b.cluster.setUsage('shop', name, 'api', 380 * MiB);
    // Times are to the second: the kill comes in a later second than the rollout.
    await new Promise((r) => setTimeout(r, 1_100));
    b.cluster.oomKill('shop', name, 'api', { then: 'running' });
    await b.slack.waitFor(() => b.slack.messagesIn('#alerts').length > 0, 15_000);
    const text = JSON.stringify(b.slack.messagesIn('#alerts').map((m) => [m.text, m.blocks]));
    expect(text).toMatch(
      /ReplicaSet shop\/api-[a-z0-9]+ revision 2 made [^,]+, \d+s before the first kill, by argocd-controller: image [^ ]+ → registry\.example\/shop\/api:1\.5, memory limit 512Mi → 384Mi/,
    );
    expect(text).toContain('The memory limit of api was cut from 512Mi to 384Mi in revision 2');
    expect(text).toContain('The kills began after revision 2: compare it with revision 1, or roll back to it.');
    expect(text).toContain('_(rollout history)_');
    const lists = () => b.kube.requests((r) => r.method === 'GET' && r.path === '/apis/apps/v1/namespaces/shop/replicasets').length;
    expect(lists()).toBe(1);

    // Another kill of the same revision (a later second: another termination): the change comes from Redis.
    await new Promise((r) => setTimeout(r, 1_100));
    b.cluster.oomKill('shop', name, 'api', { then: 'running' });
    await expect.poll(async () => (await b.app.queue.getJobCounts('completed')).completed ?? 0, { timeout: 15_000 }).toBe(2);
    expect(lists()).toBe(1);
  });
});
