/**
 * A main-process OOM kill (OOMKilled + 137). Rule 1 asks whether the container reached its own limit
 * at all; rules 2-6 explain why it did. The first rule that applies decides.
 */
import { formatDuration, timeMs } from '../../core/format.js';
import { formatMemoryApprox } from '../../core/quantity.js';
import { analyseRuntime, type RuntimeAnalysis } from '../analyse-runtime.js';
import type { Confidence, Diagnosis, Evidence } from '../diagnosis.js';
import { STARTUP_SECONDS, lowerIfGone, result, withLimitProposal, type Ctx } from './context.js';
import { withChange } from './change.js';
import { detectLeak, earlierKillCount } from './leak.js';
import { killedInNodeOom, limitUnknown, noLimit, nodeRanOut, underLimit } from './not-own-limit.js';
import { readOomKill, type AtLimit } from './oom-kill.js';
import { runtimeEvidence, runtimeHeap } from './runtime-heap.js';
import { vpaIsActive } from './vpa.js';

export function diagnoseContainerOom(ctx: Ctx): Diagnosis {
  return withChange(ctx, decide(ctx));
}

function decide(ctx: Ctx): Diagnosis {
  const kill = readOomKill(ctx);
  // 1. Not the container's own limit: the kernel log says so, or the spec and the node do.
  const global = killedInNodeOom(kill);
  if (global) return global;
  if (ctx.limitKnownAbsent) return noLimit(kill);
  if (ctx.limitBytes === undefined) return limitUnknown(kill);
  const atLimit: AtLimit = { ...kill, limitBytes: ctx.limitBytes };
  return underLimit(atLimit) ?? nodeRanOut(atLimit) ?? ownLimit(atLimit);
}

/** Rules 2-6: the container reached its own limit; why. */
function ownLimit(kill: AtLimit): Diagnosis {
  const { ctx, name, base, logs, limitBytes } = kill;
  const runtime = analyseRuntime(ctx.container?.runtimeMemorySettings ?? [], limitBytes, ctx.limitText, ctx.container?.image);

  // 2. A runtime flag alone explains it.
  if (runtime.strong.length > 0) {
    return runtimeHeap(
      ctx,
      runtime,
      'high',
      `${name} was OOM-killed at its ${ctx.limitText} limit because its runtime is allowed to use that much or more: ${runtime.strong[0]?.text}.`,
      [...base, ...runtimeEvidence(runtime, 'all'), ...logs],
    );
  }

  // 3. Leak.
  const leak = detectLeak(ctx);
  if (leak) {
    return result(
      ctx,
      'memory-leak',
      lowerIfGone(ctx, leak.confidence),
      `${name} keeps running out of memory the same way: a memory leak is likely, and a higher limit would only delay the next kill.`,
      [...base, ...leak.evidence, ...logs],
      [
        'Profile the memory growth: a heap dump (JVM: jcmd GC.heap_dump), pprof (Go), --inspect / heap snapshots (Node.js), tracemalloc (Python).',
        'Compare the version deployed when the kills started with the one before.',
        'Until it is fixed, a scheduled restart before the usual uptime is a stop-gap, not a fix.',
        ...runtime.hints,
      ],
      { raisingIsWrongFix: 'Memory grows until the kill whatever the limit: raising it only moves the kill later. Find the leak first.' },
    );
  }

  // 4. Start-up spike.
  if (ctx.uptimeSeconds !== undefined && ctx.uptimeSeconds <= STARTUP_SECONDS) return startupSpike(kill, runtime, ctx.uptimeSeconds);

  // 5. Flags that leave too little room.
  if (runtime.weak.length > 0) {
    const why = runtime.weak[0]?.headline ?? 'its runtime flags leave little room outside the heap';
    return runtimeHeap(ctx, runtime, 'medium', `${name} was OOM-killed at its ${ctx.limitText} limit; ${why}.`, [
      ...base,
      ...runtimeEvidence(runtime, 'weak'),
      ...logs,
    ]);
  }

  // 6. The limit is too low for the load.
  return limitTooLow(kill, runtime);
}

/** The sampled working set of a run that was killed soon after it started: how fast it reached its peak. */
function startupCurve(ctx: Ctx): Evidence | undefined {
  const started = timeMs(ctx.incident.termination?.startedAt);
  const samples = (ctx.e.usageSamples ?? []).filter((s) => Number.isFinite(s.workingSetBytes));
  if (started === undefined || samples.length === 0) return undefined;
  const peak = samples.reduce((a, b) => (b.workingSetBytes > a.workingSetBytes ? b : a));
  const after = ((timeMs(peak.at) ?? started) - started) / 1000;
  if (after < 0 || after > STARTUP_SECONDS) return undefined;
  const share = ctx.limitBytes ? ` (${Math.round((peak.workingSetBytes / ctx.limitBytes) * 100)}% of the limit)` : '';
  return { text: `Working set reached ${formatMemoryApprox(peak.workingSetBytes)}${share} ${formatDuration(after)} after the start`, source: 'metrics' };
}

function startupSpike({ ctx, name, base, logs }: AtLimit, runtime: RuntimeAnalysis, uptimeSeconds: number): Diagnosis {
  const curve = startupCurve(ctx);
  const startEvidence = [...base, ...(curve ? [curve] : []), ...runtimeEvidence(runtime, 'all')];
  if (runtime.weak.length > 0) {
    return runtimeHeap(
      ctx,
      runtime,
      'medium',
      `${name} was OOM-killed ${formatDuration(uptimeSeconds)} after starting, and its runtime flags leave too little room under the ${ctx.limitText} limit.`,
      [...startEvidence, ...logs],
    );
  }
  return result(
    ctx,
    'startup-spike',
    lowerIfGone(ctx, 'medium'),
    `${name} was OOM-killed ${formatDuration(uptimeSeconds)} after starting: its start-up needs more than the ${ctx.limitText} limit.`,
    [...startEvidence, ...logs],
    [
      'Check what the start-up loads (caches, models, class loading, migrations) and the runtime heap flags.',
      'Raise the limit to cover the start-up peak, or make the start-up lighter.',
      ...runtime.hints,
    ],
    withLimitProposal(ctx),
  );
}

function limitTooLow({ ctx, name, base, node, logs, limitBytes }: AtLimit, runtime: RuntimeAnalysis): Diagnosis {
  const earlier = earlierKillCount(ctx);
  const evidence = [...base, ...node.evidence, ...logs];
  if (earlier > 0)
    evidence.push({ text: `${earlier} earlier OOM kill${earlier === 1 ? '' : 's'} of ${name} recorded, at varying uptimes`, source: 'previous incidents' });
  const near = (ctx.usageAtKill ?? ctx.usageNow?.bytes ?? 0) >= limitBytes * 0.85;
  let confidence: Confidence = near ? 'high' : 'medium';
  confidence = lowerIfGone(ctx, confidence);
  const nodeSideAdvice = node.overcommitted
    ? ['The node is also overcommitted: consider requests = limits for this workload so the scheduler reserves what it uses.']
    : [];
  return result(
    ctx,
    'limit-too-low',
    confidence,
    `${name} used all of its ${ctx.limitText} memory limit and was OOM-killed: the limit is too low for its load.`,
    evidence,
    [...raiseAdvice(ctx), ...nodeSideAdvice, ...runtime.hints],
    withLimitProposal(ctx),
  );
}

/** Raising the template is the advice unless a VPA rewrites it (its own advice then says what to change). */
function raiseAdvice(ctx: Ctx): string[] {
  if (ctx.e.vpa && vpaIsActive(ctx.e.vpa)) return [];
  return ['Raise the memory limit (and the request with it, so the scheduler reserves what it uses).'];
}
