/**
 * A scale-down that came before the kills: fewer replicas share the load, so each pod takes more. Said
 * only when the evidence says so: the scale-down of the pod's own ReplicaSet came before the first kill of
 * this run, and no kill of the workload is on record before it. It makes a load-related cause more likely;
 * it does not prove it, so it raises a low confidence in "limit too low" to medium, never to high.
 */
import { formatDuration, formatTime, oneLine } from '../../core/format.js';
import type { Diagnosis, Evidence } from '../diagnosis.js';
import type { ScaleDown } from '../enriched.js';
import { secondsBeforeFirstKill, type Ctx } from './context.js';

export interface ScaleDownSignal {
  scaleDown: ScaleDown;
  /** Seconds from the scale-down to the first kill after it. */
  beforeFirstKill: number;
  evidence: Evidence;
}

export function scaleDownBeforeKills(ctx: Ctx): ScaleDownSignal | undefined {
  const s = ctx.e.scaleDown;
  if (!s) return undefined;
  // Only a real reduction: the record must show fewer replicas than before (or say "down" without "from").
  if (s.from !== undefined && s.from <= s.to) return undefined;
  // A kill before the scale-down: it was killed with more replicas too.
  const beforeFirstKill = secondsBeforeFirstKill(ctx, s.at);
  if (beforeFirstKill === undefined) return undefined;
  const ns = ctx.namespace;
  const size = s.from !== undefined ? `from ${s.from} to ${s.to}` : `to ${s.to}`;
  const replicas = s.to === 1 ? 'replica' : 'replicas';
  const who = s.hpa ? `, by the HPA ${ns}/${oneLine(s.hpa.name, 100)}: ${oneLine(s.hpa.reason, 160)}` : s.by ? `, by ${oneLine(s.by.manager, 100)}` : '';
  const text =
    `Kills began ${formatDuration(beforeFirstKill)} after ${s.workloadKind} ${ns}/${s.workloadName} was scaled down ${size} ${replicas}` +
    ` at ${formatTime(s.at)} (ReplicaSet ${s.replicaSet}${who}); no kill on record before it`;
  return { scaleDown: s, beforeFirstKill, evidence: { text, source: 'scale events' } };
}

/** The diagnosis with the scale-down that came before the kills, when there is one. */
export function withScaleDown(ctx: Ctx, d: Diagnosis): Diagnosis {
  const signal = scaleDownBeforeKills(ctx);
  if (!signal) return d;
  const s = signal.scaleDown;
  const out: Diagnosis = { ...d, evidence: [...d.evidence, signal.evidence] };
  if (d.cause !== 'limit-too-low') return out;
  if (d.confidence === 'low') out.confidence = 'medium';
  const back = s.from !== undefined ? ` to ${s.from}` : '';
  const how = s.hpa
    ? `raise the HPA's minReplicas, or give it a memory metric, so the load per pod stays within the limit`
    : `scale it back up${back}, or raise the limit for the load each pod now carries`;
  out.advice = [`Fewer replicas share the load since the scale-down, so each pod takes more: ${how}.`, ...d.advice];
  return out;
}
