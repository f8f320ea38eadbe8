import { setTimeout as sleep } from 'node:timers/promises';
import type { RecordedCall } from '../sim/slack/types.js';
import { startAlertRig } from './alert-rig.js';
import { isAlert, percentile } from './alert-times.js';
import type { HeadOfLineFigures } from './figures.js';
import type { KillRecord, KillTarget, SimKilled } from './procs/sim-protocol.js';

const CHANNEL = { id: 'C0ALERTS', name: 'alerts', member: true };

/** Time from each kill to its workload's first alert in Slack (the alert names the pod). */
function timesToSlack(calls: RecordedCall[], killed: KillRecord[]): number[] {
  const alerts = calls.filter(isAlert);
  const out: number[] = [];
  for (const k of killed) {
    const alert = alerts.find((c) => String(c.args.text ?? '').includes(k.pod));
    out.push(alert ? alert.at - k.at : Number.POSITIVE_INFINITY);
  }
  return out.sort((a, b) => a - b);
}

/**
 * Head-of-line: a few Deployments storm (pods on many nodes killed again and again: updates of their
 * alerts, thread replies for each new node) while unrelated Deployments, each killed once, alert into
 * the same channel. Their time to Slack is measured during the storm and, as the baseline in the same
 * run, in the quiet channel before it.
 */
export async function benchHeadOfLine(
  opts: {
    stormDeployments: number;
    replicas: number;
    stormPerSecond: number;
    stormSeconds: number;
    unrelated: number;
    quiet: number;
    backgroundPods: number;
    redisUrl: string;
  },
  log: (line: string) => void,
): Promise<HeadOfLineFigures> {
  const rig = await startAlertRig({
    backgroundPods: opts.backgroundPods,
    namespaces: ['quiet'],
    perNamespace: opts.unrelated + opts.quiet,
    more: { namespaces: ['storm'], perNamespace: opts.stormDeployments, replicas: opts.replicas },
    channels: [CHANNEL],
    redisUrl: opts.redisUrl,
    name: 'hol',
  });
  try {
    const quietTargets = rig.workloads.slice(0, opts.quiet);
    const unrelatedTargets = rig.workloads.slice(opts.quiet);
    // Baseline: unrelated kills in a quiet channel, one every 2 s.
    const quiet = await rig.sim.ask<SimKilled>({ cmd: 'kill', targets: quietTargets, perSecond: 0.5 }, 'killed', (opts.quiet * 2 + 120) * 1000);
    await sleep(3_000);
    const callsBefore = rig.slack.calls.length;

    // The storm: every storm pod in turn, `stormPerSecond` kills a second; an unrelated kill spread
    // evenly among them from 5 s in (after the storming workloads' own first alerts).
    const total = opts.stormPerSecond * opts.stormSeconds;
    const storm = rig.moreWorkloads;
    const schedule: KillTarget[] = [];
    const firstUnrelated = opts.stormPerSecond * 5;
    const every = Math.floor((total - firstUnrelated) / opts.unrelated);
    let u = 0;
    for (let i = 0, s = 0; i < total; i++) {
      if (u < unrelatedTargets.length && i >= firstUnrelated && (i - firstUnrelated) % every === 0) schedule.push(unrelatedTargets[u++]!);
      else schedule.push(storm[s++ % storm.length]!);
    }
    const { killed } = await rig.sim.ask<SimKilled>(
      { cmd: 'kill', targets: schedule, perSecond: opts.stormPerSecond },
      'killed',
      (opts.stormSeconds + 120) * 1000,
    );
    const unrelatedPods = new Set(unrelatedTargets.map((t) => t.pod));
    const unrelatedKills = killed.filter((k) => unrelatedPods.has(k.pod));
    await rig.slack.waitFor(() => timesToSlack(rig.slack.calls, unrelatedKills).every(Number.isFinite) || undefined, 120_000).catch(() => undefined);
    const during = rig.slack.calls.slice(callsBefore);
    const stormPods = new Set(storm.map((t) => t.pod));
    const stormCalls = during.filter((c) => {
      if (c.method === 'chat.update') return true;
      return c.method === 'chat.postMessage' && Boolean(c.args.thread_ts);
    });
    const quietTimes = timesToSlack(rig.slack.calls, quiet.killed);
    const stormTimes = timesToSlack(rig.slack.calls, unrelatedKills);
    const fig: HeadOfLineFigures = {
      stormDeployments: opts.stormDeployments,
      replicas: opts.replicas,
      stormKills: killed.length - unrelatedKills.length,
      stormSeconds: opts.stormSeconds,
      unrelated: unrelatedKills.length,
      delivered: stormTimes.filter(Number.isFinite).length,
      quiet: { p50Ms: percentile(quietTimes, 50), p99Ms: percentile(quietTimes, 99), maxMs: quietTimes.at(-1) ?? NaN },
      storm: { p50Ms: percentile(stormTimes, 50), p99Ms: percentile(stormTimes, 99), maxMs: stormTimes.at(-1) ?? NaN },
      stormUpdates: stormCalls.filter((c) => c.method === 'chat.update' && c.ok).length,
      stormThreadReplies: stormCalls.filter((c) => c.method === 'chat.postMessage' && c.ok).length,
      stormAlerts: during.filter(
        (c) => c.method === 'chat.postMessage' && c.ok && !c.args.thread_ts && [...stormPods].some((p) => String(c.args.text).includes(p)),
      ).length,
      rateLimited: during.filter((c) => c.status === 429).length,
    };
    log(
      `  ${fig.unrelated} unrelated kills during a storm of ${fig.stormKills} kills of ${fig.stormDeployments} Deployments (${fig.stormAlerts} alerts, ${fig.stormUpdates} updates, ${fig.stormThreadReplies} thread replies, ${fig.rateLimited} answered 429): ` +
        `time to Slack p50 ${fig.storm.p50Ms.toFixed(0)} ms, p99 ${fig.storm.p99Ms.toFixed(0)} ms, max ${fig.storm.maxMs.toFixed(0)} ms; in the quiet channel before it p50 ${fig.quiet.p50Ms.toFixed(0)} ms, p99 ${fig.quiet.p99Ms.toFixed(0)} ms`,
    );
    return fig;
  } finally {
    await rig.close();
  }
}
