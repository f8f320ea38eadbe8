/**
 * Muting alerts is an action: only the snoozers (OOMBOT_SNOOZERS, the approvers when unset) may snooze or
 * unsnooze a workload, and every snooze is announced where the team sees it: in the thread of the
 * workload's alert when there is one, else in the channel its alerts go to. Who, what, until when.
 */
import { channelFor } from '../core/config.js';
import { formatTime } from '../core/format.js';
import { IncidentHistory, type HistoryRecord, type WorkloadRef } from '../stores/incident-history.js';
import { forCluster, inCluster, type BotBase, type BotDeps } from './bot-deps.js';
import { code, safe, textReply, type Reply } from './reply.js';
import { describeWorkload } from './resolve-workload.js';

/** How long the alert's Snooze button snoozes (its label says so). */
export const SNOOZE_BUTTON_MS = 24 * 3600 * 1000;

/** A refusal for someone who may not mute alerts, or undefined when they may. */
export function snoozeRefusal(deps: BotBase, userId: string, what: 'snooze' | 'unsnooze'): Reply | undefined {
  if (deps.config.snoozers.includes(userId)) return undefined;
  deps.log.warn({ user: userId, action: what }, 'snooze refused: the user is not a snoozer');
  const who =
    deps.config.snoozers.length > 0
      ? ` Ask one of them: ${deps.config.snoozers
          .slice(0, 10)
          .map((id) => `<@${safe(id, 20)}>`)
          .join(', ')}.`
      : ' Nobody is allowed yet: set OOMBOT_SNOOZERS (or OOMBOT_APPROVERS).';
  return textReply(
    `:no_entry: Only the people allowed to mute alerts can ${what === 'snooze' ? 'snooze' : 'unsnooze'} them (OOMBOT_SNOOZERS, or the approvers when it is unset).${who} Nothing was changed.`,
  );
}

function keyOf(deps: BotDeps, w: WorkloadRef): string {
  // A node's incidents have no namespace: their key says "-" there, as the worker writes it.
  return IncidentHistory.workloadKey(deps.cluster, w.namespace || undefined, `${w.kind}/${w.name}`);
}

function unsnoozeCommand(deps: BotDeps, w: WorkloadRef): string {
  return code(`/oom unsnooze ${deps.named ? `${deps.cluster}/` : ''}${w.namespace}/${w.kind}/${w.name}`);
}

/** Posts `text` in the thread of the workload's alert, else in its alerts' channel; a failure is logged. */
async function announce(deps: BotDeps, w: WorkloadRef, text: string, latest?: HistoryRecord): Promise<void> {
  if (!deps.announce) {
    deps.log.info({ workload: keyOf(deps, w) }, 'snooze not announced: no SLACK_BOT_TOKEN');
    return;
  }
  const record = latest ?? (await deps.history.forWorkload(deps.cluster, w.namespace || undefined, `${w.kind}/${w.name}`, 1))[0];
  const alert = record?.alert;
  const channel = alert?.channel ?? channelFor(deps.config, w.namespace);
  if (channel === 'console') return;
  await deps.announce({ channel, text, ...(alert ? { threadTs: alert.ts } : {}) });
}

export async function snoozeWorkload(
  deps: BotDeps,
  w: WorkloadRef,
  durationMs: number,
  durationText: string,
  userId: string,
  latest?: HistoryRecord,
): Promise<Reply> {
  const refused = snoozeRefusal(deps, userId, 'snooze');
  if (refused) return refused;
  const until = await deps.snoozes.snooze(keyOf(deps, w), durationMs, userId, deps.now().getTime());
  deps.log.info({ workload: keyOf(deps, w), until, by: userId }, 'alerts snoozed from Slack');
  const when = safe(formatTime(until), 60);
  await announce(
    deps,
    w,
    `:zzz: <@${safe(userId, 20)}> snoozed alerts for ${safe(describeWorkload(w))}${inCluster(deps)} for ${safe(durationText, 20)}, until ${when}. Incidents are still recorded; ${unsnoozeCommand(deps, w)} ends it early.`,
    latest,
  );
  return textReply(
    `:zzz: Alerts for ${safe(describeWorkload(w))}${inCluster(deps)} are snoozed for ${safe(durationText, 20)}, until ${when}. Incidents are still recorded; ${unsnoozeCommand(deps, w)} ends it early. The channel was told.`,
  );
}

export async function unsnoozeWorkload(deps: BotDeps, w: WorkloadRef, userId: string): Promise<Reply> {
  const refused = snoozeRefusal(deps, userId, 'unsnooze');
  if (refused) return refused;
  const removed = await deps.snoozes.unsnooze(keyOf(deps, w));
  if (!removed) return textReply(`${safe(describeWorkload(w))}${inCluster(deps)} was not snoozed.`);
  deps.log.info({ workload: keyOf(deps, w), by: userId }, 'alerts unsnoozed from Slack');
  await announce(deps, w, `:bell: <@${safe(userId, 20)}> turned alerts for ${safe(describeWorkload(w))}${inCluster(deps)} back on.`);
  return textReply(`:bell: Alerts for ${safe(describeWorkload(w))}${inCluster(deps)} are on again.`);
}

/** The alert's Snooze button: the workload of the alert's incident, for SNOOZE_BUTTON_MS. */
export async function snoozeFromAlert(base: BotBase, incidentId: string, userId: string): Promise<Reply> {
  const refused = snoozeRefusal(base, userId, 'snooze');
  if (refused) return refused;
  const record = await base.history.get(incidentId);
  if (!record?.workload) return textReply("This alert's incident is no longer on record (history is kept for a limited time). Nothing was snoozed.");
  const [kind = '', ...name] = record.workload.split('/');
  // The snooze is of the workload in the incident's cluster: the same name in another cluster still alerts.
  return snoozeWorkload(
    forCluster(base, record.cluster, { named: (await base.clusters.list()).length > 1 }),
    { namespace: record.namespace ?? '', kind, name: name.join('/') },
    SNOOZE_BUTTON_MS,
    '24h',
    userId,
    record,
  );
}
