/**
 * Slack refusing oombot for a while: rate limited (429 with Retry-After) on every call, then failing
 * (503 for everything, then 500s). Alerts wait and arrive afterwards, each once.
 */
import { describe, expect, it } from 'vitest';
import { faultSuite } from './world.js';

const { faults, startWorld } = faultSuite();

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('Slack outage', () => {
  // "A minute" of trouble, shortened to 10 s: 5 s of 429s, then 5 s of 5xx.
  it('Slack answers 429 with Retry-After, then 503s and 500s, for a minute (shortened to 10 s): every alert arrives once after', {
    timeout: 60_000,
  }, async () => {
    const w = await startWorld({ workloads: 4, replicas: 4 });
    const watcher = await faults.spawn('watcher', 'watcher', w.env());
    const worker = await faults.spawn('worker', 'worker', w.env());
    await Promise.all([watcher.ready(), worker.ready()]);
    const pods = w.pods().map((p) => p.name);

    // Every post and update is rate limited, whatever the pace, with Retry-After: 1.
    const refuse = { perSecond: 0.0001, burst: 0, retryAfterSeconds: 1 };
    w.slack.setRateLimit('chat.postMessage', refuse);
    w.slack.setRateLimit('chat.update', refuse);
    await w.burst(pods);
    await sleep(5_000);

    w.slack.setRateLimit('chat.postMessage', { perSecond: 1, burst: 3, retryAfterSeconds: undefined });
    w.slack.setRateLimit('chat.update', { perSecond: 50 / 60, burst: 50, retryAfterSeconds: undefined });
    await w.slack.setDown(true, '503');
    await w.burst(pods);
    await sleep(5_000);
    await w.slack.setDown(false);
    w.slack.failNext('chat.postMessage', 3, { status: 500 });
    w.slack.failNext('chat.update', 1, { status: 500 });

    await w.settled(40_000);
    w.expectEachIncidentOnce();
    expect(w.slack.callsTo('chat.postMessage').filter((c) => c.status === 429).length).toBeGreaterThan(0);
    expect(w.slack.calls.filter((c) => c.status === 500).length).toBeGreaterThan(0);
    expect(worker.logged('Slack rate limit: waiting as asked').length).toBeGreaterThan(0);
    expect(worker.logged('Slack call failed: retrying').length).toBeGreaterThan(0);
  });
});
