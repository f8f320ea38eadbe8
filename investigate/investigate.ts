/**
 * One look at the cluster for one incident, and what it means: gather (read the pod, its owners, node,
 * events, logs) -> enrich (with the workload's earlier incidents) -> diagnose. The worker runs it for
 * every incident it alerts on, and `/oom why` runs the same path on demand, so both say the same thing.
 */
import type { Config } from '../core/config.js';
import type { Incident } from '../core/incident.js';
import type { KubeHttp } from '../core/kube.js';
import { diagnose } from '../diagnosis/diagnose.js';
import type { Diagnosis } from '../diagnosis/diagnosis.js';
import type { EnrichedIncident } from '../diagnosis/enriched.js';
import type { IncidentHistory } from '../stores/incident-history.js';
import { toEnriched } from './enrich.js';
import { type ClusterCache, type Gathered, gatherIncident } from './gather.js';
import type { WorkingSetHistory } from './working-set-history.js';

export interface InvestigateDeps {
  config: Pick<Config, 'maxMemoryLimitBytes'>;
  kube: KubeHttp;
  cache: ClusterCache;
  history: IncidentHistory;
  /** The working-set history of the cluster: Prometheus or the sampler's (none: the diagnosis has no curve). */
  memory?: (cluster: string) => WorkingSetHistory;
}

export interface Investigation {
  gathered: Gathered;
  /** "Deployment/api", "Pod/debug-shell", "Node/worker-3": what the incident is grouped and fixed by. */
  workload: string | undefined;
  enriched: EnrichedIncident;
  diagnosis: Diagnosis;
}

/** How many earlier incidents of the workload the diagnosis looks at. */
const HISTORY_DEPTH = 20;

export async function investigate(deps: InvestigateDeps, incident: Incident, now: Date): Promise<Investigation> {
  const gathered = await gatherIncident(deps.kube, incident, deps.cache);
  const workload = workloadOf(incident, gathered.owners);
  const previous = await deps.history.forWorkload(incident.cluster, incident.pod?.namespace, workload, HISTORY_DEPTH);
  const enriched = toEnriched(gathered, previous, now);
  const samples = await runSamples(deps, incident);
  if (samples.length > 0) enriched.usageSamples = samples;
  const diagnosis = diagnose(enriched, { maxMemoryLimitBytes: deps.config.maxMemoryLimitBytes });
  return { gathered, workload, enriched, diagnosis };
}

/**
 * The sampled working set of the killed run, from its start to the kill: the leak rule reads a steady
 * climb in it, the start-up rule how soon it peaked.
 */
async function runSamples(deps: InvestigateDeps, incident: Incident): Promise<{ at: string; workingSetBytes: number }[]> {
  const t = incident.termination;
  if (!deps.memory || !incident.pod || !t) return [];
  const started = Date.parse(t.startedAt ?? '');
  const ended = Date.parse(t.finishedAt ?? incident.occurredAt);
  if (!Number.isFinite(started) || !Number.isFinite(ended)) return [];
  const points = await deps
    .memory(incident.cluster)
    .read(`${incident.pod.namespace}/${incident.pod.name}/${t.container}`, Math.floor(started / 1000), Math.ceil(ended / 1000) + 5);
  return points.filter((p) => p.at * 1000 <= ended + 5_000).map((p) => ({ at: new Date(p.at * 1000).toISOString(), workingSetBytes: p.bytes }));
}

/** "Deployment/api", "StatefulSet/db", "Pod/debug-shell", "Node/worker-3". */
export function workloadOf(incident: Incident, owners: Gathered['owners']): string | undefined {
  const top = owners[owners.length - 1];
  if (top) return `${top.kind}/${top.name}`;
  const owner = incident.pod?.owner;
  if (owner) return `${owner.kind}/${owner.name}`;
  if (incident.pod) return `Pod/${incident.pod.name}`;
  if (incident.nodeOom) return `Node/${incident.nodeOom.node}`;
  return undefined;
}
