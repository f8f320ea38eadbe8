/**
 * A workload named in `/oom history|snooze|unsnooze` → one workload: those with an incident history
 * first, then live controllers of that name. Several → candidates; none → the closest names.
 */
import { OombotError } from '../core/errors.js';
import { closestNames } from './closest-names.js';
import type { WorkloadRef } from '../stores/incident-history.js';
import type { WorkloadQuery } from './parse-oom-command.js';
import type { BotDeps } from './bot-deps.js';
import { collectionPaths, eachItem, inScope } from './scope.js';

export type WorkloadResolution =
  | { kind: 'workload'; workload: WorkloadRef }
  | { kind: 'ambiguous'; candidates: string[]; what: string }
  | { kind: 'none'; suggestions: string[] };

const LIVE_KINDS: readonly [string, string][] = [
  ['Deployment', '/apis/apps/v1'],
  ['StatefulSet', '/apis/apps/v1'],
  ['DaemonSet', '/apis/apps/v1'],
  ['CronJob', '/apis/batch/v1'],
];
const PLURAL: Record<string, string> = { Deployment: 'deployments', StatefulSet: 'statefulsets', DaemonSet: 'daemonsets', CronJob: 'cronjobs' };

export function describeWorkload(w: WorkloadRef): string {
  return `${w.kind} ${w.namespace}/${w.name}`;
}

async function liveWorkloads(deps: BotDeps, q: WorkloadQuery): Promise<WorkloadRef[]> {
  const kinds = LIVE_KINDS.filter(([k]) => !q.kind || q.kind === k);
  const found = await Promise.all(
    kinds.map(async ([kind, group]) => {
      const found: WorkloadRef[] = [];
      try {
        await eachItem<{ metadata?: { name?: string; namespace?: string } }>(
          deps.kube,
          collectionPaths(deps.config, group, PLURAL[kind] ?? `${kind.toLowerCase()}s`, q.namespace),
          (o) => found.push({ kind, namespace: o.metadata?.namespace ?? '', name: o.metadata?.name ?? '' }),
          { fieldSelector: `metadata.name=${q.name}` },
        );
        return found;
      } catch (err) {
        if (err instanceof OombotError && (err.code === 'KUBE_NOT_FOUND' || err.code === 'KUBE_FORBIDDEN')) return [];
        throw err;
      }
    }),
  );
  return found.flat();
}

export async function resolveWorkload(deps: BotDeps, q: WorkloadQuery): Promise<WorkloadResolution> {
  const all = (await deps.history.workloads(deps.cluster)).filter((w) => inScope(deps.config, w.namespace));
  const fits = (w: WorkloadRef) => (!q.namespace || w.namespace === q.namespace) && (!q.kind || w.kind === q.kind);
  const matches = all.filter((w) => fits(w) && w.name === q.name);
  const pick = (ws: WorkloadRef[], what: string): WorkloadResolution | undefined => {
    if (ws.length === 1) return { kind: 'workload', workload: ws[0]! };
    if (ws.length > 1) return { kind: 'ambiguous', what, candidates: ws.map((w) => `${w.namespace}/${w.kind}/${w.name}`).sort() };
    return undefined;
  };
  const fromHistory = pick(matches, `workloads named ${q.name}`);
  if (fromHistory) return fromHistory;
  const live = await liveWorkloads(deps, q);
  const fromLive = pick(live, `workloads named ${q.name}`);
  if (fromLive) return fromLive;
  return {
    kind: 'none',
    suggestions: closestNames(
      q.name,
      all.filter(fits).map((w) => `${w.namespace}/${w.kind}/${w.name}`),
      3,
    ),
  };
}
