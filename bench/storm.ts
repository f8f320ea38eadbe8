import { setTimeout as sleep } from 'node:timers/promises';
import type { SimMessage } from '../sim/slack/types.js';
import { AlertGroups } from '../stores/alert-groups.js';
import { earlierLines } from '../handlers/renderers.js';
import { startAlertRig, type AlertRig } from './alert-rig.js';
import { Child } from './child.js';
import type { StormFigures } from './figures.js';
import type { KillTarget, SimKilled } from './procs/sim-protocol.js';
import type { SamplerCommand, SamplerPeak } from './procs/sampler-protocol.js';

const CHANNEL = { id: 'C0ALERTS', name: 'alerts', member: true };
/** Slack's chat.postMessage budget per channel, as the Slack-compatible server enforces it. */
const POSTS_PER_SECOND = 1;
const DRAIN_TIMEOUT_MS = 30 * 60_000;

/** The count a workload's alert shows: "Seen N times" once updated, else 1. */
function shownCount(message: SimMessage): number {
  const fromText = /^\((\d+)×\) /.exec(message.text ?? '');
  if (fromText) return Number(fromText[1]);
  const blocks = JSON.stringify(message.blocks ?? []);
  const fromBlocks = /Seen (\d+) times/.exec(blocks);
  return fromBlocks ? Number(fromBlocks[1]) : 1;
}

/** Repeats a thread reply lists, one line each ("• <when>: pod …"). */
function repeatsListed(reply: SimMessage): number {
  return (reply.text ?? '').split('\n').filter((l) => l.startsWith('• ')).length;
}

/** Waits until every job is done and no repeat waits to be shown; fails after DRAIN_TIMEOUT_MS. */
async function waitForDrain(rig: AlertRig, kills: number): Promise<void> {
  // Only read here: the group window matters to writers alone.
  const groups = new AlertGroups(rig.app.redis, rig.queueName, 0);
  const deadline = Date.now() + DRAIN_TIMEOUT_MS;
  let idleSince: number | undefined;
  for (;;) {
    const c = await rig.app.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'completed', 'failed');
    const busy = (c.waiting ?? 0) + (c.active ?? 0) + (c.delayed ?? 0) + (c.prioritized ?? 0);
    const dirty = await groups.dirtyCount();
    const idle = busy === 0 && dirty === 0;
    idleSince = idle ? (idleSince ?? Date.now()) : undefined;
    // Every kill became a job, or nothing has moved for a while (a kill the watcher never queued).
    if (idleSince !== undefined && ((c.completed ?? 0) + (c.failed ?? 0) >= kills || Date.now() - idleSince > 15_000)) return;
    if (Date.now() > deadline) {
      throw new Error(`storm not drained after ${DRAIN_TIMEOUT_MS / 60_000} min: jobs ${JSON.stringify(c)}, groups with repeats not yet shown: ${dirty}`);
    }
    await sleep(250);
  }
}

/**
 * Storm: `kills` OOM kills spread evenly over `deployments` Deployments within `windowSeconds`, one
 * channel, against a Slack-compatible server enforcing 1 message/s per channel with 429s. Whether
 * alerts were lost is read from Slack itself: each Deployment must have exactly one message whose count
 * equals its kills.
 */
export async function benchStorm(
  opts: { kills: number; deployments: number; windowSeconds: number; backgroundPods: number; redisUrl: string },
  log: (line: string) => void,
): Promise<StormFigures> {
  const { kills, deployments, windowSeconds } = opts;
  const rig = await startAlertRig({
    backgroundPods: opts.backgroundPods,
    namespaces: ['shop'],
    perNamespace: deployments,
    channels: [CHANNEL],
    redisUrl: opts.redisUrl,
    name: 'storm',
  });
  // Open files of this process (oombot's) and its connections to the API server, sampled from outside.
  const sampler = new Child<SamplerCommand>('./procs/fd-sampler.js', [String(process.pid), new URL(rig.cluster.url).port]);
  try {
    // Round after round over all Deployments: a container is killed again every `deployments` kills,
    // seconds apart, so each kill is a termination of its own (its own finishedAt).
    const targets: KillTarget[] = Array.from({ length: kills }, (_, i) => rig.workloads[i % deployments]!);
    const firstLog = rig.logs.apiCalls.length;
    const { killed } = await rig.sim.ask<SimKilled>({ cmd: 'kill', targets, perSecond: kills / windowSeconds }, 'killed', (windowSeconds + 120) * 1000);
    const startedAt = killed[0]?.at ?? Date.now();
    await waitForDrain(rig, kills);
    const { peak } = await sampler.ask<SamplerPeak>({ cmd: 'peak' }, 'peak');

    const calls = rig.slack.calls;
    const changed = calls.filter((c) => c.ok && (c.method === 'chat.postMessage' || c.method === 'chat.update'));
    const lastChange = Math.max(...changed.map((c) => c.at));
    const rateLimitedByMethod: Record<string, number> = {};
    const callsByMethod: Record<string, number> = {};
    for (const c of calls) {
      callsByMethod[c.method] = (callsByMethod[c.method] ?? 0) + 1;
      if (c.status === 429) rateLimitedByMethod[c.method] = (rateLimitedByMethod[c.method] ?? 0) + 1;
    }

    // What Slack shows, per Deployment, against the kills of that Deployment.
    const expected = new Map<string, number>();
    for (const k of killed) expected.set(k.pod, (expected.get(k.pod) ?? 0) + 1);
    const messages = rig.slack.messagesIn(CHANNEL.id);
    let lost = 0;
    let threadRepeats = 0;
    const wrongCounts: string[] = [];
    const duplicated: string[] = [];
    for (const [pod, want] of expected) {
      const name = rig.workloads.find((w) => w.pod === pod)!.container;
      const mine = messages.filter((m) => (m.text ?? '').includes(pod));
      if (mine.length > 1) duplicated.push(name);
      const shown = mine.reduce((sum, m) => sum + shownCount(m), 0);
      if (shown !== want) wrongCounts.push(`${name}: ${shown} of ${want}`);
      lost += Math.max(0, want - shown);
      for (const m of mine) threadRepeats += earlierLines(m.blocks).length + rig.slack.threadOf(CHANNEL.id, m.ts).reduce((sum, r) => sum + repeatsListed(r), 0);
    }

    const fig: StormFigures = {
      kills: killed.length,
      deployments,
      windowSeconds,
      backgroundPods: opts.backgroundPods,
      slackCalls: calls.length,
      posts: calls.filter((c) => c.method === 'chat.postMessage' && c.ok && !c.args.thread_ts).length,
      threadReplies: calls.filter((c) => c.method === 'chat.postMessage' && c.ok && c.args.thread_ts).length,
      updates: calls.filter((c) => c.method === 'chat.update' && c.ok).length,
      rateLimited: calls.filter((c) => c.status === 429).length,
      rateLimitedByMethod,
      callsByMethod,
      drainSeconds: (lastChange - startedAt) / 1000,
      floorSeconds: deployments / POSTS_PER_SECOND,
      lost,
      wrongCounts,
      duplicated,
      threadRepeats,
      kubeCalls: rig.logs.spread(firstLog),
      kubeCallsTotal: rig.logs.apiCalls.slice(firstLog).reduce((a, b) => a + b, 0),
      peakOpenFiles: peak.openFiles,
      peakApiConnections: peak.connections,
      problems: { ...rig.logs.problems },
    };
    log(
      `  ${fig.kills} kills / ${deployments} Deployments: ${messages.length} messages; ${fig.slackCalls} Slack calls (${Object.entries(callsByMethod)
        .map(([m, n]) => `${m} ${n}`)
        .join(', ')}): ${fig.posts} posts, ${fig.threadReplies} thread replies, ${fig.updates} updates, ${fig.rateLimited} answered 429; ` +
        `drained in ${fig.drainSeconds.toFixed(0)} s (floor ${fig.floorSeconds} s, ratio ${(fig.drainSeconds / fig.floorSeconds).toFixed(2)}); lost ${fig.lost}`,
    );
    return fig;
  } finally {
    await sampler.kill();
    await rig.close();
  }
}
