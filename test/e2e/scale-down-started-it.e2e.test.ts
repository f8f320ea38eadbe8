/**
 * The scale-down that started it, end to end: the HPA of shop/api rescales it from 4 to 2 replicas (its
 * SuccessfulRescale Event, then its write of spec.replicas), the simulated deployment controller scales the
 * ReplicaSet and records ScalingReplicaSet on the Deployment, the watcher keeps both Events in Redis; a pod
 * left is OOM-killed, and the alert says the kills began after the scale-down, by the HPA, with no read
 * of the cluster for it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startBotHarness, type BotHarness } from '../bot/bot-harness.js';
import { successfulRescaleEvent } from '../../sim/kube/build/index.js';

let h: BotHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const MiB = 2 ** 20;

async function scaleApi(b: BotHarness, replicas: number, fieldManager: string): Promise<void> {
  const res = await fetch(`${b.kube.url}/apis/apps/v1/namespaces/shop/deployments/api?fieldManager=${fieldManager}`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/merge-patch+json' },
    body: JSON.stringify({ spec: { replicas } }),
  });
  expect(res.status).toBe(200);
}

describe('an OOM kill after a scale-down', () => {
  it('names the scale-down, its sizes and the HPA, from the kept Events', async () => {
    h = await startBotHarness({ roles: ['watcher', 'worker', 'bot'], replicas: 4 });
    const b = h;
    await expect.poll(async () => (await b.app.http.readiness()).ok, { timeout: 10_000 }).toBe(true);
    const live = () => b.cluster.list('pods', 'shop').filter((p) => p.metadata.name.startsWith('api-') && !p.metadata.deletionTimestamp);
    await expect.poll(() => live().length, { timeout: 5_000 }).toBe(4);
    // The simulator serves no HPAs (oombot never reads them): its Event is all the HPA leaves here.
    b.cluster.recordEvent({
      involved: { kind: 'HorizontalPodAutoscaler', namespace: 'shop', name: 'api', uid: '5c1e4b1a-hpa0-4d2e-9f3a-0a1b2c3d4e5f', apiVersion: 'autoscaling/v2' },
      ...successfulRescaleEvent(2, 'All metrics below target'),
      component: 'horizontal-pod-autoscaler',
    });
    await scaleApi(b, 2, 'kube-controller-manager');
    await expect.poll(() => live().length, { timeout: 5_000 }).toBe(2);
    const scaled = b.cluster
      .list('events', 'shop')
      .find((e) => e.reason === 'ScalingReplicaSet' && /^Scaled down replica set api-[a-z0-9]+ from 4 to 2$/.test(e.message));
    expect(scaled?.involvedObject).toMatchObject({ kind: 'Deployment', name: 'api', namespace: 'shop' });
    expect(scaled?.source).toEqual({ component: 'deployment-controller' });

    const name = live()[0]!.metadata.name as string;
    b.cluster.setUsage('shop', name, 'api', 500 * MiB);
    // Times are to the second: the kill comes in a later second than the scale-down.
    await new Promise((r) => setTimeout(r, 1_100));
    const before = b.kube.requests(() => true).length;
    b.cluster.oomKill('shop', name, 'api', { then: 'running' });
    await b.slack.waitFor(() => b.slack.messagesIn('#alerts').length > 0, 15_000);
    const text = JSON.stringify(b.slack.messagesIn('#alerts').map((m) => [m.text, m.blocks]));
    expect(text).toMatch(
      /Kills began \d+s after Deployment shop\/api was scaled down from 4 to 2 replicas at [^(]+ \(ReplicaSet api-[a-z0-9]+, by the HPA shop\/api: All metrics below target\); no kill on record before it/,
    );
    expect(text).toContain('_(scale events)_');
    // (The simulated pods are seconds old, so the cause here is a start-up spike: the scale-down is evidence, not the advice.)
    // No read of the cluster for it: neither the HPAs nor the Deployment's events nor its scale.
    const reads = b.kube.requests(() => true).slice(before);
    expect(
      reads.filter((r) => /horizontalpodautoscalers|\/scale$/.test(r.path) || (r.path.endsWith('/events') && /Deployment/.test(JSON.stringify(r)))),
    ).toEqual([]);
  });
});
