/**
 * What every diagnosis rule reads (the incident, its container's limit, request, uptime and usage, the
 * caps on a new value), the thresholds the rules share, and how a rule assembles its answer.
 */
import { parseMemoryBytes } from '../../core/quantity.js';
import { secondsBetween, timeMs } from '../../core/format.js';
import type { Cause, Confidence, Diagnosis, Evidence } from '../diagnosis.js';
import { isPodPresent, type EnrichedIncident, type OwnerChain } from '../enriched.js';
import { proposeLimit, type ProposeLimitInput } from '../propose-limit.js';
import { vpaInsteadOfProposal, vpaNote } from './vpa.js';
import type { Ctx } from './ctx.js';

export type { Ctx } from './ctx.js';

export interface DiagnosePolicy {
  /** OOMBOT_MAX_MEMORY_LIMIT in bytes. */
  maxMemoryLimitBytes?: number;
}

/** Kill within this many seconds of the start: a start-up spike. */
export const STARTUP_SECONDS = 60;
/** A working set under this share of the limit at the kill means the container did not hit its own limit. */
export const UNDER_LIMIT_SHARE = 0.9;
/** Similar uptimes for a leak: longest / shortest at most this. */
export const LEAK_UPTIME_RATIO = 1.5;
export const LEAK_MIN_UPTIME_SECONDS = 600;
/** A usage sample counts as "at the kill" when taken at most this long before it. */
export const AT_KILL_WINDOW_MS = 120_000;
/** A SystemOOM event this close to the kill is taken as the same event. */
export const SYSTEM_OOM_WINDOW_MS = 600_000;

export function buildCtx(e: EnrichedIncident, policy: DiagnosePolicy): Ctx {
  const incident = e.incident;
  const t = incident.termination;
  const pod = isPodPresent(e.pod) ? e.pod : undefined;
  const containerName = t?.container ?? incident.processOom?.container;
  const container = containerName ? [...(pod?.containers ?? []), ...(pod?.initContainers ?? [])].find((c) => c.name === containerName) : undefined;
  const ownLimitText = container?.limits.memory?.text ?? t?.resources?.limits?.memory;
  const requestText = container?.requests.memory?.text ?? t?.resources?.requests?.memory;
  const ownLimitBytes = container?.limits.memory?.bytes ?? parseMemoryBytes(ownLimitText);
  const requestBytes = container?.requests.memory?.bytes ?? parseMemoryBytes(requestText);
  const specKnown = container !== undefined || t?.resources !== undefined;
  const usage = usageOf(e, containerName);
  const podLimitText = pod?.podLimits?.memory?.text;
  const podLimitBytes = pod?.podLimits?.memory?.bytes ?? parseMemoryBytes(podLimitText);
  const podRequestText = pod?.podRequests?.memory?.text;
  const podRequestBytes = pod?.podRequests?.memory?.bytes ?? parseMemoryBytes(podRequestText);
  const qosClass = pod?.qosClass ?? incident.pod?.qosClass;
  const scope = podLimitBytes !== undefined && podLimitBinds(ownLimitBytes, podLimitBytes, usage.usageAtKill) ? 'pod' : 'container';
  const limitText = scope === 'pod' ? podLimitText : ownLimitText;
  return {
    e,
    incident,
    namespace: incident.pod?.namespace ?? pod?.namespace ?? '',
    containerName,
    container,
    limitBytes: scope === 'pod' ? podLimitBytes : ownLimitBytes,
    limitText,
    requestBytes,
    requestText,
    limitKnownAbsent: specKnown && limitText === undefined,
    limitScope: scope,
    podLimitBytes,
    podLimitText,
    ...(podRequestBytes !== undefined ? { podRequestBytes, podRequestText } : {}),
    ...(qosClass ? { qosClass } : {}),
    uptimeSeconds: secondsBetween(t?.startedAt, t?.finishedAt),
    ...usage,
    caps: {
      policyMaxBytes: policy.maxMemoryLimitBytes,
      largestNodeAllocatableBytes: e.largestNodeAllocatableBytes ?? e.node?.allocatableBytes,
      limitRangeMaxBytes: e.limitRange?.maxMemory.bytes ?? parseMemoryBytes(e.limitRange?.maxMemory.text),
    },
    owner: ownerOf(e),
    podGone: e.pod?.gone === true,
  };
}

/**
 * Whether the pod-level limit, not the container's own, is what the kill hit: the container has no limit
 * of its own, or its own is no tighter than the pod's, or it was well under its own at the kill (the sum of
 * the pod's containers then reached the pod-level limit).
 */
function podLimitBinds(ownBytes: number | undefined, podBytes: number, usageAtKill: number | undefined): boolean {
  if (ownBytes === undefined || ownBytes >= podBytes) return true;
  return usageAtKill !== undefined && usageAtKill < ownBytes * UNDER_LIMIT_SHARE;
}

/**
 * The working set at the kill (a sample taken just before it, else the one recorded with the kill), or
 * failing that the latest sample, which only says what the container uses now.
 */
function usageOf(e: EnrichedIncident, containerName: string | undefined): Pick<Ctx, 'usageAtKill' | 'usageNow' | 'usageSampleAgeSeconds'> {
  const incident = e.incident;
  let usageAtKill: number | undefined;
  let usageSampleAgeSeconds: number | undefined;
  let usageNow: Ctx['usageNow'];
  const u = e.usage;
  if (u && u.container === containerName && Number.isFinite(u.containerWorkingSetBytes)) {
    const sampled = timeMs(u.sampledAt);
    const killed = timeMs(incident.occurredAt);
    if (sampled !== undefined && killed !== undefined && sampled <= killed && killed - sampled <= AT_KILL_WINDOW_MS) {
      usageAtKill = u.containerWorkingSetBytes;
      usageSampleAgeSeconds = Math.round((killed - sampled) / 1000);
    } else {
      usageNow = {
        bytes: u.containerWorkingSetBytes,
        afterSeconds: sampled !== undefined && killed !== undefined && sampled > killed ? Math.round((sampled - killed) / 1000) : undefined,
        source: u.source,
      };
    }
  }
  const prev = e.previousIncidents.find((p) => p.occurredAt === incident.occurredAt && p.container === containerName && p.workingSetBytes !== undefined);
  if (usageAtKill === undefined && prev?.workingSetBytes !== undefined) usageAtKill = prev.workingSetBytes;
  return { usageAtKill, usageNow, ...(usageSampleAgeSeconds !== undefined ? { usageSampleAgeSeconds } : {}) };
}

/** The owner chain, with the pod's own GitOps or Helm marker when the top controller has none. */
function ownerOf(e: EnrichedIncident): OwnerChain | undefined {
  const managedBy = e.owner?.managedBy ?? e.incident.pod?.managedBy;
  return e.owner ? { ...e.owner, ...(managedBy ? { managedBy } : {}) } : undefined;
}

// ---------------------------------------------------------------------------------------------------
// Result assembly

export const NODE_ADVICE = [
  'Set requests equal to limits (QoS Guaranteed) for critical pods: they are killed last when the node runs out.',
  'Lower the memory limits of other pods on the node, or spread them out, so the sum of limits fits allocatable memory.',
  'Add nodes or use larger ones; check kube-reserved and system-reserved on the node.',
];

export function result(
  ctx: Ctx,
  cause: Cause,
  confidence: Confidence,
  headline: string,
  evidence: Evidence[],
  advice: string[],
  extra: Partial<Diagnosis> = {},
): Diagnosis {
  // Advice that comes with the proposal step (a VPA in the way) goes first: it names what to change.
  const d: Diagnosis = { kind: ctx.incident.kind, cause, confidence, headline, evidence, advice: [...(extra.advice ?? []), ...advice] };
  if (extra.proposal) d.proposal = extra.proposal;
  if (extra.noProposalReason) d.noProposalReason = extra.noProposalReason;
  if (extra.raisingIsWrongFix) d.raisingIsWrongFix = extra.raisingIsWrongFix;
  if (extra.nodeOom) d.nodeOom = extra.nodeOom;
  if (extra.joinsContainerOom) d.joinsContainerOom = true;
  return d;
}

export function withLimitProposal(ctx: Ctx, atLeast?: { bytes: number; reason: string }): Partial<Diagnosis> {
  const vpa = vpaInsteadOfProposal(ctx);
  if (vpa) return vpa;
  if (ctx.limitBytes === undefined || ctx.containerName === undefined) {
    return { noProposalReason: "The container's current memory limit is not known, so no new value can be computed." };
  }
  // The pod-level limit (KEP-2837) when that is what the kill hit: the template's spec.resources is raised.
  const r = proposeLimit(limitInput(ctx, ctx.limitBytes, ctx.containerName, atLeast));
  const note = vpaNote(ctx);
  const extra: Partial<Diagnosis> = note.length > 0 ? { advice: note } : {};
  return r.proposal ? { ...extra, proposal: r.proposal } : { ...extra, noProposalReason: r.reason };
}

function limitInput(ctx: Ctx, limitBytes: number, container: string, atLeast: { bytes: number; reason: string } | undefined): ProposeLimitInput {
  const pod = ctx.limitScope === 'pod';
  return {
    container,
    namespace: ctx.namespace,
    owner: ctx.owner,
    limitBytes,
    limitText: ctx.limitText,
    requestBytes: pod ? ctx.podRequestBytes : ctx.requestBytes,
    requestText: pod ? ctx.podRequestText : ctx.requestText,
    ...(pod ? { scope: 'pod' as const } : {}),
    ...(ctx.qosClass ? { qosClass: ctx.qosClass } : {}),
    // A sample well under the limit was taken before the kill (a container OOM-killed at its limit used all
    // of it then): the VPA rule then starts from the limit, never from the older, lower number.
    usageAtKillBytes: ctx.usageAtKill !== undefined && ctx.usageAtKill >= limitBytes * UNDER_LIMIT_SHARE ? ctx.usageAtKill : undefined,
    atLeastBytes: atLeast?.bytes,
    atLeastReason: atLeast?.reason,
    caps: ctx.caps,
  };
}

/** A pod that is gone leaves only the incident record to go on: one step less sure. */
export function lowerIfGone(ctx: Ctx, c: Confidence): Confidence {
  if (!ctx.podGone) return c;
  return c === 'high' ? 'medium' : 'low';
}

/**
 * Seconds from a change at `atIso` to the first OOM kill on record after it (this one, or an earlier one of
 * this run); undefined when this kill is not after the change or a kill on record came before it.
 */
export function secondsBeforeFirstKill(ctx: Ctx, atIso: string): number | undefined {
  const at = Date.parse(atIso);
  const now = Date.parse(ctx.incident.occurredAt);
  if (!Number.isFinite(at) || !Number.isFinite(now) || now <= at) return undefined;
  const kills = ctx.e.previousIncidents.filter((p) => p.kind === 'container-oom' && p.occurredAt !== ctx.incident.occurredAt);
  if (kills.some((p) => Date.parse(p.occurredAt) <= at)) return undefined;
  const first = Math.min(now, ...kills.map((p) => Date.parse(p.occurredAt)).filter(Number.isFinite));
  return (first - at) / 1000;
}
