import { channelFor, type Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import { NEAR_LIMIT_VERSION, type NearLimitJob } from '../core/near-limit.js';
import { OombotError } from '../core/errors.js';
import { check, NearLimitJobSchema } from '../stores/schemas.js';
import { IncidentHistory } from '../stores/incident-history.js';
import type { SnoozeStore } from '../stores/snooze-store.js';
import type { NearLimitWarnings } from '../stores/near-limit-warnings.js';
import { nearLimitBlocks, nearLimitText, type NearLimitView } from '../alert/near-limit-message.js';
import { PRIORITY, type AlertTransport, type OutgoingMessage } from './transport.js';

/** Metadata event type of a near-limit warning; its payload names the warning (workload and claim time). */
export const NEAR_LIMIT_EVENT_TYPE = 'oombot_near_limit';

export interface NearLimitDeps {
  config: Config;
  warnings: NearLimitWarnings;
  snoozes: SnoozeStore;
  transport: AlertTransport;
  log: Logger;
}

export type NearLimitOutcome = 'posted' | 'updated' | 'snoozed' | 'skipped';

function render(job: NearLimitJob, view: NearLimitView, transport: AlertTransport): OutgoingMessage {
  const text = nearLimitText(job, view);
  return transport.kind === 'slack' ? { text: text.split('\n')[0] ?? text, blocks: nearLimitBlocks(job, view) } : { text };
}

/**
 * One queued near-limit sample: posts the workload's warning (routed and snoozed like its alerts), updates
 * it, or marks it resolved. The post goes through the transport's pacing and carries metadata, so a
 * retried job finds the message it may have posted already instead of posting it twice.
 */
export async function processNearLimit(raw: unknown, deps: NearLimitDeps, retry: boolean): Promise<NearLimitOutcome> {
  const valid = check(NearLimitJobSchema, raw);
  if (!valid.ok)
    throw new OombotError('UNKNOWN', `job refused: not a near-limit warning of version ${NEAR_LIMIT_VERSION} (${valid.reason})`, { retryable: false });
  const job = valid.value as NearLimitJob;
  const wk = IncidentHistory.workloadKey(job.cluster, job.namespace, job.workload);
  const snoozed = await deps.snoozes.until(wk);
  if (snoozed) {
    deps.log.info({ workload: wk, until: snoozed.until }, 'workload snoozed: near-limit warning not posted');
    return 'snoozed';
  }
  const share = job.workingSetBytes / job.limitBytes;
  if (job.state === 'resolved') {
    const before = await deps.warnings.get(wk);
    if (!before?.ts || !before.channel) return 'skipped';
    const record = await deps.warnings.note(wk, 'resolved', share);
    await deps.transport.update(before.channel, before.ts, render(job, { since: before.since, peak: record?.peak ?? share }, deps.transport));
    deps.log.info({ workload: wk }, 'near-limit warning resolved');
    return 'updated';
  }
  const claim = await deps.warnings.claim(wk, job.at, share);
  const record = (await deps.warnings.note(wk, 'rising', share)) ?? claim.record;
  const message = render(job, { since: record.since, peak: record.peak }, deps.transport);
  if (claim.action === 'update') {
    await deps.transport.update(claim.record.channel!, claim.record.ts!, message);
    return 'updated';
  }
  const channel = channelFor(deps.config, job.namespace);
  const posted = await deps.transport.post(
    channel,
    { ...message, metadata: { event_type: NEAR_LIMIT_EVENT_TYPE, event_payload: { workload: wk.slice(0, 200) } } },
    PRIORITY.update,
    {
      eventType: NEAR_LIMIT_EVENT_TYPE,
      key: 'warning_id',
      value: `${wk.slice(0, 200)}@${claim.record.claimedAt}`,
      sinceMs: claim.record.claimedAt,
      retry: claim.retry || retry,
    },
  );
  await deps.warnings.posted(wk, posted.channel, posted.ts);
  deps.log.info({ workload: wk, channel, found: posted.found ?? false }, 'near-limit warning posted');
  return 'posted';
}
