/**
 * core/v1 Events as the kubelet and the controllers write them: the object references, the Event
 * object itself, and the reason and message of each event the simulated incidents record.
 */
import type { Json, KubeObject } from '../types.js';

export interface InvolvedObject {
  kind: string;
  name: string;
  namespace?: string;
  uid?: string;
  apiVersion?: string;
  resourceVersion?: string;
  fieldPath?: string;
}

/** Reference to a pod (or one of its containers) as the kubelet builds it. */
export function podRef(pod: KubeObject, container?: { name: string; init?: boolean }): InvolvedObject {
  const ref: InvolvedObject = {
    kind: 'Pod',
    namespace: pod.metadata.namespace,
    name: pod.metadata.name,
    uid: pod.metadata.uid,
    apiVersion: 'v1',
    resourceVersion: pod.metadata.resourceVersion,
  };
  if (container) ref.fieldPath = `${container.init ? 'spec.initContainers' : 'spec.containers'}{${container.name}}`;
  return ref;
}

/** The kubelet refers to its node by name, with the name as uid, and no namespace. */
export function nodeRef(nodeName: string): InvolvedObject {
  return { kind: 'Node', name: nodeName, uid: nodeName };
}

/** involvedObject as stored: unset fields are left out. */
export function involvedObjectJson(inv: InvolvedObject): Json {
  const out: Json = { kind: inv.kind };
  if (inv.namespace) out.namespace = inv.namespace;
  out.name = inv.name;
  if (inv.uid) out.uid = inv.uid;
  if (inv.apiVersion) out.apiVersion = inv.apiVersion;
  if (inv.resourceVersion) out.resourceVersion = inv.resourceVersion;
  if (inv.fieldPath) out.fieldPath = inv.fieldPath;
  return out;
}

/** The reason and message that tell one kind of event from another. */
export interface EventText {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface EventFields extends EventText {
  metadata: Json;
  involvedObject: Json;
  component: string;
  host?: string;
  /** Defaults to host (kubelet), else ''. */
  reportingInstance?: string;
  firstTimestamp: string;
  /** Defaults to firstTimestamp. */
  lastTimestamp?: string;
  count?: number;
}

/** A core/v1 Event as client-go's recorder writes it (eventTime null, the source and reporter set). */
export function eventObject(f: EventFields): KubeObject {
  const source: Json = { component: f.component };
  if (f.host) source.host = f.host;
  return {
    metadata: f.metadata,
    involvedObject: f.involvedObject,
    reason: f.reason,
    message: f.message,
    source,
    firstTimestamp: f.firstTimestamp,
    lastTimestamp: f.lastTimestamp ?? f.firstTimestamp,
    count: f.count ?? 1,
    type: f.type,
    eventTime: null,
    reportingComponent: f.component,
    reportingInstance: f.reportingInstance ?? f.host ?? '',
  };
}

// ---- what the kubelet records ----

export function pulledEvent(image: string): EventText {
  return { type: 'Normal', reason: 'Pulled', message: `Container image "${image}" already present on machine` };
}

export function createdEvent(container: string): EventText {
  return { type: 'Normal', reason: 'Created', message: `Created container: ${container}` };
}

export function startedEvent(container: string): EventText {
  return { type: 'Normal', reason: 'Started', message: `Started container ${container}` };
}

export function backOffEvent(container: string, pod: { name: string; namespace: string; uid: string }): EventText {
  return { type: 'Warning', reason: 'BackOff', message: `Back-off restarting failed container ${container} in pod ${pod.name}_${pod.namespace}(${pod.uid})` };
}

export function livenessFailedEvent(statusCode: number): EventText {
  return { type: 'Warning', reason: 'Unhealthy', message: `Liveness probe failed: HTTP probe failed with statuscode: ${statusCode}` };
}

export function livenessKillingEvent(container: string): EventText {
  return { type: 'Normal', reason: 'Killing', message: `Container ${container} failed liveness probe, will be restarted` };
}

/** A graceful stop of a running container (eviction, preemption, deletion). */
export function stoppingEvent(container: string): EventText {
  return { type: 'Normal', reason: 'Killing', message: `Stopping container ${container}` };
}

export function evictedEvent(message: string): EventText {
  return { type: 'Warning', reason: 'Evicted', message };
}

/** The kernel OOM killer ran for a process outside pod cgroups (recorded on the Node). */
export function systemOomEvent(process: string, pid: number): EventText {
  return { type: 'Warning', reason: 'SystemOOM', message: `System OOM encountered, victim process: ${process}, pid: ${pid}` };
}

// ---- what the controllers record ----

/**
 * The deployment controller's event on the Deployment when it scales one of its ReplicaSets
 * (pkg/controller/deployment/sync.go, Kubernetes 1.27 and later: "from <old> to <new>").
 */
export function scalingReplicaSetEvent(replicaSet: string, from: number, to: number): EventText {
  const direction = from < to ? 'up' : 'down';
  return { type: 'Normal', reason: 'ScalingReplicaSet', message: `Scaled ${direction} replica set ${replicaSet} from ${from} to ${to}` };
}

/** The horizontal-pod-autoscaler's event on the HPA after it wrote a new scale. */
export function successfulRescaleEvent(size: number, reason: string): EventText {
  return { type: 'Normal', reason: 'SuccessfulRescale', message: `New size: ${size}; reason: ${reason}` };
}
