/**
 * The change that started it: the kills began after the workload's last rollout. Said only when the
 * evidence says so: the new revision was made before the first kill of this run, and no kill of the
 * workload is on record from before it (else the earlier revision was killed too, and the change is not
 * what started it). A memory limit lowered in that change is a limit cut: a sentence of its own, and
 * "limit too low" is then sure. A scale-down before the kills (fewer replicas share the load) takes the
 * same path (./scale-down.ts).
 */
import { formatDuration, formatTime, oneLine } from '../../core/format.js';
import type { Diagnosis, Evidence } from '../diagnosis.js';
import type { TemplateChange, WorkloadChange } from '../enriched.js';
import { lowerIfGone, secondsBeforeFirstKill, withLimitProposal, type Ctx } from './context.js';
import { isPodPresent } from '../enriched.js';
import { parseMemoryBytes } from '../../core/quantity.js';
import { withScaleDown } from './scale-down.js';

export interface ChangeSignal {
  change: WorkloadChange;
  /** Seconds from the change to the first kill after it. */
  beforeFirstKill: number;
  evidence: Evidence[];
  limitCut?: TemplateChange;
}

const MAX_ITEMS = 6;

export function changeThatStartedIt(ctx: Ctx): ChangeSignal | undefined {
  const change = ctx.e.change;
  if (!change) return undefined;
  // A kill before the change: the previous revision was killed too.
  const beforeFirstKill = secondsBeforeFirstKill(ctx, change.at);
  if (beforeFirstKill === undefined) return undefined;
  const who = change.by ? `, by ${change.by.manager}` : '';
  const what =
    change.changes.length > 0
      ? describeChanges(change.changes, ctx.containerName)
      : 'pod template changed (not its images, memory, env names, command or args)';
  const evidence: Evidence[] = [
    {
      text: `${change.sourceKind} ${ctx.namespace}/${change.sourceName} revision ${change.revision} made ${formatTime(change.at)}, ${formatDuration(beforeFirstKill)} before the first kill${who}: ${what}; no kill on record before it`,
      source: 'rollout history',
    },
  ];
  const limitCut = change.changes.find(
    (c) => c.field === 'memory limit' && c.container === ctx.containerName && c.fromBytes !== undefined && c.toBytes !== undefined && c.toBytes < c.fromBytes,
  );
  if (limitCut) {
    evidence.push({
      text: `The memory limit of ${limitCut.container} was cut from ${limitCut.from} to ${limitCut.to} in revision ${change.revision}`,
      source: 'rollout history',
    });
  }
  return { change, beforeFirstKill, evidence, ...(limitCut ? { limitCut } : {}) };
}

/** The diagnosis with the change that started it, when there is one. Not for a node OOM: the node, not the change, killed it. */
export function withChange(ctx: Ctx, d0: Diagnosis): Diagnosis {
  if (d0.cause === 'node-pressure' || d0.nodeOom) return d0;
  const d = withScaleDown(ctx, withVpaAdmission(ctx, d0));
  const signal = changeThatStartedIt(ctx);
  if (!signal) return d;
  const { change, limitCut } = signal;
  const out: Diagnosis = { ...d, evidence: [...d.evidence, ...signal.evidence] };
  const back = `revision ${change.previousRevision}`;
  if (limitCut && d.cause === 'limit-too-low') {
    out.confidence = lowerIfGone(ctx, 'high');
    out.headline = `${d.headline} Its limit was cut from ${limitCut.from} to ${limitCut.to} ${formatDuration(signal.beforeFirstKill)} before the first kill.`;
    out.advice = [`It ran with ${limitCut.from} in ${back}: restoring that limit is the quickest fix.`, ...d.advice];
    // The proposal starts from the value it ran with (still capped like every proposal).
    if (d.proposal?.target === 'limit' && limitCut.fromBytes !== undefined && limitCut.fromBytes > d.proposal.toLimitBytes) {
      const restored = withLimitProposal(ctx, { bytes: limitCut.fromBytes, reason: `the ${limitCut.from} it ran with in ${back}` });
      if (restored.proposal) out.proposal = restored.proposal;
    }
  } else {
    out.advice = [`The kills began after revision ${change.revision}: compare it with ${back}, or roll back to it.`, ...d.advice];
  }
  return out;
}

/**
 * A VPA that set this pod's memory to a value other than the template's: at admission (its `vpaUpdates`
 * annotation), or in place (InPlaceOrRecreate: the updater's `InPlaceResizedByVPA` Event on the pod, before
 * the kill). The pod runs with what the VPA chose, a change no rollout shows. What the VPA set before is
 * not in any object (its status holds only the current recommendation), so only pod against template is said.
 */
function withVpaAdmission(ctx: Ctx, d: Diagnosis): Diagnosis {
  const pod = isPodPresent(ctx.e.pod) ? ctx.e.pod : undefined;
  const name = ctx.containerName;
  const template = name ? ctx.e.owner?.templateMemory?.[name] : undefined;
  const inPlace = inPlaceResize(ctx);
  const admitted = pod?.vpaUpdates !== undefined && /memory/.test(pod.vpaUpdates);
  if (!pod || !(admitted || inPlace) || !template || !ctx.container) return d;
  const podLimit = ctx.container.limits.memory;
  const podRequest = ctx.container.requests.memory;
  const diffs: string[] = [];
  if (template.limit !== undefined && podLimit && podLimit.text !== template.limit)
    diffs.push(`limit ${podLimit.text} in the pod, ${template.limit} in the template`);
  if (template.request !== undefined && podRequest && podRequest.text !== template.request)
    diffs.push(`request ${podRequest.text} in the pod, ${template.request} in the template`);
  if (diffs.length === 0) return d;
  const lowered = podLimit?.bytes !== undefined && (parseMemoryBytes(template.limit) ?? 0) > podLimit.bytes;
  const evidence: Evidence = inPlace
    ? {
        text: `The VPA updater resized pod ${pod.name} in place at ${formatTime(inPlace.at)}, ${formatDuration(inPlace.beforeKill)} before the kill (${oneLine(inPlace.message, 120)}): ${diffs.join('; ')}`,
        source: 'events',
      }
    : { text: `The VPA rewrote the memory of ${name} when the pod was created (${oneLine(pod.vpaUpdates ?? '', 200)}): ${diffs.join('; ')}`, source: 'vpa' };
  return {
    ...d,
    evidence: [...d.evidence, evidence],
    advice: lowered
      ? [`The VPA gave ${name} a lower memory limit than its template: check its recommendation and set minAllowed (or maxAllowed) for memory.`, ...d.advice]
      : d.advice,
  };
}

/** The VPA updater's latest in-place resize of this pod before the kill (its Event on the pod). */
function inPlaceResize(ctx: Ctx): { at: string; beforeKill: number; message: string } | undefined {
  const kill = Date.parse(ctx.incident.occurredAt);
  let best: { at: string; beforeKill: number; message: string } | undefined;
  for (const e of ctx.e.events) {
    if (e.reason !== 'InPlaceResizedByVPA' || (e.involvedKind !== undefined && e.involvedKind !== 'Pod') || !e.lastTimestamp) continue;
    const at = Date.parse(e.lastTimestamp);
    if (!Number.isFinite(at) || !(at < kill) || (best && Date.parse(best.at) >= at)) continue;
    best = { at: e.lastTimestamp, beforeKill: (kill - at) / 1000, message: e.message };
  }
  return best;
}

function describeChanges(changes: readonly TemplateChange[], killed: string | undefined): string {
  const containers = new Set(changes.map((c) => c.container).filter(Boolean));
  const prefix = (c: TemplateChange) => (c.container && (containers.size > 1 || c.container !== killed) ? `${c.container}: ` : '');
  const items = changes.slice(0, MAX_ITEMS).map((c) => `${prefix(c)}${describe(c)}`);
  if (changes.length > MAX_ITEMS) items.push(`${changes.length - MAX_ITEMS} more`);
  return items.join(', ');
}

function describe(c: TemplateChange): string {
  switch (c.field) {
    case 'image':
      return `image ${oneLine(c.from ?? 'none', 120)} → ${oneLine(c.to ?? 'none', 120)}`;
    case 'memory limit':
    case 'memory request':
      return `${c.field} ${c.from ?? 'none'} → ${c.to ?? 'none'}`;
    case 'env': {
      const parts = [c.to ? `env added ${names(c.to)}` : '', c.from ? `env removed ${names(c.from)}` : ''].filter(Boolean);
      return parts.join(', ');
    }
    case 'command':
    case 'args':
      return `${c.field} changed`;
    case 'added':
      return 'container added';
    case 'removed':
      return 'container removed';
  }
}

/** At most five env names. */
function names(list: string): string {
  const all = list.split(', ');
  return all.length > 5 ? `${all.slice(0, 5).join(', ')} and ${all.length - 5} more` : list;
}
