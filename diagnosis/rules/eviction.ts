/**
 * A kubelet eviction. For memory: the pod that used the most above its request went first, so raise
 * the request. For another resource (ephemeral-storage, nodefs, imagefs, pids): name it; memory had
 * nothing to do with it.
 */
import { parseEvictionMessage } from '../../core/eviction-message.js';
import type { EvictionContainerUsage, LocalStorageLimitExceeded } from '../../core/incident.js';
import { formatMemoryApprox, parseMemoryBytes } from '../../core/quantity.js';
import type { Diagnosis, Evidence } from '../diagnosis.js';
import { isPodPresent } from '../enriched.js';
import { proposeRequest } from '../propose-limit.js';
import { NODE_ADVICE, lowerIfGone, result, type Ctx } from './context.js';
import { nodeEvidence, podGoneEvidence } from './evidence.js';
import { vpaInsteadOfRequest } from './vpa.js';

const EVICTION_ADVICE: Record<string, string[]> = {
  'ephemeral-storage': [
    "Find what writes to the container's filesystem (logs, /tmp, caches) and move it to a volume, or an emptyDir with a sizeLimit.",
    'Set ephemeral-storage requests (and limits) so the scheduler accounts for the disk the pod uses.',
  ],
  nodefs: [
    "The node's root filesystem filled up: find pods writing logs or emptyDir data and bound them with ephemeral-storage limits.",
    "Check container log rotation and the node's disk size.",
  ],
  imagefs: ["The node's image filesystem filled up: check image garbage collection thresholds, image sizes, and the node's disk size."],
  pids: ['Find the process or thread leak (a fork loop, unbounded thread pools) and set a pod PID limit.'],
};

interface EvictionUse {
  name: string;
  usageBytes?: number;
  usageText?: string;
  requestBytes?: number;
  requestText?: string;
}

/** What ran out, and whether it was the pod's own ephemeral-storage limit rather than the node. */
interface Starved {
  resource?: string;
  localLimit?: LocalStorageLimitExceeded;
}

export function diagnoseEviction(ctx: Ctx): Diagnosis {
  const ev = ctx.incident.eviction;
  const { resource, localLimit } = starvedResource(ctx);
  const podName = ctx.incident.pod ? `${ctx.incident.pod.namespace}/${ctx.incident.pod.name}` : 'the pod';
  const base: Evidence[] = [];
  const pressure = [ev?.threshold ? `threshold ${ev.threshold}` : undefined, ev?.available ? `available ${ev.available}` : undefined]
    .filter(Boolean)
    .join(', ');
  if (resource) base.push({ text: `The kubelet evicted the pod: the node was low on ${resource}${pressure ? ` (${pressure})` : ''}`, source: 'eviction' });
  else base.push({ text: 'The kubelet evicted the pod; the starved resource is not recorded', source: 'eviction' });
  if (ev?.disruptionReason) base.push({ text: `DisruptionTarget condition: ${ev.disruptionReason}`, source: 'pod status' });
  base.push(...podGoneEvidence(ctx));

  if (resource === 'memory') return evictedForMemory(ctx, podName, base);
  if (resource) return evictedForResource(ctx, podName, base, resource, localLimit);
  return result(
    ctx,
    'unknown',
    'low',
    `${podName} was evicted by the kubelet, but the record does not say which resource ran low.`,
    [...base, ...nodeEvidence(ctx).evidence],
    ["Check the node's conditions (MemoryPressure, DiskPressure, PIDPressure) and the kubelet's Evicted event."],
    { raisingIsWrongFix: 'Nothing shows the memory limit was reached: do not raise it on this evidence.' },
  );
}

/**
 * The record's resource, else what its message (or the pod's status message) says, read with the
 * parser the watcher uses, so both read an eviction message the same way.
 */
function starvedResource(ctx: Ctx): Starved {
  const ev = ctx.incident.eviction;
  if (ev?.resource) return { resource: ev.resource, localLimit: ev.localLimit };
  const parsed = parseEvictionMessage(ev?.message ?? (isPodPresent(ctx.e.pod) ? ctx.e.pod.message : undefined));
  return { resource: parsed.resource, localLimit: ev?.localLimit ?? parsed.localLimit };
}

/** Each container's use and request: the record's, else read from the record's message. */
function evictionUses(ctx: Ctx): { uses: EvictionUse[]; fromMessage: boolean } {
  const ev = ctx.incident.eviction;
  const recorded = ev?.containers ?? [];
  if (recorded.length > 0) return { uses: recorded.map(toUse), fromMessage: ev?.source === 'message' };
  return { uses: parseEvictionMessage(ev?.message).containers.map(toUse), fromMessage: true };
}

function toUse(c: EvictionContainerUsage): EvictionUse {
  return {
    name: c.name,
    usageText: c.usage,
    usageBytes: parseMemoryBytes(c.usage),
    requestText: c.request,
    requestBytes: parseMemoryBytes(c.request),
  };
}

/** Node memory pressure: the kubelet evicts first the pods using the most above their requests. */
function evictedForMemory(ctx: Ctx, podName: string, base: Evidence[]): Diagnosis {
  const { uses, fromMessage } = evictionUses(ctx);
  const over = uses
    .filter((u) => u.usageBytes !== undefined)
    .map((u) => ({ ...u, excess: (u.usageBytes ?? 0) - (u.requestBytes ?? 0) }))
    .sort((a, b) => b.excess - a.excess);
  const evidence = [...base];
  for (const u of over.slice(0, 5)) {
    const ratio = u.requestBytes ? ` (${((u.usageBytes ?? 0) / u.requestBytes).toFixed(1)}× its request)` : '';
    evidence.push({
      text: `${u.name} used ${formatMemoryApprox(u.usageBytes ?? 0)}, request ${u.requestBytes === undefined || u.requestBytes === 0 ? 'none' : formatMemoryApprox(u.requestBytes)}${ratio}`,
      source: 'eviction',
    });
  }
  evidence.push(...nodeEvidence(ctx).evidence);
  const top = over[0];
  if (!top || top.excess <= 0) {
    return result(
      ctx,
      'eviction-memory',
      'medium',
      `${podName} was evicted because its node ran low on memory${top ? "; it used no more than it requested, so other pods' use pushed the node over" : ''}.`,
      evidence,
      ['Pods using more than they request are evicted first: check the other pods on the node and their requests.', ...NODE_ADVICE],
      { raisingIsWrongFix: 'The pod was evicted for node memory pressure, not for its own limit: a higher limit would not have helped.' },
    );
  }
  return raiseRequest(ctx, podName, evidence, top, fromMessage);
}

/** The container that used the most above its request: its request should cover its real use. */
function raiseRequest(ctx: Ctx, podName: string, evidence: Evidence[], top: EvictionUse, fromMessage: boolean): Diagnosis {
  const vpa = vpaInsteadOfRequest(ctx);
  const snap = isPodPresent(ctx.e.pod) ? ctx.e.pod.containers.find((c) => c.name === top.name) : undefined;
  const limitBytes = snap?.limits.memory?.bytes ?? parseMemoryBytes(snap?.limits.memory?.text);
  const r = proposeRequest({
    container: top.name,
    namespace: ctx.namespace,
    owner: ctx.owner,
    usageBytes: top.usageBytes ?? 0,
    requestBytes: top.requestBytes === 0 ? undefined : top.requestBytes,
    requestText: top.requestBytes === 0 ? undefined : (snap?.requests.memory?.text ?? top.requestText),
    limitBytes,
    limitText: snap?.limits.memory?.text,
    caps: ctx.caps,
  });
  const raisingIsWrongFix = 'The limit was not reached: the node ran low and this pod used the most above its request. Raise the request, not the limit.';
  return result(
    ctx,
    'eviction-memory',
    lowerIfGone(ctx, fromMessage ? 'medium' : 'high'),
    `${podName} was evicted for node memory pressure: ${top.name} used ${formatMemoryApprox(top.usageBytes ?? 0)}, above its request${top.requestBytes ? ` of ${top.requestText ?? formatMemoryApprox(top.requestBytes)}` : ' (none)'}, so it went first.`,
    evidence,
    [
      `Raise the memory request of ${top.name} toward its real use (${formatMemoryApprox(top.usageBytes ?? 0)}) so the scheduler reserves it.`,
      ...qosAdvice(ctx),
      'Pods using more than they request are evicted first; Guaranteed pods (requests = limits) last.',
    ],
    vpa ? { ...vpa, raisingIsWrongFix } : r.proposal ? { proposal: r.proposal, raisingIsWrongFix } : { noProposalReason: r.reason, raisingIsWrongFix },
  );
}

/** What the pod's QoS class means for the next memory pressure: BestEffort goes first, Burstable next. */
function qosAdvice(ctx: Ctx): string[] {
  const qos = isPodPresent(ctx.e.pod) ? ctx.e.pod.qosClass : ctx.incident.pod?.qosClass;
  if (qos === 'BestEffort') {
    return [
      'The pod is BestEffort (no requests or limits): it is the first evicted under memory pressure. Set a memory request (and limit) on every container.',
    ];
  }
  if (qos === 'Burstable') {
    return ['The pod is Burstable: for a workload that must not be evicted, set requests = limits (Guaranteed QoS).'];
  }
  return [];
}

/** Another resource ran low on the node, or the pod went over its own ephemeral-storage limit. */
function evictedForResource(ctx: Ctx, podName: string, base: Evidence[], resource: string, local: LocalStorageLimitExceeded | undefined): Diagnosis {
  const { uses } = evictionUses(ctx);
  const evidence = [...base];
  for (const u of uses.slice(0, 5)) {
    const used = u.usageBytes !== undefined ? formatMemoryApprox(u.usageBytes) : (u.usageText ?? 'an unknown amount');
    evidence.push({
      text: `${u.name} used ${used} of ${resource}, request ${u.requestText && u.requestText !== '0' ? u.requestText : 'none'}`,
      source: 'eviction',
    });
  }
  if (local) {
    evidence.push({
      text: `The ${local.scope === 'pod' ? 'pod' : `${local.scope} ${local.name ?? ''}`.trim()} went over its own ephemeral-storage limit${local.limit ? ` of ${local.limit}` : ''}`,
      source: 'eviction',
    });
  }
  // The resource is cluster text: a name like "constructor" must not reach Object.prototype.
  const advice = (Object.hasOwn(EVICTION_ADVICE, resource) ? EVICTION_ADVICE[resource] : undefined) ?? EVICTION_ADVICE['ephemeral-storage'] ?? [];
  return result(
    ctx,
    'eviction-resource',
    lowerIfGone(ctx, 'high'),
    local
      ? `${podName} was evicted because it went over its own ${resource} limit; memory had nothing to do with it.`
      : `${podName} was evicted because its node ran low on ${resource}; memory had nothing to do with it.`,
    evidence,
    advice,
    { raisingIsWrongFix: `The eviction was for ${resource}, not memory: a memory limit change would not help.` },
  );
}
