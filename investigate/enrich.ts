import type { CoreV1Event, V1Container, V1ContainerState, V1ContainerStatus, V1LimitRange, V1Node, V1Pod } from '@kubernetes/client-node';
import { parseMemoryBytes } from '../core/quantity.js';
import type { Incident } from '../core/incident.js';
import { podMemory, type NodeSums } from '../core/node-sums.js';
import type { Gathered, OwnerObject } from './gather.js';
import type { HistoryRecord } from '../stores/incident-history.js';
import { cleanText } from '../core/text-safety.js';
import { extractEnvNames, extractRuntimeMemorySettings } from '../diagnosis/runtime-settings.js';
import {
  ENRICHED_VERSION,
  type ContainerSnapshot,
  type ContainerStateSummary,
  type EnrichedIncident,
  type EventSummary,
  type LimitRangeMax,
  type ManagedBy,
  type NodeSnapshot,
  type OwnerChain,
  type PodSnapshot,
  type PreviousIncident,
  type ResourceValues,
  type UsageSample,
  type VpaSummary,
  VPA_ACTIVE_MODES,
} from '../diagnosis/enriched.js';

const MAX_EVENTS = 20;
const MESSAGE_MAX = 1_024;

/**
 * The objects of a list field. The API server's schema makes every list a list of objects, but a
 * broken proxy, an old server or a bug must not stop the alert: anything else reads as empty.
 */
function items<T>(list: readonly T[] | null | undefined): T[] {
  return Array.isArray(list) ? list.filter((x): x is T => typeof x === 'object' && x !== null) : [];
}

/**
 * Turns what was read from the cluster into the enriched incident the diagnosis works on.
 * Pure: no I/O. Env values never enter the result: only env names and parsed runtime memory flags.
 */
export function toEnriched(g: Gathered, history: readonly HistoryRecord[], now: Date): EnrichedIncident {
  const { incident } = g;
  const enriched: EnrichedIncident = {
    v: ENRICHED_VERSION,
    incident,
    gatheredAt: now.toISOString(),
    events: items(g.events).slice(-MAX_EVENTS).map(toEventSummary),
    previousIncidents: toPrevious(history, incident),
    gaps: [...g.gaps],
  };
  if (incident.pod) enriched.pod = g.pod ? toPodSnapshot(g.pod) : { gone: true };
  const owner = toOwnerChain(g.owners, g.pod, incident);
  if (owner) enriched.owner = owner;
  const node = toNodeSnapshot(g.node, g.nodePods, g.nodeSums);
  if (node) enriched.node = node;
  const largest = largestAllocatableBytes(g.nodes);
  if (largest > 0) enriched.largestNodeAllocatableBytes = largest;
  const usage = toUsage(g, incident);
  if (usage) enriched.usage = usage;
  if (g.previousLogs) enriched.previousLogs = g.previousLogs;
  const lr = toLimitRangeMax(g.limitRanges);
  if (lr) enriched.limitRange = lr;
  const top = owner?.chain[owner.chain.length - 1];
  const vpa = top ? toVpa(g.vpas, top, incident.termination?.container ?? incident.processOom?.container) : undefined;
  if (vpa) enriched.vpa = vpa;
  if (incident.pod && !g.metricsAvailable) enriched.gaps!.push('metrics.k8s.io is not available: no usage sample');
  return enriched;
}

function str(v: unknown): string | undefined {
  if (v === undefined || v === null) return undefined;
  return v instanceof Date ? v.toISOString() : String(v);
}

function resources(map: Record<string, string> | undefined): ResourceValues {
  const out: ResourceValues = {};
  if (!map) return out;
  if (map.memory !== undefined) out.memory = { text: String(map.memory), bytes: parseMemoryBytes(map.memory) };
  if (map.cpu !== undefined) out.cpu = String(map.cpu);
  if (map['ephemeral-storage'] !== undefined)
    out.ephemeralStorage = { text: String(map['ephemeral-storage']), bytes: parseMemoryBytes(map['ephemeral-storage']) };
  return out;
}

function toState(s: V1ContainerState | undefined): ContainerStateSummary | undefined {
  if (!s) return undefined;
  if (s.terminated) {
    return {
      state: 'terminated',
      ...(typeof s.terminated.containerID === 'string' ? { containerID: s.terminated.containerID.slice(0, 200) } : {}),
      reason: s.terminated.reason,
      exitCode: s.terminated.exitCode,
      signal: s.terminated.signal,
      startedAt: str(s.terminated.startedAt),
      finishedAt: str(s.terminated.finishedAt),
      message: s.terminated.message ? cleanText(s.terminated.message).slice(0, MESSAGE_MAX) : undefined,
    };
  }
  if (s.waiting)
    return { state: 'waiting', reason: s.waiting.reason, message: s.waiting.message ? cleanText(s.waiting.message).slice(0, MESSAGE_MAX) : undefined };
  if (s.running) return { state: 'running', startedAt: str(s.running.startedAt) };
  return undefined;
}

function toContainer(c: V1Container, status: V1ContainerStatus | undefined, init: boolean): ContainerSnapshot {
  const snap: ContainerSnapshot = {
    name: c.name,
    ...(typeof status?.containerID === 'string' ? { containerID: status.containerID.slice(0, 200) } : {}),
    image: c.image,
    limits: resources(c.resources?.limits as Record<string, string> | undefined),
    requests: resources(c.resources?.requests as Record<string, string> | undefined),
    restartCount: status?.restartCount ?? 0,
    state: toState(status?.state),
    lastState: toState(status?.lastState),
    runtimeMemorySettings: extractRuntimeMemorySettings(c),
    envNames: extractEnvNames(c),
  };
  if (init) snap.init = true;
  if (c.livenessProbe) {
    snap.liveness = {
      periodSeconds: c.livenessProbe.periodSeconds,
      timeoutSeconds: c.livenessProbe.timeoutSeconds,
      failureThreshold: c.livenessProbe.failureThreshold,
      initialDelaySeconds: c.livenessProbe.initialDelaySeconds,
    };
  }
  return snap;
}

/** Pod-level resources (spec.resources, KEP-2837): newer than the client's types. */
function podResources(pod: V1Pod): { limits?: Record<string, string>; requests?: Record<string, string> } | undefined {
  const r = (pod.spec as { resources?: unknown } | undefined)?.resources;
  return typeof r === 'object' && r !== null ? (r as { limits?: Record<string, string>; requests?: Record<string, string> }) : undefined;
}

/** The allocatable memory of the largest node (0 when none is known): the cap no limit can usefully pass. */
export function largestAllocatableBytes(nodes: readonly V1Node[] | undefined): number {
  return Math.max(0, ...items(nodes).map((n) => parseMemoryBytes(n.status?.allocatable?.memory) ?? 0));
}

export function toPodSnapshot(pod: V1Pod): PodSnapshot {
  const statuses = new Map(items(pod.status?.containerStatuses).map((s) => [s.name, s]));
  const initStatuses = new Map(items(pod.status?.initContainerStatuses).map((s) => [s.name, s]));
  const snap: PodSnapshot = {
    namespace: pod.metadata?.namespace ?? '',
    name: pod.metadata?.name ?? '',
    uid: pod.metadata?.uid,
    phase: pod.status?.phase,
    reason: pod.status?.reason,
    message: pod.status?.message ? cleanText(pod.status.message).slice(0, MESSAGE_MAX) : undefined,
    qosClass: pod.status?.qosClass,
    ...(typeof pod.status?.startTime === 'string' ? { startedAt: pod.status.startTime } : {}),
    nodeName: pod.spec?.nodeName,
    priority: pod.spec?.priority,
    priorityClassName: pod.spec?.priorityClassName,
    terminationGracePeriodSeconds: pod.spec?.terminationGracePeriodSeconds,
    containers: items(pod.spec?.containers).map((c) => toContainer(c, statuses.get(c.name), false)),
  };
  const vpaUpdates = pod.metadata?.annotations?.vpaUpdates;
  if (typeof vpaUpdates === 'string' && vpaUpdates !== '') snap.vpaUpdates = cleanText(vpaUpdates).slice(0, 300);
  const podLevel = podResources(pod);
  if (podLevel?.limits) snap.podLimits = resources(podLevel.limits);
  if (podLevel?.requests) snap.podRequests = resources(podLevel.requests);
  const inits = items(pod.spec?.initContainers).map((c) => toContainer(c, initStatuses.get(c.name), true));
  if (inits.length > 0) snap.initContainers = inits;
  return snap;
}

function toEventSummary(e: CoreV1Event): EventSummary {
  return {
    reason: e.reason ?? '',
    type: e.type ?? 'Normal',
    message: cleanText(e.message ?? '').slice(0, MESSAGE_MAX),
    count: e.series?.count ?? e.count ?? 1,
    lastTimestamp: str(e.series?.lastObservedTime ?? e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp),
    source: e.source?.component ?? e.reportingComponent,
    involvedKind: e.involvedObject?.kind,
    involvedName: e.involvedObject?.name,
  };
}

function managedBy(labels: Record<string, string> | undefined, annotations: Record<string, string> | undefined): ManagedBy | undefined {
  const l = labels ?? {};
  const a = annotations ?? {};
  if (a['argocd.argoproj.io/tracking-id']) return { tool: 'argocd', name: String(a['argocd.argoproj.io/tracking-id']).split(':')[0] };
  if (l['argocd.argoproj.io/instance']) return { tool: 'argocd', name: l['argocd.argoproj.io/instance'] };
  if (l['kustomize.toolkit.fluxcd.io/name']) return { tool: 'flux', name: l['kustomize.toolkit.fluxcd.io/name'] };
  if (l['helm.toolkit.fluxcd.io/name']) return { tool: 'flux', name: l['helm.toolkit.fluxcd.io/name'] };
  if (a['meta.helm.sh/release-name']) return { tool: 'helm', name: a['meta.helm.sh/release-name'] };
  return undefined;
}

function toOwnerChain(owners: OwnerObject[], pod: V1Pod | undefined, incident: Incident): OwnerChain | undefined {
  if (owners.length > 0) {
    const top = owners[owners.length - 1]!;
    const chain: OwnerChain = { chain: owners.map((o) => ({ kind: o.kind, name: o.name })) };
    // An owner whose read failed is only a name: whatever controls it was not seen.
    if (!top.metadata) chain.verified = false;
    const names = templateContainerNames(top);
    if (names) chain.templateContainers = names;
    const memory = templateMemory(top);
    if (memory) chain.templateMemory = memory;
    const m = managedBy(top.metadata?.labels, top.metadata?.annotations) ?? incident.pod?.managedBy;
    if (m) chain.managedBy = m;
    return chain;
  }
  // Owner objects unreadable (gone or forbidden): fall back on what the pod or the watcher saw.
  const ref = items(pod?.metadata?.ownerReferences).find((o) => o.controller) ?? incident.pod?.owner;
  if (ref) return { chain: [{ kind: ref.kind, name: ref.name }], verified: false };
  if (pod || incident.pod) {
    const chain: OwnerChain = { chain: [] };
    const m = managedBy(pod?.metadata?.labels, pod?.metadata?.annotations) ?? incident.pod?.managedBy;
    if (m) chain.managedBy = m;
    return chain;
  }
  return undefined;
}

function toNodeSnapshot(node: V1Node | undefined, pods: V1Pod[] | undefined, sums: NodeSums | undefined): NodeSnapshot | undefined {
  if (!node?.metadata?.name) return undefined;
  const snap: NodeSnapshot = {
    name: node.metadata.name,
    allocatableBytes: parseMemoryBytes(node.status?.allocatable?.memory),
    capacityBytes: parseMemoryBytes(node.status?.capacity?.memory),
    memoryPressure: items(node.status?.conditions).find((c) => c.type === 'MemoryPressure')?.status === 'True',
  };
  if (sums) {
    snap.sumLimitsBytes = sums.limitsBytes;
    snap.sumRequestsBytes = sums.requestsBytes;
    snap.podCount = sums.pods;
  } else if (pods) {
    let limits = 0;
    let requests = 0;
    let count = 0;
    for (const p of items(pods)) {
      if (p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') continue;
      count++;
      const pod = podMemory(p);
      limits += pod.limits;
      requests += pod.requests;
    }
    snap.sumLimitsBytes = limits;
    snap.sumRequestsBytes = requests;
    snap.podCount = count;
  }
  return snap;
}

function toUsage(g: Gathered, incident: Incident): UsageSample | undefined {
  const name = incident.termination?.container ?? incident.processOom?.container;
  const m = g.podMetrics;
  if (!name || !m?.containers) return undefined;
  const c = items(m.containers).find((x) => x.name === name);
  const bytes = parseMemoryBytes(c?.usage?.memory);
  if (bytes === undefined) return undefined;
  return { container: name, containerWorkingSetBytes: bytes, source: 'metrics.k8s.io', sampledAt: m.timestamp ?? new Date().toISOString() };
}

function toLimitRangeMax(ranges: V1LimitRange[]): LimitRangeMax | undefined {
  let best: LimitRangeMax | undefined;
  for (const lr of items(ranges)) {
    for (const item of items(lr.spec?.limits)) {
      if (item.type !== 'Container') continue;
      const text = item.max?.memory;
      const bytes = parseMemoryBytes(text);
      if (text && bytes !== undefined && (best?.maxMemory.bytes === undefined || bytes < best.maxMemory.bytes)) {
        best = { name: lr.metadata?.name, maxMemory: { text: String(text), bytes } };
      }
    }
  }
  return best;
}

interface VpaLike {
  metadata?: { name?: unknown };
  spec?: {
    targetRef?: { kind?: unknown; name?: unknown };
    updatePolicy?: { updateMode?: unknown };
    resourcePolicy?: { containerPolicies?: { containerName?: unknown; maxAllowed?: { memory?: unknown } }[] };
  };
}

/**
 * The VPA that targets the top controller. When several do (a mistake the VPA itself warns about), one
 * that rewrites pods wins over one that only recommends.
 */
function toVpa(vpas: unknown[] | undefined, top: { kind: string; name: string }, container: string | undefined): VpaSummary | undefined {
  const matching = items(vpas as VpaLike[] | undefined).filter((v) => v.spec?.targetRef?.kind === top.kind && v.spec?.targetRef?.name === top.name);
  const summaries = matching.map((v) => vpaSummary(v, container)).filter((v): v is VpaSummary => v !== undefined);
  return summaries.find((v) => VPA_ACTIVE_MODES.includes(v.mode)) ?? summaries[0];
}

function vpaSummary(v: VpaLike, container: string | undefined): VpaSummary | undefined {
  const name = v.metadata?.name;
  if (typeof name !== 'string') return undefined;
  const mode = v.spec?.updatePolicy?.updateMode;
  const summary: VpaSummary = { name, mode: typeof mode === 'string' && mode !== '' ? mode : 'Auto' };
  // The container's own policy takes precedence over the `*` default, as in the VPA's recommender.
  const policies = items(v.spec?.resourcePolicy?.containerPolicies);
  const policy = policies.find((p) => p.containerName === container) ?? policies.find((p) => p.containerName === '*');
  const max = policy?.maxAllowed?.memory;
  if (typeof max === 'string' || typeof max === 'number') summary.maxAllowed = { text: String(max), bytes: parseMemoryBytes(String(max)) };
  return summary;
}

function toPrevious(history: readonly HistoryRecord[], incident: Incident): PreviousIncident[] {
  return items(history)
    .filter((h) => h.id !== incident.id)
    .map((h) => ({
      id: h.id,
      kind: h.kind,
      container: h.container,
      occurredAt: h.occurredAt,
      startedAt: h.startedAt,
      finishedAt: h.finishedAt,
      exitCode: h.exitCode,
      workingSetBytes: h.usageBytes,
      limitBytes: h.limitBytes,
    }))
    .sort((a, b) => String(a.occurredAt).localeCompare(String(b.occurredAt)));
}

/** Names of the containers (init included) in an owner's pod template, as it was read; undefined when unread. */
function templateContainerNames(owner: OwnerObject): string[] | undefined {
  const spec = owner as unknown as { spec?: { template?: { spec?: PodSpecLike }; jobTemplate?: { spec?: { template?: { spec?: PodSpecLike } } } } };
  const podSpec = spec.spec?.template?.spec ?? spec.spec?.jobTemplate?.spec?.template?.spec;
  if (!podSpec || !Array.isArray(podSpec.containers)) return undefined;
  return [...items(podSpec.containers), ...items(podSpec.initContainers)].map((c) => c?.name).filter((n): n is string => typeof n === 'string');
}

/** Memory limit and request per container of an owner's pod template, as written; undefined when unread. */
function templateMemory(owner: OwnerObject): Record<string, { limit?: string; request?: string }> | undefined {
  const spec = owner as unknown as { spec?: { template?: { spec?: PodSpecLike }; jobTemplate?: { spec?: { template?: { spec?: PodSpecLike } } } } };
  const podSpec = spec.spec?.template?.spec ?? spec.spec?.jobTemplate?.spec?.template?.spec;
  if (!podSpec || !Array.isArray(podSpec.containers)) return undefined;
  const out: Record<string, { limit?: string; request?: string }> = {};
  for (const c of [...items(podSpec.containers), ...items(podSpec.initContainers)]) {
    if (typeof c?.name !== 'string' || Object.hasOwn(out, c.name)) continue;
    const limit = c.resources?.limits?.memory;
    const request = c.resources?.requests?.memory;
    out[c.name] = { ...(limit !== undefined ? { limit: String(limit) } : {}), ...(request !== undefined ? { request: String(request) } : {}) };
  }
  return out;
}

interface PodSpecLike {
  containers?: { name?: string; resources?: { limits?: Record<string, string>; requests?: Record<string, string> } }[];
  initContainers?: { name?: string; resources?: { limits?: Record<string, string>; requests?: Record<string, string> } }[];
}
