/**
 * diagnose(enriched): what killed the container, why, how sure we are, what to do, and maybe a limit
 * change. Pure: the same input always gives the same diagnosis. The rules live in rules/, one file per
 * cause family; this module only picks the one for the incident's kind.
 *
 * Rules, in order, for a main-process OOM kill (OOMKilled + 137):
 *  1. no memory limit, or the working set at the kill was under 90% of the limit → node out of memory;
 *     a SystemOOM event on the node within 10 minutes of the kill → node out of memory (medium);
 *  2. a runtime flag that alone explains the kill (heap >= limit, MaxRAMPercentage >= 90, container
 *     support off) → runtime heap (high);
 *  3. three or more kills of the container after similar uptimes (max/min <= 1.5, all over 10 min), or
 *     a steadily climbing working set with an earlier kill → suspected leak;
 *  4. killed within 60 s of starting → start-up spike (runtime heap if a flag leaves too little room);
 *  5. a flag leaving too little room (heap > 75% of the limit) → runtime heap (medium);
 *  6. otherwise → limit too low for the load.
 * A process OOM-killed inside a running container (kernel log, from the node agent): process OOM, or node
 * pressure for a global OOM; when the kill ended the container, its OOMKilled alert names the process.
 * Other kinds: child OOM (OOMKilled + not 137), SIGKILL (probe, grace period, or unknown: never an OOM),
 * evictions (memory: raise the request; other resources: name them), disruptions, node OOM.
 * Confidence: high when the record says so directly; medium when inferred from one strong signal; low
 * when data is missing. An unknown cause is an honest answer.
 */
import type { IncidentKind } from '../core/incident.js';
import type { Diagnosis } from './diagnosis.js';
import type { EnrichedIncident } from './enriched.js';
import { diagnoseChildOom } from './rules/child-oom.js';
import { diagnoseContainerOom } from './rules/container-oom.js';
import { buildCtx, result, type Ctx, type DiagnosePolicy } from './rules/context.js';
import { diagnoseDisruption } from './rules/disruption.js';
import { diagnoseEviction } from './rules/eviction.js';
import { diagnoseNodeOom } from './rules/node-oom.js';
import { diagnoseProcessOom } from './rules/process-oom.js';
import { diagnoseSigkill } from './rules/sigkill.js';

export type { DiagnosePolicy } from './rules/context.js';
export { AT_KILL_WINDOW_MS, LEAK_MIN_UPTIME_SECONDS, LEAK_UPTIME_RATIO, STARTUP_SECONDS, SYSTEM_OOM_WINDOW_MS, UNDER_LIMIT_SHARE } from './rules/context.js';

type Rule = (ctx: Ctx) => Diagnosis;

/** One rule per kind of incident; typed over every kind, so a new kind cannot go without one. */
const RULES: Readonly<Record<IncidentKind, Rule>> = {
  'container-oom': diagnoseContainerOom,
  'child-oom': diagnoseChildOom,
  sigkill: diagnoseSigkill,
  evicted: diagnoseEviction,
  disruption: diagnoseDisruption,
  'node-oom': diagnoseNodeOom,
  'process-oom': diagnoseProcessOom,
};

/** The diagnosis of one enriched incident. */
export function diagnose(enriched: EnrichedIncident, policy: DiagnosePolicy = {}): Diagnosis {
  const ctx = buildCtx(enriched, policy);
  const kind = enriched.incident.kind;
  // The record comes from a queue: its kind is checked, not trusted (and never looked up on Object.prototype).
  const rule = Object.hasOwn(RULES, kind) ? RULES[kind] : undefined;
  return rule ? rule(ctx) : unknownKind(ctx);
}

function unknownKind(ctx: Ctx): Diagnosis {
  return result(
    ctx,
    'unknown',
    'low',
    'oombot does not know this kind of incident.',
    [{ text: `Incident kind: ${String(ctx.incident.kind)}`, source: 'incident' }],
    [],
  );
}
