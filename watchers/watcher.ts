import type { RedisClient } from '../core/queue.js';
import type { CoreV1Event, V1Node, V1Pod } from '@kubernetes/client-node';
import type { Logger } from '../core/logger.js';
import type { Metrics } from '../core/metrics.js';
import type { KubeHttp } from '../core/kube.js';
import type { Incident } from '../core/incident.js';
import { errorMessage } from '../core/errors.js';
import { heartbeatKey } from '../core/queue.js';
import type { ScaleEvents } from '../core/scale-events.js';
import { ListWatch, type KubeObject } from './list-watch.js';

type ListPage = { relist: boolean; first: boolean; last: boolean };
import type { IncidentSink } from './incident-sink.js';
import { RecentPodEvents } from './recent-pod-events.js';
import { NodeSumsTracker } from './node-sums.js';
import { ClusterListsKeeper } from './cluster-lists.js';
import { LIMIT_RANGES_CACHE_KEY, NODES_CACHE_KEY, VPAS_CACHE_KEY } from '../core/cluster-lists.js';
import { OombotError } from '../core/errors.js';
import { trimEvent, trimPod } from '../core/observed-pod.js';
import { detectEventIncidents, detectPodIncidents } from './detect/index.js';
import type { DetectContext } from './detect/context.js';

export interface WatcherOptions {
  kube: KubeHttp;
  cluster: string;
  /** Empty: all namespaces. */
  namespaces: string[];
  sink: IncidentSink;
  redis: RedisClient;
  queueName: string;
  log: Logger;
  metrics: Metrics;
  silenceMs: number;
  lookbackMs: number;
  dedupeTtlMs: number;
  heartbeatEveryMs?: number;
  watchTimeoutSeconds?: number;
  /** Objects per page of a list (default 500). */
  pageSize?: number;
  backoff?: { initialMs: number; maxMs: number };
  now?: () => Date;
  /** Where scale-downs and HPA rescales are kept for the diagnosis (absent: they are dropped). */
  scaleEvents?: Pick<ScaleEvents, 'record'>;
}

/** Kinds of incident a first look records as history when they are older than the look-back. */
const HISTORY_KINDS = new Set<Incident['kind']>(['container-oom', 'child-oom', 'evicted']);

/** Event reasons a detector can use; other events are only kept as recent events of their pod. */
const EVENT_REASONS = new Set(['Evicted', 'SystemOOM', 'Preempted', 'TaintManagerEviction']);
/** SystemOOM events kept per node, and for how long, to go with the incidents of the node's pods. */
const NODE_OOMS_KEPT = 4;
const NODE_OOM_MAX_AGE_MS = 15 * 60_000;
/** Event reasons kept for the change that started it: a Deployment scaled down, an HPA rescale. */
const SCALE_REASONS = new Set(['ScalingReplicaSet', 'SuccessfulRescale']);

interface NodeMemo {
  memoryPressure: boolean;
}

/**
 * Watches pods, events and nodes of one cluster and hands every incident to the sink.
 *
 * Memory: no pod object is kept. Per pod only its uid and the ids of incidents already handed
 * over (so a crash-looping pod's status updates do not re-ask Redis); per node one flag; recent
 * Killing/Unhealthy events in a bounded store for the SIGKILL correlation.
 */
export class Watcher {
  private readonly pods = new Map<string, string[] | null>();
  private readonly nodes = new Map<string, NodeMemo>();
  private readonly recent = new RecentPodEvents();
  /** Recent SystemOOM events per node (trimmed), for the incidents of the node's pods. */
  private readonly nodeOoms = new Map<string, { at: number; event: CoreV1Event }[]>();
  private readonly nodeSums: NodeSumsTracker;
  private readonly watches: ListWatch<KubeObject>[] = [];
  /**
   * Watches of what only the worker needs (LimitRanges, VPAs): their failure does not make the watcher
   * unready; the worker then reads them itself.
   */
  private readonly sideWatches = new Map<string, ListWatch<KubeObject>>();
  private readonly lists: ClusterListsKeeper;
  private heartbeat: NodeJS.Timeout | undefined;
  private cutoff = new Date(0);
  /** Kills older than this are neither alerts nor history: their ids are no longer remembered. */
  private historyFloor = new Date(0);
  private readonly now: () => Date;
  private started = false;

  constructor(private readonly opts: WatcherOptions) {
    this.now = opts.now ?? (() => new Date());
    this.nodeSums = new NodeSumsTracker({
      redis: opts.redis,
      queueName: opts.queueName,
      cluster: opts.cluster,
      // Complete once every pod watch has listed (one per watched namespace).
      synced: () => this.watches.filter((w) => w.name.endsWith('/pods')).every((w) => w.synced),
      now: this.now,
      onError: (err) => opts.log.debug({ err: errorMessage(err) }, 'node sums not written'),
    });
    this.lists = new ClusterListsKeeper({
      redis: opts.redis,
      queueName: opts.queueName,
      cluster: opts.cluster,
      synced: (key) => (key === NODES_CACHE_KEY ? this.watches.find((w) => w.name === '/api/v1/nodes') : this.sideWatches.get(key))?.synced ?? false,
      onError: (err) => opts.log.debug({ err: errorMessage(err) }, 'cluster lists not written'),
    });
  }

  /** Nodes, LimitRanges or VPAs as kept for the worker (for tests). */
  clusterList(key: typeof NODES_CACHE_KEY | typeof LIMIT_RANGES_CACHE_KEY | typeof VPAS_CACHE_KEY): unknown {
    return this.lists.value(key);
  }

  /** Writes the cluster lists that changed now (they are also written every second). */
  flushClusterLists(): Promise<void> {
    return this.lists.flush();
  }

  /** Memory requests, limits and running pods of a node, as the pod watch has them now. */
  nodeSumsOf(node: string) {
    return this.nodeSums.get(node);
  }

  /** Writes the node sums that changed now (they are also written every second). */
  flushNodeSums(): Promise<void> {
    return this.nodeSums.flush();
  }

  get podCount(): number {
    return this.pods.size;
  }

  /** Kills before this are history, not alerts. */
  get lookbackCutoff(): Date {
    return this.cutoff;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.cutoff = await this.computeCutoff();
    const scopes = this.opts.namespaces.length > 0 ? this.opts.namespaces.map((ns) => `/api/v1/namespaces/${ns}`) : ['/api/v1'];
    for (const scope of scopes) {
      this.watches.push(
        this.makeWatch<V1Pod>(`${scope}/pods`, 'pods', {
          onList: (items, page) => this.onPodListPage(items, scope, page),
          onEvent: (type, pod) => this.onPod(type, pod, true),
        }),
      );
      this.watches.push(
        this.makeWatch<CoreV1Event>(`${scope}/events`, 'events', {
          onList: (items) => this.onEventList(items),
          onEvent: (type, event) => (type === 'DELETED' ? undefined : this.onEvent(event, true)),
        }),
      );
    }
    // Node-level SystemOOM events live in the default namespace when only some namespaces are watched.
    if (this.opts.namespaces.length > 0 && !this.opts.namespaces.includes('default')) {
      this.watches.push(
        this.makeWatch<CoreV1Event>('/api/v1/namespaces/default/events', 'node-events', {
          onList: (items) => this.onEventList(items.filter(isNodeEvent)),
          onEvent: (type, event) => (type === 'DELETED' || !isNodeEvent(event) ? undefined : this.onEvent(event, true)),
        }),
      );
    }
    this.watches.push(
      this.makeWatch<V1Node>('/api/v1/nodes', 'nodes', {
        onList: (items, page) => {
          if (page.first) {
            this.nodes.clear();
            this.lists.relisting(NODES_CACHE_KEY);
          }
          for (const n of items) this.onNode('ADDED', n);
        },
        onEvent: (type, node) => this.onNode(type, node),
      }),
    );
    // With the whole cluster watched, the worker's cluster-wide LimitRanges and VPAs come from watches
    // too (with some namespaces only, the worker reads each namespace's under its Roles).
    if (this.opts.namespaces.length === 0) {
      const kept = [
        { key: LIMIT_RANGES_CACHE_KEY, path: '/api/v1/limitranges', name: 'limitranges' },
        { key: VPAS_CACHE_KEY, path: '/apis/autoscaling.k8s.io/v1/verticalpodautoscalers', name: 'vpas' },
      ] as const;
      for (const { key, path, name } of kept) {
        this.sideWatches.set(
          key,
          this.makeWatch<KubeObject>(path, name, {
            onList: (items, page) => {
              if (page.first) this.lists.relisting(key);
              for (const i of items) this.lists.namespaced(key, 'ADDED', i);
            },
            onEvent: (type, item) => this.lists.namespaced(key, type, item),
            // No VPA CRD in the cluster: the worker is told so instead of asking.
            onError: (err) => {
              if (key === VPAS_CACHE_KEY && err instanceof OombotError && err.code === 'KUBE_NOT_FOUND') this.lists.noVpaApi();
            },
            side: true,
          }),
        );
      }
    }
    for (const w of [...this.watches, ...this.sideWatches.values()]) w.start();
    this.nodeSums.start();
    this.lists.start();
    this.heartbeat = setInterval(() => void this.beat(), this.opts.heartbeatEveryMs ?? 15_000);
    this.heartbeat.unref();
  }

  async stop(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    await this.nodeSums.stop();
    await this.lists.stop();
    const synced = this.watches.length > 0 && this.watches.every((w) => w.synced);
    await Promise.all([...this.watches, ...this.sideWatches.values()].map((w) => w.stop()));
    if (synced) await this.beat(true);
  }

  /** Ready when every watch has listed and is watching. */
  readiness(): { ok: boolean; detail?: string } {
    if (this.watches.length === 0) return { ok: false, detail: 'not started' };
    const lagging = this.watches.filter((w) => !w.synced);
    if (lagging.length === 0) return { ok: true };
    return { ok: false, detail: lagging.map((w) => `${w.name}: ${w.lastError ?? 'syncing'}`).join('; ') };
  }

  private makeWatch<T extends KubeObject>(
    path: string,
    resource: string,
    handlers: {
      onList: (items: T[], page: ListPage) => void | Promise<void>;
      onEvent: (type: 'ADDED' | 'MODIFIED' | 'DELETED', obj: T) => void | Promise<void>;
      onError?: (err: unknown) => void;
      /** A side watch: retried slowly (a missing CRD or grant is not fixed in seconds). */
      side?: boolean;
    },
  ): ListWatch<KubeObject> {
    const { cluster, metrics, log } = this.opts;
    const watch = new ListWatch<T>({
      kube: this.opts.kube,
      path,
      resource,
      log,
      silenceMs: this.opts.silenceMs,
      backoff: handlers.side ? { initialMs: 5_000, maxMs: 300_000 } : this.opts.backoff,
      watchTimeoutSeconds: this.opts.watchTimeoutSeconds,
      pageSize: this.opts.pageSize,
      handlers: {
        onList: async (items, page) => {
          metrics.eventsSeen.inc({ cluster, resource }, items.length);
          await handlers.onList(items, page);
          if (page.last) metrics.watchSynced.set({ cluster, resource }, 1);
        },
        onEvent: (type, obj) => {
          metrics.eventsSeen.inc({ cluster, resource });
          return handlers.onEvent(type, obj);
        },
        onRestart: (reason) => {
          metrics.watchRestarts.inc({ cluster, resource, reason });
          if (reason === 'error' || reason === 'gone') metrics.watchSynced.set({ cluster, resource }, 0);
        },
        onFailure: () => metrics.watchFailures.inc({ cluster, resource }),
        onError: handlers.onError,
        onHealth: (healthy) => metrics.watchSynced.set({ cluster, resource }, healthy ? 1 : 0),
      },
    });
    return watch as unknown as ListWatch<KubeObject>;
  }

  private context(live: boolean, cutoff = this.cutoff): DetectContext {
    return {
      cluster: this.opts.cluster,
      now: this.now(),
      cutoff,
      live,
      recentPodEvents: (uid) => this.recent.get(uid),
    };
  }

  /** Uids seen so far in the list under way, per scope: what is not in it at the end was deleted. */
  private readonly listing = new Map<string, Set<string>>();

  private async onPodListPage(items: V1Pod[], scope: string, page: ListPage): Promise<void> {
    if (page.first) this.listing.set(scope, new Set());
    const present = this.listing.get(scope)!;
    for (const pod of items) {
      const uid = pod.metadata?.uid;
      if (uid) present.add(uid);
      // Most pods show no incident and are handled synchronously: no promise, no await, for them.
      const handing = this.onPod('ADDED', pod, false);
      if (handing) await handing;
    }
    if (!page.last) return;
    this.listing.delete(scope);
    // Pods deleted while the watch was down: forget them.
    const prefix = scope === '/api/v1' ? undefined : scope.slice('/api/v1/namespaces/'.length);
    for (const uid of this.pods.keys()) {
      if (!present.has(uid) && (prefix === undefined || this.podNamespace.get(uid) === prefix)) this.forget(uid);
    }
    this.opts.metrics.podsTracked.set({ cluster: this.opts.cluster }, this.pods.size);
  }

  /** Namespace per tracked pod uid, needed only to scope a relist when several namespaces are watched. */
  private readonly podNamespace = new Map<string, string>();

  private forget(uid: string): void {
    this.pods.delete(uid);
    this.podNamespace.delete(uid);
    this.nodeSums.remove(uid);
  }

  /**
   * Synchronous when the pod shows no new incident (nearly every update), so the watch loop pays no
   * promise for it; a promise only when something is handed to the sink.
   */
  private onPod(type: 'ADDED' | 'MODIFIED' | 'DELETED', pod: V1Pod, live: boolean): void | Promise<void> {
    const uid = pod?.metadata?.uid;
    if (!uid) return;
    let incidents: Incident[] = [];
    try {
      // A list also looks back past the cutoff: what it finds there is history, not an alert.
      incidents = detectPodIncidents(pod, this.context(live, live ? this.cutoff : this.historyFloor));
    } catch (err) {
      // Detectors are total; this is a last line of defence so one odd object never stops the watch.
      this.opts.log.error({ err: errorMessage(err), pod: `${pod.metadata?.namespace}/${pod.metadata?.name}` }, 'detection failed for pod');
    }
    const known = this.pods.get(uid) ?? null;
    if (!this.pods.has(uid) && this.opts.namespaces.length > 1) this.podNamespace.set(uid, pod.metadata?.namespace ?? '');
    try {
      if (type === 'DELETED') this.nodeSums.remove(uid);
      else this.nodeSums.update(uid, pod);
    } catch (err) {
      this.opts.log.error({ err: errorMessage(err), pod: `${pod.metadata?.namespace}/${pod.metadata?.name}` }, 'node sums: pod not counted');
    }
    const fresh = incidents.filter((i) => !known?.includes(i.id));
    if (fresh.length === 0) {
      this.settlePod(type, uid, known, live);
      return;
    }
    return this.handOver(
      type,
      uid,
      known,
      fresh.map((i) => this.withObserved(i, pod)),
      live,
    );
  }

  /**
   * The pod as seen now and the events seen for it (and its node's SystemOOMs) go with the incident, so
   * the worker does not read them again.
   */
  private withObserved(incident: Incident, pod: V1Pod): Incident {
    try {
      const uid = pod.metadata?.uid ?? '';
      const node = pod.spec?.nodeName;
      const events = [...this.recent.get(uid), ...(typeof node === 'string' ? this.recentNodeOoms(node) : [])];
      return { ...incident, observed: { pod: trimPod(pod), events } };
    } catch (err) {
      // An odd object is read by the worker instead: the incident goes out all the same.
      this.opts.log.warn({ err: errorMessage(err), incident: incident.id }, 'pod not sent with its incident');
      return incident;
    }
  }

  private recentNodeOoms(node: string): CoreV1Event[] {
    const cutoff = this.now().getTime() - NODE_OOM_MAX_AGE_MS;
    return (this.nodeOoms.get(node) ?? []).filter((e) => e.at >= cutoff).map((e) => e.event);
  }

  private rememberNodeOom(event: CoreV1Event): void {
    const node = event.involvedObject?.name;
    if (!node) return;
    const kept = (this.nodeOoms.get(node) ?? []).filter((e) => e.event.metadata?.name !== event.metadata?.name);
    kept.push({ at: this.now().getTime(), event: trimEvent(event) });
    this.nodeOoms.delete(node);
    this.nodeOoms.set(node, kept.slice(-NODE_OOMS_KEPT));
    // Bounded like the nodes: the least recently touched go first.
    while (this.nodeOoms.size > 5_000) {
      const oldest = this.nodeOoms.keys().next().value;
      if (oldest === undefined) break;
      this.nodeOoms.delete(oldest);
    }
  }

  /** Before the cutoff: history (when of a kind worth remembering), never an alert. */
  private isHistory(incident: Incident): boolean {
    return Date.parse(incident.occurredAt) < this.cutoff.getTime();
  }

  private async handOver(type: 'ADDED' | 'MODIFIED' | 'DELETED', uid: string, known: string[] | null, incidents: Incident[], live: boolean): Promise<void> {
    let handed = known;
    for (const incident of incidents) {
      if (this.isHistory(incident)) {
        if (HISTORY_KINDS.has(incident.kind)) await this.opts.sink.recordHistory(incident);
      } else {
        // A deferred incident is retried by the sink; remembering it here avoids handing it over twice.
        await this.opts.sink.submit(incident, this.opts.cluster);
      }
      handed = [...(handed ?? []), incident.id].slice(-16);
    }
    this.settlePod(type, uid, handed, live);
  }

  private settlePod(type: 'ADDED' | 'MODIFIED' | 'DELETED', uid: string, handed: string[] | null, live: boolean): void {
    if (type === 'DELETED') {
      this.forget(uid);
      this.recent.delete(uid);
    } else {
      this.pods.set(uid, handed);
    }
    if (live && type !== 'MODIFIED') this.opts.metrics.podsTracked.set({ cluster: this.opts.cluster }, this.pods.size);
  }

  private async onEventList(items: CoreV1Event[]): Promise<void> {
    for (const event of items) await this.onEvent(event, false);
  }

  private onEvent(event: CoreV1Event, live: boolean): void | Promise<void> {
    const reason = event?.reason;
    if (reason && SCALE_REASONS.has(reason)) return this.keepScaleEvent(event);
    if (!reason) return;
    const uid = event.involvedObject?.uid;
    // A pod's events go with its next incident (the SIGKILL correlation reads Killing among them).
    if (typeof uid === 'string' && uid !== '' && event.involvedObject?.kind === 'Pod') this.recent.add(uid, event);
    if (!EVENT_REASONS.has(reason)) return;
    if (reason === 'SystemOOM' && isNodeEvent(event) && typeof event.involvedObject?.name === 'string') this.rememberNodeOom(event);
    let incidents: Incident[] = [];
    try {
      incidents = detectEventIncidents(event, this.context(live));
    } catch (err) {
      this.opts.log.error({ err: errorMessage(err), event: event.metadata?.name }, 'detection failed for event');
    }
    const fresh = incidents.filter((i) => !(i.pod?.uid && this.pods.get(i.pod.uid)?.includes(i.id)));
    if (fresh.length === 0) return;
    return this.handOverEvent(fresh);
  }

  /** A scale event kept in Redis for the worker; best effort (a lost one only loses a sentence). */
  private keepScaleEvent(event: CoreV1Event): void | Promise<void> {
    const store = this.opts.scaleEvents;
    if (!store) return;
    return store.record(this.opts.cluster, event).then(
      () => undefined,
      (err: unknown) => this.opts.log.debug({ err: errorMessage(err), event: event.metadata?.name }, 'scale event not kept'),
    );
  }

  private async handOverEvent(incidents: Incident[]): Promise<void> {
    for (const incident of incidents) {
      const podUid = incident.pod?.uid;
      await this.opts.sink.submit(incident, this.opts.cluster);
      if (podUid && this.pods.has(podUid)) this.pods.set(podUid, [...(this.pods.get(podUid) ?? []), incident.id].slice(-16));
    }
  }

  private onNode(type: 'ADDED' | 'MODIFIED' | 'DELETED', node: V1Node): void {
    const name = node?.metadata?.name;
    if (!name) return;
    this.lists.node(type, node);
    if (type === 'DELETED') {
      this.nodes.delete(name);
      return;
    }
    // A malformed status must not fail the whole nodes relist (the watcher would never become ready).
    const conditions: unknown = node.status?.conditions;
    const pressure =
      Array.isArray(conditions) && conditions.some((c: { type?: unknown; status?: unknown } | null) => c?.type === 'MemoryPressure' && c.status === 'True');
    const before = this.nodes.get(name);
    if (before && !before.memoryPressure && pressure) this.opts.log.warn({ node: name }, 'node reports MemoryPressure');
    this.nodes.set(name, { memoryPressure: pressure });
  }

  /** Nodes that report MemoryPressure now. */
  nodesUnderPressure(): string[] {
    return [...this.nodes].filter(([, n]) => n.memoryPressure).map(([name]) => name);
  }

  private async computeCutoff(): Promise<Date> {
    const { redis, queueName, cluster, lookbackMs, dedupeTtlMs, log } = this.opts;
    const now = this.now().getTime();
    // Never look back further than incident ids are remembered, or an old kill could alert twice
    // (with a margin for clocks, small enough for short dedupe windows).
    const floor = now - dedupeTtlMs + Math.min(60_000, dedupeTtlMs / 10);
    let last: number | undefined;
    try {
      const value = await redis.get(heartbeatKey(queueName, cluster));
      const parsed = value ? Date.parse(value) : NaN;
      if (Number.isFinite(parsed)) last = parsed;
    } catch (err) {
      log.warn({ err: errorMessage(err) }, 'cannot read the last watcher heartbeat; using the look-back only');
    }
    const cutoff = last === undefined ? now - lookbackMs : Math.max(floor, Math.min(now - lookbackMs, last - lookbackMs));
    this.historyFloor = new Date(Math.min(floor, cutoff));
    const at = new Date(cutoff);
    if (last === undefined) {
      log.info({ cluster, cutoff: at.toISOString() }, 'first start for this cluster: kills before the look-back are recorded as history, not alerts');
    } else {
      log.info({ cluster, lastSeen: new Date(last).toISOString(), cutoff: at.toISOString() }, 'resuming: kills since the last watcher ran are reported');
    }
    return at;
  }

  /** Records that this cluster was watched up to now; only while every watch is synced. */
  private async beat(force = false): Promise<void> {
    if (!force && !this.watches.every((w) => w.synced)) return;
    try {
      const { redis, queueName, cluster, dedupeTtlMs } = this.opts;
      await redis.set(heartbeatKey(queueName, cluster), this.now().toISOString(), 'PX', dedupeTtlMs);
    } catch (err) {
      this.opts.log.debug({ err: errorMessage(err) }, 'heartbeat not written');
    }
  }
}

function isNodeEvent(event: CoreV1Event): boolean {
  return event?.involvedObject?.kind === 'Node';
}
