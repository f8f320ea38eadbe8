/**
 * How much to raise a memory limit (or request), and on which object.
 *
 * Limit, after a limit kill, the Vertical Pod Autoscaler's OOM rule:
 *   used = max(request, usage at the kill if known, else the limit)
 *   new  = max(used + 100Mi, used × 1.2), and at least `atLeastBytes` (e.g. room for a fixed heap)
 * rounded up to a human quantity (roundUpMemory), then capped by the policy maximum
 * (OOMBOT_MAX_MEMORY_LIMIT), the largest node's allocatable memory and the namespace LimitRange max.
 * A capped value is rounded down to a human quantity; if that is not above the current limit there is no
 * proposal and `reason` says why.
 *
 * Request, after a memory eviction: raise it toward the use the kubelet measured, never above the limit.
 *
 * The change goes to the top controller's pod template, by container name. Bare pods, Jobs (immutable
 * template) and unknown kinds get no proposal; the reason says what to change instead.
 */
import { MiB, formatMemory, formatMemoryApprox, roundDownMemory, roundUpMemory } from '../core/quantity.js';
import type { ManagedBy, OwnerChain } from './enriched.js';

/** VPA recommender constants OOMMinBumpUp and OOMBumpUpRatio. */
export const OOM_MIN_BUMP_UP_BYTES = 100 * MiB;
export const OOM_BUMP_UP_RATIO = 1.2;

export const PATCHABLE_KINDS: readonly string[] = ['Deployment', 'StatefulSet', 'DaemonSet', 'CronJob', 'ReplicaSet', 'ReplicationController'];

export interface ProposalOwner {
  kind: string;
  name: string;
  namespace: string;
}

export type CapName = 'policy' | 'node' | 'limit-range';

interface ProposalBase {
  container: string;
  /** The object to patch: the top controller. */
  owner: ProposalOwner;
  fromRequest?: string;
  toRequest?: string;
  fromRequestBytes?: number;
  toRequestBytes?: number;
  /** How the number was reached, in words. */
  reason: string;
  /** Set when a cap lowered the value. */
  cappedBy?: CapName;
  /** Set when GitOps or Helm manages the owner: a patch will be reverted. */
  managedBy?: ManagedBy;
  revertWarning?: string;
  /** What happens to the request, when it is not changed with the limit. */
  requestNote?: string;
}

export interface LimitProposal extends ProposalBase {
  target: 'limit';
  /**
   * 'pod': the pod-level limit (spec.resources, KEP-2837) of the template, not the container's; the
   * request that follows it is the pod-level request. `container` is then the one that was killed.
   */
  scope?: 'pod';
  fromLimit: string;
  toLimit: string;
  fromLimitBytes: number;
  toLimitBytes: number;
}

export interface RequestProposal extends ProposalBase {
  target: 'request';
  toRequest: string;
  toRequestBytes: number;
}

export type Proposal = LimitProposal | RequestProposal;

export interface Caps {
  /** OOMBOT_MAX_MEMORY_LIMIT. */
  policyMaxBytes?: number;
  largestNodeAllocatableBytes?: number;
  limitRangeMaxBytes?: number;
}

export type ProposalResult<P extends Proposal> =
  | { proposal: P; reason?: undefined; suggested?: undefined }
  | { proposal?: undefined; reason: string /** The value a person could still set by hand. */; suggested?: string };

export interface ProposeLimitInput {
  container: string;
  namespace: string;
  /** Undefined when the owner chain could not be resolved. */
  owner?: OwnerChain;
  limitBytes: number;
  limitText?: string;
  requestBytes?: number;
  requestText?: string;
  usageAtKillBytes?: number;
  /** A floor, e.g. a fixed heap plus room for non-heap memory. */
  atLeastBytes?: number;
  atLeastReason?: string;
  caps: Caps;
  /** 'pod' when the limit and request are the pod-level ones (spec.resources, KEP-2837). */
  scope?: 'pod';
  /** The pod's status.qosClass, for the words about the request. */
  qosClass?: string;
}

const CAP_LABEL: Record<CapName, string> = {
  policy: 'policy maximum (OOMBOT_MAX_MEMORY_LIMIT)',
  node: 'allocatable memory of the largest node',
  'limit-range': 'namespace LimitRange maximum',
};

const TOOL_LABEL: Record<ManagedBy['tool'], string> = { argocd: 'Argo CD', flux: 'Flux', helm: 'Helm' };

export function describeManagedBy(m: ManagedBy): string {
  return `${TOOL_LABEL[m.tool] ?? m.tool}${m.name ? ` (${m.tool === 'helm' ? 'release' : 'app'} ${m.name})` : ''}`;
}

/** The lowest cap, or undefined when nothing caps. */
export function lowestCap(caps: Caps): { name: CapName; bytes: number } | undefined {
  const all: { name: CapName; bytes: number | undefined }[] = [
    { name: 'policy', bytes: caps.policyMaxBytes },
    { name: 'node', bytes: caps.largestNodeAllocatableBytes },
    { name: 'limit-range', bytes: caps.limitRangeMaxBytes },
  ];
  let best: { name: CapName; bytes: number } | undefined;
  for (const c of all) {
    if (c.bytes === undefined || !Number.isFinite(c.bytes) || c.bytes <= 0) continue;
    if (!best || c.bytes < best.bytes) best = { name: c.name, bytes: c.bytes };
  }
  return best;
}

/** The object to patch, or why there is none (`what` is the change in words, e.g. "memory limit to 640Mi"). */
export function patchTarget(
  owner: OwnerChain | undefined,
  namespace: string,
  container: string,
  what: string,
  scope: 'container' | 'pod' = 'container',
): { owner: ProposalOwner } | { reason: string } {
  if (!owner) {
    return {
      reason: `The pod's owner could not be resolved, so there is nothing safe to patch: set the ${what} for container ${container} in the workload that created the pod.`,
    };
  }
  const top = owner.chain[owner.chain.length - 1];
  if (!top) {
    return {
      reason: `The pod has no controller, so there is nothing to patch (a running pod's resources cannot be changed in place): set the ${what} for container ${container} in the manifest that created it and re-create the pod.`,
    };
  }
  // A pod-level limit is the template's own spec.resources, whichever container was killed.
  if (scope === 'container' && owner.templateContainers && !owner.templateContainers.includes(container)) {
    // Added to the pod at admission (istio-proxy, linkerd-proxy, a Vault agent): the template has no such
    // container, so a patch of it cannot apply; the injector's own settings size it.
    const hint =
      container === 'istio-proxy'
        ? ' (for istio-proxy: the sidecar.istio.io/proxyMemory and sidecar.istio.io/proxyMemoryLimit annotations on the pod template)'
        : '';
    return {
      reason: `Container ${container} is not in the pod template of ${top.kind} ${top.name}: it was injected when the pod was created, so oombot cannot patch it. Set its memory through the injector's settings${hint}.`,
    };
  }
  if (owner.verified === false && (top.kind === 'ReplicaSet' || top.kind === 'Job')) {
    // A ReplicaSet usually belongs to a Deployment (a Job to a CronJob) that would undo a change made here.
    return {
      reason: `${top.kind} ${top.name} could not be read to find the controller above it, so there is nothing safe to patch: set the ${what} for container ${container} in the workload that owns it (or run /oom why again once oombot can read it).`,
    };
  }
  if (top.kind === 'Job') {
    return {
      reason: `A Job's pod template cannot be changed: set the ${what} for container ${container} in the manifest of Job ${top.name} and run it again.`,
    };
  }
  if (!PATCHABLE_KINDS.includes(top.kind)) {
    return { reason: `The pod is owned by ${top.kind} ${top.name}, which oombot does not patch: set the ${what} for container ${container} there.` };
  }
  return { owner: { kind: top.kind, name: top.name, namespace } };
}

function revertWarning(managedBy: ManagedBy, container: string, field: string, value: string, scope: 'container' | 'pod' = 'container'): string {
  const when = managedBy.tool === 'helm' ? 'by the next helm upgrade' : 'at its next sync';
  const where = scope === 'pod' ? 'in the pod template' : `for container ${container}`;
  return `Managed by ${describeManagedBy(managedBy)}: a change made from Slack will be reverted ${when}. Commit ${field}: ${value} ${where} to its source as well.`;
}

/** The VPA value before caps: max(used + 100Mi, used × 1.2), raised to atLeast, rounded up. */
export function bumpedLimitBytes(used: number, atLeastBytes = 0): number {
  const raw = Math.max(used + OOM_MIN_BUMP_UP_BYTES, Math.ceil(used * OOM_BUMP_UP_RATIO), atLeastBytes);
  return roundUpMemory(raw);
}

export function proposeLimit(input: ProposeLimitInput): ProposalResult<LimitProposal> {
  const { container, limitBytes, requestBytes, usageAtKillBytes } = input;
  const fromLimit = input.limitText ?? formatMemory(limitBytes);
  const usedFromUsage = usageAtKillBytes !== undefined;
  const used = Math.max(requestBytes ?? 0, usedFromUsage ? usageAtKillBytes : limitBytes);
  let target = bumpedLimitBytes(used, input.atLeastBytes ?? 0);
  const parts = [
    `used = max(request ${requestBytes === undefined ? 'none' : (input.requestText ?? formatMemoryApprox(requestBytes))}, ${usedFromUsage ? `usage at the kill ${formatMemoryApprox(usageAtKillBytes)}` : `the limit ${fromLimit} it was killed at`}) = ${formatMemoryApprox(used)}`,
    `max(used + 100Mi, used × 1.2) = ${formatMemoryApprox(Math.max(used + OOM_MIN_BUMP_UP_BYTES, used * OOM_BUMP_UP_RATIO))}`,
  ];
  if (input.atLeastBytes !== undefined && input.atLeastBytes > Math.max(used + OOM_MIN_BUMP_UP_BYTES, used * OOM_BUMP_UP_RATIO)) {
    parts.push(`at least ${formatMemoryApprox(input.atLeastBytes)}${input.atLeastReason ? ` (${input.atLeastReason})` : ''}`);
  }
  parts.push(`rounded up to ${formatMemory(target)}`);

  let cappedBy: CapName | undefined;
  const cap = lowestCap(input.caps);
  if (cap && target > cap.bytes) {
    const capped = roundDownMemory(cap.bytes);
    if (capped <= limitBytes) {
      return {
        reason: `No higher limit fits: ${formatMemory(target)} would exceed the ${CAP_LABEL[cap.name]} (${formatMemoryApprox(cap.bytes)}), and the limit is already ${fromLimit}. Reduce the container's memory use, or raise the cap first.`,
        suggested: formatMemory(target),
      };
    }
    target = capped;
    cappedBy = cap.name;
    parts.push(`capped to ${formatMemory(target)} by the ${CAP_LABEL[cap.name]} (${formatMemoryApprox(cap.bytes)})`);
  }
  if (target <= limitBytes) {
    return { reason: `The computed limit ${formatMemory(target)} is not above the current ${fromLimit}.` };
  }
  const toLimit = formatMemory(target);
  const pod = input.scope === 'pod';
  const where = patchTarget(
    input.owner,
    input.namespace,
    container,
    pod ? `pod-level memory limit (spec.resources.limits.memory) to ${toLimit}` : `memory limit to ${toLimit}`,
    pod ? 'pod' : 'container',
  );
  if ('reason' in where) return { reason: where.reason, suggested: toLimit };

  const proposal: LimitProposal = {
    target: 'limit',
    container,
    owner: where.owner,
    fromLimit,
    toLimit,
    fromLimitBytes: limitBytes,
    toLimitBytes: target,
    reason: `VPA rule after an OOM kill${pod ? ', for the pod-level limit' : ''}: ${parts.join('; ')}.`,
  };
  if (pod) proposal.scope = 'pod';
  if (cappedBy) proposal.cappedBy = cappedBy;
  if (requestBytes !== undefined) {
    const request = pod ? 'pod-level request' : 'request';
    proposal.fromRequest = input.requestText ?? formatMemory(requestBytes);
    proposal.fromRequestBytes = requestBytes;
    if (requestBytes === limitBytes) {
      // Request = limit stays so (the limit only would leave it behind); "Guaranteed" only when the pod is.
      proposal.toRequest = toLimit;
      proposal.toRequestBytes = target;
      const why = input.qosClass === 'Guaranteed' ? 'to keep the pod Guaranteed' : 'to keep it equal to the limit';
      proposal.requestNote = `The ${request} is raised with the limit (${proposal.fromRequest} → ${toLimit}) ${why}.`;
    } else {
      proposal.requestNote = `The ${request} stays at ${proposal.fromRequest}: the scheduler reserves only that, so under node pressure the memory above it is at risk. Raise it too if the ${pod ? 'pod' : 'container'} really needs about ${formatMemoryApprox(used)}.`;
    }
  }
  const managedBy = input.owner?.managedBy;
  if (managedBy) {
    proposal.managedBy = managedBy;
    proposal.revertWarning = pod
      ? revertWarning(managedBy, container, 'spec.resources.limits.memory', toLimit, 'pod')
      : revertWarning(managedBy, container, 'resources.limits.memory', toLimit);
  }
  return { proposal };
}

export interface ProposeRequestInput {
  container: string;
  namespace: string;
  owner?: OwnerChain;
  usageBytes: number;
  requestBytes?: number;
  requestText?: string;
  limitBytes?: number;
  limitText?: string;
  caps: Caps;
}

/** After a memory eviction: raise the request toward the measured use, never above the limit. */
export function proposeRequest(input: ProposeRequestInput): ProposalResult<RequestProposal> {
  const { container, usageBytes, requestBytes, limitBytes } = input;
  const fromRequest = requestBytes === undefined ? 'none' : (input.requestText ?? formatMemory(requestBytes));
  if (requestBytes !== undefined && usageBytes <= requestBytes) {
    return {
      reason: `Container ${container} used ${formatMemoryApprox(usageBytes)}, within its request of ${fromRequest}: raising the request would not have spared it.`,
    };
  }
  let target = roundUpMemory(usageBytes);
  const parts = [`measured use ${formatMemoryApprox(usageBytes)} rounded up to ${formatMemory(target)}`];
  if (limitBytes !== undefined && target > limitBytes) {
    target = limitBytes;
    parts.push(`held at the limit ${input.limitText ?? formatMemory(limitBytes)}`);
  }
  const cap = lowestCap({ ...input.caps, policyMaxBytes: undefined });
  let cappedBy: CapName | undefined;
  if (cap && target > cap.bytes) {
    target = roundDownMemory(cap.bytes);
    cappedBy = cap.name;
    parts.push(`capped by the ${CAP_LABEL[cap.name]} (${formatMemoryApprox(cap.bytes)})`);
  }
  if (requestBytes !== undefined && target <= requestBytes) {
    return { reason: `The request (${fromRequest}) cannot go higher: it already equals the limit or the cap.` };
  }
  const toRequest = formatMemory(target);
  const where = patchTarget(input.owner, input.namespace, container, `memory request to ${toRequest}`);
  if ('reason' in where) return { reason: where.reason, suggested: toRequest };
  const proposal: RequestProposal = {
    target: 'request',
    container,
    owner: where.owner,
    toRequest,
    toRequestBytes: target,
    reason: `Request toward real use: ${parts.join('; ')}.`,
  };
  if (requestBytes !== undefined) {
    proposal.fromRequest = fromRequest;
    proposal.fromRequestBytes = requestBytes;
  }
  if (cappedBy) proposal.cappedBy = cappedBy;
  if (limitBytes === undefined) {
    proposal.requestNote = 'The container has no memory limit; consider setting one as well.';
  }
  const managedBy = input.owner?.managedBy;
  if (managedBy) {
    proposal.managedBy = managedBy;
    proposal.revertWarning = revertWarning(managedBy, container, 'resources.requests.memory', toRequest);
  }
  return { proposal };
}
