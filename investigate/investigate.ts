/**
 * One look at the cluster for one incident, and what it means: gather (read the pod, its owners, node,
 * events, logs) -> enrich (with the workload's earlier incidents) -> diagnose. The worker runs it for
 * every incident it alerts on, and `/oom why` runs the same path on demand, so both say the same thing.
 */
import type { Config } from '../core/config.js';
import type { Incident } from '../core/incident.js';
import type { KubeApi } from '../core/kube-api.js';
import { diagnose } from '../diagnosis/diagnose.js';
import type { Diagnosis } from '../diagnosis/diagnosis.js';
import type { EnrichedIncident } from '../diagnosis/enriched.js';
import type { IncidentHistory } from '../stores/incident-history.js';
import type { KernelKills } from '../stores/kernel-kills.js';
import type { ChangeCache } from '../stores/change-cache.js';
import { toEnriched } from './enrich.js';
import { type ClusterCache, type Gathered, type NodeSumsSource, cachedOwnerChain, gatherIncident } from './gather.js';
import { readWorkloadChange } from './workload-change.js';
import type { ScaleEvents } from '../core/scale-events.js';
import { readScaleDown } from './scale-down.js';
import type { WorkingSetHistory } from './working-set-history.js';

export interface InvestigateDeps {
  config: Pick<Config, 'maxMemoryLimitBytes' | 'watchNamespaces'>;
  kube: KubeApi;
  cache: ClusterCache;
  history: IncidentHistory;
  /** Each node's memory sums as the watcher keeps them; without it the node's pods are listed. */
  nodeSums?: NodeSumsSource;
  /** What the node agents read in the kernel logs (absent: nothing is looked up). */
  kernelKills?: KernelKills;
  /** Where each workload revision's change is kept; without it, every OOM kill reads the workload's history. */
  changes?: ChangeCache;
  /** The scale events the watcher kept (absent: no scale-down is looked for). Redis only, no cluster read. */
  scaleEvents?: Pick<ScaleEvents, 'forWorkload'>;
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
  const [previous, changed, scaleDown] = await Promise.all([
    deps.history.forWorkload(incident.cluster, incident.pod?.namespace, workload, HISTORY_DEPTH),
    // The change that started it, for a kill: at most one read per workload revision (then cached).
    incident.kind === 'container-oom' && deps.changes ? readWorkloadChange(deps.kube, incident, gathered.owners, deps.changes) : undefined,
    incident.kind === 'container-oom' && deps.scaleEvents
      ? readScaleDown(deps.scaleEvents, incident, gathered.owners).catch((err: unknown) => {
          gathered.gaps.push(`scale events: ${err instanceof Error ? err.message : String(err)}`);
          return undefined;
        })
      : undefined,
  ]);
  if (changed) {
    gathered.apiCalls += changed.apiCalls;
    if (changed.gap) gathered.gaps.push(changed.gap);
  }
  const enriched = toEnriched(gathered, previous, now);
  await addKernelKills(deps, incident, enriched, gathered);
  if (changed?.change) enriched.change = changed.change;
  if (scaleDown) enriched.scaleDown = scaleDown;
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
