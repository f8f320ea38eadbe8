/**
 * History from the first look: a pod whose status already shows OOM kills when oombot starts for the
 * first time is history, not an alert; the next kill is alerted once and counts the earlier ones.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../sim/kube/index.js';
import { IncidentHistory } from '../../stores/incident-history.js';
import { startBotHarness, type BotHarness } from '../bot/bot-harness.js';

let h: BotHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const MIN = 60_000;

describe('a first start with kills already in pod status', () => {
  it('records them (and an eviction in status) as history, no message; the next kill is one message citing them and the cadence', async () => {
    // The pod started 2 h 5 min ago and was OOM-killed after about 31 min, three times, before oombot ran.
    const clock = new ManualClock(Date.now() - 125 * MIN);
    let pod = '';
    h = await startBotHarness({
      roles: ['watcher', 'worker', 'bot'],
      replicas: 2,
      clock,
      prepare(cluster) {
        const [first, second] = cluster.list('pods', 'shop').map((p) => p.metadata.name as string);
        pod = first!;
        for (let kill = 0; kill < 3; kill++) {
          clock.advance(31 * MIN);
          cluster.oomKill('shop', pod, 'api', { then: 'running' });
          // The other replica was evicted for memory an hour ago; its Failed pod is still there.
          if (kill === 1) cluster.evict('shop', second!, { containers: [{ name: 'api', usage: '600Mi', request: '256Mi' }] });
        }
      },
    });
    const b = h;
    await expect.poll(async () => (await b.app.http.readiness()).ok, { timeout: 10_000 }).toBe(true);
    const history = new IncidentHistory(b.app.redis, b.queueName, 3600_000);
    // The third kill is still in lastState, the eviction in the evicted pod's status: recorded as history,
    // with the workload an alert would have.
    await expect.poll(async () => (await history.forWorkload('sim', 'shop', 'Deployment/api')).length, { timeout: 5_000 }).toBe(2);
    const recorded = await history.forWorkload('sim', 'shop', 'Deployment/api');
    expect(recorded.find((r) => r.kind === 'container-oom')).toMatchObject({ container: 'api', pod, restartCount: 3, exitCode: 137, fromStatus: true });
    expect(recorded.find((r) => r.kind === 'evicted')).toMatchObject({ fromStatus: true, workload: 'Deployment/api' });
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await b.app.queue.getJobCounts('completed', 'waiting', 'active', 'delayed')).toEqual({ completed: 0, waiting: 0, active: 0, delayed: 0 });
    expect(b.slack.messagesIn('#alerts')).toHaveLength(0);

    // The fourth kill, 31 min after the third, now.
    clock.set(Date.now());
    b.cluster.oomKill('shop', pod, 'api', { then: 'running' });
    await expect.poll(async () => (await b.app.queue.getJobCounts('completed')).completed ?? 0, { timeout: 15_000 }).toBe(1);
    await b.slack.waitFor(() => b.slack.messagesIn('#alerts').length > 0, 5_000);
    await new Promise((r) => setTimeout(r, 1_000));
    const alerts = b.slack.messagesIn('#alerts');
    expect(alerts).toHaveLength(1);
    const text = JSON.stringify([alerts[0]!.text, alerts[0]!.blocks]);
    expect(text).toMatch(/suspected memory leak/);
    expect(text).toMatch(
      /4th restart of api in 2h \d+m since the pod started, each run about 31m; this one lasted 3\dm( \d+s)?; it and an earlier run on record ended in OOM kills/,
    );
    expect(await history.forWorkload('sim', 'shop', 'Deployment/api')).toHaveLength(3);
  });
});
