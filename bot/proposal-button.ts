/**
 * Buttons the bot itself offers (a fresh proposal after a conflict, Try again, Undo), with a confirm dialog
 * that shows the workload, old → new limit and request, and the reason: what a person must see before a
 * change to a cluster. Also the reverse of a change, for Undo. Pure.
 */
import type { Button, KnownBlock } from '@slack/types';
import type { Proposal } from '../handlers/model/propose-limit.js';
import { ACTION_RAISE_LIMIT, ACTION_UNDO } from '../handlers/model/action-ids.js';
import { clip } from '../handlers/model/text-safety.js';

export function describeChange(p: Proposal): string {
  const owner = `${p.owner.kind} ${p.owner.namespace}/${p.owner.name}`;
  const parts: string[] = [];
  if (p.target === 'limit') parts.push(`memory limit ${p.fromLimit} → ${p.toLimit}`);
  if (p.toRequest !== undefined) parts.push(`request ${p.fromRequest ?? 'none'} → ${p.toRequest}`);
  return `${owner}, container ${p.container}: ${parts.join(', ')}`;
}

export function confirmText(p: Proposal): string {
  const revert = p.managedBy ? ` Managed by ${p.managedBy.tool}: it will be reverted unless committed to its source.` : '';
  return `${describeChange(p)}.${revert} Why: ${p.reason}`;
}

export function proposalButton(id: string, p: Proposal, kind: 'raise' | 'undo', label?: string): Button {
  const to = p.target === 'limit' ? p.toLimit : p.toRequest;
  const what = p.target === 'limit' ? 'limit' : 'request';
  return {
    type: 'button',
    action_id: kind === 'undo' ? ACTION_UNDO : ACTION_RAISE_LIMIT,
    value: id,
    text: { type: 'plain_text', text: clip(label ?? (kind === 'undo' ? `Undo (back to ${to})` : `Raise ${what} to ${to}`), 75, { escape: false }) },
    ...(kind === 'undo' ? { style: 'danger' as const } : { style: 'primary' as const }),
    confirm: {
      title: { type: 'plain_text', text: kind === 'undo' ? `Restore the memory ${what}?` : `Raise the memory ${what}?` },
      text: { type: 'plain_text', text: clip(confirmText(p), 300) },
      confirm: { type: 'plain_text', text: clip(kind === 'undo' ? `Restore ${to}` : `Raise to ${to}`, 30, { escape: false }) },
      deny: { type: 'plain_text', text: 'Cancel' },
    },
  };
}

export function buttonBlock(button: Button): KnownBlock {
  return { type: 'actions', block_id: 'oom_bot_actions', elements: [button] };
}

/** The change that puts back what `p` replaced (for Undo). */
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
