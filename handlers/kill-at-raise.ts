/**
 * A kill at a limit oombot raised: the same story as the kill that led to the raise, not a new one. The
 * followed fix is marked "killed again" (once), and the words name the raise (who, when, from → to) and
 * the time between; when memory reached the new limit at the same pace as it reached the old one, the
 * raise did not fix it and a leak is likely. The caller then offers no plain second raise.
 */
import type { FixRecord, FixStore } from '../stores/fix-store.js';
import type { HistoryRecord, IncidentHistory } from '../stores/incident-history.js';
import type { Metrics } from '../core/metrics.js';
import { killedAgainLine } from '../alert/fix-lines.js';

export interface KillAtRaise {
  fix: FixRecord;
  line: string;
  leak: boolean;
}

function runSeconds(r: Pick<HistoryRecord, 'startedAt' | 'finishedAt'> | undefined): number | undefined {
  if (!r?.startedAt || !r.finishedAt) return undefined;
  const s = (Date.parse(r.finishedAt) - Date.parse(r.startedAt)) / 1000;
  return Number.isFinite(s) && s > 0 ? s : undefined;
}

/**
 * Growth to the limit at a similar pace before and after the raise: bytes per second of run within a
 * factor of two. Without both runs known, the kill at the new limit itself says the raise did not fix it.
 */
function samePace(first: HistoryRecord | undefined, fromBytes: number | undefined, now: HistoryRecord, toBytes: number): boolean {
  const a = runSeconds(first);
  const b = runSeconds(now);
  if (!a || !b || !fromBytes) return false;
  const ratio = fromBytes / a / (toBytes / b);
  return ratio >= 0.5 && ratio <= 2;
}

export async function matchKillAtRaise(
  deps: { fixes: FixStore; history: IncidentHistory; metrics?: Metrics },
  workloadKey: string,
  record: HistoryRecord,
  at: string,
): Promise<KillAtRaise | undefined> {
  if (record.kind !== 'container-oom' || record.limitBytes === undefined || !record.container) return undefined;
  const killed = Date.parse(record.occurredAt);
  const fixes = await deps.fixes.forWorkload(workloadKey, 5);
  const fix = fixes.find(
    (f) =>
      f.target === 'limit' &&
      f.container === record.container &&
      f.toBytes === record.limitBytes &&
      // Kill times have whole seconds: a kill in the second of the raise can be its own.
      Date.parse(f.appliedAt) < killed + 1000 &&
      !['undone', 'reverted', 'held'].includes(f.state),
  );
  if (!fix) return undefined;
  const first = await deps.history.get(fix.incidentId);
  const fromBytes = first?.limitBytes;
  const leak = samePace(first, fromBytes, record, fix.toBytes);
  const line = killedAgainLine(fix, record.occurredAt, leak);
  if (fix.state !== 'killed-again') {
    const done = await deps.fixes.update(fix, { state: 'killed-again', detail: `${leak ? 'leak likely; ' : ''}killed at ${fix.to}` }, at);
    if (done) deps.metrics?.fixOutcomes.inc({ outcome: 'killed-again' });
  }
  return { fix, line, leak };
}
