/**
 * In-memory Kubernetes cluster: on the API server's storage (cluster-storage.ts) it runs minimal
 * synchronous controllers, schedules pods, and plays scripted incidents (OOM kills, evictions, ...) that
 * change objects the way the kubelet and API server do. No I/O.
 */
import { simVersion } from './discovery.js';
import { systemClock, rfc3339, type SimClock } from './clock.js';
import { Rand } from './rand.js';
import { objectKey } from './store.js';
import { apiVersionOf, resourceDef, type ResourceDef, type ResourceName } from './resources.js';
import { stampManagedFields, type FieldManager } from './managed-fields.js';
import { alreadyExists, notFound } from './status.js';
import { EventRecorder, type RecordEventInput } from './events.js';
import type { Change, Json, KubeObject, RecordedRequest } from './types.js';
import { ClusterStorage } from './cluster-storage.js';
import { PodIndex } from './pod-index.js';
import { isKubeObject, stampMeta } from './object-meta.js';
import * as controllers from './controllers.js';
import * as incidents from './incidents.js';
import { patchObject, type PatchOptions } from './patch-object.js';
import {
  makeNode,
  makeNamespace,
  type NodeOptions,
  makeDeployment,
  type DeploymentOptions,
  makeStatefulSet,
  type WorkloadOptions,
  makeDaemonSet,
  makeJob,
  type JobOptions,
  makeCronJob,
  type CronJobOptions,
  makePod,
  type PodOptions,
} from './factories.js';
import { buildPodMetrics, buildNodeMetrics } from './metrics.js';
import { bytesOf } from './units.js';

// Defined in object-meta.ts; still exported here, where callers have always found them.
export { withKind, controllerOf } from './object-meta.js';

/** A working set growing linearly from `fromBytes` since `sinceMs` (cluster time), capped at `maxBytes`. */
export interface UsageRamp {
  fromBytes: number;
  bytesPerSecond: number;
  maxBytes?: number;
  sinceMs: number;
}

export interface SimClusterOptions {
  clock?: SimClock;
  /** Seed of names, uids and ids: the same seed and the same script give the same objects. */
  seed?: number;
  /** Changes kept per resource for watch resumption (default 10 000). */
  historySize?: number;
  /** Serve metrics.k8s.io (as if metrics-server were installed). Default true. */
  metricsEnabled?: boolean;
  /** Serve verticalpodautoscalers.autoscaling.k8s.io (as if the VPA CRD were installed). Default true. */
  vpaEnabled?: boolean;
  /** Requests kept in `requests` (default 10 000, oldest dropped first). */
  requestLogSize?: number;
  /** Serve and advertise pods/resize (in-place pod resize, Kubernetes 1.33+). Default true. */
  podResizeEnabled?: boolean;
  /**
   * Schedule by memory requests as kube-scheduler's NodeResourcesFit does: a pod whose request fits no
   * node stays Pending (Unschedulable) with a FailedScheduling event. Default false (round-robin, as the
   * large benchmarks need it cheap).
   */
  scheduleByMemory?: boolean;
  /**
   * The Kubernetes minor version the server reports in /version and behaves as (default 35, i.e. 1.35):
   * pods/resize from 33 (with `podResizeEnabled`), pod-level resources (spec.resources) from 34.
   */
  minorVersion?: number;
}

/** The newest Kubernetes minor version the simulation behaves as. */
export const SIM_MINOR_VERSION = 35;

export interface ContainerLogs {
  current?: string;
  previous?: string;
}

export interface WriteOptions {
  /** Validate and return the would-be object without storing it. */
  dryRun?: boolean;
  /** A write through the API: who made it, recorded in metadata.managedFields. Controllers' own writes leave it out. */
  manager?: FieldManager;
}

export class SimCluster extends ClusterStorage {
  readonly clock: SimClock;
  readonly rand: Rand;
  metricsEnabled: boolean;
  /** Whether pods/resize is served and listed in discovery (false: a cluster older than 1.33). */
  podResizeEnabled: boolean;
  vpaEnabled: boolean;
  /** See SimClusterOptions.scheduleByMemory. */
  scheduleByMemory: boolean;
  /** The Kubernetes minor version (1.x) reported and obeyed; can be changed at any time. */
  minorVersion: number;
  /** Every request the HTTP layer received, oldest first (bounded). */
  readonly requests: RecordedRequest[] = [];
  readonly events: EventRecorder;

  private readonly requestLogSize: number;
  private readonly podIndex = new PodIndex();
  private schedulable: string[] | null = null;
  private nodeCursor = 0;
  private ipCounter = 0;
  private readonly logs = new Map<string, ContainerLogs>();
  /** `ns/pod` -> container -> { memory bytes, cpu nanocores } */
  readonly podUsage = new Map<string, Map<string, { memory: number; cpu: number; ramp?: UsageRamp }>>();
  readonly nodeUsage = new Map<string, { memory: number; cpu: number }>();

  constructor(opts: SimClusterOptions = {}) {
    super(opts.historySize ?? 10_000);
    this.clock = opts.clock ?? systemClock;
    this.rand = new Rand(opts.seed);
    this.metricsEnabled = opts.metricsEnabled ?? true;
    this.podResizeEnabled = opts.podResizeEnabled ?? true;
    this.minorVersion = opts.minorVersion ?? SIM_MINOR_VERSION;
    this.vpaEnabled = opts.vpaEnabled ?? true;
    this.scheduleByMemory = opts.scheduleByMemory ?? false;
    this.requestLogSize = opts.requestLogSize ?? 10_000;
    this.events = new EventRecorder(this);
    for (const ns of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) this.create('namespaces', makeNamespace(ns));
  }

  /** Whether pods/resize is served: Kubernetes 1.33+ (InPlacePodVerticalScaling on by default), unless turned off. */
  get podResizeServed(): boolean {
    return this.podResizeEnabled && this.minorVersion >= 33;
  }

  /**
   * Whether pod-level resources (spec.resources, KEP-2837; the PodLevelResources gate, beta and on by
   * default in 1.34) are kept: older servers drop the field from new pods and templates.
   */
  get podLevelResources(): boolean {
    return this.minorVersion >= 34;
  }

  // ---- time and the request log ----

  now(): Date {
    return this.clock.now();
  }

  nowIso(): string {
    return rfc3339(this.clock.now());
  }

  recordRequest(r: RecordedRequest): void {
    this.requests.push(r);
    if (this.requests.length > this.requestLogSize) this.requests.splice(0, this.requests.length - this.requestLogSize);
  }

  /** Pods whose controller ownerReference has this uid. */
  podsOwnedBy(uid: string): KubeObject[] {
    const s = this.store('pods');
    const out: KubeObject[] = [];
    for (const k of this.podIndex.ownedBy(uid)) {
      const p = s.objects.get(k);
      if (p) out.push(p);
    }
    return out;
  }

  /** Keys ("namespace/name") of the pods on a node, sorted (the API server's spec.nodeName index). */
  podKeysOnNode(node: string): string[] {
    return this.podIndex.onNode(node);
  }

  // ---- writes ----

  protected override stored(def: ResourceDef, type: Change['type'], key: string, obj: KubeObject): void {
    if (def.plural === 'pods') this.podIndex.update(type, key, obj);
    if (def.plural === 'nodes') this.schedulable = null;
  }

  /**
   * Store a new object as the API server would on create (uid, resourceVersion, creationTimestamp,
   * generation), then let the controllers react. The object is taken over: do not reuse it.
   */
  create(resource: ResourceName | string, obj: KubeObject, opts: WriteOptions = {}): KubeObject {
    const def = resourceDef(resource);
    const meta = obj.metadata;
    if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${this.rand.suffix()}`;
    if (def.namespaced) meta.namespace = meta.namespace || 'default';
    else delete meta.namespace;
    if (this.store(def.plural).objects.has(objectKey(meta.namespace, meta.name))) throw alreadyExists(def, meta.name);
    delete obj.kind;
    delete obj.apiVersion;
    const fresh: KubeObject = { ...obj, metadata: stampMeta(meta, this.rand.uuid(), this.nowIso(), def.hasGeneration) };
    // The creator owns the fields it sent, not the defaults the server fills in.
    if (opts.manager) stampManagedFields(undefined, fresh, opts.manager, apiVersionOf(def), this.nowIso());
    controllers.prepareCreate(this, def, fresh);
    if (opts.dryRun) return fresh;
    if (def.namespaced && def.plural !== 'events' && meta.namespace && !this.peek('namespaces', undefined, meta.namespace)) {
      this.write(resourceDef('namespaces'), 'ADDED', stampNew(makeNamespace(meta.namespace), this));
    }
    this.write(def, 'ADDED', fresh);
    controllers.afterWrite(this, def, 'ADDED', fresh);
    return fresh;
  }

  /**
   * Change an object: `mutate` gets a private copy. Bumps resourceVersion, and generation when a
   * workload's spec changed; then lets the controllers react.
   */
  update(resource: ResourceName | string, namespace: string | undefined, name: string, mutate: (draft: Json) => void, opts: WriteOptions = {}): KubeObject {
    const def = resourceDef(resource);
    const current = this.peek(resource, namespace, name);
    if (!current) throw notFound(def, name);
    const draft = structuredClone(current);
    mutate(draft);
    return this.replaceStored(def, current, draft, opts);
  }

  /** @internal store `next` in place of `current` (both without kind/apiVersion). */
  replaceStored(def: ResourceDef, current: KubeObject, next: KubeObject, opts: WriteOptions = {}): KubeObject {
    delete next.kind;
    delete next.apiVersion;
    next.metadata.uid = current.metadata.uid;
    next.metadata.creationTimestamp = current.metadata.creationTimestamp;
    next.metadata.name = current.metadata.name;
    if (def.namespaced) next.metadata.namespace = current.metadata.namespace;
    if (def.hasGeneration) {
      next.metadata.generation = current.metadata.generation ?? 1;
      if (JSON.stringify(next.spec) !== JSON.stringify(current.spec)) next.metadata.generation += 1;
    }
    if (opts.manager) stampManagedFields(current, next, opts.manager, apiVersionOf(def), this.nowIso());
    else if (next.metadata.managedFields === undefined && current.metadata.managedFields) next.metadata.managedFields = current.metadata.managedFields;
    if (opts.dryRun) {
      next.metadata.resourceVersion = current.metadata.resourceVersion;
      return next;
    }
    this.write(def, 'MODIFIED', next, current);
    controllers.afterWrite(this, def, 'MODIFIED', next, current);
    return next;
  }

  /** Update only when `mutate` changed something (controllers use it for status). */
  updateIfChanged(resource: string, namespace: string | undefined, name: string, mutate: (draft: Json) => void): KubeObject | undefined {
    const current = this.peek(resource, namespace, name);
    if (!current) return undefined;
    const draft = structuredClone(current);
    mutate(draft);
    if (JSON.stringify(draft) === JSON.stringify(current)) return current;
    return this.replaceStored(resourceDef(resource), current, draft);
  }

  /**
   * Delete an object now (no grace period). The DELETED watch event carries the final object with a new
   * resourceVersion, as the real server's does. Dependents are garbage-collected (background
   * propagation) and controllers replace what they own.
   */
  delete(resource: ResourceName | string, namespace: string | undefined, name: string, opts: WriteOptions = {}): KubeObject {
    const def = resourceDef(resource);
    const current = this.peek(resource, namespace, name);
    if (!current) throw notFound(def, name);
    const final = structuredClone(current);
    if (opts.dryRun) return final;
    this.write(def, 'DELETED', final, current);
    controllers.afterWrite(this, def, 'DELETED', final, current);
    return final;
  }

  /** PATCH as the API server does it (content type, admission, dryRun, preconditions). */
  patch(
    resource: ResourceName | string,
    namespace: string | undefined,
    name: string,
    body: string | Json,
    contentType: string,
    opts: PatchOptions = {},
  ): KubeObject {
    return patchObject(this, resourceDef(resource), namespace, name, body, contentType, opts);
  }

  // ---- scheduling ----

  /** @internal next node for a new pod (round-robin over Ready, schedulable nodes). */
  pickNode(): KubeObject | undefined {
    if (!this.schedulable) {
      this.schedulable = [];
      for (const n of this.store('nodes').objects.values()) {
        if (n.spec?.unschedulable) continue;
        const ready = (n.status?.conditions ?? []).find((c: Json) => c.type === 'Ready');
        if (ready && ready.status !== 'True') continue;
        this.schedulable.push(n.metadata.name);
      }
      this.schedulable.sort();
    }
    if (this.schedulable.length === 0) return undefined;
    const name = this.schedulable[this.nodeCursor++ % this.schedulable.length]!;
    return this.peek('nodes', undefined, name);
  }

  /**
   * @internal the node for a new pod with this spec: round-robin, or with `scheduleByMemory` the next
   * Ready node whose allocatable memory still holds the pod's request beside the requests of the active
   * pods bound to it. `reason` is the scheduler's message when none fits.
   */
  scheduleFor(spec: Json): { node?: KubeObject; reason?: string } {
    if (!this.scheduleByMemory) {
      const node = this.pickNode();
      return node ? { node } : {};
    }
    const want = podMemoryRequest(spec);
    const nodes = this.list('nodes');
    const fits: string[] = [];
    let unready = 0;
    let short = 0;
    for (const n of nodes) {
      const ready = (n.status?.conditions ?? []).find((c: Json) => c.type === 'Ready');
      if (n.spec?.unschedulable || (ready && ready.status !== 'True')) {
        unready++;
        continue;
      }
      let used = 0;
      for (const key of this.podKeysOnNode(n.metadata.name)) {
        const [ns, name] = key.split('/') as [string, string];
        const p = this.peek('pods', ns, name);
        if (!p || p.metadata.deletionTimestamp || p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed') continue;
        used += podMemoryRequest(p.spec);
      }
      if (used + want > (bytesOf(n.status?.allocatable?.memory) ?? 0)) short++;
      else fits.push(n.metadata.name);
    }
    if (fits.length === 0) {
      const parts = [short ? `${short} Insufficient memory` : '', unready ? `${unready} node(s) were unschedulable` : ''].filter(Boolean);
      const total = nodes.length;
      return {
        reason: total
          ? `0/${total} nodes are available: ${parts.join(', ')}. preemption: 0/${total} nodes are available: ${total} No preemption victims found for incoming pod.`
          : '0/0 nodes are available: no nodes available to schedule pods.',
      };
    }
    fits.sort();
    return { node: this.peek('nodes', undefined, fits[this.nodeCursor++ % fits.length]!) };
  }

  /** @internal */
  nextPodIP(): string {
    const c = ++this.ipCounter;
    return `10.${244 + ((c >>> 16) & 7)}.${(c >>> 8) & 255}.${c & 255 || 1}`;
  }

  // ---- convenience creation ----

  addNamespace(name: string, labels?: Record<string, string>): KubeObject {
    return this.peek('namespaces', undefined, name) ?? this.create('namespaces', makeNamespace(name, labels));
  }

  /** A Ready node with realistic capacity, allocatable, conditions and nodeInfo. */
  addNode(name: string, opts: NodeOptions = {}): KubeObject {
    const index = this.store('nodes').objects.size;
    const kubeletVersion = simVersion(this.minorVersion).gitVersion;
    return this.create('nodes', makeNode(name, { internalIP: `10.0.${Math.floor(index / 250)}.${(index % 250) + 10}`, kubeletVersion, ...opts }));
  }

  addNodes(count: number, opts: NodeOptions & { prefix?: string } = {}): KubeObject[] {
    const out: KubeObject[] = [];
    for (let i = 0; i < count; i++) out.push(this.addNode(`${opts.prefix ?? 'node'}-${i + 1}`, opts));
    return out;
  }

  createDeployment(opts: DeploymentOptions | KubeObject): KubeObject {
    return this.create('deployments', isKubeObject(opts) ? opts : makeDeployment(opts));
  }

  createStatefulSet(opts: WorkloadOptions | KubeObject): KubeObject {
    return this.create('statefulsets', isKubeObject(opts) ? opts : makeStatefulSet(opts));
  }

  createDaemonSet(opts: WorkloadOptions | KubeObject): KubeObject {
    return this.create('daemonsets', isKubeObject(opts) ? opts : makeDaemonSet(opts));
  }

  createJob(opts: JobOptions | KubeObject): KubeObject {
    return this.create('jobs', isKubeObject(opts) ? opts : makeJob(opts));
  }

  createCronJob(opts: CronJobOptions | KubeObject): KubeObject {
    return this.create('cronjobs', isKubeObject(opts) ? opts : makeCronJob(opts));
  }

  /** A bare pod (no owner), scheduled and Running. */
  createPod(opts: PodOptions | KubeObject): KubeObject {
    return this.create('pods', isKubeObject(opts) ? opts : makePod(opts));
  }

  /** Run a CronJob now: creates its Job (`<cronjob>-<scheduled minute>`) and the Job's pod. */
  triggerCronJob(namespace: string, name: string): KubeObject {
    return controllers.triggerCronJob(this, namespace, name);
  }

  /** The Deployment controller's resync: recomputes every Deployment's status (Progressing's deadline). */
  resyncDeployments(): void {
    for (const d of this.list('deployments')) controllers.updateDeploymentStatus(this, d.metadata.namespace!, d.metadata.name);
  }

  scale(resource: 'deployments' | 'statefulsets' | 'replicasets', namespace: string, name: string, replicas: number): KubeObject {
    return this.update(resource, namespace, name, (d) => {
      d.spec.replicas = replicas;
    });
  }

  /** Record a core/v1 Event through the correlator (count/lastTimestamp on repeats). */
  recordEvent(input: RecordEventInput): KubeObject {
    return this.events.record(input);
  }

  // ---- scripted incidents (see incidents.ts) ----

  oomKill(namespace: string, pod: string, container: string, opts?: incidents.TerminationOptions): KubeObject {
    return incidents.oomKill(this, namespace, pod, container, opts);
  }

  childOom(namespace: string, pod: string, container: string, opts?: incidents.ChildOomOptions): KubeObject {
    return incidents.childOom(this, namespace, pod, container, opts);
  }

  livenessKill(namespace: string, pod: string, container: string, opts?: incidents.LivenessOptions): KubeObject {
    return incidents.livenessKill(this, namespace, pod, container, opts);
  }

  evict(namespace: string, pod: string, opts?: incidents.EvictOptions): KubeObject {
    return incidents.evict(this, namespace, pod, opts);
  }

  systemOom(nodeName: string, opts: incidents.SystemOomOptions): KubeObject {
    return incidents.systemOom(this, nodeName, opts);
  }

  preempt(namespace: string, pod: string, opts?: incidents.DisruptOptions): KubeObject {
    return incidents.preempt(this, namespace, pod, opts);
  }

  taintEvict(namespace: string, pod: string, opts?: incidents.DisruptOptions): KubeObject {
    return incidents.taintEvict(this, namespace, pod, opts);
  }

  apiEvict(namespace: string, pod: string, opts?: incidents.DisruptOptions): KubeObject {
    return incidents.apiEvict(this, namespace, pod, opts);
  }

  setNodePressure(nodeName: string, on: boolean, type: 'MemoryPressure' | 'DiskPressure' | 'PIDPressure' = 'MemoryPressure'): KubeObject {
    return incidents.setNodePressure(this, nodeName, on, type);
  }

  // ---- metrics and logs ----

  /** Working-set bytes (and optionally cpu in cores) of a container, served by metrics.k8s.io. */
  setUsage(namespace: string, pod: string, container: string, memoryBytes: number, cpuCores = 0.01): void {
    const key = objectKey(namespace, pod);
    let m = this.podUsage.get(key);
    if (!m) this.podUsage.set(key, (m = new Map()));
    m.set(container, { memory: memoryBytes, cpu: cpuCores });
  }

  /**
   * A working set that changes over time, as a leak or a load step does: from `fromBytes` at this moment
   * (the cluster's clock) it grows `bytesPerSecond` up to `maxBytes`, read afresh on every metrics
   * request. setUsage replaces it with a steady value.
   */
  setUsageRamp(
    namespace: string,
    pod: string,
    container: string,
    ramp: { fromBytes: number; bytesPerSecond: number; maxBytes?: number },
    cpuCores = 0.01,
  ): void {
    const key = objectKey(namespace, pod);
    let m = this.podUsage.get(key);
    if (!m) this.podUsage.set(key, (m = new Map()));
    m.set(container, { memory: ramp.fromBytes, cpu: cpuCores, ramp: { ...ramp, sinceMs: this.now().getTime() } });
  }

  /** The working set a container reports now: its ramp's value at the cluster's time, else its steady value. */
  usageNow(namespace: string, pod: string, container: string): { memory: number; cpu: number } | undefined {
    const u = this.podUsage.get(objectKey(namespace, pod))?.get(container);
    if (!u?.ramp) return u;
    const grown = u.ramp.fromBytes + ((this.now().getTime() - u.ramp.sinceMs) / 1000) * u.ramp.bytesPerSecond;
    return { memory: Math.round(Math.max(0, Math.min(u.ramp.maxBytes ?? Number.POSITIVE_INFINITY, grown))), cpu: u.cpu };
  }

  setNodeUsage(nodeName: string, memoryBytes: number, cpuCores = 0.5): void {
    this.nodeUsage.set(nodeName, { memory: memoryBytes, cpu: cpuCores });
  }

  podMetrics(namespace?: string): KubeObject[] {
    return buildPodMetrics(this, namespace);
  }

  nodeMetrics(): KubeObject[] {
    return buildNodeMetrics(this);
  }

  setLogs(namespace: string, pod: string, container: string, logs: ContainerLogs): void {
    this.logs.set(`${namespace}/${pod}/${container}`, { ...logs });
  }

  getLogs(namespace: string, pod: string, container: string): ContainerLogs | undefined {
    return this.logs.get(`${namespace}/${pod}/${container}`);
  }
}

/** A pod's memory request as the scheduler counts it: its containers' requests (pod-level requests when set). */
function podMemoryRequest(spec: Json): number {
  const podLevel = bytesOf(spec?.resources?.requests?.memory);
  if (podLevel !== undefined) return podLevel;
  let sum = 0;
  for (const c of spec?.containers ?? []) sum += bytesOf(c.resources?.requests?.memory ?? c.resources?.limits?.memory) ?? 0;
  return sum;
}

function stampNew(obj: KubeObject, cluster: SimCluster): KubeObject {
  obj.metadata = stampMeta(obj.metadata, cluster.rand.uuid(), cluster.nowIso());
  controllers.prepareCreate(cluster, resourceDef('namespaces'), obj);
  return obj;
}
