/**
 * The audit trail of a change made from Slack, each part independent (one failing never stops the others):
 * the alert updated (who, when, old → new, and the Undo button), a thread reply, a Kubernetes Event on the
 * workload, and the log line (written by applyProposal). The alert is the one the proposal knows (the
 * worker records it after posting; a click on the alert records it too), so a click on an ephemeral
 * answer (Undo, Try again, a fresh proposal) updates the alert as well.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { WebClient } from '@slack/web-api';
import type { KnownBlock } from '@slack/types';
import { errorMessage } from '../core/errors.js';
import { ACTION_RAISE_LIMIT, ACTION_UNDO } from '../alert/action-ids.js';
import { formatTime } from '../core/format.js';
import type { AlertChange } from '../alert/alert-state.js';
import { withChanges } from '../alert/render-slack.js';
import { clip } from '../core/text-safety.js';
import type { AppliedChange } from './apply-proposal.js';
import type { BotDeps } from './bot-deps.js';
import { describeChange, proposalButton } from './proposal-button.js';
import { workloadApiVersion } from './workload-patch.js';

export const EVENT_REASON_RAISED = 'OombotLimitRaised';
export const EVENT_REASON_RESTORED = 'OombotLimitRestored';

export interface AlertMessage {
  /** The alert's blocks as Slack sent them with a click on the alert itself. */
  blocks?: unknown[];
}

function auditLine(c: AppliedChange): string {
  const verb = c.kind === 'raise' ? ':white_check_mark: Raised' : ':leftwards_arrow_with_hook: Restored';
  return `${verb} by <@${c.by.id}> at ${formatTime(c.at.toISOString())}: ${clip(describeChange(c.stored.proposal), 600)}`;
}

/** The change as the alert shows it: the audit line and the Undo button (the worker's updates keep it). */
export function alertChange(c: AppliedChange): AlertChange {
  return { id: `${c.kind}_${c.at.getTime()}`, text: auditLine(c), ...(c.undo ? { undo: proposalButton(c.undo.id, c.undo.proposal, 'undo') } : {}) };
}

/** The alert's blocks with the audit line under the header, and Raise/Undo replaced by Undo (or nothing). */
export function updatedAlertBlocks(blocks: unknown[], c: AppliedChange): KnownBlock[] {
  return withChanges(blocks, [alertChange(c)], [ACTION_RAISE_LIMIT, ACTION_UNDO]);
}

/** The alert's current blocks, when the click did not carry them (it came from an ephemeral answer). */
async function currentBlocks(deps: BotDeps, client: WebClient, channel: string, ts: string): Promise<unknown[] | undefined> {
  try {
    const res = await client.conversations.history({ channel, latest: ts, inclusive: true, limit: 1 });
    const m = res.messages?.find((x) => x.ts === ts);
    return Array.isArray(m?.blocks) ? m.blocks : undefined;
  } catch (err) {
    deps.log.info(
      { err: errorMessage(err), channel, ts },
      'cannot read the alert to update it (the bot token needs channels:history, or groups:history for private channels)',
    );
    return undefined;
  }
}

export async function recordChange(deps: BotDeps, client: WebClient | undefined, c: AppliedChange, alert: AlertMessage = {}): Promise<void> {
  const p = c.stored.proposal;
  const channel = c.stored.channel;
  const ts = c.stored.ts;
  const line = auditLine(c);
  const tasks: Promise<unknown>[] = [];
  if (client && channel && ts) {
    tasks.push(
      (async () => {
        // The group first, so that a repeat update racing this one keeps the change too. A click that came
        // before the worker told the proposal its group finds it in the incident's history record.
        const group = c.stored.group ?? (await deps.history.get(c.stored.incidentId).catch(() => undefined))?.alert?.group;
        if (group) {
          await deps.alerts
            .recordChange(group, ts, alertChange(c))
            .catch((err: unknown) =>
              deps.log.warn({ err: errorMessage(err), group }, 'cannot record the change on the alert group: a later repeat update may hide it'),
            );
        }
        const blocks = alert.blocks ?? (await currentBlocks(deps, client, channel, ts));
        if (!blocks) return;
        await client.chat.update({ channel, ts, text: line, blocks: updatedAlertBlocks(blocks, c) });
      })().catch((err: unknown) => deps.log.warn({ err: errorMessage(err), channel, ts }, 'cannot update the alert after a change')),
    );
  }
  if (client && channel && ts) {
    tasks.push(
      client.chat
        .postMessage({ channel, text: line, thread_ts: ts, unfurl_links: false, unfurl_media: false })
        .catch((err: unknown) => deps.log.warn({ err: errorMessage(err), channel }, 'cannot post the change to the thread')),
    );
  }
  const ns = p.owner.namespace;
  const now = c.at.toISOString();
  const subject = p.target === 'limit' && p.scope === 'pod' ? 'pod-level resources' : `container ${p.container}`;
  const message = `${c.kind === 'raise' ? 'Memory raised' : 'Memory change undone'} from Slack by ${c.by.name ?? c.by.id} (${c.by.id}): ${subject}${p.target === 'limit' ? ` limit ${p.fromLimit} -> ${p.toLimit}` : ''}${p.toRequest !== undefined ? ` request ${p.fromRequest ?? 'none'} -> ${p.toRequest}` : ''}`;
  tasks.push(
    deps.kube
      .send(
        'POST',
        `/api/v1/namespaces/${encodeURIComponent(ns)}/events`,
        {
          apiVersion: 'v1',
          kind: 'Event',
          metadata: { name: `${p.owner.name}.${randomBytes(8).toString('hex')}`.slice(0, 253), namespace: ns },
          involvedObject: {
            apiVersion: workloadApiVersion(p.owner.kind),
            kind: p.owner.kind,
            name: p.owner.name,
            namespace: ns,
            ...(c.uid ? { uid: c.uid } : {}),
          },
          reason: c.kind === 'raise' ? EVENT_REASON_RAISED : EVENT_REASON_RESTORED,
          message: message.slice(0, 1000),
          type: 'Normal',
          source: { component: 'oombot' },
          reportingComponent: 'oombot',
          reportingInstance: hostname().slice(0, 128),
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
        },
        { proposal: { id: c.stored.id, claim: c.claim } },
      )
      .catch((err: unknown) =>
        deps.log.warn({ err: errorMessage(err), workload: `${p.owner.kind} ${ns}/${p.owner.name}` }, 'cannot record the change as a Kubernetes Event'),
      ),
  );
  await Promise.all(tasks);
}
