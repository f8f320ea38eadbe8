/**
 * Two worker processes side by side; one is SIGKILLed in the middle of posting to Slack. BullMQ gives
 * its jobs (and the flush it held) to the other worker, which must not post what Slack already has:
 * every incident once, none twice, none lost.
 */
import { describe, expect, it } from 'vitest';
import type { OombotProcess } from './harness.js';
import { isAlertPost, isThreadPost, SlackGate, type GateCall } from './slack-gate.js';
import { CHANNEL, faultSuite, type World } from './world.js';

const { faults, startWorld } = faultSuite();

type Moment = 'request' | 'answer';

/**
 * A watcher and two workers, each worker talking to Slack through its own gate. The first call that
 * matches `when` at `moment` SIGKILLs the worker that made it, right there: at `request` Slack never
 * sees the call, at `answer` Slack has done it but the worker never hears back.
 */
async function twoWorkers(w: World, moment: Moment, when: (call: GateCall) => boolean) {
  const workers: OombotProcess[] = [];
  let victim: OombotProcess | undefined;
  const gate = (index: number) => {
    // Returns false (drop the call) once the caller is dead, so that a killed request never reaches Slack.
    const strike = (call: GateCall, answer?: { body: string }): boolean => {
      if (victim) return victim !== workers[index];
      if (answer && !(JSON.parse(answer.body) as { ok?: boolean }).ok) return true;
      if (!when(call)) return true;
      victim = workers[index];
      void victim?.kill('SIGKILL');
      return false;
    };
    return SlackGate.start(w.slack.url, moment === 'request' ? { request: strike } : { answer: strike });
  };
  const gates = [await gate(0), await gate(1)];
  faults.onCleanup(() => Promise.all(gates.map((g) => g.close())).then(() => undefined));
  const watcher = await faults.spawn('watcher', 'watcher', w.env());
  for (const [i, g] of gates.entries()) workers.push(await faults.spawn(`worker-${'ab'[i]}`, 'worker', w.env({ SLACK_API_URL: g.apiUrl })));
  await Promise.all([watcher.ready(), ...workers.map((p) => p.ready())]);
  return { workers, victim: () => victim };
}

describe('a worker SIGKILLed while posting', () => {
  it('after Slack stored its alert but before the answer came back: the other worker adopts that alert, no duplicate', { timeout: 60_000 }, async () => {
    const w = await startWorld({ workloads: 6, replicas: 2 });
    let alerts = 0;
    const { workers, victim } = await twoWorkers(w, 'answer', (call) => isAlertPost(call) && ++alerts === 2);
    const pods = w.pods().map((p) => p.name);
    await w.burst(pods);

    await w.settled(40_000);
    w.expectEachIncidentOnce();
    const dead = victim();
    expect(dead).toBeDefined();
    expect(dead!.running).toBe(false);
    const survivor = workers.find((p) => p !== dead)!;
    expect(survivor.logged('alert already in Slack from an earlier attempt').length).toBeGreaterThanOrEqual(1);
  });

  it('before its alert reached Slack: the other worker looks, finds nothing and posts it once', { timeout: 60_000 }, async () => {
    const w = await startWorld({ workloads: 6, replicas: 2 });
    const { victim } = await twoWorkers(w, 'request', (call) => isAlertPost(call));
    await w.burst(w.pods().map((p) => p.name));

    await w.settled(40_000);
    w.expectEachIncidentOnce();
    expect(victim()?.running).toBe(false);
    // The retry looked in the channel's history before posting.
    expect(w.slack.callsTo('conversations.history').length).toBeGreaterThan(0);
  });

  it('after Slack stored a thread reply of repeats: the other worker finishes the flush, the reply once', { timeout: 60_000 }, async () => {
    const w = await startWorld({ workloads: 2, replicas: 6 });
    const { workers, victim } = await twoWorkers(w, 'answer', (call) => isThreadPost(call));
    const pods = w.pods();
    // Each workload's alert first (its pods run on two nodes), then repeats: those on the other node are news for the thread.
    const firsts = [...new Set(pods.map((p) => p.workload))].map((workload) => pods.find((p) => p.workload === workload)!.name);
    await w.burst(firsts);
    await w.settled(40_000);
    await w.burst(pods.map((p) => p.name).filter((name) => !firsts.includes(name)));
    await w.settled(40_000);
    const dead = victim();
    expect(dead?.running).toBe(false);
    // More repeats after the crash are counted on the alerts; they bring nothing new, so no more replies.
    await w.burst(pods.map((p) => p.name));

    await w.settled(40_000);
    w.expectEachIncidentOnce();
    const survivor = workers.find((p) => p !== dead)!;
    expect(survivor.logged('thread reply already in Slack from an earlier flush').length).toBeGreaterThanOrEqual(1);
    for (const alert of w.delivered().alerts) expect(w.slack.threadOf(CHANNEL, alert.ts).length).toBeLessThanOrEqual(1);
  });
});
