/**
 * Buttons the bot itself offers (a fresh proposal after a conflict, Try again, Undo). They are built and
 * rendered exactly as the alert's Raise button (handlers/model/message.ts `proposalAction`, rendered by
 * render-slack), so every confirm dialog shows the same things: the workload, old → new limit and
 * request, and the reason. Also the reverse of a change, for Undo. Pure.
 */
import type { Button, KnownBlock } from '@slack/types';
import type { Proposal } from '../diagnosis/propose-limit.js';
import { describeChange, proposalAction, type ChangeDirection } from '../alert/message.js';
import { renderButton } from '../alert/render-slack.js';

export { describeChange };

export function proposalButton(id: string, p: Proposal, direction: ChangeDirection, label?: string): Button {
  const b = renderButton(proposalAction(p, id, direction, label === undefined ? {} : { label }));
  if (!b) throw new Error(`proposal id ${id.slice(0, 40)} does not fit in a button`);
  return b;
}

export function buttonBlock(button: Button): KnownBlock {
  return { type: 'actions', block_id: 'oom_bot_actions', elements: [button] };
}

/** The change that puts back what `p` replaced (for Undo). `by` is a plain name (the dialog is plain text). */
export function reverseProposal(p: Proposal, by: string, at: string): Proposal {
  const reason = `Undo of the change applied by ${by} at ${at}.`;
  if (p.target === 'limit') {
    const r: Proposal = {
      target: 'limit',
      container: p.container,
      owner: p.owner,
      fromLimit: p.toLimit,
      toLimit: p.fromLimit,
      fromLimitBytes: p.toLimitBytes,
      toLimitBytes: p.fromLimitBytes,
      reason,
    };
    if (p.scope === 'pod') r.scope = 'pod';
    if (p.toRequest !== undefined) {
      r.fromRequest = p.toRequest;
      r.toRequest = p.fromRequest ?? 'none';
    }
    if (p.managedBy) r.managedBy = p.managedBy;
    return r;
  }
  const r: Proposal = {
    target: 'request',
    container: p.container,
    owner: p.owner,
    fromRequest: p.toRequest,
    toRequest: p.fromRequest ?? 'none',
    toRequestBytes: p.fromRequestBytes ?? 0,
    reason,
  };
  if (p.managedBy) r.managedBy = p.managedBy;
  return r;
}
