import type { CoreV1Event, V1LimitRange, V1Node, V1Pod } from '@kubernetes/client-node';
import type { KubeApi } from '../core/kube-api.js';
import type { Incident } from '../core/incident.js';
import type { NodeSums } from '../core/node-sums.js';
import { OombotError, errorMessage } from '../core/errors.js';
import { LIMIT_RANGES_CACHE_KEY, NODES_CACHE_KEY, trimNamespaced, trimNode, VPAS_CACHE_KEY, type ByNamespace } from '../core/cluster-lists.js';

/** A workload object as read from the API (only what enrichment looks at). */
export interface OwnerObject {
  kind: string;
  name: string;
  namespace: string;
  apiVersion?: string;
  /** Known from names alone (a Deployment's ReplicaSet, by the pod's template hash), not read. */
  inferred?: boolean;
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
  /** Pods on the same node (for how overcommitted it is); undefined when not read (see nodeSums). */
  nodePods?: V1Pod[];
  /** The node's sums of memory requests and limits as the watcher keeps them; when set, nodePods is not read. */
  nodeSums?: NodeSums;
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

/**
 * Where cached reads are shared between processes (every worker and bot replica): Redis in production
 * (stores/shared-cache.ts). Values are JSON; a value that cannot be read back counts as a miss.
 */
export interface SharedCacheStore {
  get(key: string): Promise<string | null | undefined>;
  set(key: string, value: string, ttlMs: number): Promise<void>;
}

export interface CacheOptions<T> {
  /** Also kept in the shared store, so other processes need not read it again. */
  shared?: boolean;
  /** How long it is good for (default: the cache's). */
  ttlMs?: number;
  /** Whether a loaded value is good enough to keep (a read that partly failed is not). */
  keep?: (value: T) => boolean;
}

/** Bounds the entries kept in a process (owner chains are per workload). */
const MAX_LOCAL_ENTRIES = 10_000;

/**
 * Short-lived cache of reads shared by all incidents (nodes, LimitRanges, owner chains, metrics
 * availability): in the process, and for `shared` keys in the shared store as well.
 */
export class ClusterCache {
  private readonly entries = new Map<string, { until: number; value: unknown }>();
  constructor(
    private readonly ttlMs = 60_000,
    private readonly clock: () => number = Date.now,
    private readonly shared?: SharedCacheStore,
  ) {}

  /** Loads under way: incidents that find the same key missing at once wait for one read. */
  private readonly loading = new Map<string, Promise<unknown>>();

  async get<T>(key: string, load: () => Promise<T>, opts: CacheOptions<T> = {}): Promise<{ value: T; cached: boolean }> {
    const hit = await this.peek<T>(key, opts);
    if (hit !== undefined) return { value: hit, cached: true };
    const pending = this.loading.get(key);
    if (pending) return { value: (await pending) as T, cached: true };
    const loaded = load();
    this.loading.set(key, loaded);
    let value: T;
    try {
      value = await loaded;
    } finally {
      this.loading.delete(key);
    }
    if (opts.keep && !opts.keep(value)) return { value, cached: false };
    const ttl = opts.ttlMs ?? this.ttlMs;
    this.remember(key, value, ttl);
    if (opts.shared && this.shared) await this.shared.set(key, JSON.stringify(value), ttl).catch(() => undefined);
    return { value, cached: false };
  }

  /** The cached value, or undefined: never reads the cluster. */
  async peek<T>(key: string, opts: { shared?: boolean; ttlMs?: number } = {}): Promise<T | undefined> {
    const hit = this.entries.get(key);
    if (hit && this.clock() < hit.until) return hit.value as T;
    if (!opts.shared || !this.shared) return undefined;
    const raw = await this.shared.get(key).catch(() => undefined);
    if (typeof raw !== 'string') return undefined;
    try {
      const value = JSON.parse(raw) as T;
      // Kept locally for a fraction of the time: the shared copy is the one that expires.
      this.remember(key, value, Math.min(opts.ttlMs ?? this.ttlMs, 10_000));
      return value;
    } catch {
      return undefined;
    }
  }

  private remember(key: string, value: unknown, ttlMs: number): void {
    this.entries.delete(key);
    this.entries.set(key, { until: this.clock() + ttlMs, value });
    while (this.entries.size > MAX_LOCAL_ENTRIES) {
      const oldest = this.entries.keys().next().value;
      if (oldest === undefined) break;
      this.entries.delete(oldest);
    }
  }
}

/**
 * One ClusterCache per cluster, made on first use: a worker or bot serving several clusters (a hub) must
 * never answer one cluster's read with another's nodes or owner chain.
 */
export class ClusterCaches {
  private readonly byCluster = new Map<string, ClusterCache>();
  constructor(private readonly make: (cluster: string) => ClusterCache) {}

  of(cluster: string): ClusterCache {
    let cache = this.byCluster.get(cluster);
    if (!cache) {
      cache = this.make(cluster);
      this.byCluster.set(cluster, cache);
    }
    return cache;
  }
}

/** Reads each node's memory sums as the watcher keeps them (stores/node-sums-reader.ts). */
export interface NodeSumsSource {
  /** undefined when the watcher's sums are not known to be complete and recent. */
  get(cluster: string, node: string): Promise<NodeSums | undefined>;
}

export interface GatherOptions {
  /** The node sums the watcher keeps; without it the node's pods are listed. */
  nodeSums?: NodeSumsSource;
  /**
   * A repeat of a workload whose alert is already posted: its previous logs are not read (the repeat
   * line does not show them, and the alert shows the first kill's).
   */
  repeat?: boolean;
  /**
   * The whole cluster is in scope (no WATCH_NAMESPACES): LimitRanges and VPAs are listed for every
   * namespace at once, once a minute between all processes, instead of once a minute per namespace.
   * The ClusterRole grants these lists already; with WATCH_NAMESPACES only per-namespace Roles do.
   */
  clusterWide?: boolean;
}

/** Owner chains change only with a rollout (a new ReplicaSet, a new key): kept five minutes. */
const OWNERS_TTL_MS = 5 * 60_000;

/** Where the owner chain starting at a pod's controller is cached. */
export function ownersCacheKey(ns: string, first: { kind: string; name: string }): string {
  return `owners/${ns}/${first.kind}/${first.name}`;
}

/** The chain read from the cache, without reading the cluster (undefined when not cached). */
export async function cachedOwnerChain(cache: ClusterCache, ns: string, first: { kind: string; name: string }): Promise<OwnerObject[] | undefined> {
  return cache.peek<OwnerObject[]>(ownersCacheKey(ns, first), { shared: true, ttlMs: OWNERS_TTL_MS });
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
/** Where the node list lives in the shared ClusterCache: kept there by the watcher, else read at most once a minute. */
export { NODES_CACHE_KEY };

/** Every node, trimmed to what enrichment and the bot read (name, memory allocatable and capacity, MemoryPressure). */
export async function readNodes(kube: KubeApi): Promise<V1Node[]> {
  return ((await kube.getJson<List<V1Node>>('/api/v1/nodes')).items ?? []).map(trimNode);
}

/** Options for the shared node list: every process reads it at most once a minute between them. */
export const NODES_CACHE_OPTIONS = { shared: true } as const;

export async function gatherIncident(kube: KubeApi, incident: Incident, cache: ClusterCache, opts: GatherOptions = {}): Promise<Gathered> {
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
      const { value, cached: hit } = await cache.get(key, fn, { shared: true });
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
  // What the watcher saw when it detected the incident: the pod and its events need not be read again.
  const observedPod = ref && incident.observed?.pod?.metadata?.uid === ref.uid ? incident.observed.pod : undefined;
  const observedEvents = observedPod ? items(incident.observed?.events) : undefined;

  // Independent reads go out together.
  const [pod, events, nodeOoms, nodes, limitRanges] = await Promise.all([
    observedPod ?? (ref && ns ? call('pod', () => kube.getJson<V1Pod>(`/api/v1/namespaces/${enc(ns)}/pods/${enc(ref.name)}`)) : undefined),
    observedEvents
      ? { items: observedEvents }
      : ref && ns
        ? call('events', () => kube.getJson<List<CoreV1Event>>(`/api/v1/namespaces/${enc(ns)}/events`, { fieldSelector: `involvedObject.uid=${ref.uid}` }))
        : nodeName
          ? call('node events', () =>
              kube.getJson<List<CoreV1Event>>('/api/v1/events', { fieldSelector: `involvedObject.kind=Node,involvedObject.name=${nodeName}` }),
            )
          : undefined,
    // A pod's kill may be the victim of a node OOM: the node's SystemOOM events say so (one incident then).
    // The watcher sends the ones it saw with the pod's events.
    ref && ns && nodeName && !observedEvents
      ? call('node OOM events', () =>
          kube.getJson<List<CoreV1Event>>('/api/v1/events', { fieldSelector: `involvedObject.kind=Node,involvedObject.name=${nodeName},reason=SystemOOM` }),
        )
      : undefined,
    cached(NODES_CACHE_KEY, 'nodes', () => readNodes(kube), [] as V1Node[]),
    ns
      ? opts.clusterWide
        ? cached(
            LIMIT_RANGES_CACHE_KEY,
            'limit ranges',
            () => readByNamespace<V1LimitRange>(kube, '/api/v1/limitranges'),
            {} as ByNamespace<V1LimitRange>,
          ).then((all) => all[ns] ?? [])
        : cached(
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
    const sums = nodeName && opts.nodeSums ? await opts.nodeSums.get(incident.cluster, nodeName).catch(() => undefined) : undefined;
    const [owners, nodePods, podMetrics, logs, vpas] = await Promise.all([
      ownerChain(ns, firstOwner, out.pod, (what, fn) => call(what, fn), kube, cache),
      // resourceVersion=0: served from the API server's cache (indexed by node), not read from etcd.
      nodeName && !sums
        ? call('pods on node', () => kube.getJson<List<V1Pod>>('/api/v1/pods', { fieldSelector: `spec.nodeName=${nodeName}`, resourceVersion: '0' }))
        : undefined,
      readPodMetrics(kube, cache, ns, ref.name, out),
      wantLogs && !opts.repeat
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
      firstOwner ? (opts.clusterWide ? readAllVpas(kube, cache, ns, out) : readVpas(kube, cache, ns, out)) : undefined,
    ]);
    out.owners = owners;
    out.vpas = vpas;
    out.nodePods = nodePods?.items;
    if (sums) out.nodeSums = sums;
    out.podMetrics = podMetrics;
    out.previousLogs = logs;
  }
  return out;
}

type Call = <T>(what: string, fn: () => Promise<T>) => Promise<T | undefined>;

/**
 * The owner chain from the pod's controller up, from the shared cache when another incident (or
 * process) read it in the last minutes; a chain with an owner that could not be read is not kept.
 */
async function ownerChain(
  ns: string,
  first: { kind: string; name: string } | undefined,
  pod: V1Pod | undefined,
  call: Call,
  kube: KubeApi,
  cache: ClusterCache,
): Promise<OwnerObject[]> {
  if (!first) return [];
  const { value } = await cache.get(ownersCacheKey(ns, first), () => readOwnerChain(ns, first, pod, call, kube), {
    shared: true,
    ttlMs: OWNERS_TTL_MS,
    keep: (chain) => chain.every((o) => o.metadata !== undefined || !OWNER_PATHS[o.kind] || o.inferred === true),
  });
  return value;
}

/**
 * Reads the chain. A ReplicaSet whose name is a Deployment's name and the pod's `pod-template-hash` (as
 * the Deployment controller names them) is taken to belong to that Deployment when the Deployment
 * selects the pod: one read instead of two. Otherwise the ReplicaSet's metadata alone is read, and its
 * whole object only when nothing controls it (its template is then the one to fix).
 */
async function readOwnerChain(ns: string, first: { kind: string; name: string }, pod: V1Pod | undefined, call: Call, kube: KubeApi): Promise<OwnerObject[]> {
  const chain: OwnerObject[] = [];
  const deployment = deploymentOfReplicaSet(first, pod);
  if (deployment) {
    const obj = await call(`Deployment ${deployment}`, () =>
      kube.getJson<OwnerObject & { spec?: DeploymentSpecLike }>(OWNER_PATHS.Deployment!(ns, deployment)),
    );
    if (obj && selects(obj.spec?.selector, pod?.metadata?.labels)) {
      chain.push({ kind: first.kind, name: first.name, namespace: ns, inferred: true });
      chain.push(trimOwner({ ...obj, kind: 'Deployment', name: deployment, namespace: ns }));
      return chain;
    }
  }
  let next: { kind: string; name: string } | undefined = first;
  while (next && chain.length < 4) {
    const path: ((ns: string, name: string) => string) | undefined = OWNER_PATHS[next.kind];
    if (!path) {
      chain.push({ kind: next.kind, name: next.name, namespace: ns });
      break;
    }
    const current: { kind: string; name: string } = next;
    let obj: OwnerObject | undefined;
    if (current.kind === 'ReplicaSet') {
      obj = await call(`${current.kind} ${current.name}`, () => kube.getMetadata<OwnerObject>(path(ns, current.name)));
      // Not controlled by anything: the ReplicaSet is the top, and its template is needed.
      if (obj && !obj.metadata?.ownerReferences?.some((o) => o.controller))
        obj = await call(`${current.kind} ${current.name}`, () => kube.getJson<OwnerObject>(path(ns, current.name)));
    } else {
      obj = await call(`${current.kind} ${current.name}`, () => kube.getJson<OwnerObject>(path(ns, current.name)));
    }
    chain.push(trimOwner({ ...(obj ?? {}), kind: current.kind, name: current.name, namespace: ns }));
    next = obj?.metadata?.ownerReferences?.find((o) => o.controller);
  }
  return chain;
}

interface DeploymentSpecLike {
  selector?: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] };
}

/** The Deployment a ReplicaSet's name and the pod's template hash point at, if they do. */
function deploymentOfReplicaSet(first: { kind: string; name: string }, pod: V1Pod | undefined): string | undefined {
  if (first.kind !== 'ReplicaSet') return undefined;
  const hash = pod?.metadata?.labels?.['pod-template-hash'];
  if (!hash || !first.name.endsWith(`-${hash}`)) return undefined;
  const name = first.name.slice(0, -(hash.length + 1));
  return name === '' ? undefined : name;
}

/** Whether a selector of match labels only (what Deployments almost always have) selects the labels. */
function selects(selector: DeploymentSpecLike['selector'], labels: Record<string, string> | undefined): boolean {
  const match = selector?.matchLabels;
  if (!match || Object.keys(match).length === 0 || (selector.matchExpressions?.length ?? 0) > 0) return false;
  return Object.entries(match).every(([k, v]) => labels?.[k] === v);
}

/** Annotations too large to keep in the cache and read by nothing. */
const DROPPED_ANNOTATIONS = ['kubectl.kubernetes.io/last-applied-configuration'];

/** What enrichment reads of an owner: its metadata and its pod template's container names. */
function trimOwner(o: OwnerObject): OwnerObject {
  const spec = (o as { spec?: OwnerSpecLike }).spec;
  const names = (list: { name?: string }[] | undefined) => (Array.isArray(list) ? list.map((c) => ({ name: c?.name })) : undefined);
  const podSpec = (p: OwnerPodSpecLike | undefined) => p && { spec: { containers: names(p.spec?.containers), initContainers: names(p.spec?.initContainers) } };
  const annotations = o.metadata?.annotations ? { ...o.metadata.annotations } : undefined;
  for (const k of DROPPED_ANNOTATIONS) if (annotations) delete annotations[k];
  const out: OwnerObject & { spec?: OwnerSpecLike } = { kind: o.kind, name: o.name, namespace: o.namespace };
  if (o.apiVersion) out.apiVersion = o.apiVersion;
  if (o.inferred) out.inferred = true;
  if (o.metadata) out.metadata = { ...o.metadata, annotations };
  if (spec) {
    out.spec = {};
    if (spec.selector) out.spec.selector = spec.selector;
    if (spec.template) out.spec.template = podSpec(spec.template);
    if (spec.jobTemplate) out.spec.jobTemplate = { spec: { template: podSpec(spec.jobTemplate.spec?.template) } };
  }
  return out;
}

interface OwnerPodSpecLike {
  spec?: { containers?: { name?: string }[]; initContainers?: { name?: string }[] };
}

interface OwnerSpecLike {
  selector?: unknown;
  template?: OwnerPodSpecLike;
  jobTemplate?: { spec?: { template?: OwnerPodSpecLike } };
}

function items<T>(list: readonly T[] | null | undefined): T[] {
  return Array.isArray(list) ? list.filter((x): x is T => typeof x === 'object' && x !== null) : [];
}

/**
 * The pod's usage. Whether metrics.k8s.io exists is asked only when the pod's usage cannot be read (a
 * usage read that works says it does), once a minute; a cluster known to lack it is not asked for usage.
 */
async function readPodMetrics(kube: KubeApi, cache: ClusterCache, ns: string, name: string, out: Gathered): Promise<PodMetricsItem | undefined> {
  const discover = () =>
    cache
      .get(METRICS_API_CACHE_KEY, async () => {
        out.apiCalls++;
        try {
          await kube.getJson('/apis/metrics.k8s.io/v1beta1');
          return true;
        } catch {
          return false;
        }
      })
      .then((r) => r.value);
  if ((await cache.peek<boolean>(METRICS_API_CACHE_KEY)) === false) return undefined;
  out.apiCalls++;
  try {
    const usage = await kube.getJson<PodMetricsItem>(`/apis/metrics.k8s.io/v1beta1/namespaces/${enc(ns)}/pods/${enc(name)}`);
    out.metricsAvailable = true;
    return usage;
  } catch (err) {
    out.metricsAvailable = await discover();
    if (out.metricsAvailable && !(err instanceof OombotError && err.code === 'KUBE_NOT_FOUND')) out.gaps.push(`pod metrics: ${errorMessage(err)}`);
    return undefined;
  }
}

/** Whether metrics.k8s.io exists, in the ClusterCache (of this process: it is asked rarely). */
const METRICS_API_CACHE_KEY = 'metrics-api';

/** A cluster-wide list, by namespace: each item trimmed to its name and spec (what enrichment reads). */
async function readByNamespace<T>(kube: KubeApi, path: string): Promise<ByNamespace<T>> {
  const out: ByNamespace<T> = {};
  await kube.eachListItem<{ metadata?: { name?: string; namespace?: string }; spec?: unknown }>(path, {}, (item) => {
    const ns = item?.metadata?.namespace;
    if (!ns) return;
    const list = out[ns] ?? [];
    list.push(trimNamespaced<T>(item));
    out[ns] = list;
  });
  return out;
}

/**
 * The namespace's VPAs from the cluster's, listed at most once a minute between all processes. The
 * list answers whether the VPA API exists too: a 404 is a cluster without VPAs (kept for the minute).
 */
async function readAllVpas(kube: KubeApi, cache: ClusterCache, ns: string, out: Gathered): Promise<unknown[] | undefined> {
  try {
    const { value, cached } = await cache.get<ByNamespace<unknown> | null>(
      VPAS_CACHE_KEY,
      async () => {
        try {
          return await readByNamespace<unknown>(kube, `${VPA_GROUP_VERSION}/verticalpodautoscalers`);
        } catch (err) {
          if (err instanceof OombotError && err.code === 'KUBE_NOT_FOUND') return null;
          throw err;
        }
      },
      { shared: true },
    );
    if (!cached) out.apiCalls++;
    return value ? (value[ns] ?? []) : undefined;
  } catch (err) {
    out.apiCalls++;
    if (err instanceof OombotError && err.code === 'KUBE_UNREACHABLE') throw err;
    out.gaps.push(`VPAs: ${errorMessage(err)}`);
    return undefined;
  }
}

/**
 * The namespace's VPAs, read at most once a minute per namespace: a VPA that sizes the workload makes a
 * template patch fight it. Whether the CRD exists is asked once a minute too; a 404 means no VPA here.
 */
async function readVpas(kube: KubeApi, cache: ClusterCache, ns: string, out: Gathered): Promise<unknown[] | undefined> {
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
    const { value, cached } = await cache.get(
      `vpas/${ns}`,
      () =>
        kube.getJson<List<unknown>>(`${VPA_GROUP_VERSION}/namespaces/${enc(ns)}/verticalpodautoscalers`).then((l) => (Array.isArray(l.items) ? l.items : [])),
      { shared: true },
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
