/**
 * What oombot says in an alert's thread after a fix was applied: the rollout as the controller reports
 * it, when the value takes effect for kinds that do not roll by themselves, a stuck rollout and why,
 * held, killed again at the new limit, reverted by someone else. Pure; every text from the cluster is
 * escaped here.
 */
import type { Button, KnownBlock } from '@slack/types';
import { formatDuration, formatTime } from '../core/format.js';
import { clip } from '../core/text-safety.js';
import { ACTION_UNDO } from './action-ids.js';

/** A fix as the lines need it (a stored fix record fits). */
export interface FixView {
  owner: { kind: string; namespace: string; name: string };
  container: string;
  target: 'limit' | 'request';
  from?: string;
  to: string;
  by: { id: string; name?: string };
  appliedAt: string;
  undoProposalId?: string;
}

export interface FixLine {
  text: string;
  blocks?: KnownBlock[];
}

const esc = (s: string, max = 300): string => clip(s, max, { escape: true });

function what(f: FixView): string {
  return `${f.owner.kind} \`${esc(`${f.owner.namespace}/${f.owner.name}`)}\``;
}

function value(f: FixView): string {
  return `the new memory ${f.target} ${esc(f.to, 40)}`;
}

function withUndo(text: string, f: FixView): FixLine {
  if (!f.undoProposalId) return { text };
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: clip(text, 2900, { escape: false }) } },
      {
        type: 'actions',
        block_id: 'oom_fix_actions',
        elements: [undoButton(f.undoProposalId, f.from)],
      },
    ],
  };
}

/** oombot's own Undo button for a fix (the bot applies it under the same rules as every Undo). */
export function undoButton(proposalId: string, from: string | undefined): Button {
  return {
    type: 'button',
    action_id: ACTION_UNDO,
    text: { type: 'plain_text', text: `Undo (back to ${clip(from ?? 'none', 20, { escape: false })})` },
    value: proposalId,
  };
}

export function progressLine(f: FixView, updated: number, total: number): FixLine {
  return { text: `:arrows_counterclockwise: Rollout of ${value(f)} in ${what(f)}: ${updated} of ${total} pods replaced.` };
}

export function rolledOutLine(f: FixView, total: number, tookSeconds: number, verifyUntil: string): FixLine {
  return {
    text: `:white_check_mark: Rolled out: ${total} of ${total} pods of ${what(f)} run with ${value(f)} (took ${formatDuration(tookSeconds)}). oombot watches for a kill at ${esc(f.to, 40)} until ${formatTime(verifyUntil)}.`,
  };
}

/** When the new value takes effect, for what does not roll by itself. */
export function takesEffectLine(
  f: FixView,
  how: 'on-delete' | 'cronjob' | 'replicaset',
  detail: { updated?: number; total?: number; schedule?: string },
): FixLine {
  switch (how) {
    case 'on-delete':
      return {
        text: `:information_source: ${what(f)} updates its pods \`OnDelete\`: ${value(f)} takes effect when each pod is deleted; nothing rolls by itself. ${detail.updated ?? 0} of ${detail.total ?? 0} pods run with it now. To apply it, delete the pods one at a time (\`kubectl delete pod -n ${esc(f.owner.namespace, 63)} <pod>\`).`,
      };
    case 'cronjob':
      return {
        text: `:information_source: ${what(f)}: ${value(f)} takes effect at its next run${detail.schedule ? ` (schedule \`${esc(detail.schedule, 100)}\`)` : ''}; a Job running now keeps the old value.`,
      };
    case 'replicaset':
      return {
        text: `:information_source: ${what(f)} is a bare ReplicaSet, which does not replace its pods: only pods created from now on get ${value(f)}. Delete the running pods to apply it now.`,
      };
  }
}

export type StuckCause =
  | { kind: 'unschedulable'; pod: string; message: string; request?: string }
  | { kind: 'deadline'; message: string }
  | { kind: 'crash-loop'; pod: string; message: string };

export function stuckLine(f: FixView, cause: StuckCause, updated: number, total: number): FixLine {
  const head = `:warning: The rollout of ${value(f)} in ${what(f)} is stuck (${updated} of ${total} pods created with it, not all ready)`;
  switch (cause.kind) {
    case 'unschedulable':
      return withUndo(
        `${head}: new pods are Pending, e.g. \`${esc(cause.pod, 253)}\`: \`${esc(cause.message, 500)}\`${
          /Insufficient memory/.test(cause.message)
            ? ` No node has room for the memory request${cause.request ? ` of ${esc(cause.request, 40)}` : ''} of the new pods. The old pods keep running meanwhile. Undo, or make room (add a node, or lower other requests).`
            : ' The old pods keep running meanwhile.'
        }`,
        f,
      );
    case 'deadline':
      return withUndo(`${head}: the Deployment reports \`ProgressDeadlineExceeded\`: ${esc(cause.message, 500)}`, f);
    case 'crash-loop':
      return withUndo(`${head}: new pod \`${esc(cause.pod, 253)}\` is crash-looping: ${esc(cause.message, 500)}`, f);
  }
}

export function heldLine(f: FixView, sinceIso: string, windowSeconds: number): FixLine {
  return {
    text: `:white_check_mark: Held: no OOM kill of ${what(f)} at ${esc(f.to, 40)} in the ${formatDuration(windowSeconds)} since ${formatTime(sinceIso)}. This fix is closed.`,
  };
}

export function revertedLine(f: FixView, live: string, manager: string | undefined, when: string | undefined, yaml: string): FixLine {
  const who = manager ? `by \`${esc(manager, 128)}\`` : 'by someone else';
  return {
    text: `:rewind: Reverted: the memory ${f.target} of \`${esc(f.container, 63)}\` in ${what(f)} is back at ${esc(live, 40)}, below the ${esc(f.to, 40)} applied by <@${f.by.id}>: changed ${who}${when ? ` at ${formatTime(when)}` : ''}. oombot does not change it again. To keep the fix, commit this to the source of truth (Git, Helm values):\n\`\`\`${yaml}\`\`\``,
  };
}

/** The words of a kill at the raised value: names the raise, the time between, and a leak when the cadence repeats. */
export function killedAgainLine(f: FixView, killedAt: string, leak: boolean): string {
  const gap = Math.max(0, (Date.parse(killedAt) - Date.parse(f.appliedAt)) / 1000);
  const raise = `the raise by <@${f.by.id}> at ${formatTime(f.appliedAt)} (${esc(f.from ?? 'none', 40)} → ${esc(f.to, 40)})`;
  return leak
    ? `:rotating_light: Killed again at the raised limit ${esc(f.to, 40)}, ${formatDuration(gap)} after ${raise}. Memory grew to the limit again at the same pace: the raise did not fix it, a leak is likely. Profile the process instead of raising again.`
    : `:rotating_light: Killed again at the raised limit ${esc(f.to, 40)}, ${formatDuration(gap)} after ${raise}: the raise did not fix it.`;
}

/** The YAML of the applied value, to commit where the workload is defined. */
export function fixYaml(f: FixView): string {
  const path = f.owner.kind === 'CronJob' ? ['spec', 'jobTemplate', 'spec', 'template', 'spec'] : ['spec', 'template', 'spec'];
  const lines: string[] = [];
  for (const [i, k] of path.entries()) lines.push(`${'  '.repeat(i)}${k}:`);
  const d = '  '.repeat(path.length);
  lines.push(
    `${d}containers:`,
    `${d}  - name: ${f.container}`,
    `${d}    resources:`,
    `${d}      ${f.target === 'limit' ? 'limits' : 'requests'}:`,
    `${d}        memory: ${f.to}`,
  );
  return clip(lines.join('\n'), 1500, { escape: false });
}

/** A fix's state as one line on the alert itself (the thread has the whole story). */
export function alertStatus(
  f: FixView & { state: string; progress?: { updated: number; total: number }; detail?: string; verifyUntil?: string },
): string | undefined {
  const p = f.progress;
  switch (f.state) {
    case 'rolling-out':
      return `:arrows_counterclockwise: Rollout of ${esc(f.to, 40)}: ${p?.updated ?? 0} of ${p?.total ?? 0} pods replaced`;
    case 'rolled-out':
      return `:white_check_mark: Rolled out (${p?.total ?? 0} of ${p?.total ?? 0} pods); watching for a kill at ${esc(f.to, 40)}${f.verifyUntil ? ` until ${formatTime(f.verifyUntil)}` : ''}`;
    case 'stuck':
      return `:warning: Rollout of ${esc(f.to, 40)} stuck (${p?.updated ?? 0} of ${p?.total ?? 0} pods created with it, not all ready): ${esc(f.detail ?? '', 300)}`;
    case 'held':
      return `:white_check_mark: The raise to ${esc(f.to, 40)} held`;
    case 'killed-again':
      return `:rotating_light: Killed again at the raised limit ${esc(f.to, 40)}: the raise did not fix it${f.detail?.startsWith('leak likely') ? '; a leak is likely' : ''}`;
    case 'reverted':
      return `:rewind: The raise to ${esc(f.to, 40)} was reverted${f.detail ? `: now ${esc(f.detail, 200)}` : ''}`;
    case 'applied':
      return p ? `:information_source: ${p.updated} of ${p.total} pods run with ${esc(f.to, 40)}; the rest get it when deleted` : undefined;
    default:
      return undefined;
  }
}
