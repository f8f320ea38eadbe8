/**
 * The queued job: a neutral, versioned record of what happened in a cluster.
 * It never holds a Slack message, and never holds env values or anything secret.
 * Watchers create it (watchers/), workers read it (handlers/), the bot looks it up (bot/).
 */

import type { Observed } from './observed-pod.js';

export const INCIDENT_VERSION = 1 as const;

/**
 * - `container-oom`: a container's main process was OOM-killed (reason OOMKilled, exit 137).
 *   Whether the container's own limit or the node ran out is decided by diagnosis, not detection.
 * - `child-oom`: reason OOMKilled but exit code not 137: a process inside was OOM-killed earlier and the
 *   container stopped later for another reason (exit 143 on a rollout, 1 on a crash). Not "this stop was an OOM".
 * - `sigkill`: exit 137 without OOMKilled: killed by SIGKILL (liveness probe, grace period, external kill).
 *   Never an OOM.
 * - `evicted`: kubelet node-pressure eviction (phase Failed, reason Evicted).
 * - `disruption`: another kind of eviction: preemption, taint manager, the eviction API.
 * - `node-oom`: a `SystemOOM` event on a node: the kernel OOM killer ran outside pod limits.
 * - `process-oom`: the kernel log (read by the node agent) says a process inside a container was OOM-killed.
 *   Kubernetes shows nothing when the container's main process survives (kubernetes/kubernetes#88522).
 */
export type IncidentKind = 'container-oom' | 'child-oom' | 'sigkill' | 'evicted' | 'disruption' | 'node-oom' | 'process-oom';

export const INCIDENT_KINDS: readonly IncidentKind[] = ['container-oom', 'child-oom', 'sigkill', 'evicted', 'disruption', 'node-oom', 'process-oom'];

/** Reference to the controller that directly owns the pod (`metadata.ownerReferences[controller=true]`). */
export interface OwnerRef {
  kind: string;
  name: string;
  uid?: string;
  apiVersion?: string;
}

export interface PodRef {
  namespace: string;
  name: string;
  uid: string;
  nodeName?: string;
  owner?: OwnerRef;
  qosClass?: string;
  phase?: string;
  priority?: number;
  /** A few labels that tell the workload and who manages it (app.kubernetes.io/*, GitOps labels). */
  labels?: Record<string, string>;
  /** Only the annotation keys that say a GitOps tool or Helm manages the pod (values are ids, not secrets). */
  managedBy?: { tool: 'argocd' | 'flux' | 'helm'; name?: string };
}

/** Memory and CPU quantities exactly as written in the pod spec (strings, e.g. "512Mi", "400m"). */
export interface ContainerResources {
  limits?: { memory?: string; cpu?: string; 'ephemeral-storage'?: string };
  requests?: { memory?: string; cpu?: string; 'ephemeral-storage'?: string };
}

export interface ContainerTermination {
  container: string;
  init: boolean;
  /** An ephemeral (debug) container from `status.ephemeralContainerStatuses`. */
  ephemeral?: boolean;
  restartCount: number;
  exitCode: number;
  signal?: number;
  reason: string;
  /** `lastState` (the container restarted) or `state` (restartPolicy Never, or the pod is done). */
  from: 'lastState' | 'state';
  startedAt?: string;
  finishedAt?: string;
  containerID?: string;
  /** Termination message, trimmed (untrusted text). */
  message?: string;
  resources?: ContainerResources;
  image?: string;
}

export interface EvictionContainerUsage {
  name: string;
  /** Usage as the kubelet reported it, e.g. "912340Ki". */
  usage?: string;
  /** The container's request for the starved resource, e.g. "200Mi" or "0". */
  request?: string;
  /** The container's own local ephemeral-storage limit it went over, e.g. "500Mi". */
  limit?: string;
}

/**
 * An ephemeral-storage eviction because a pod, container or emptyDir went over its own limit
 * (the node itself was not under pressure).
 */
export interface LocalStorageLimitExceeded {
  scope: 'pod' | 'container' | 'emptyDir';
  /** Container or emptyDir volume name (absent for the pod scope). */
  name?: string;
  limit?: string;
}

export interface EvictionDetail {
  /** memory, ephemeral-storage, nodefs, imagefs, pids, ... */
  resource?: string;
  threshold?: string;
  available?: string;
  containers: EvictionContainerUsage[];
  /** The pod's status.message or the event's message (untrusted text). */
  message?: string;
  /** DisruptionTarget condition reason, e.g. TerminationByKubelet. */
  disruptionReason?: string;
  /** Set when a local ephemeral-storage limit was exceeded rather than a node threshold. */
  localLimit?: LocalStorageLimitExceeded;
  /** Where the structured data came from. */
  source: 'event-annotations' | 'message' | 'none';
}

export interface DisruptionDetail {
  /** PreemptionByScheduler, DeletionByTaintManager, EvictionByEvictionAPI, or an event reason (Preempted, TaintManagerEviction). */
  reason: string;
  message?: string;
}

export interface ProbeKill {
  reason: string; // "Killing"
  message: string; // "Container api failed liveness probe, will be restarted"
  at?: string;
  /** Which probe failed, when the message says so. */
  probe?: 'liveness' | 'startup';
}

export interface NodeOomDetail {
  node: string;
  victimProcess?: string;
  victimPid?: number;
  message?: string;
  count: number;
}

/** How the kernel chose to kill: at a memory cgroup's limit, or because the whole node ran out. */
export type OomConstraint = 'memcg' | 'global' | 'cpuset' | 'mempolicy';

/** A process the kernel OOM-killed, as its log told it (mm/oom_kill.c), mapped to its pod and container. */
export interface ProcessOomDetail {
  node: string;
  /** The container the process ran in (absent when only the pod's cgroup was named). */
  container?: string;
  /** The container's id (64 hex) from the cgroup path. */
  containerId?: string;
  /** The command name (the kernel keeps 15 characters): untrusted text. */
  process: string;
  pid: number;
  uid?: number;
  constraint: OomConstraint;
  /** Resident memory of the victim when killed, in KiB, as the kernel logged it. */
  anonRssKb?: number;
  fileRssKb?: number;
  shmemRssKb?: number;
  totalVmKb?: number;
  oomScoreAdj?: number;
  /** Killed as a member of its cgroup's group (memory.oom.group), not chosen alone. */
  groupKill?: boolean;
  /** The node's boot and the kernel log's sequence number: what makes the kill unique. */
  bootId: string;
  seq: number;
}

export interface Incident {
  v: typeof INCIDENT_VERSION;
  /** Deterministic: the same kill always gets the same id (see watchers/detect/incident-id.ts). */
  id: string;
  kind: IncidentKind;
  cluster: string;
  /** When it happened in the cluster (finishedAt, event time, condition time), ISO 8601. */
  occurredAt: string;
  /** When the watcher saw it, ISO 8601. */
  detectedAt: string;
  /** Absent for node-oom incidents that hit no pod. */
  pod?: PodRef;
  termination?: ContainerTermination;
  eviction?: EvictionDetail;
  disruption?: DisruptionDetail;
  probeKill?: ProbeKill;
  nodeOom?: NodeOomDetail;
  /**
   * The pod and its events as the watcher saw them when it detected the incident (trimmed: no env
   * values, no secrets), so the worker reads only what is missing. Absent for incidents seen first in
   * an event, and in jobs queued by older watchers: the worker then reads the pod and its events.
   */
  observed?: Observed;
  processOom?: ProcessOomDetail;
}

/** Short human name of an incident's subject for logs: "shop/api-7f9c/api" or "node/worker-3". */
export function describeSubject(incident: Incident): string {
  if (incident.pod) {
    const container = incident.termination?.container ?? incident.processOom?.container;
    return `${incident.pod.namespace}/${incident.pod.name}${container ? `/${container}` : ''}`;
  }
  if (incident.nodeOom) return `node/${incident.nodeOom.node}`;
  return incident.id;
}
