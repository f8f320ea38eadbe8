/**
 * The record a change from Slack leaves for the follower (handlers/follow-fix.ts): a raise starts a
 * followed fix; an Undo closes the open fix it reverses as "undone". Best effort, like the rest of the
 * audit: the change is made already, and a failure here is logged.
 */
import { errorMessage } from '../core/errors.js';
import { FINAL_STATES } from '../stores/fix-store.js';
import { IncidentHistory } from '../stores/incident-history.js';
import type { AppliedChange } from './apply-proposal.js';
import type { BotBase } from './bot-deps.js';

export async function recordFix(deps: BotBase, c: AppliedChange): Promise<void> {
  const fixes = deps.fixes;
  if (!fixes) return;
  const p = c.stored.proposal;
  const workloadKey = IncidentHistory.workloadKey(c.stored.cluster, p.owner.namespace, `${p.owner.kind}/${p.owner.name}`);
  const at = c.at.toISOString();
  try {
    if (c.kind === 'raise') {
      const to = p.target === 'limit' ? p.toLimit : p.toRequest;
      const toBytes = p.target === 'limit' ? p.toLimitBytes : p.toRequestBytes;
      const from = p.target === 'limit' ? p.fromLimit : p.fromRequest;
      if (to === undefined || toBytes === undefined) return;
      const s = c.stored;
      await fixes.create({
        cluster: s.cluster,
        workloadKey,
        owner: p.owner,
        ...(c.uid ? { uid: c.uid } : {}),
        container: p.container,
        target: p.target,
        ...(from !== undefined ? { from } : {}),
        to,
        toBytes,
        ...(p.fromRequest !== undefined ? { fromRequest: p.fromRequest } : {}),
        ...(p.toRequest !== undefined ? { toRequest: p.toRequest } : {}),
        by: { id: c.by.id, ...(c.by.name ? { name: c.by.name.slice(0, 200) } : {}) },
        appliedAt: at,
        incidentId: s.incidentId,
        proposalId: s.id,
        ...(c.undo ? { undoProposalId: c.undo.id } : {}),
        ...(s.channel && s.ts ? { alert: { channel: s.channel, ts: s.ts, ...(s.group ? { group: s.group } : {}) } } : {}),
      });
      deps.metrics?.fixOutcomes.inc({ outcome: 'applied' });
      return;
    }
    // An Undo: the open fix whose Undo this is (else the newest open fix of that container).
    const open = (await fixes.forWorkload(workloadKey)).filter((f) => !FINAL_STATES.includes(f.state) && f.container === p.container);
    const fix = open.find((f) => f.undoProposalId === c.stored.id) ?? open[0];
    if (!fix) return;
    if (await fixes.update(fix, { state: 'undone', detail: `by ${c.by.id}` }, at)) deps.metrics?.fixOutcomes.inc({ outcome: 'undone' });
  } catch (err) {
    deps.log.warn({ err: errorMessage(err), workload: workloadKey }, 'cannot record the fix to follow it: its outcome will not be reported');
  }
}
