/** `/oom history`, `/oom snooze`, `/oom unsnooze`: a workload's incidents and its alert snooze (bot/snooze.ts). */
import { IncidentHistory, type WorkloadRef } from '../stores/incident-history.js';
import { CAUSE_LABELS, type Cause } from '../diagnosis/diagnosis.js';
import { formatMemoryApprox } from '../core/quantity.js';
import { formatTime } from '../core/format.js';
import { inCluster, type BotBase, type BotDeps } from './bot-deps.js';
import { chooseCluster, searchClusters, withNotes } from './pick-cluster.js';
import { OUTCOME_WORDS, type FixRecord } from '../stores/fix-store.js';
import { acrossClustersReply, candidatesReply, notFoundReply } from './answer-why.js';
import type { WorkloadQuery } from './parse-oom-command.js';
import { describeWorkload, resolveWorkload } from './resolve-workload.js';
import { code, safe, textReply, type Reply } from './reply.js';
import { snoozeRefusal, snoozeWorkload, unsnoozeWorkload } from './snooze.js';

const HISTORY_LINES = 15;
const FIX_LINES = 5;

/** One fix and what became of it: every state it went through, the last one in bold. */
function fixLine(f: FixRecord): string {
  const path = f.transitions.map((t) => OUTCOME_WORDS[t.state]);
  const last = path.pop();
  const outcome = [...path, `*${last}*`].join(' → ');
  const detail = f.detail && (f.state === 'stuck' || f.state === 'reverted' || f.state === 'killed-again') ? ` (${safe(f.detail, 200)})` : '';
  return `• ${safe(formatTime(f.appliedAt), 40)} · memory ${f.target} of ${code(f.container, 63)} ${safe(f.from ?? 'none', 20)} → ${safe(f.to, 20)} by <@${safe(f.by.id, 40)}> · ${outcome}${detail}`;
}

function keyOf(deps: BotDeps, w: WorkloadRef): string {
  return IncidentHistory.workloadKey(deps.cluster, w.namespace, `${w.kind}/${w.name}`);
}

/**
 * The workload in the cluster named, or the only one; with several clusters and none named, looked for in
 * each: one match is used naming its cluster, several are listed as `cluster/namespace/Kind/name`.
 */
async function withWorkload(base: BotBase, q: WorkloadQuery, then: (deps: BotDeps, w: WorkloadRef) => Promise<Reply>): Promise<Reply> {
  const target = code(q.namespace ? `${q.namespace}/${q.name}` : q.name);
  const choice = await chooseCluster(base, q.cluster, q.namespace);
  if (choice.kind === 'reply') return choice.reply;
  if (choice.kind === 'one') {
    const deps = choice.deps;
    const r = await resolveWorkload(deps, q);
    if (r.kind === 'ambiguous') return candidatesReply(r, deps.named ? 'name one as cluster/namespace/Kind/name' : 'name one as namespace/Kind/name');
    if (r.kind === 'none') return notFoundReply(`workload ${target}${inCluster(deps)}`, r.suggestions);
    return then(deps, r.workload);
  }
  const s = await searchClusters(base, choice.clusters, (deps) => resolveWorkload(deps, q), { ...(q.namespace ? { namespace: q.namespace } : {}) });
  const one = s.found.filter((f) => f.result.kind === 'workload');
  const several = s.found.filter((f) => f.result.kind === 'ambiguous');
  if (one.length === 1 && several.length === 0) {
    const { deps, result } = one[0]!;
    if (result.kind === 'workload') return withNotes(await then(deps, result.workload), s.notes);
  }
  const listed = s.found.flatMap(({ deps, result }) =>
    (result.kind === 'workload'
      ? [`${result.workload.namespace}/${result.workload.kind}/${result.workload.name}`]
      : result.kind === 'ambiguous'
        ? result.candidates
        : []
    ).map((c) => `${deps.cluster}/${c}`),
  );
  return acrossClustersReply(s, listed, {
    what: `workloads named ${target}`,
    hint: 'name one as cluster/namespace/Kind/name',
    notFound: `workload ${target} in any cluster`,
  });
}

export function answerHistory(base: BotBase, q: WorkloadQuery): Promise<Reply> {
  return withWorkload(base, q, async (deps, w) => {
    const [records, snooze, fixes] = await Promise.all([
      deps.history.forWorkload(deps.cluster, w.namespace, `${w.kind}/${w.name}`, HISTORY_LINES),
      deps.snoozes.until(keyOf(deps, w)),
      deps.fixes ? deps.fixes.forWorkload(keyOf(deps, w), FIX_LINES) : Promise.resolve([]),
    ]);
    const fixLines = fixes.length ? ['*Fixes from Slack* (newest first)', ...fixes.map(fixLine)] : [];
    const head = `*Incidents of ${safe(describeWorkload(w))}*${inCluster(deps)} (newest first${records.length === HISTORY_LINES ? `, last ${HISTORY_LINES}` : ''})`;
    const snoozed = snooze ? [`:zzz: Alerts snoozed until ${safe(formatTime(snooze.until), 60)}`] : [];
    if (records.length === 0) return textReply([head, ...snoozed, 'No incident recorded (history is kept for a limited time).', ...fixLines].join('\n'));
    const lines = records.map((r) => {
      const cause = r.cause ? (CAUSE_LABELS[r.cause as Cause] ?? r.cause) : r.kind;
      const usage =
        r.limitBytes !== undefined
          ? ` · limit ${formatMemoryApprox(r.limitBytes)}${r.usageBytes !== undefined ? `, used ${formatMemoryApprox(r.usageBytes)}` : ''}`
          : '';
      return `• ${safe(formatTime(r.occurredAt), 40)} · ${code(r.pod ?? '?')}${r.container ? ` / ${code(r.container, 63)}` : ''} · ${safe(cause, 80)}${usage}${r.restartCount !== undefined ? ` · restart ${r.restartCount}` : ''}`;
    });
    return textReply([head, ...snoozed, ...lines, ...fixLines].join('\n'));
  });
}

export function answerSnooze(base: BotBase, q: WorkloadQuery, durationMs: number, durationText: string, userId: string): Promise<Reply> {
  // Refused before the workload is even looked up: a non-snoozer learns nothing by trying.
  return snoozeRefusalAsync(base, userId, 'snooze') ?? withWorkload(base, q, (deps, w) => snoozeWorkload(deps, w, durationMs, durationText, userId));
}

export function answerUnsnooze(base: BotBase, q: WorkloadQuery, userId: string): Promise<Reply> {
  return snoozeRefusalAsync(base, userId, 'unsnooze') ?? withWorkload(base, q, (deps, w) => unsnoozeWorkload(deps, w, userId));
}

function snoozeRefusalAsync(deps: BotBase, userId: string, what: 'snooze' | 'unsnooze'): Promise<Reply> | undefined {
  const refused = snoozeRefusal(deps, userId, what);
  return refused ? Promise.resolve(refused) : undefined;
}
