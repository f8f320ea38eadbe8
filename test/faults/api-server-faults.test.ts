/**
 * The Kubernetes API server misbehaving under a watcher process in the middle of a burst: watches reset,
 * 410 Gone, a watch that goes silent, the server unreachable. Every kill must still be alerted once.
 */
import { describe, expect, it } from 'vitest';
import { until, type OombotProcess } from './harness.js';
import { faultSuite, type World } from './world.js';

const { faults, startWorld } = faultSuite();

async function start(env: Record<string, string> = {}): Promise<{ w: World; watcher: OombotProcess; worker: OombotProcess; pods: string[] }> {
  const w = await startWorld({ workloads: 3, replicas: 4 });
  const watcher = await faults.spawn('watcher', 'watcher', w.env(env));
  const worker = await faults.spawn('worker', 'worker', w.env(env));
  await Promise.all([watcher.ready(), worker.ready()]);
  return { w, watcher, worker, pods: w.pods().map((p) => p.name) };
}

async function readyz(p: OombotProcess): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${p.port}/readyz`);
  await res.arrayBuffer();
  return res.status;
}

describe('API server faults under a watcher process', () => {
  it('watch connections reset again and again during a burst: resumed from their resourceVersion, nothing lost', { timeout: 60_000 }, async () => {
    const { w, watcher, pods } = await start();
    let dropped = 0;
    const drop = (i: number) => {
      if (i % 3 === 0) dropped += w.kube.dropWatches();
    };
    await w.burst(pods, { everyMs: 100, between: drop });
    await w.burst(pods, { everyMs: 100, between: drop });

    await w.settled();
    w.expectEachIncidentOnce();
    expect(dropped).toBeGreaterThan(0);
    expect(watcher.logged('list/watch failed: retrying').length).toBeGreaterThan(0);
  });

  it('410 Gone after the history was compacted while a watch was away: relisted, nothing lost', { timeout: 60_000 }, async () => {
    const { w, watcher, pods } = await start();
    const half = Math.floor(pods.length / 2);
    await w.burst(pods.slice(0, half));
    // Reset the watches; before they come back (their first retry waits 500 ms) more kills happen and
    // the server forgets its history, so they resume from a resourceVersion it no longer has.
    w.kube.dropWatches();
    for (const pod of pods.slice(half)) w.kill(pod);
    w.cluster.compact();
    await until('the watcher to relist after 410 Gone', () => watcher.logged('410 Gone').length > 0, 10_000);
    await watcher.ready();
    await w.burst(pods);

    await w.settled();
    w.expectEachIncidentOnce();
  });

  it('a watch stalled silently (events no longer delivered) is noticed after OOMBOT_WATCH_SILENCE (2 s) and relisted: nothing lost', {
    timeout: 60_000,
  }, async () => {
    const { w, watcher, pods } = await start({ OOMBOT_WATCH_SILENCE: '2s' });
    const half = Math.floor(pods.length / 2);
    await w.burst(pods.slice(0, half));
    w.kube.stallWatches(true);
    await w.burst(pods.slice(half));
    // Watches stay open and quiet: no events, no bookmarks. The watcher gives up on them and relists.
    await until('the watcher to notice the silence', () => watcher.logged('watch went silent').length > 0, 10_000);
    await until('the kills during the stall to be queued', async () => (await w.queued()) === w.kills.length, 10_000);
    w.kube.stallWatches(false);
    await w.burst(pods);

    await w.settled();
    w.expectEachIncidentOnce();
  });

  it('the API server unreachable for a minute (shortened to 5 s), back on the same port with the same state: readiness false meanwhile, nothing lost', {
    timeout: 60_000,
  }, async () => {
    const { w, watcher, worker, pods } = await start();
    const half = Math.floor(pods.length / 2);
    await w.burst(pods.slice(0, half));
    const port = w.kube.port;
    await w.kube.setUnreachable(true);
    // The cluster lives on while its API server is away.
    await w.burst(pods.slice(half), { everyMs: 100 });
    await until('the watcher to report not ready', async () => (await readyz(watcher)) === 503, 10_000);
    await new Promise((r) => setTimeout(r, 5_000 - (pods.length - half) * 100));
    expect(watcher.running && worker.running).toBe(true);
    await w.kube.setUnreachable(false);
    expect(w.kube.port).toBe(port);
    await watcher.ready(30_000);
    await w.burst(pods);

    await w.settled(40_000);
    w.expectEachIncidentOnce();
  });
});
