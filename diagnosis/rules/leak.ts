/**
 * Rule 3 of a container OOM kill: a suspected leak. Kills that repeat after similar uptimes, or a
 * working set that climbs steadily until the kill, mean a higher limit would only delay the next one.
 */
import { formatMemoryApprox } from '../../core/quantity.js';
import { formatDuration, formatTime, secondsBetween } from '../../core/format.js';
import type { Confidence, Evidence } from '../diagnosis.js';
import { isPodPresent } from '../enriched.js';
import { LEAK_MIN_UPTIME_SECONDS, LEAK_UPTIME_RATIO, type Ctx } from './context.js';

export interface LeakSignal {
  evidence: Evidence[];
  confidence: Confidence;
}

export function detectLeak(ctx: Ctx): LeakSignal | undefined {
  const repeats = similarUptimes(ctx) ?? restartCadence(ctx);
  const climb = steadyClimb(ctx);
  const evidence = [repeats?.evidence, climb].filter((e): e is Evidence => e !== undefined);
  if (repeats) return { evidence, confidence: repeats.tight || climb ? 'high' : 'medium' };
  if (climb && earlierKillCount(ctx) >= 1) return { evidence, confidence: 'medium' };
  return undefined;
}

/** Three or more kills, each after a long run, with uptimes close together; tight when four or more are closer still. */
function similarUptimes(ctx: Ctx): { evidence: Evidence; tight: boolean } | undefined {
  const uptimes = killUptimes(ctx);
  if (uptimes.length < 3 || !uptimes.every((u) => u >= LEAK_MIN_UPTIME_SECONDS)) return undefined;
  const min = Math.min(...uptimes);
  const max = Math.max(...uptimes);
  if (max / min > LEAK_UPTIME_RATIO) return undefined;
  return {
    tight: uptimes.length >= 4 && max / min <= 1.25,
    evidence: {
      text: `${uptimes.length} OOM kills of ${ctx.containerName} after similar uptimes: ${uptimes.slice(-6).map(formatDuration).join(', ')}`,
      source: 'previous incidents',
    },
  };
}

/**
 * The same cadence from the pod alone, for an oombot that has just started and has little history: the
 * restart count and the pod's start time give the average run, and this run's uptime matches it. The
 * earlier restarts are not known to be OOM kills, so this is not tight on its own; it is when earlier runs
 * of this pod are on record as OOM kills of this container after similar uptimes (a first look records the
 * kill its status still shows).
 */
function restartCadence(ctx: Ctx): { evidence: Evidence; tight: boolean } | undefined {
  const t = ctx.incident.termination;
  const runs = t ? t.restartCount : 0;
  const podStart = isPodPresent(ctx.e.pod) ? ctx.e.pod.startedAt : undefined;
  const since = secondsBetween(podStart, ctx.incident.occurredAt);
  if (runs < 3 || since === undefined || ctx.uptimeSeconds === undefined || ctx.uptimeSeconds < LEAK_MIN_UPTIME_SECONDS) return undefined;
  const average = since / runs;
  const similar = (seconds: number) => Math.max(average, seconds) / Math.min(average, seconds) <= LEAK_UPTIME_RATIO;
  if (average < LEAK_MIN_UPTIME_SECONDS || !similar(ctx.uptimeSeconds)) return undefined;
  const podStartMs = Date.parse(podStart ?? '');
  const recorded = earlierKills(ctx)
    .filter((p) => Date.parse(p.occurredAt) >= podStartMs)
    .map((p) => ({ at: p.finishedAt ?? p.occurredAt, uptime: secondsBetween(p.startedAt, p.finishedAt) }))
    .filter((p): p is { at: string; uptime: number } => p.uptime !== undefined && p.uptime >= LEAK_MIN_UPTIME_SECONDS && similar(p.uptime));
  if (recorded.length > 0) {
    const onRecord = recorded
      .slice(-3)
      .map((p) => `${formatTime(p.at)} after ${formatDuration(p.uptime)}`)
      .join(', ');
    return {
      tight: true,
      evidence: {
        text: `${ordinal(runs)} restart of ${ctx.containerName} in ${formatDuration(since)} since the pod started, each run about ${formatDuration(roughly(average))}; this one lasted ${formatDuration(ctx.uptimeSeconds)}; it and ${recorded.length === 1 ? 'an earlier run' : `${recorded.length} earlier runs`} on record ended in OOM kills (${onRecord})`,
        source: 'previous incidents',
      },
    };
  }
  return {
    tight: false,
    evidence: {
      text: `Restart ${runs} of ${ctx.containerName} in ${formatDuration(since)} since the pod started, about one every ${formatDuration(roughly(average))}; this run lasted ${formatDuration(ctx.uptimeSeconds)}`,
      source: 'pod status',
    },
  };
}

/** An average to the minute once it is ten minutes or more: "about 31m", not "about 31m 10s". */
function roughly(seconds: number): number {
  return seconds >= 600 ? Math.round(seconds / 60) * 60 : seconds;
}

/** 1st, 2nd, 3rd, 4th, 11th, 21st. */
function ordinal(n: number): string {
  const tens = n % 100;
  const suffix = tens >= 11 && tens <= 13 ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th');
  return `${n}${suffix}`;
}

/** A working set that never fell by more than 2% between samples and grew by 30% or more over a long run. */
function steadyClimb(ctx: Ctx): Evidence | undefined {
  const samples = (ctx.e.usageSamples ?? []).filter((s) => Number.isFinite(s.workingSetBytes));
  const first = samples[0];
  const lastSample = samples[samples.length - 1];
  if (samples.length < 4 || !first || !lastSample) return undefined;
  const span = secondsBetween(first.at, lastSample.at);
  const steady = samples.every((s, i) => i === 0 || s.workingSetBytes >= (samples[i - 1]?.workingSetBytes ?? 0) * 0.98);
  if (span === undefined || span < LEAK_MIN_UPTIME_SECONDS || !steady || lastSample.workingSetBytes < first.workingSetBytes * 1.3) return undefined;
  return {
    text: `Working set climbed steadily from ${formatMemoryApprox(first.workingSetBytes)} to ${formatMemoryApprox(lastSample.workingSetBytes)} over ${formatDuration(span)} before the kill`,
    source: 'metrics',
  };
}

/** Uptimes at the kill of earlier OOM kills of the same container, plus this one. */
function killUptimes(ctx: Ctx): number[] {
  const earlier = earlierKills(ctx)
    .map((p) => secondsBetween(p.startedAt, p.finishedAt))
    .filter((s): s is number => s !== undefined);
  return ctx.uptimeSeconds === undefined ? earlier : [...earlier, ctx.uptimeSeconds];
}

export function earlierKillCount(ctx: Ctx): number {
  return earlierKills(ctx).length;
}

/** Earlier OOM kills of the same container (the record of this kill itself excluded). */
function earlierKills(ctx: Ctx) {
  return ctx.e.previousIncidents.filter((p) => p.kind === 'container-oom' && p.container === ctx.containerName && p.occurredAt !== ctx.incident.occurredAt);
}
