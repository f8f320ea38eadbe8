/**
 * A "Resize running pods now" click → in-place resize (pods/{name}/resize) of the workload's running
 * pods that still run with the old memory value:
 *   authorisation → proposal lookup → claim (at most once) → the workload's selector → its live pods →
 *   per pod: server-side dry run, then the resize patch.
 * The kubelet may refuse (Infeasible: the node can never fit it) or postpone (Deferred) a resize; each
 * pod's outcome is reported as the API server shows it in the pod's status.
 */
import { errorMessage } from '../core/errors.js';
import { CLAIM_LEASE_MS, ProposalStore, type StoredProposal } from '../stores/proposal-store.js';
import { forCluster, type BotBase, type BotDeps } from './bot-deps.js';
import { approverRefusal, refuse, type ApplyResult, type Clicker } from './apply-proposal.js';
import { inScope } from './scope.js';
import { sameQuantity } from './live-check.js';
import { describePatchError } from './describe-patch-error.js';
import { code, safe, textReply } from './reply.js';
import { RESIZABLE_KINDS } from './resize-offer.js';
import { memoryChange, STRATEGIC_MERGE_PATCH, workloadPath } from './workload-patch.js';

/** More pods than this are left for a rollout: a click must answer within Slack's patience. */
const MAX_PODS = 50;

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: Array<{ key: string; operator: string; values?: string[] }>;
}

interface PodContainer {
  name: string;
  resources?: { limits?: Record<string, string>; requests?: Record<string, string> };
}

interface LivePod {
  metadata: { name: string; deletionTimestamp?: string; ownerReferences?: Array<{ kind: string; name: string; controller?: boolean }> };
  spec?: { containers?: PodContainer[] };
  status?: {
    phase?: string;
    conditions?: Array<{ type: string; status?: string; reason?: string; message?: string }>;
    containerStatuses?: Array<{ name: string; resources?: PodContainer['resources'] }>;
  };
}

type Outcome = { pod: string; result: 'resized' | 'in progress' | 'Infeasible' | 'Deferred' | 'failed' | 'not attempted'; detail?: string };

export interface ResizeOptions {
  /**
   * Aborted when the click has waited too long (a stalled API server): every read gives up, and no pod's
   * resize is sent after it; pods not reached are reported as such, never resized behind the person's back.
   */
  signal?: AbortSignal;
}

/** The click's time ran out before anything was resized. */
class TooSlow extends Error {}

/** A label selector in the list API's syntax (matchLabels and the set-based expressions). */
export function selectorString(s: LabelSelector | undefined): string | undefined {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(s?.matchLabels ?? {})) parts.push(`${k}=${v}`);
  for (const e of s?.matchExpressions ?? []) {
    if (e.operator === 'In') parts.push(`${e.key} in (${(e.values ?? []).join(',')})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${(e.values ?? []).join(',')})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  // An empty selector would match every pod of the namespace: never resize on that.
  return parts.length ? parts.join(',') : undefined;
}

/** The pod belongs to the workload itself (a Deployment's through its ReplicaSets), not just to its labels. */
function ownedByWorkload(pod: LivePod, owner: { kind: string; name: string }): boolean {
  const c = pod.metadata.ownerReferences?.find((o) => o.controller);
  if (!c) return false;
  if (owner.kind === 'Deployment') return c.kind === 'ReplicaSet' && c.name.startsWith(`${owner.name}-`);
  return c.kind === owner.kind && c.name === owner.name;
}

/** What the pod runs with now, in the proposal's terms (limit or request). */
function currentValue(c: PodContainer, target: 'limit' | 'request'): string | undefined {
  return target === 'limit' ? c.resources?.limits?.memory : c.resources?.requests?.memory;
}

/** The outcome as the pod's status reports it after the resize patch. */
function outcomeOf(pod: LivePod, container: string, wanted: string | undefined, target: 'limit' | 'request'): Outcome {
  const name = pod.metadata.name;
  const pending = pod.status?.conditions?.find((c) => c.type === 'PodResizePending' && c.status === 'True');
  if (pending?.reason === 'Infeasible' || pending?.reason === 'Deferred') {
    return { pod: name, result: pending.reason, ...(pending.message ? { detail: pending.message } : {}) };
  }
  const status = pod.status?.containerStatuses?.find((s) => s.name === container);
  const running = status?.resources ? currentValue({ name: container, resources: status.resources }, target) : undefined;
  return { pod: name, result: running !== undefined && sameQuantity(running, wanted) ? 'resized' : 'in progress' };
}

async function resizeOne(deps: BotDeps, ns: string, pod: LivePod, stored: StoredProposal, claim: string, signal: AbortSignal | undefined): Promise<Outcome> {
  const p = stored.proposal;
  const path = `/api/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(pod.metadata.name)}/resize`;
  const change = memoryChange(p);
  // Removing a request cannot be done in place (it changes the QoS class): only values are set.
  const resources = {
    ...(change.limits?.memory ? { limits: { memory: change.limits.memory } } : {}),
    ...(change.requests?.memory ? { requests: { memory: change.requests.memory } } : {}),
  };
  const body = { spec: { containers: [{ name: p.container, resources }] } };
  let out: LivePod | undefined;
  for (const dryRun of [true, false]) {
    // Never sent later than the person was told; the dry run may be cut short, the resize itself is not.
    if (signal?.aborted) return { pod: pod.metadata.name, result: 'not attempted' };
    try {
      out = await deps.kube.send<LivePod>('PATCH', path, body, {
        contentType: STRATEGIC_MERGE_PATCH,
        query: dryRun ? { dryRun: 'All', fieldManager: 'oombot' } : { fieldManager: 'oombot' },
        proposal: { id: stored.id, claim },
        ...(dryRun && signal ? { signal } : {}),
      });
    } catch (err) {
      if (dryRun && signal?.aborted) return { pod: pod.metadata.name, result: 'not attempted' };
      const r = describePatchError(err, `Pod ${ns}/${pod.metadata.name}`);
      return { pod: pod.metadata.name, result: 'failed', detail: `${dryRun ? 'dry run: ' : ''}${r.detail}` };
    }
  }
  return outcomeOf(out!, p.container, p.target === 'limit' ? p.toLimit : p.toRequest, p.target);
}

function describeOutcome(o: Outcome): string {
  const icon = o.result === 'resized' ? ':white_check_mark:' : o.result === 'in progress' ? ':hourglass_flowing_sand:' : ':warning:';
  const what =
    o.result === 'resized'
      ? 'resized'
      : o.result === 'not attempted'
        ? 'not resized: the Kubernetes API server was too slow to reach it in time; the next rollout gives it the new value'
        : o.result === 'in progress'
          ? 'resize requested; the kubelet has not reported it yet'
          : o.result === 'failed'
            ? 'failed'
            : o.result === 'Infeasible'
              ? '`Infeasible`: its node can never fit the new memory; the next rollout places the pod on a node that can'
              : '`Deferred`: its node has no room right now; the kubelet retries when memory frees up';
  return `${icon} ${code(o.pod, 253)}: ${what}${o.detail ? ` (${safe(o.detail, 300)})` : ''}`;
}

export async function resizeRunningPods(base: BotBase, proposalId: unknown, by: Clicker, opts: ResizeOptions = {}): Promise<ApplyResult> {
  const { log, config } = base;
  const refused = approverRefusal(base, by, 'resize', proposalId);
  if (refused) return refused;
  if (!ProposalStore.isId(proposalId)) {
    log.warn({ user: by.id, value: String(proposalId).slice(0, 60) }, 'resize refused: the button value is not a proposal id');
    return refuse('This button does not carry a valid proposal (it may have been altered). Nothing was changed.');
  }
  const found = await base.proposals.get(proposalId);
  if (!found) {
    log.info({ user: by.id, proposal: proposalId }, 'resize refused: proposal unknown or expired');
    return refuse('This resize has expired (it lasts 24 hours) or is unknown. Nothing was changed. The next rollout gives the pods the raised value.');
  }
  // The proposal names its cluster: the pods are read and resized there, and only there.
  const deps = forCluster(base, found.cluster);
  const p = found.proposal;
  const what = `${p.owner.kind} ${p.owner.namespace}/${p.owner.name}`;
  if (!inScope(config, p.owner.namespace)) {
    log.warn({ user: by.id, proposal: proposalId, namespace: p.owner.namespace }, 'resize refused: namespace not watched');
    return refuse(`${safe(what)} is outside the namespaces oombot watches (WATCH_NAMESPACES): it changes nothing there. Nothing was changed.`);
  }
  if (p.target === 'limit' && p.scope === 'pod') {
    // Offered for containers only (the in-place resize of pod-level resources is alpha in 1.35): never from another button's proposal.
    log.warn({ user: by.id, proposal: proposalId }, 'resize refused: a pod-level proposal');
    return refuse(
      'oombot resizes the memory of containers in place, not pod-level resources. Nothing was changed; the next rollout gives the pods the raised value.',
    );
  }
  if (!RESIZABLE_KINDS.includes(p.owner.kind))
    return refuse(`oombot resizes the pods of Deployments, StatefulSets, DaemonSets and ReplicaSets only. Nothing was changed.`);
  const claim = await deps.proposals.claim(proposalId, by.id);
  if (!claim) {
    log.info({ user: by.id, proposal: proposalId }, 'resize refused: proposal already claimed');
    return refuse('These pods were already resized (or are being resized right now): each resize runs at most once. Nothing more was changed.');
  }
  // A lease, renewed while resizing: a bot that dies midway frees the resize within a minute.
  const renewal = setInterval(() => void deps.proposals.renew(claim).catch(() => false), CLAIM_LEASE_MS / 3);
  renewal.unref();
  let outcomes: Outcome[];
  try {
    outcomes = await resizeAll(deps, found, claim.token, opts.signal);
  } catch (err) {
    clearInterval(renewal);
    // Nothing was patched (reading failed, or the time ran out first): the same button may try again.
    await deps.proposals.release(claim).catch(() => false);
    if (err instanceof TooSlow || opts.signal?.aborted) {
      log.warn({ user: by.id, proposal: proposalId, workload: what }, 'resize not applied: the Kubernetes API server is too slow');
      return refuse(`The Kubernetes API server did not answer in time: no pod of ${safe(what)} was resized. Try again in a minute.`);
    }
    const r = describePatchError(err, what);
    log.warn({ user: by.id, proposal: proposalId, err: r.detail }, 'resize not applied: cannot read the workload or its pods');
    return refuse(`${safe(r.summary, 600)} Nothing was changed; try again.`);
  }
  clearInterval(renewal);
  if (outcomes.length > 0 && outcomes.every((o) => o.result === 'not attempted')) {
    await deps.proposals.release(claim).catch(() => false);
    log.warn({ user: by.id, proposal: proposalId, workload: what }, 'resize not applied: the Kubernetes API server is too slow');
    return refuse(`The Kubernetes API server did not answer in time: no pod of ${safe(what)} was resized. Try again in a minute.`);
  }
  await deps.proposals.settle(claim).catch((err: unknown) => log.warn({ proposal: proposalId, err: errorMessage(err) }, 'cannot mark the resize done'));
  const count = (r: Outcome['result']) => outcomes.filter((o) => o.result === r).length;
  log.info(
    {
      user: by.id,
      userName: by.name,
      proposal: proposalId,
      action: 'resize',
      workload: what,
      container: p.container,
      resized: count('resized'),
      pods: outcomes.length,
    },
    'running pods resized from Slack',
  );
  const lines = outcomes.length
    ? [`Resizing the running pods of ${safe(what)} (container ${code(p.container, 63)}):`, ...outcomes.map(describeOutcome)]
    : [`No running pod of ${safe(what)} still has the old value: nothing to resize.`];
  lines.push(
    'The next rollout reverts running pods to the template unless the template is raised too; here the template was raised just before, so new pods start with the new value.',
  );
  return { reply: textReply(lines.join('\n')) };
}

async function resizeAll(deps: BotDeps, stored: StoredProposal, claim: string, signal: AbortSignal | undefined): Promise<Outcome[]> {
  const p = stored.proposal;
  const ns = p.owner.namespace;
  if (signal?.aborted) throw new TooSlow();
  const workload = await deps.kube.getJson<{ spec?: { selector?: LabelSelector } }>(workloadPath(p.owner), undefined, signal);
  const labelSelector = selectorString(workload.spec?.selector);
  if (!labelSelector) return [];
  const from = p.target === 'limit' ? p.fromLimit : p.fromRequest;
  const pods: LivePod[] = [];
  for await (const page of deps.kube.listPages<LivePod>(`/api/v1/namespaces/${encodeURIComponent(ns)}/pods`, { labelSelector }, 500, signal)) {
    for (const pod of page) {
      if (pod.status?.phase !== 'Running' || pod.metadata.deletionTimestamp || !ownedByWorkload(pod, p.owner)) continue;
      const c = pod.spec?.containers?.find((x) => x.name === p.container);
      // A pod already at another value (resized, or started from the raised template) is left alone.
      if (c && sameQuantity(currentValue(c, p.target), from)) pods.push(pod);
    }
  }
  const outcomes: Outcome[] = [];
  for (const pod of pods.slice(0, MAX_PODS)) outcomes.push(await resizeOne(deps, ns, pod, stored, claim, signal));
  return outcomes;
}
