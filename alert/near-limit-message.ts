/**
 * The near-limit warning as a platform-free message: one per workload, updated while the working set keeps
 * climbing, marked resolved when it falls. Kubernetes names in it are untrusted text: escaped here.
 */
import type { KnownBlock } from '@slack/types';
import type { NearLimitJob } from '../core/near-limit.js';
import { formatMemoryApprox } from '../core/quantity.js';
import { formatDuration, formatTime } from '../core/format.js';
import { escapeMrkdwn } from '../core/text-safety.js';

export interface NearLimitView {
  /** When the workload was first warned about in this window, ISO 8601. */
  since: string;
  /** Highest share of the limit seen while the warning lasted (0..1). */
  peak: number;
}

const pct = (bytes: number, limit: number) => `${Math.round((bytes / limit) * 100)}%`;

/** "warned at 12:03 UTC, 94% and rising": the line an OOM alert of the same workload shows. */
export function warnedLine(since: string, share: number, state: 'rising' | 'resolved'): string {
  return `warned at ${formatTime(since)}, ${Math.round(share * 100)}% of the limit${state === 'rising' ? ' and rising' : ', then fell'}`;
}

export function nearLimitText(job: NearLimitJob, view: NearLimitView): string {
  const who = `${job.namespace}/${job.workload}`;
  const where = `container ${job.container} in pod ${job.pod}`;
  const used = `${formatMemoryApprox(job.workingSetBytes)} of its ${formatMemoryApprox(job.limitBytes)} memory limit (${pct(job.workingSetBytes, job.limitBytes)})`;
  if (job.state === 'resolved') {
    return [
      `[RESOLVED] Near memory limit: ${who}`,
      `${where} is down to ${used}; it peaked at ${Math.round(view.peak * 100)}%. Warned since ${formatTime(view.since)}, resolved at ${formatTime(job.at)}.`,
    ].join('\n');
  }
  const eta =
    job.etaSeconds !== undefined
      ? ` At this rate it reaches the limit in about ${formatDuration(job.etaSeconds)} (${formatTime(new Date(Date.parse(job.at) + job.etaSeconds * 1000).toISOString())}) and is OOM-killed.`
      : '';
  return [
    `[WARNING] Near memory limit: ${who}`,
    `${where} uses ${used} and is rising.${eta}`,
    `Warned since ${formatTime(view.since)}, last sample ${formatTime(job.at)}. Mute it with /oom snooze ${job.namespace}/${job.workload} 2h.`,
  ].join('\n');
}

/** Block Kit of the same text: a header line and a section, everything from the cluster escaped. */
export function nearLimitBlocks(job: NearLimitJob, view: NearLimitView): KnownBlock[] {
  const [head = '', ...rest] = nearLimitText(job, view).split('\n');
  const icon = job.state === 'resolved' ? ':white_check_mark:' : ':warning:';
  return [
    { type: 'section', block_id: 'oom_near_limit_head', text: { type: 'mrkdwn', text: `${icon} *${escapeMrkdwn(head)}*` } },
    { type: 'section', block_id: 'oom_near_limit', text: { type: 'mrkdwn', text: escapeMrkdwn(rest.join('\n')).slice(0, 2900) } },
  ];
}
