/**
 * One incident, one message: when the kernel's global OOM killer picks a container, the node's SystemOOM
 * event and the container's OOMKilled status are one alert about the node OOM that names the victim,
 * whichever reaches the worker first. A SystemOOM whose victim is another process stays its own alert.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startBotHarness, type BotHarness } from '../bot/bot-harness.js';

let h: BotHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const MiB = 2 ** 20;

async function settle(b: BotHarness, jobs: number): Promise<void> {
  await expect.poll(async () => (await b.app.queue.getJobCounts('completed')).completed ?? 0, { timeout: 15_000 }).toBeGreaterThanOrEqual(jobs);
  await b.slack.waitFor(() => b.slack.calls.length > 0, 5_000);
  await new Promise((r) => setTimeout(r, 1_500));
}

/**
 * A container at 200Mi of its 512Mi killed while its node records a SystemOOM naming `process`; returns
 * the node. Waits until both incidents are handled.
 */
async function killInNodeOom(process: string, pid: number): Promise<string> {
  h = await startBotHarness({ roles: ['watcher', 'worker', 'bot'] });
  const b = h;
  await expect.poll(async () => (await b.app.http.readiness()).ok, { timeout: 10_000 }).toBe(true);
  const pod = b.cluster
    .list('pods', 'shop')
    .map((p) => p.metadata.name as string)
    .sort()[0]!;
  const node = b.cluster.get('pods', 'shop', pod)!.spec.nodeName as string;
  b.cluster.setUsage('shop', pod, 'api', 200 * MiB);
  b.cluster.systemOom(node, { process, pid });
  b.cluster.oomKill('shop', pod, 'api', { startedAt: new Date(Date.now() - 3600_000).toISOString() });
  await settle(b, 2);
  return node;
}

describe('a node OOM that killed a container', () => {
  it('is one alert, naming the node OOM and its victim', async () => {
    // The kernel records the global OOM on the node, and the victim is this container's process.
    const node = await killInNodeOom('api', 4242);
    const alerts = h!.slack.messagesIn('#alerts');
    expect(alerts, alerts.map((a) => a.text).join(' | ')).toHaveLength(1);
    const everything = JSON.stringify(h!.slack.messages.map((m) => [m.text, m.blocks]));
    expect(everything).toContain(node);
    expect(everything).toMatch(/api/);
  });

  it('a SystemOOM whose victim is another process stays its own alert beside the container kill', async () => {
    await killInNodeOom('convert', 5151);
    expect(h!.slack.messagesIn('#alerts')).toHaveLength(2);
  });
});
