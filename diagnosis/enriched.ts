/**
 * What workers gather around one incident before it is diagnosed: the `kubectl describe pod` picture,
 * plus the node, the owner chain, usage and earlier kills of the same container.
 *
 * Plain JSON (fixtures in test/fixtures/enriched/ are this type). It never holds env values: only env
 * names, and memory flags parsed from runtime option variables (see runtime-settings.ts).
 * Every field beyond `incident` is optional or may be empty: a worker that could not read something
 * (forbidden, metrics-server missing, pod already gone) leaves it out and says why in `gaps`.
 */
import type { Incident } from '../core/incident.js';

export const ENRICHED_VERSION = 1 as const;

/** A quantity as written in the spec, with its bytes (rounded up; undefined when unparsable). */
export interface QuantityValue {
  text: string;
  bytes?: number;
}

export interface ResourceValues {
  memory?: QuantityValue;
  cpu?: string;
  ephemeralStorage?: QuantityValue;
}

export interface ContainerStateSummary {
  state: 'running' | 'waiting' | 'terminated';
  /** The id of the run (`containerd://<id>`), for a terminated state. */
  containerID?: string;
  /** OOMKilled, Error, Completed, CrashLoopBackOff, ... */
  reason?: string;
  exitCode?: number;
  signal?: number;
  startedAt?: string;
  finishedAt?: string;
  /** Untrusted text (termination message or waiting message), trimmed by the worker. */
  message?: string;
}

/** Names of the runtime memory settings oombot knows. */
export type RuntimeSettingName =
  | '-Xmx'
  | '-Xms'
  | 'MaxRAMPercentage'
  | 'MaxRAM'
  | 'UseContainerSupport'
  | '--max-old-space-size'
  | 'GOMEMLIMIT'
  | 'GOGC'
  | 'DOTNET_GCHeapHardLimit'
  | 'DOTNET_GCHeapHardLimitPercent'
  | 'memory_limit';

/**
 * One memory-relevant runtime setting found in a container spec.
 * - From `command`/`args`: `value` is the flag's value as written (`512m`, `90.0`), `flag` the whole flag.
 * - From an env var: `envName` names it and `value` is NEVER set. For the runtime option variables
 *   (JAVA_TOOL_OPTIONS, JDK_JAVA_OPTIONS, _JAVA_OPTIONS, JAVA_OPTS, NODE_OPTIONS) the recognised memory
 *   flag is rebuilt from its parsed parts into `flag` (`-Xmx4g`); nothing else of the value is kept.
 *   For GOMEMLIMIT, GOGC, DOTNET_* and PHP_MEMORY_LIMIT only the fact that the variable is set is kept.
 */
export interface RuntimeMemorySetting {
  name: RuntimeSettingName;
  source: 'args' | 'command' | 'env';
  envName?: string;
  value?: string;
  flag?: string;
  /** Size in bytes, for size flags (-Xmx, MaxRAM, --max-old-space-size, memory_limit). */
  bytes?: number;
  /** For MaxRAMPercentage. */
  percent?: number;
  /** For UseContainerSupport: false when `-XX:-UseContainerSupport`. */
  enabled?: boolean;
}

export interface ContainerSnapshot {
  name: string;
  /** The id of the current run (`containerd://<id>`). */
  containerID?: string;
  image?: string;
  init?: boolean;
  limits: ResourceValues;
  requests: ResourceValues;
  restartCount: number;
  state?: ContainerStateSummary;
  lastState?: ContainerStateSummary;
  runtimeMemorySettings: RuntimeMemorySetting[];
  /** Names of env vars set in the spec (values are never read into this record). */
  envNames: string[];
  liveness?: ProbeSummary;
}

/** Timing of a probe, to explain a probe kill. */
export interface ProbeSummary {
  periodSeconds?: number;
  timeoutSeconds?: number;
  failureThreshold?: number;
  initialDelaySeconds?: number;
}

export interface PodSnapshot {
  gone?: false;
  namespace: string;
  name: string;
  uid?: string;
  phase?: string;
  /** Pod status.reason (Evicted, ...). */
  reason?: string;
  /** Pod status.message (untrusted). */
  message?: string;
  qosClass?: 'Guaranteed' | 'Burstable' | 'BestEffort' | string;
  /** status.startTime: when the pod started, before its first container run. */
  startedAt?: string;
  nodeName?: string;
  priority?: number;
  priorityClassName?: string;
  terminationGracePeriodSeconds?: number;
  containers: ContainerSnapshot[];
  initContainers?: ContainerSnapshot[];
  /**
   * Pod-level resources (spec.resources, KEP-2837): a budget all containers share. A container without
   * its own limit is bounded by the pod-level one.
   */
  podLimits?: ResourceValues;
  podRequests?: ResourceValues;
  /** The VPA admission controller's `vpaUpdates` annotation: it rewrote this pod's resources (untrusted text). */
  vpaUpdates?: string;
}

/** The pod no longer exists (deleted, replaced by a rollout, garbage-collected). */
export interface GonePod {
  gone: true;
}

export interface EventSummary {
  reason: string;
  type: 'Normal' | 'Warning' | string;
  /** Untrusted text. */
  message: string;
  count: number;
  lastTimestamp?: string;
  /** Reporting component: kubelet, default-scheduler, taint-controller... */
  source?: string;
  /** What the event is about: the pod itself, its node, its owner. */
  involvedKind?: string;
  involvedName?: string;
}

export interface OwnerLink {
  kind: string;
  name: string;
}

export interface ManagedBy {
  tool: 'argocd' | 'flux' | 'helm';
  /** Argo CD app, Flux kustomization/helmrelease or Helm release. */
  name?: string;
}

export interface OwnerChain {
  /** Direct owner first, top controller last (ReplicaSet, Deployment). Empty for a bare pod. */
  chain: OwnerLink[];
  /** Set when the top controller (or the pod) is managed by GitOps or Helm. */
  managedBy?: ManagedBy;
  /**
   * False when the chain comes only from the pod's ownerReferences because the owners could not be read:
   * the last link may itself have a controller (a ReplicaSet's Deployment) that nobody saw.
   */
  verified?: boolean;
  /** The containers the top controller's pod template holds, when it was read. */
  templateContainers?: string[];
  /** Memory limit and request of each container as the top controller's template writes them. */
  templateMemory?: Record<string, { limit?: string; request?: string }>;
}

export interface NodeSnapshot {
  name: string;
  allocatableBytes?: number;
  capacityBytes?: number;
  memoryPressure?: boolean;
  /** Sums over the pods now on the node. */
  sumLimitsBytes?: number;
  sumRequestsBytes?: number;
  podCount?: number;
}

/** A working-set sample. It counts as "usage at kill" only when taken up to 2 minutes before the kill. */
export interface UsageSample {
  container: string;
  containerWorkingSetBytes: number;
  source: 'metrics.k8s.io' | 'prometheus';
  sampledAt: string;
}

/** An earlier incident of the same workload, for repeat and leak detection. */
export interface PreviousIncident {
  id?: string;
  kind: Incident['kind'];
  container?: string;
  occurredAt: string;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  /** Working set at the kill, if it was sampled then. */
  workingSetBytes?: number;
  limitBytes?: number;
}

export interface LimitRangeMax {
  /** LimitRange object name. */
  name?: string;
  maxMemory: QuantityValue;
}

/** VPA update modes in which the VPA rewrites pods' resources itself. */
export const VPA_ACTIVE_MODES: readonly string[] = ['Auto', 'Recreate', 'InPlaceOrRecreate'];

/** The VerticalPodAutoscaler whose targetRef is the pod's top controller. */
export interface VpaSummary {
  name: string;
  /** spec.updatePolicy.updateMode; Auto when unset (the VPA's default). */
  mode: string;
  /** maxAllowed.memory of the container policy for the killed container (or the `*` policy). */
  maxAllowed?: QuantityValue;
}

/** A process the kernel OOM-killed, as the node agent read it from the node's kernel log. */
export interface KernelKill {
  /** When the kernel logged it, ISO 8601. */
  at: string;
  node: string;
  /** Command name (15 characters at most in the kernel): untrusted text. */
  process: string;
  pid: number;
  /** memcg: at a memory cgroup's limit; global: the whole node ran out. */
  constraint: string;
  container?: string;
  pod?: string;
  namespace?: string;
  anonRssKb?: number;
  fileRssKb?: number;
  shmemRssKb?: number;
  groupKill?: boolean;
}

/** One difference between two revisions of a workload's pod template. Env values, command and args never appear. */
export interface TemplateChange {
  /** The container it concerns; absent for the pod as a whole. */
  container?: string;
  field: 'image' | 'memory limit' | 'memory request' | 'env' | 'command' | 'args' | 'added' | 'removed';
  from?: string;
  to?: string;
  fromBytes?: number;
  toBytes?: number;
}

/**
 * The change that made the revision the pod runs: a Deployment's ReplicaSet against the one before it, a
 * StatefulSet's or DaemonSet's ControllerRevision against the previous one; when, and who (managedFields).
 */
export interface WorkloadChange {
  /** `ReplicaSet` or `ControllerRevision`. */
  sourceKind: string;
  /** The object the revision lives in. */
  sourceName: string;
  revision: number;
  previousRevision: number;
  /** The new revision's creationTimestamp. */
  at: string;
  /** The managedFields entry of the workload that owns the pod template and was written then. */
  by?: { manager: string; operation: string };
  changes: TemplateChange[];
}

/**
 * A scale-down of the workload, from the deployment controller's `ScalingReplicaSet` Event: the pod's own
 * ReplicaSet scaled down (a rollout scales down the old one, not the pod's). Only what the record shows:
 * `from` is absent when the controller's message did not carry it (before Kubernetes 1.27).
 */
export interface ScaleDown {
  workloadKind: 'Deployment';
  workloadName: string;
  replicaSet: string;
  from?: number;
  to: number;
  /** The event's time. */
  at: string;
  /** An HPA's `SuccessfulRescale` to the same size just before it, in the same namespace. */
  hpa?: { name: string; reason: string };
  /** The workload's managedFields entry that owns `spec.replicas`, written then. */
  by?: { manager: string; operation: string };
}

export interface EnrichedIncident {
  v: typeof ENRICHED_VERSION;
  incident: Incident;
  /** When the worker gathered this, ISO 8601. */
  gatheredAt?: string;
  /** The pod now; `{ gone: true }` when it no longer exists; absent when the incident has no pod (node OOM). */
  pod?: PodSnapshot | GonePod;
  /** Events of the pod, and of its node around the incident, newest last. */
  events: EventSummary[];
  /** Undefined when it could not be resolved (pod gone, forbidden). */
  owner?: OwnerChain;
  node?: NodeSnapshot;
  /** Allocatable memory of the largest node the pod can land on. */
  largestNodeAllocatableBytes?: number;
  usage?: UsageSample;
  /** Working set of the container since it last started, oldest first (optional: from the sampler's history). */
  usageSamples?: { at: string; workingSetBytes: number }[];
  /** Tail of the previous container's log. Untrusted, may be huge. */
  previousLogs?: string;
  /** Earlier incidents of the same workload, any container, oldest first. */
  previousIncidents: PreviousIncident[];
  limitRange?: LimitRangeMax;
  /** Set when a VPA targets the workload. */
  vpa?: VpaSummary;
  /** The change that made the pod's revision, when the workload's history could be read. */
  change?: WorkloadChange;
  /** The workload's latest scale-down before the incident, from the kept Events (no read of the cluster). */
  scaleDown?: ScaleDown;
  /** What could not be gathered, in words (e.g. "metrics.k8s.io is not available"). */
  gaps?: string[];
  /** Processes the kernel OOM-killed in this incident's container, oldest first (from the node agent). */
  processKills?: KernelKill[];
  /** Global (node-wide) OOM kills the kernel logged on the node around the incident, oldest first. */
  nodeKernelOoms?: KernelKill[];
}

export function isPodPresent(pod: EnrichedIncident['pod']): pod is PodSnapshot {
  return pod !== undefined && pod.gone !== true;
}
