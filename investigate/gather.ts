import type { CoreV1Event, V1LimitRange, V1Node, V1Pod } from '@kubernetes/client-node';
import type { KubeHttp } from '../core/kube.js';
import type { Incident } from '../core/incident.js';
import { OombotError, errorMessage } from '../core/errors.js';

/** A workload object as read from the API (only what enrichment looks at). */
export interface OwnerObject {
  kind: string;
  name: string;
  namespace: string;
  apiVersion?: string;
  metadata?: {
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    ownerReferences?: { kind: string; name: string; controller?: boolean; apiVersion?: string; uid?: string }[];
    resourceVersion?: string;
  };
}

export interface PodMetricsItem {
  containers?: { name: string; usage?: { memory?: string; cpu?: string } }[];
  timestamp?: string;
  window?: string;
}

/** Everything read from the cluster for one incident: the raw material of `kubectl describe pod`. */
export interface Gathered {
  incident: Incident;
  /** The pod now; undefined when it is gone (deleted, evicted and collected). */
  pod?: V1Pod;
  events: CoreV1Event[];
  /** From the pod's direct owner up to the top controller. */
  owners: OwnerObject[];
  node?: V1Node;
  /** Pods on the same node (for how overcommitted it is); undefined when not readable. */
  nodePods?: V1Pod[];
  /** Every node (for the largest allocatable a limit can fit in). */
  nodes: V1Node[];
  /** undefined: metrics.k8s.io is not installed or not readable. */
  podMetrics?: PodMetricsItem;
  metricsAvailable: boolean;
  /** Tail of the previous container's log (untrusted text). */
  previousLogs?: string;
  limitRanges: V1LimitRange[];
  /**
   * VerticalPodAutoscalers of the pod's namespace, as read (untrusted shape); undefined when the VPA CRD
   * is not installed or they could not be read.
   */
  vpas?: unknown[];
  /** Kubernetes API calls made for this incident (cached reads do not count). */
  apiCalls: number;
  /** Reads that failed and what was missed, for the message's honesty and the logs. */
  gaps: string[];
}

interface List<T> {
  items?: T[];
}

const VPA_GROUP_VERSION = '/apis/autoscaling.k8s.io/v1';

const LOG_TAIL_LINES = 50;
const LOG_LIMIT_BYTES = 16 * 1024;

/** Short-lived cache of cluster-wide reads shared by all incidents (nodes, LimitRanges, metrics availability). */
export class ClusterCache {
  private readonly entries = new Map<string, { at: number; value: unknown }>();
  constructor(
    private readonly ttlMs = 60_000,
    private readonly clock: () => number = Date.now,
  ) {}

  async get<T>(key: string, load: () => Promise<T>): Promise<{ value: T; cached: boolean }> {
    const hit = this.entries.get(key);
    if (hit && this.clock() - hit.at < this.ttlMs) return { value: hit.value as T, cached: true };
    const value = await load();
    this.entries.set(key, { at: this.clock(), value });
    return { value, cached: false };
  }
}

const OWNER_PATHS: Record<string, (ns: string, name: string) => string> = {
  ReplicaSet: (ns, n) => `/apis/apps/v1/namespaces/${ns}/replicasets/${n}`,
  Deployment: (ns, n) => `/apis/apps/v1/namespaces/${ns}/deployments/${n}`,
  StatefulSet: (ns, n) => `/apis/apps/v1/namespaces/${ns}/statefulsets/${n}`,
  DaemonSet: (ns, n) => `/apis/apps/v1/namespaces/${ns}/daemonsets/${n}`,
  Job: (ns, n) => `/apis/batch/v1/namespaces/${ns}/jobs/${n}`,
  CronJob: (ns, n) => `/apis/batch/v1/namespaces/${ns}/cronjobs/${n}`,
};

function enc(s: string): string {
  return encodeURIComponent(s);
}

/**
 * Reads the describe-pod picture with as few calls as it can: pod, its events, owner chain, node,
 * pods on the node, pod metrics, previous logs; nodes and LimitRanges come from a shared cache.
 * A failed read is a gap, not a failure: the alert goes out with what is known.
 * Only a forbidden pod read stops here, since nothing can be said without RBAC being fixed.
 */
/** Where the node list lives in the shared ClusterCache: read at most once a minute for every incident and the bot. */
export const NODES_CACHE_KEY = 'nodes';

export async function readNodes(kube: KubeHttp): Promise<V1Node[]> {
  return (await kube.getJson<List<V1Node>>('/api/v1/nodes')).items ?? [];
}

export async function gatherIncident(kube: KubeHttp, incident: Incident, cache: ClusterCache): Promise<Gathered> {
  const out: Gathered = { incident, events: [], owners: [], nodes: [], limitRanges: [], metricsAvailable: false, apiCalls: 0, gaps: [] };
  const call = async <T>(what: string, fn: () => Promise<T>): Promise<T | undefined> => {
    out.apiCalls++;
    try {
      return await fn();
    } catch (err) {
      if (err instanceof OombotError && err.code === 'KUBE_NOT_FOUND') return undefined;
      if (err instanceof OombotError && err.code === 'KUBE_UNREACHABLE') throw err;
      out.gaps.push(`${what}: ${errorMessage(err)}`);
      return undefined;
    }
  };
  const cached = async <T>(key: string, what: string, fn: () => Promise<T>, fallback: T): Promise<T> => {
    try {
      const { value, cached: hit } = await cache.get(key, fn);
      if (!hit) out.apiCalls++;
      return value;
    } catch (err) {
      out.apiCalls++;
      if (err instanceof OombotError && err.code === 'KUBE_UNREACHABLE') throw err;
      out.gaps.push(`${what}: ${errorMessage(err)}`);
      return fallback;
    }
  };

  const ref = incident.pod;
  const ns = ref?.namespace;
  const nodeName = ref?.nodeName ?? incident.nodeOom?.node;

  // Independent reads go out together.
  const [pod, events, nodeOoms, nodes, limitRanges] = await Promise.all([
    ref && ns ? call('pod', () => kube.getJson<V1Pod>(`/api/v1/namespaces/${enc(ns)}/pods/${enc(ref.name)}`)) : undefined,
    ref && ns
      ? call('events', () => kube.getJson<List<CoreV1Event>>(`/api/v1/namespaces/${enc(ns)}/events`, { fieldSelector: `involvedObject.uid=${ref.uid}` }))
      : nodeName
        ? call('node events', () =>
            kube.getJson<List<CoreV1Event>>('/api/v1/events', { fieldSelector: `involvedObject.kind=Node,involvedObject.name=${nodeName}` }),
          )
        : undefined,
    // A pod's kill may be the victim of a node OOM: the node's SystemOOM events say so (one incident then).
    ref && ns && nodeName
      ? call('node OOM events', () =>
          kube.getJson<List<CoreV1Event>>('/api/v1/events', { fieldSelector: `involvedObject.kind=Node,involvedObject.name=${nodeName},reason=SystemOOM` }),
        )
      : undefined,
    cached(NODES_CACHE_KEY, 'nodes', () => readNodes(kube), [] as V1Node[]),
    ns
      ? cached(
          `limitranges/${ns}`,
          'limit ranges',
          () => kube.getJson<List<V1LimitRange>>(`/api/v1/namespaces/${enc(ns)}/limitranges`).then((l) => l.items ?? []),
          [] as V1LimitRange[],
        )
      : [],
  ]);
  // The pod read may show a different pod with the same name (a StatefulSet's replacement): keep it
  // only when the uid matches.
  if (pod && (!ref || pod.metadata?.uid === ref.uid)) out.pod = pod;
  out.events = sortEvents([...(events?.items ?? []), ...(nodeOoms?.items ?? [])]);
  out.nodes = nodes;
  out.limitRanges = limitRanges;
  out.node = nodes.find((n) => n.metadata?.name === nodeName);

  if (ref && ns) {
    const container = incident.termination?.container;
    const wantLogs = Boolean(container && out.pod && incident.termination?.from === 'lastState');
    // An incident seen first in an event carries no owner; the pod read has it.
    const firstOwner = ref.owner ?? out.pod?.metadata?.ownerReferences?.find((o) => o.controller);
    const [owners, nodePods, podMetrics, logs, vpas] = await Promise.all([
      readOwnerChain(ns, firstOwner, (what, fn) => call(what, fn), kube),
      // resourceVersion=0: served from the API server's cache (indexed by node), not read from etcd.
      nodeName
        ? call('pods on node', () => kube.getJson<List<V1Pod>>('/api/v1/pods', { fieldSelector: `spec.nodeName=${nodeName}`, resourceVersion: '0' }))
        : undefined,
      readPodMetrics(kube, cache, ns, ref.name, out),
      wantLogs
        ? call('previous logs', () =>
            kube.getText(`/api/v1/namespaces/${enc(ns)}/pods/${enc(ref.name)}/log`, {
              container,
              previous: true,
              tailLines: LOG_TAIL_LINES,
              limitBytes: LOG_LIMIT_BYTES,
            }),
          )
        : undefined,
      // A VPA targets a controller: a bare pod has none to be sized by.
      firstOwner ? readVpas(kube, cache, ns, out) : undefined,
    ]);
    out.owners = owners;
    out.vpas = vpas;
    out.nodePods = nodePods?.items;
    out.podMetrics = podMetrics;
    out.previousLogs = logs;
  }
  return out;
}

async function readOwnerChain(
  ns: string,
  first: { kind: string; name: string } | undefined,
  call: <T>(what: string, fn: () => Promise<T>) => Promise<T | undefined>,
  kube: KubeHttp,
): Promise<OwnerObject[]> {
  const chain: OwnerObject[] = [];
  let next = first;
  while (next && chain.length < 4) {
    const path = OWNER_PATHS[next.kind];
    if (!path) {
      chain.push({ kind: next.kind, name: next.name, namespace: ns });
      break;
    }
    const current = next;
    const obj = await call(`${current.kind} ${current.name}`, () => kube.getJson<OwnerObject>(path(ns, current.name)));
    chain.push({ ...(obj ?? {}), kind: current.kind, name: current.name, namespace: ns });
    next = obj?.metadata?.ownerReferences?.find((o) => o.controller);
  }
  return chain;
}

async function readPodMetrics(kube: KubeHttp, cache: ClusterCache, ns: string, name: string, out: Gathered): Promise<PodMetricsItem | undefined> {
  // Whether metrics.k8s.io exists is asked once a minute, not once an incident.
  const available = await cache
    .get('metrics-api', async () => {
      out.apiCalls++;
      try {
        await kube.getJson('/apis/metrics.k8s.io/v1beta1');
        return true;
      } catch {
        return false;
      }
    })
    .then((r) => r.value);
  out.metricsAvailable = available;
  if (!available) return undefined;
  out.apiCalls++;
  try {
    return await kube.getJson<PodMetricsItem>(`/apis/metrics.k8s.io/v1beta1/namespaces/${enc(ns)}/pods/${enc(name)}`);
  } catch (err) {
    if (!(err instanceof OombotError && err.code === 'KUBE_NOT_FOUND')) out.gaps.push(`pod metrics: ${errorMessage(err)}`);
    return undefined;
  }
}

/**
 * The namespace's VPAs, read at most once a minute per namespace: a VPA that sizes the workload makes a
 * template patch fight it. Whether the CRD exists is asked once a minute too; a 404 means no VPA here.
 */
async function readVpas(kube: KubeHttp, cache: ClusterCache, ns: string, out: Gathered): Promise<unknown[] | undefined> {
  const installed = await cache
    .get('vpa-api', async () => {
      out.apiCalls++;
      try {
        await kube.getJson(VPA_GROUP_VERSION);
        return true;
      } catch (err) {
        if (!(err instanceof OombotError && err.code === 'KUBE_NOT_FOUND')) out.gaps.push(`VPA discovery: ${errorMessage(err)}`);
        return false;
      }
    })
    .then((r) => r.value);
  if (!installed) return undefined;
  try {
    const { value, cached } = await cache.get(`vpas/${ns}`, () =>
      kube.getJson<List<unknown>>(`${VPA_GROUP_VERSION}/namespaces/${enc(ns)}/verticalpodautoscalers`).then((l) => (Array.isArray(l.items) ? l.items : [])),
    );
    if (!cached) out.apiCalls++;
    return value;
  } catch (err) {
    out.apiCalls++;
    if (err instanceof OombotError && err.code === 'KUBE_UNREACHABLE') throw err;
    out.gaps.push(`VPAs: ${errorMessage(err)}`);
    return undefined;
  }
}

function eventTime(e: CoreV1Event): string {
  const t = e.series?.lastObservedTime ?? e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp;
  return t ? String(t) : '';
}

/** Oldest first, by the time the event last happened. */
function sortEvents(events: CoreV1Event[]): CoreV1Event[] {
  return [...events].sort((a, b) => eventTime(a).localeCompare(eventTime(b)));
}
