/**
 * A Raise-limit (or Undo) click → at most one patch of the top controller's pod template:
 *   authorisation → proposal lookup → claim (atomic, at most once) → live value check → server-side dry run
 *   → strategic merge patch. Each refusal says why and what to do; nothing is changed by a refusal, and a
 * refusal after the claim gives the claim back, so the same button can be tried again.
 */
import { errorMessage, withContext } from '../core/errors.js';
import { formatMemory, tryParseQuantity, quantitiesEqual, parseMemoryBytes } from '../core/quantity.js';
import { ProposalStore, type AlertLocation, type ProposalClaim, type StoredProposal } from '../stores/proposal-store.js';
import { bumpedLimitBytes, describeManagedBy, type Proposal } from '../diagnosis/propose-limit.js';
import type { ChangeDirection } from '../alert/message.js';
import type { BotDeps } from './bot-deps.js';
import { inScope } from './scope.js';
import { describePatchError } from './describe-patch-error.js';
import { buttonBlock, describeChange, proposalButton, reverseProposal } from './proposal-button.js';
import { code, codeBlock, safe, textReply, type Reply } from './reply.js';
import { isPatchableKind, liveContainer, memoryPatch, STRATEGIC_MERGE_PATCH, workloadPath, yamlSnippet, type LiveContainer } from './workload-patch.js';

export type ChangeKind = ChangeDirection;

export interface Clicker {
  id: string;
  name?: string;
}

export interface AppliedChange {
  kind: ChangeKind;
  stored: StoredProposal;
  by: Clicker;
  at: Date;
  list: LiveContainer['list'];
  /** The workload's uid, for the Kubernetes Event. */
  uid?: string;
  /** The stored reverse change, for the Undo button. */
  undo?: StoredProposal;
}

export interface ApplyOptions {
  /** The alert the click came from (not an ephemeral answer): the proposal learns where its alert is. */
  alert?: AlertLocation;
  /**
   * Aborted when the click has waited too long (a stalled API server): applying stops before the
   * real patch, gives the claim back and says nothing was changed, rather than changing the workload
   * long after the person was told it failed.
   */
  signal?: AbortSignal;
}

export interface ApplyResult {
  reply: Reply;
  applied?: AppliedChange;
}

function sameQuantity(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return a === b || (a === undefined && b === 'none') || (b === undefined && a === 'none');
  const qa = tryParseQuantity(a);
  const qb = tryParseQuantity(b);
  return qa !== undefined && qb !== undefined ? quantitiesEqual(qa, qb) : a === b;
}

/** A new proposal from the live values, when someone changed them since the alert. */
function freshFromLive(p: Proposal, live: LiveContainer): Proposal | undefined {
  if (p.target !== 'limit') return undefined;
  const liveBytes = parseMemoryBytes(live.limit);
  if (liveBytes === undefined) return undefined;
  const toBytes = p.toLimitBytes > liveBytes ? p.toLimitBytes : bumpedLimitBytes(liveBytes);
  const fresh: Proposal = {
    ...p,
    fromLimit: live.limit!,
    fromLimitBytes: liveBytes,
    toLimit: formatMemory(toBytes),
    toLimitBytes: toBytes,
    reason: `Fresh proposal from the live limit ${live.limit}: ${toBytes === p.toLimitBytes ? `the earlier target ${p.toLimit} is still above it` : `max(limit + 100Mi, limit × 1.2), rounded up`}.`,
  };
  delete fresh.fromRequest;
  delete fresh.toRequest;
  delete fresh.fromRequestBytes;
  delete fresh.toRequestBytes;
  delete fresh.requestNote;
  if (live.request !== undefined) {
    fresh.fromRequest = live.request;
    if (sameQuantity(live.request, live.limit)) fresh.toRequest = fresh.toLimit;
  }
  return fresh;
}

function refuse(text: string, extra: Reply['blocks'] = []): ApplyResult {
  const r = textReply(text);
  return { reply: { ...r, blocks: [...(r.blocks ?? []), ...extra] } };
}

export async function applyProposal(deps: BotDeps, proposalId: unknown, by: Clicker, kind: ChangeKind, opts: ApplyOptions = {}): Promise<ApplyResult> {
  const { log, config } = deps;
  // 1. Authorisation comes first: a refused click must not use up the proposal.
  if (config.approvers.length === 0) {
    log.warn({ user: by.id, action: kind }, 'change refused: no approvers configured (OOMBOT_APPROVERS)');
    return refuse(
      'Nobody may apply changes from Slack yet: set `OOMBOT_APPROVERS` to the Slack user ids (like `U0123ABCD`) of the people who may, and restart oombot.',
    );
  }
  if (!config.approvers.includes(by.id)) {
    log.warn(
      { user: by.id, action: kind, proposal: typeof proposalId === 'string' ? proposalId.slice(0, 40) : undefined },
      'change refused: user is not an approver',
    );
    return refuse(
      `Only approvers may change workloads from Slack, and <@${by.id}> is not one. Ask one of ${config.approvers
        .slice(0, 5)
        .map((a) => `<@${a}>`)
        .join(', ')}, or have your user id added to \`OOMBOT_APPROVERS\`.`,
    );
  }
  // 2. The proposal, server-side; the button only names it.
  if (!ProposalStore.isId(proposalId)) {
    log.warn({ user: by.id, value: String(proposalId).slice(0, 60) }, 'change refused: the button value is not a proposal id');
    return refuse(
      'This button does not carry a valid proposal (it may have been altered). Nothing was changed. Run `/oom why &lt;pod&gt;` for a fresh proposal.',
    );
  }
  const found = await deps.proposals.get(proposalId);
  if (!found) {
    log.info({ user: by.id, proposal: proposalId }, 'change refused: proposal unknown or expired');
    return refuse('This proposal has expired (proposals last 24 hours) or is unknown. Nothing was changed. Run `/oom why &lt;pod&gt;` for a fresh one.');
  }
  const p = found.proposal;
  const what = `${p.owner.kind} ${p.owner.namespace}/${p.owner.name}`;
  if (!inScope(config, p.owner.namespace)) {
    log.warn({ user: by.id, proposal: proposalId, namespace: p.owner.namespace }, 'change refused: namespace not watched');
    return refuse(`${safe(what)} is outside the namespaces oombot watches (WATCH_NAMESPACES): it changes nothing there. Nothing was changed.`);
  }
  if (!isPatchableKind(p.owner.kind)) {
    return refuse(
      `${safe(what)} cannot be patched: ${p.owner.kind === 'Pod' ? "a bare pod's resources cannot be changed in place. Set the memory limit in the manifest that created the pod and re-create it, or run it under a Deployment." : 'oombot patches Deployments, StatefulSets, DaemonSets, CronJobs and ReplicaSets only. Change it in its manifest.'}`,
    );
  }
  // 3. At most once, across double clicks, replays and bot replicas.
  const claim = await deps.proposals.claim(proposalId, by.id);
  if (!claim) {
    log.info({ user: by.id, proposal: proposalId }, 'change refused: proposal already claimed');
    return refuse(`This change was already applied (or is being applied right now): each proposal is applied at most once. Nothing more was changed.`);
  }
  try {
    const result = await applyClaimed(deps, claim, by, kind, opts);
    if (!result.applied) await release(deps, claim);
    return result;
  } catch (err) {
    await release(deps, claim);
    throw err;
  }
}

async function release(deps: BotDeps, claim: ProposalClaim): Promise<void> {
  await deps.proposals
    .release(claim)
    .catch((err: unknown) => deps.log.warn({ proposal: claim.id, err: errorMessage(err) }, 'cannot release the claim on a proposal: it cannot be retried'));
}

/** Where the proposal's alert is: as stored, else the alert the click came from (then remembered). */
async function locate(deps: BotDeps, stored: StoredProposal, alert: AlertLocation | undefined): Promise<StoredProposal> {
  if ((stored.channel && stored.ts) || !alert) return stored;
  await deps.proposals.attachMessage(stored.id, alert.channel, alert.ts).catch(() => false);
  return { ...stored, channel: alert.channel, ts: alert.ts };
}

function locationOf(stored: StoredProposal): Partial<AlertLocation> {
  return stored.channel && stored.ts ? { channel: stored.channel, ts: stored.ts, ...(stored.group ? { group: stored.group } : {}) } : {};
}

async function applyClaimed(deps: BotDeps, claim: ProposalClaim, by: Clicker, kind: ChangeKind, opts: ApplyOptions): Promise<ApplyResult> {
  const { log } = deps;
  const proposalId = claim.id;
  const stored = await locate(deps, claim.stored, opts.alert);
  const p = stored.proposal;
  const what = `${p.owner.kind} ${p.owner.namespace}/${p.owner.name}`;
  // The claim is given back on every refusal below, so the same button tries again.
  const tryAgain = (): Reply['blocks'] => [buttonBlock(proposalButton(proposalId, p, kind, 'Try again'))];
  const tooSlow = (): ApplyResult => {
    log.warn({ user: by.id, proposal: proposalId, workload: what }, 'change not applied: the Kubernetes API server is too slow');
    return refuse(`The Kubernetes API server did not answer in time: nothing was changed in ${safe(what)}. Try again in a minute.`, tryAgain());
  };

  // 4. The live value must still be the one the proposal started from.
  const path = workloadPath(p.owner);
  let obj: { metadata?: { uid?: string } };
  try {
    if (opts.signal?.aborted) return tooSlow();
    obj = await deps.kube.getJson(path, undefined, opts.signal);
  } catch (err) {
    if (opts.signal?.aborted) return tooSlow();
    const r = describePatchError(withContext(`reading ${what}`, err), what);
    log.warn({ user: by.id, proposal: proposalId, err: r.detail }, 'change not applied: cannot read the workload');
    return refuse(`${safe(r.summary, 600)}\n${codeBlock([r.detail])}`, r.transient ? tryAgain() : []);
  }
  const live = liveContainer(p.owner.kind, obj, p.container);
  if (!live) return refuse(`${safe(what)} has no container ${code(p.container, 63)} any more. Nothing was changed.`);
  const liveValue = p.target === 'limit' ? live.limit : live.request;
  const fromValue = p.target === 'limit' ? p.fromLimit : p.fromRequest;
  const toValue = p.target === 'limit' ? p.toLimit : p.toRequest;
  const requestMoved = p.toRequest !== undefined && p.target === 'limit' && !sameQuantity(live.request, p.fromRequest);
  if (!sameQuantity(liveValue, fromValue) || requestMoved) {
    const field = p.target === 'limit' && !requestMoved ? 'limit' : 'request';
    log.info({ user: by.id, proposal: proposalId, live: liveValue, expected: fromValue }, 'change refused: live value differs from the proposal');
    if (sameQuantity(liveValue, toValue) && !requestMoved) {
      return refuse(`The memory ${field} of ${code(p.container, 63)} in ${safe(what)} is already ${code(liveValue ?? 'none', 40)}. Nothing was changed.`);
    }
    const head = `The memory ${field} of ${code(p.container, 63)} in ${safe(what)} is now ${code((field === 'limit' ? live.limit : live.request) ?? 'none', 40)}, not ${code((field === 'limit' ? fromValue : p.fromRequest) ?? 'none', 40)} as when this was proposed: someone changed it since. Nothing was changed.`;
    const fresh = kind === 'raise' ? freshFromLive(p, live) : undefined;
    if (!fresh) return refuse(kind === 'undo' ? `${head} There is nothing to undo safely.` : head);
    const created = await deps.proposals.create({ incidentId: stored.incidentId, cluster: stored.cluster, proposal: fresh, ...locationOf(stored) });
    return refuse(`${head}\nFresh proposal: ${safe(describeChange(fresh), 400)}.`, [buttonBlock(proposalButton(created.id, fresh, 'raise'))]);
  }

  // 5. Server-side dry run: LimitRange, ResourceQuota, webhooks and validation speak before anything changes.
  const body = memoryPatch(p.owner.kind, live.list, p);
  for (const dryRun of [true, false]) {
    // Past this point the workload changes: never later than the person was told.
    if (opts.signal?.aborted) return tooSlow();
    try {
      await deps.kube.send('PATCH', path, body, {
        contentType: STRATEGIC_MERGE_PATCH,
        ...(dryRun ? { query: { dryRun: 'All', fieldManager: 'oombot' } } : { query: { fieldManager: 'oombot' } }),
      });
    } catch (err) {
      const r = describePatchError(err, what);
      log.warn({ user: by.id, proposal: proposalId, dryRun, err: r.detail, workload: what }, dryRun ? 'change refused by the dry run' : 'patch failed');
      return refuse(`${safe(r.summary, 600)}\n${codeBlock([r.detail])}`, r.transient ? tryAgain() : []);
    }
  }

  // 6. Applied.
  const at = deps.now();
  const applied: AppliedChange = { kind, stored, by, at, list: live.list };
  if (obj.metadata?.uid) applied.uid = obj.metadata.uid;
  if (kind === 'raise') {
    applied.undo = await deps.proposals.create({
      incidentId: stored.incidentId,
      cluster: stored.cluster,
      proposal: reverseProposal(p, by.name ?? by.id, at.toISOString()),
      ...locationOf(stored),
    });
  }
  log.info(
    {
      user: by.id,
      userName: by.name,
      proposal: proposalId,
      action: kind,
      workload: what,
      container: p.container,
      from: fromValue,
      to: toValue,
      request: p.toRequest,
    },
    kind === 'raise' ? 'memory raised from Slack' : 'memory change undone from Slack',
  );
  const lines = [
    `:white_check_mark: ${kind === 'raise' ? 'Done' : 'Undone'}: ${safe(describeChange(p), 600)}. The pods are replaced with the new value as the rollout proceeds.`,
  ];
  if (p.managedBy) {
    lines.push(
      `:warning: ${safe(describeManagedBy(p.managedBy))} manages this workload and will revert the change at its next sync or upgrade. Commit this to its source too:`,
    );
    lines.push(codeBlock(yamlSnippet(p.owner.kind, live.list, p).split('\n')));
  }
  const reply = textReply(lines.join('\n'));
  if (applied.undo) reply.blocks = [...(reply.blocks ?? []), buttonBlock(proposalButton(applied.undo.id, applied.undo.proposal, 'undo'))];
  return { reply, applied };
}
