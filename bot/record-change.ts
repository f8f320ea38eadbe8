/**
 * The audit trail of a change made from Slack, each part independent (one failing never stops the others):
 * the alert updated (who, when, old → new, and the Undo button), a thread reply, a Kubernetes Event on the
 * workload, and the log line (written by applyProposal).
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { WebClient } from '@slack/web-api';
import type { Button, KnownBlock } from '@slack/types';
import { errorMessage } from '../core/errors.js';
import { ACTION_RAISE_LIMIT, ACTION_UNDO } from '../handlers/model/action-ids.js';
import { formatTime } from '../handlers/model/format.js';
import { clip } from '../handlers/model/text-safety.js';
import type { AppliedChange } from './apply-proposal.js';
import type { BotDeps } from './bot-deps.js';
import { describeChange, proposalButton } from './proposal-button.js';
import { workloadApiVersion } from './workload-patch.js';

export const EVENT_REASON_RAISED = 'OombotLimitRaised';
export const EVENT_REASON_RESTORED = 'OombotLimitRestored';

export interface AlertMessage {
  channel?: string;
  ts?: string;
  /** The message's blocks as Slack sent them with the click. */
  blocks?: unknown[];
  isEphemeral?: boolean;
}

function auditLine(c: AppliedChange): string {
  const verb = c.kind === 'raise' ? ':white_check_mark: Raised' : ':leftwards_arrow_with_hook: Restored';
  return `${verb} by <@${c.by.id}> at ${formatTime(c.at.toISOString())}: ${clip(describeChange(c.stored.proposal), 600)}`;
}

/** The alert's blocks with the audit line under the header, and Raise/Undo replaced by Undo (or nothing). */
export function updatedAlertBlocks(blocks: unknown[], c: AppliedChange): KnownBlock[] {
  const out: KnownBlock[] = [];
  const audit: KnownBlock = { type: 'context', block_id: `oom_audit_${c.kind}_${c.at.getTime()}`, elements: [{ type: 'mrkdwn', text: auditLine(c) }] };
  let inserted = false;
  for (const raw of blocks) {
    const b = raw as KnownBlock & { elements?: Button[] };
    if (b.type === 'actions' && Array.isArray(b.elements)) {
      const kept = b.elements.filter((e) => e.action_id !== ACTION_RAISE_LIMIT && e.action_id !== ACTION_UNDO);
      if (c.undo) kept.unshift(proposalButton(c.undo.id, c.undo.proposal, 'undo'));
      if (kept.length > 0) out.push({ ...b, elements: kept } as KnownBlock);
      continue;
    }
    out.push(b);
    if (!inserted && b.type === 'header') {
      out.push(audit);
      inserted = true;
    }
  }
  if (!inserted) out.unshift(audit);
  return out.slice(0, 50);
}

export async function recordChange(deps: BotDeps, client: WebClient | undefined, c: AppliedChange, alert: AlertMessage): Promise<void> {
  const p = c.stored.proposal;
  const channel = alert.isEphemeral ? (alert.channel ?? c.stored.channel) : (alert.channel ?? c.stored.channel);
  const ts = alert.isEphemeral ? c.stored.ts : (alert.ts ?? c.stored.ts);
  const line = auditLine(c);
  const tasks: Promise<unknown>[] = [];
  if (client && channel && ts && Array.isArray(alert.blocks) && !alert.isEphemeral) {
    tasks.push(client.chat.update({ channel, ts, text: line, blocks: updatedAlertBlocks(alert.blocks, c) }).catch((err: unknown) => deps.log.warn({ err: errorMessage(err), channel, ts }, 'cannot update the alert after a change')));
  }
  if (client && channel) {
    tasks.push(
      client.chat
        .postMessage({ channel, text: line, ...(ts ? { thread_ts: ts } : {}), unfurl_links: false, unfurl_media: false })
        .catch((err: unknown) => deps.log.warn({ err: errorMessage(err), channel }, 'cannot post the change to the thread')),
    );
  }
  const ns = p.owner.namespace;
  const now = c.at.toISOString();
  const message = `${c.kind === 'raise' ? 'Memory raised' : 'Memory change undone'} from Slack by ${c.by.name ?? c.by.id} (${c.by.id}): container ${p.container}${p.target === 'limit' ? ` limit ${p.fromLimit} -> ${p.toLimit}` : ''}${p.toRequest !== undefined ? ` request ${p.fromRequest ?? 'none'} -> ${p.toRequest}` : ''}`;
  tasks.push(
    deps.kube
      .send('POST', `/api/v1/namespaces/${encodeURIComponent(ns)}/events`, {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: `${p.owner.name}.${randomBytes(8).toString('hex')}`.slice(0, 253), namespace: ns },
        involvedObject: { apiVersion: workloadApiVersion(p.owner.kind), kind: p.owner.kind, name: p.owner.name, namespace: ns, ...(c.uid ? { uid: c.uid } : {}) },
        reason: c.kind === 'raise' ? EVENT_REASON_RAISED : EVENT_REASON_RESTORED,
        message: message.slice(0, 1000),
        type: 'Normal',
        source: { component: 'oombot' },
        reportingComponent: 'oombot',
        reportingInstance: hostname().slice(0, 128),
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      })
      .catch((err: unknown) => deps.log.warn({ err: errorMessage(err), workload: `${p.owner.kind} ${ns}/${p.owner.name}` }, 'cannot record the change as a Kubernetes Event')),
  );
  await Promise.all(tasks);
}
