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
import { type ClusterCache, type Gathered, type NodeSumsSource, cachedOwnerChain, gatherIncident } from './gather.js';

export interface InvestigateDeps {
  config: Pick<Config, 'maxMemoryLimitBytes'>;
  kube: KubeHttp;
  cache: ClusterCache;
  history: IncidentHistory;
  /** Each node's memory sums as the watcher keeps them; without it the node's pods are listed. */
  nodeSums?: NodeSumsSource;
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

/**
 * `repeat`: the workload's alert is already posted, and this incident only updates it: what only the
 * first alert shows (the previous logs) is not read.
 */
export async function investigate(deps: InvestigateDeps, incident: Incident, now: Date, opts: { repeat?: boolean } = {}): Promise<Investigation> {
  const gathered = await gatherIncident(deps.kube, incident, deps.cache, { nodeSums: deps.nodeSums, repeat: opts.repeat });
  const workload = workloadOf(incident, gathered.owners);
  const previous = await deps.history.forWorkload(incident.cluster, incident.pod?.namespace, workload, HISTORY_DEPTH);
  const enriched = toEnriched(gathered, previous, now);
  const diagnosis = diagnose(enriched, { maxMemoryLimitBytes: deps.config.maxMemoryLimitBytes });
  return { gathered, workload, enriched, diagnosis };
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

/**
 * The workload an incident belongs to as far as it can be told without reading the cluster: from the
 * pod's controller and the owner chain in the cache. undefined when the chain is not cached.
 */
export async function cachedWorkloadOf(cache: ClusterCache, incident: Incident): Promise<string | undefined> {
  const ref = incident.pod;
  if (!ref) return workloadOf(incident, []);
  const first = ref.owner ?? incident.observed?.pod?.metadata?.ownerReferences?.find((o) => o?.controller);
  if (!first) return workloadOf(incident, []);
  const owners = await cachedOwnerChain(cache, ref.namespace, first);
  return owners ? workloadOf(incident, owners) : undefined;
}
