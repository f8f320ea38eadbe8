/**
 * What "Raise limit" checks against the live workload before it patches: whether the value is still the
 * one the proposal started from (templates that leave values to the Pod included), a fresh proposal when
 * it is not (capped like every proposal), and, after a patch whose answer was lost, what is true now.
 */
import type { ChangeDirection } from '../alert/message.js';
import { errorMessage } from '../core/errors.js';
import { formatMemory, formatMemoryApprox, parseMemoryBytes, quantitiesEqual, roundDownMemory, tryParseQuantity } from '../core/quantity.js';
import { bumpedLimitBytes, type Caps, lowestCap, type Proposal } from '../diagnosis/propose-limit.js';
import type { AlertLocation, StoredProposal } from '../stores/proposal-store.js';
import { largestAllocatableBytes } from '../investigate/enrich.js';
import { NODES_CACHE_KEY, NODES_CACHE_OPTIONS, readNodes } from '../investigate/gather.js';
import type { BotDeps } from './bot-deps.js';
import { buttonBlock, describeChange, proposalButton } from './proposal-button.js';
import { code, safe, textReply, type Reply } from './reply.js';
import { type LiveContainer, liveTarget } from './workload-patch.js';

function answer(text: string, extra: Reply['blocks'] = []): Reply {
  const r = textReply(text);
  return { ...r, blocks: [...(r.blocks ?? []), ...extra] };
}

export function locationOf(stored: StoredProposal): Partial<AlertLocation> {
  return stored.channel && stored.ts ? { channel: stored.channel, ts: stored.ts, ...(stored.group ? { group: stored.group } : {}) } : {};
}

export function sameQuantity(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return a === b || (a === undefined && b === 'none') || (b === undefined && a === 'none');
  const qa = tryParseQuantity(a);
  const qb = tryParseQuantity(b);
  return qa !== undefined && qb !== undefined ? quantitiesEqual(qa, qb) : a === b;
}

/**
 * A new proposal from the live values, when someone changed them since the alert: capped like every
 * proposal (OOMBOT_MAX_MEMORY_LIMIT, the largest node), so clicking again after each change never
 * ratchets past the cap. At the cap there is no proposal, and the reason says so.
 */
function freshFromLive(p: Proposal, live: LiveContainer, caps: Caps): { proposal?: Proposal; reason?: string } {
  if (p.target !== 'limit') return {};
  const liveBytes = parseMemoryBytes(live.limit);
  if (liveBytes === undefined) return {};
  let toBytes = p.toLimitBytes > liveBytes ? p.toLimitBytes : bumpedLimitBytes(liveBytes);
  const cap = lowestCap(caps);
  let capped = false;
  if (cap && toBytes > cap.bytes) {
    toBytes = roundDownMemory(cap.bytes);
    capped = true;
    if (toBytes <= liveBytes) {
      const which =
        cap.name === 'policy'
          ? 'the policy maximum (OOMBOT_MAX_MEMORY_LIMIT)'
          : cap.name === 'node'
            ? 'the allocatable memory of the largest node'
            : 'the namespace LimitRange maximum';
      return {
        reason: `The live limit ${live.limit} is already at ${which}, ${formatMemoryApprox(cap.bytes)}: oombot proposes no higher value. Look for what uses the memory instead.`,
      };
    }
  }
  const fresh: Proposal = {
    ...p,
    fromLimit: live.limit!,
    fromLimitBytes: liveBytes,
    toLimit: formatMemory(toBytes),
    toLimitBytes: toBytes,
    reason: `Fresh proposal from the live limit ${live.limit}: ${capped ? `capped at ${formatMemory(toBytes)}` : toBytes === p.toLimitBytes ? `the earlier target ${p.toLimit} is still above it` : 'max(limit + 100Mi, limit × 1.2), rounded up'}.`,
  };
  delete fresh.fromRequest;
  delete fresh.toRequest;
  delete fresh.fromRequestBytes;
  delete fresh.toRequestBytes;
  delete fresh.requestNote;
  delete fresh.cappedBy;
  if (capped && cap) fresh.cappedBy = cap.name;
  if (live.request !== undefined) {
    fresh.fromRequest = live.request;
    if (sameQuantity(live.request, live.limit)) fresh.toRequest = fresh.toLimit;
  }
  return { proposal: fresh };
}

export interface LiveObject {
  metadata?: { uid?: string; resourceVersion?: string; ownerReferences?: { kind: string; name: string; controller?: boolean }[] };
}

/** The dry run, then the patch. `too-slow`: the click's time ran out before the real patch was sent. */
/** After a patch whose answer was lost: whether the workload now holds the proposed value. */
export async function readBack(deps: BotDeps, path: string, p: Proposal, list: LiveContainer['list']): Promise<'applied' | 'not-applied' | 'unknown'> {
  try {
    const obj = await deps.kube.getJson(path);
    const now = liveTarget(p.owner.kind, obj, p);
    if (!now || now.list !== list) return 'unknown';
    const value = p.target === 'limit' ? now.limit : now.request;
    const to = p.target === 'limit' ? p.toLimit : p.toRequest;
    const from = p.target === 'limit' ? p.fromLimit : p.fromRequest;
    if (sameQuantity(value, to)) return 'applied';
    return sameQuantity(value, from) ? 'not-applied' : 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * The refusal when the live values are no longer the proposal's starting point: already done, or
 * changed by someone, with a fresh proposal from the live value (capped like every proposal).
 */
export async function changedSince(
  deps: BotDeps,
  stored: StoredProposal,
  live: LiveContainer,
  kind: ChangeDirection,
  what: string,
): Promise<Reply | undefined> {
  const p = stored.proposal;
  const liveValue = p.target === 'limit' ? live.limit : live.request;
  const fromValue = p.target === 'limit' ? p.fromLimit : p.fromRequest;
  const toValue = p.target === 'limit' ? p.toLimit : p.toRequest;
  // The template may not say what the pod got: Kubernetes copies a limit into the request on the Pod, and a
  // LimitRange fills in defaults there. A value the template leaves out was not changed by anyone: the
  // proposal (made from the pod) stands, and the patch writes the value out explicitly.
  const requestMoved = p.toRequest !== undefined && p.target === 'limit' && live.request !== undefined && !sameQuantity(live.request, p.fromRequest);
  if ((liveValue === undefined || sameQuantity(liveValue, fromValue)) && !requestMoved) return undefined;
  const field = p.target === 'limit' && !requestMoved ? 'limit' : 'request';
  const subject =
    p.target === 'limit' && p.scope === 'pod'
      ? `The pod-level memory ${field} of ${safe(what)}`
      : `The memory ${field} of ${code(p.container, 63)} in ${safe(what)}`;
  if (sameQuantity(liveValue, toValue) && !requestMoved) {
    return answer(`${subject} is already ${code(liveValue ?? 'none', 40)}. Nothing was changed.`);
  }
  const head = `${subject} is now ${code((field === 'limit' ? live.limit : live.request) ?? 'none', 40)}, not ${code((field === 'limit' ? fromValue : p.fromRequest) ?? 'none', 40)} as when this was proposed: someone changed it since. Nothing was changed.`;
  if (kind === 'undo') return answer(`${head} There is nothing to undo safely.`);
  const fresh = freshFromLive(p, live, await capsFor(deps));
  if (!fresh.proposal) return answer(fresh.reason ? `${head} ${safe(fresh.reason, 400)}` : head);
  const created = await deps.proposals.create({ incidentId: stored.incidentId, cluster: stored.cluster, proposal: fresh.proposal, ...locationOf(stored) });
  return answer(`${head}\nFresh proposal: ${safe(describeChange(fresh.proposal), 400)}.`, [buttonBlock(proposalButton(created.id, fresh.proposal, 'raise'))]);
}

/** The caps every proposal obeys: OOMBOT_MAX_MEMORY_LIMIT and the largest node's allocatable memory. */
async function capsFor(deps: BotDeps): Promise<Caps> {
  const caps: Caps = {};
  if (deps.config.maxMemoryLimitBytes !== undefined) caps.policyMaxBytes = deps.config.maxMemoryLimitBytes;
  try {
    // The same cached node list the investigation reads: one read a minute, whoever asks first.
    const { value: nodes } = await deps.cache.get(NODES_CACHE_KEY, () => readNodes(deps.kube), NODES_CACHE_OPTIONS);
    const largest = largestAllocatableBytes(nodes);
    if (largest > 0) caps.largestNodeAllocatableBytes = largest;
  } catch (err) {
    deps.log.info({ err: errorMessage(err) }, 'cannot read the nodes: a fresh proposal is capped by OOMBOT_MAX_MEMORY_LIMIT only');
  }
  return caps;
}
