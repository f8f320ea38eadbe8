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
import type { KernelKills } from '../stores/kernel-kills.js';
import type { ChangeCache } from '../stores/change-cache.js';
import { toEnriched } from './enrich.js';
import { type ClusterCache, type Gathered, type NodeSumsSource, cachedOwnerChain, gatherIncident } from './gather.js';
import { readWorkloadChange } from './workload-change.js';

export interface InvestigateDeps {
  config: Pick<Config, 'maxMemoryLimitBytes' | 'watchNamespaces'>;
  kube: KubeHttp;
  cache: ClusterCache;
  history: IncidentHistory;
  /** Each node's memory sums as the watcher keeps them; without it the node's pods are listed. */
  nodeSums?: NodeSumsSource;
  /** What the node agents read in the kernel logs (absent: nothing is looked up). */
  kernelKills?: KernelKills;
  /** Where each workload revision's change is kept; without it, every OOM kill reads the workload's history. */
  changes?: ChangeCache;
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
  const gathered = await gatherIncident(deps.kube, incident, deps.cache, {
    nodeSums: deps.nodeSums,
    repeat: opts.repeat,
    clusterWide: deps.config.watchNamespaces.length === 0,
  });
  const workload = workloadOf(incident, gathered.owners);
  const [previous, changed] = await Promise.all([
    deps.history.forWorkload(incident.cluster, incident.pod?.namespace, workload, HISTORY_DEPTH),
    // The change that started it, for a kill: at most one read per workload revision (then cached).
    incident.kind === 'container-oom' && deps.changes ? readWorkloadChange(deps.kube, incident, gathered.owners, deps.changes) : undefined,
  ]);
  if (changed) {
    gathered.apiCalls += changed.apiCalls;
    if (changed.gap) gathered.gaps.push(changed.gap);
  }
  const enriched = toEnriched(gathered, previous, now);
  await addKernelKills(deps, incident, enriched, gathered);
  if (changed?.change) enriched.change = changed.change;
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

/**
 * The node agent's word on the kill: the processes the kernel killed in the incident's container, and
 * global OOM kills on its node. Best effort: without them the diagnosis goes on what Kubernetes shows.
 */
async function addKernelKills(deps: InvestigateDeps, incident: Incident, enriched: EnrichedIncident, gathered: Gathered): Promise<void> {
  if (!deps.kernelKills) return;
  const containerID = incident.termination?.containerID ?? incident.processOom?.containerId;
  const node = incident.pod?.nodeName ?? incident.nodeOom?.node ?? incident.processOom?.node;
  try {
    const [inContainer, onNode] = await Promise.all([
      deps.kernelKills.inContainer(incident.cluster, containerID),
      deps.kernelKills.onNode(incident.cluster, node),
    ]);
    if (inContainer.length > 0) enriched.processKills = inContainer;
    if (onNode.length > 0) enriched.nodeKernelOoms = onNode;
  } catch (err) {
    gathered.gaps.push(`kernel OOM kills: ${err instanceof Error ? err.message : String(err)}`);
  }
}
