/**
 * Whole watcher processes under faults: SIGKILL in the middle of a burst, and two replicas side by side.
 * Slack must show every OOM kill once: none twice, none lost.
 */
import { describe, expect, it } from 'vitest';
import { until } from './harness.js';
import { faultSuite } from './world.js';

const { faults, startWorld } = faultSuite();

describe('watcher processes under faults', () => {
  it('a watcher SIGKILLed in the middle of a burst and restarted: every kill alerted once', { timeout: 60_000 }, async () => {
    const w = await startWorld({ workloads: 4, replicas: 5 });
    const env = w.env();
    const first = await faults.spawn('watcher-1', 'watcher', env);
    let watcher = first;
    const worker = await faults.spawn('worker', 'worker', env);
    await Promise.all([watcher.ready(), worker.ready()]);
    const pods = w.pods().map((p) => p.name);

    // Round one: half-way through, once it has queued a few kills, the watcher dies while kills keep
    // coming; a new one starts at once and must pick up what the dead one had not queued, and what
    // happened meanwhile.
    const middle = Math.floor(pods.length / 2);
    await w.burst(pods, {
      between: async (i) => {
        if (i !== middle) return;
        await until('the watcher to queue a few kills', async () => (await w.queued()) >= 6);
        await watcher.kill('SIGKILL');
        watcher = await faults.spawn('watcher-2', 'watcher', env);
      },
    });
    expect(first.running).toBe(false);
    await watcher.ready();
    // Round two, with the restarted watcher.
    await w.burst(pods);

    await w.settled();
    w.expectEachIncidentOnce();
    // Each watcher queued part of them: the restarted one those the first never got to.
    expect(first.logged('incident queued').length).toBeGreaterThanOrEqual(6);
    expect(watcher.logged('incident queued').length).toBeGreaterThan(0);
  });

  it('two watcher replicas side by side through a burst: each kill queued once, alerted once', { timeout: 60_000 }, async () => {
    const w = await startWorld({ workloads: 4, replicas: 5 });
    const a = await faults.spawn('watcher-a', 'watcher', w.env({ LOG_LEVEL: 'debug' }));
    const b = await faults.spawn('watcher-b', 'watcher', w.env({ LOG_LEVEL: 'debug' }));
    const worker = await faults.spawn('worker', 'worker', w.env());
    await Promise.all([a.ready(), b.ready(), worker.ready()]);
    const pods = w.pods().map((p) => p.name);
    await w.burst(pods);
    await w.burst(pods);

    await w.settled();
    w.expectEachIncidentOnce();
    // Both replicas saw every kill; between them, each was queued exactly once.
    const handled = (p: typeof a) => p.logged('incident queued').length + p.logged('incident already queued').length;
    await until('both replicas to have handled every kill', () => handled(a) === w.kills.length && handled(b) === w.kills.length, 10_000);
    expect(a.logged('incident queued').length + b.logged('incident queued').length).toBe(w.kills.length);
  });
});
