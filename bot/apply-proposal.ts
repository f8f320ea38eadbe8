/**
 * A Raise-limit (or Undo) click → at most one patch of the top controller's pod template:
 *   authorisation → proposal lookup → claim (atomic, at most once) → live value check → server-side dry run
 *   → strategic merge patch. Each refusal says why and what to do; nothing is changed by a refusal, and a
 * refusal after the claim gives the claim back, so the same button can be tried again.
 */
import { errorMessage, OombotError, withContext } from '../core/errors.js';
import { type AlertLocation, CLAIM_LEASE_MS, type ProposalClaim, ProposalStore, type StoredProposal } from '../stores/proposal-store.js';
import { describeManagedBy } from '../diagnosis/propose-limit.js';
import type { ChangeDirection } from '../alert/message.js';
import { forCluster, type BotBase, type BotDeps } from './bot-deps.js';
import { inScope } from './scope.js';
import { changedSince, type LiveObject, locationOf, readBack } from './live-check.js';
import { describePatchError } from './describe-patch-error.js';
import { buttonBlock, describeChange, proposalButton, reverseProposal } from './proposal-button.js';
import { offerResize } from './resize-offer.js';
import { code, codeBlock, safe, textReply, type Reply } from './reply.js';
import { isPatchableKind, liveTarget, memoryPatch, STRATEGIC_MERGE_PATCH, workloadPath, yamlSnippet, type LiveContainer } from './workload-patch.js';

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
  /** The claim token that held the proposal while it was applied: the change's later writes (its Event) carry it. */
  claim: string;
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

export function refuse(text: string, extra: Reply['blocks'] = []): ApplyResult {
  const r = textReply(text);
  return { reply: { ...r, blocks: [...(r.blocks ?? []), ...extra] } };
}

/** The approver rule of every change from Slack: a refusal (logged) when `by` may not change workloads. */
export function approverRefusal(deps: BotBase, by: Clicker, action: string, proposalId: unknown): ApplyResult | undefined {
  const { log, config } = deps;
  if (config.approvers.length === 0) {
    log.warn({ user: by.id, action }, 'change refused: no approvers configured (OOMBOT_APPROVERS)');
    return refuse(
      'Nobody may apply changes from Slack yet: set `OOMBOT_APPROVERS` to the Slack user ids (like `U0123ABCD`) of the people who may, and restart oombot.',
    );
  }
  if (!config.approvers.includes(by.id)) {
    log.warn(
      { user: by.id, action, proposal: typeof proposalId === 'string' ? proposalId.slice(0, 40) : undefined },
      'change refused: user is not an approver',
    );
    return refuse(
      `Only approvers may change workloads from Slack, and <@${by.id}> is not one. Ask one of ${config.approvers
        .slice(0, 5)
        .map((a) => `<@${a}>`)
        .join(', ')}, or have your user id added to \`OOMBOT_APPROVERS\`.`,
    );
  }
  return undefined;
}

export async function applyProposal(base: BotBase, proposalId: unknown, by: Clicker, kind: ChangeKind, opts: ApplyOptions = {}): Promise<ApplyResult> {
  const { log, config } = base;
  // 1. Authorisation comes first: a refused click must not use up the proposal.
  const refused = approverRefusal(base, by, kind, proposalId);
  if (refused) return refused;
  // 2. The proposal, server-side; the button only names it.
  if (!ProposalStore.isId(proposalId)) {
    log.warn({ user: by.id, value: String(proposalId).slice(0, 60) }, 'change refused: the button value is not a proposal id');
    return refuse(
      'This button does not carry a valid proposal (it may have been altered). Nothing was changed. Run `/oom why &lt;pod&gt;` for a fresh proposal.',
    );
  }
  const found = await base.proposals.get(proposalId);
  if (!found) {
    log.info({ user: by.id, proposal: proposalId }, 'change refused: proposal unknown or expired');
    return refuse('This proposal has expired (proposals last 24 hours) or is unknown. Nothing was changed. Run `/oom why &lt;pod&gt;` for a fresh one.');
  }
  // The proposal names its cluster (sealed with it): every read and write below goes there, and only there.
  const deps = forCluster(base, found.cluster);
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
  // The claim is a lease: kept alive while this bot works on it, so a crash frees it within a minute.
  const renewal = setInterval(() => void deps.proposals.renew(claim).catch(() => false), CLAIM_LEASE_MS / 3);
  renewal.unref();
  try {
    const result = await applyClaimed(deps, claim, by, kind, opts);
    clearInterval(renewal);
    if (result.applied) {
      await deps.proposals
        .settle(claim)
        .catch((err: unknown) =>
          log.warn({ proposal: proposalId, err: errorMessage(err) }, 'cannot mark the proposal applied: it could be applied again after a minute'),
        );
    } else {
      await release(deps, claim);
    }
    return result;
  } catch (err) {
    clearInterval(renewal);
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

  // 4. The live value must still be the one the proposal started from; a change landing meanwhile
  // (another approver, an Undo, Argo CD, kubectl) makes the patch fail its resourceVersion precondition,
  // and the check runs again on what is there now: never an overwrite.
  const path = workloadPath(p.owner);
  for (let attempt = 1; ; attempt++) {
    let obj: LiveObject;
    try {
      if (opts.signal?.aborted) return tooSlow();
      obj = await deps.kube.getJson<LiveObject>(path, undefined, opts.signal);
    } catch (err) {
      if (opts.signal?.aborted) return tooSlow();
      const r = describePatchError(withContext(`reading ${what}`, err), what);
      log.warn({ user: by.id, proposal: proposalId, err: r.detail }, 'change not applied: cannot read the workload');
      return refuse(`${safe(r.summary, 600)}\n${codeBlock([r.detail])}`, r.transient ? tryAgain() : []);
    }
    const controller = obj.metadata?.ownerReferences?.find((o) => o.controller);
    if (controller) {
      // A ReplicaSet of a Deployment (a Job of a CronJob): its controller would roll the change back.
      log.warn(
        { user: by.id, proposal: proposalId, workload: what, controller: `${controller.kind}/${controller.name}` },
        'change refused: the target has a controller',
      );
      return refuse(
        `${safe(what)} is controlled by ${safe(`${controller.kind} ${p.owner.namespace}/${controller.name}`)}, which would roll a change here back: nothing was changed. Run \`/oom why\` on the pod for a proposal on the ${safe(controller.kind)}.`,
      );
    }
    const live = liveTarget(p.owner.kind, obj, p);
    if (!live) {
      return refuse(
        p.target === 'limit' && p.scope === 'pod'
          ? `The pod template of ${safe(what)} has no pod-level memory limit (spec.resources.limits.memory) any more: it was removed since, or set when the pod was created. Nothing was changed.`
          : `${safe(what)} has no container ${code(p.container, 63)} any more. Nothing was changed.`,
      );
    }
    const changedReply = await changedSince(deps, stored, live, kind, what);
    const changed = changedReply ? { reply: changedReply } : undefined;
    if (changed) {
      log.info(
        { user: by.id, proposal: proposalId, live: p.target === 'limit' ? live.limit : live.request },
        'change refused: live value differs from the proposal',
      );
      return changed;
    }

    // 5. Server-side dry run: LimitRange, ResourceQuota, webhooks and validation speak before anything changes.
    const body = {
      ...memoryPatch(p.owner.kind, live.list, p),
      ...(obj.metadata?.resourceVersion ? { metadata: { resourceVersion: obj.metadata.resourceVersion } } : {}),
    };
    const outcome = await patchTwice(deps, path, body, { id: proposalId, claim: claim.token }, opts.signal);
    if (outcome === 'too-slow') return tooSlow();
    if (outcome !== 'applied') {
      const r = describePatchError(outcome.err, what);
      if (outcome.err instanceof OombotError && outcome.err.code === 'KUBE_CONFLICT' && attempt < 3) {
        log.info({ proposal: proposalId, workload: what }, 'the workload changed while applying: checking again');
        continue;
      }
      if (!outcome.dryRun && r.transient) {
        // The API server may have committed the patch before the connection failed: read what is true.
        const now = await readBack(deps, path, p, live.list);
        if (now === 'applied') {
          log.warn({ user: by.id, proposal: proposalId, workload: what, err: r.detail }, 'patch answer lost, but reading it back shows it applied');
          return finish(deps, { kind, stored, by, live, obj, opts, claim: claim.token });
        }
        if (now === 'unknown') {
          log.error({ user: by.id, proposal: proposalId, workload: what, err: r.detail }, 'patch outcome unknown');
          return refuse(
            `The Kubernetes API server failed while changing ${safe(what)} and its value could not be read back: check it with \`kubectl get\` before trying again.\n${codeBlock([r.detail])}`,
          );
        }
      }
      log.warn(
        { user: by.id, proposal: proposalId, dryRun: outcome.dryRun, err: r.detail, workload: what },
        outcome.dryRun ? 'change refused by the dry run' : 'patch failed',
      );
      return refuse(`${safe(r.summary, 600)}\n${codeBlock([r.detail])}`, r.transient ? tryAgain() : []);
    }
    return finish(deps, { kind, stored, by, live, obj, opts, claim: claim.token });
  }
}

async function patchTwice(
  deps: BotDeps,
  path: string,
  body: unknown,
  proposal: { id: string; claim: string },
  signal: AbortSignal | undefined,
): Promise<'applied' | 'too-slow' | { err: unknown; dryRun: boolean }> {
  for (const dryRun of [true, false]) {
    // Past this point the workload changes: never later than the person was told.
    if (signal?.aborted) return 'too-slow';
    try {
      await deps.kube.send('PATCH', path, body, {
        contentType: STRATEGIC_MERGE_PATCH,
        query: dryRun ? { dryRun: 'All', fieldManager: 'oombot' } : { fieldManager: 'oombot' },
        proposal,
      });
    } catch (err) {
      return { err, dryRun };
    }
  }
  return 'applied';
}

async function finish(
  deps: BotDeps,
  c: { kind: ChangeKind; stored: StoredProposal; by: Clicker; live: LiveContainer; obj: LiveObject; opts: ApplyOptions; claim: string },
): Promise<ApplyResult> {
  const { log } = deps;
  const { kind, stored, by, live, obj } = c;
  const p = stored.proposal;
  const proposalId = stored.id;
  const what = `${p.owner.kind} ${p.owner.namespace}/${p.owner.name}`;
  const fromValue = p.target === 'limit' ? p.fromLimit : p.fromRequest;
  const toValue = p.target === 'limit' ? p.toLimit : p.toRequest;
  // 6. Applied.
  const at = deps.now();
  const applied: AppliedChange = { kind, stored, by, at, list: live.list, claim: c.claim };
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
  const buttons = applied.undo ? [proposalButton(applied.undo.id, applied.undo.proposal, 'undo')] : [];
  // Relief without a restart for the pods running now, where the cluster can resize pods in place.
  if (kind === 'raise') {
    const resize = await offerResize(deps, stored, live.list, c.opts.signal);
    if (resize) buttons.push(resize);
  }
  if (buttons.length) reply.blocks = [...(reply.blocks ?? []), { type: 'actions', block_id: 'oom_bot_actions', elements: buttons }];
  return { reply, applied };
}
