/**
 * Scripted incidents. Each one changes the pod (or node) and records the Events exactly as the kubelet,
 * the scheduler or the taint manager would, so that detectors see what they would see in a real cluster.
 */
import type { Json, KubeObject } from './types.js';
import type { SimCluster } from './cluster.js';
import { notFound } from './status.js';
import { resourceDef } from './resources.js';
import { nodeRef, podRef } from './events.js';
import { containerID } from './controllers/pods.js';
import { canonicalQuantity } from './units.js';
import { podCondition } from './build/conditions.js';
import { EVICTION_BY_KUBELET, evictedStatus, evictionAnnotations, evictionMessage } from './build/eviction.js';
import {
  backOffEvent,
  createdEvent,
  evictedEvent,
  livenessFailedEvent,
  livenessKillingEvent,
  pulledEvent,
  startedEvent,
  stoppingEvent,
  systemOomEvent,
} from './build/events.js';
import {
  OOM_KILLED,
  SIGKILLED,
  backoffSeconds,
  childOomExit,
  crashLoopWaiting,
  stopExit,
  terminatedState,
  unlocatedTerminatedState,
  type ExitKind,
} from './build/termination.js';

export { evictionMessage } from './build/eviction.js';

export interface TerminationOptions {
  /**
   * After the kill: `crashloop` (waiting in CrashLoopBackOff, the default), `running` (restarted at once)
   * or `deleted` (the pod was being deleted, e.g. by a rollout, and is removed after the stop).
   * Ignored for restartPolicy Never, where the container stays terminated.
   */
  then?: 'crashloop' | 'running' | 'deleted';
  /** When the killed container had started (default: its current startedAt). */
  startedAt?: string;
  /** Termination message written by the container (terminated.message). */
  message?: string;
}

export interface ChildOomOptions extends TerminationOptions {
  /** 143 (stopped by SIGTERM later, e.g. a rollout; the default) or 1 (crashed later). */
  exitCode?: 143 | 1 | 0;
}

export interface LivenessOptions {
  /** Failed probes before the kill (the probe's failureThreshold, default 3). */
  failures?: number;
  statusCode?: number;
  then?: 'crashloop' | 'running';
}

export interface EvictionContainer {
  name: string;
  /** Usage as the kubelet reports it, e.g. "912340Ki". */
  usage: string;
  /** The container's request for the resource; default from its spec, or "0". */
  request?: string;
}

export interface EvictOptions {
  /** memory (default), ephemeral-storage, pids, ... */
  resource?: string;
  threshold?: string;
  available?: string;
  containers?: EvictionContainer[];
  /** Reason of the terminated containers: ContainerStatusUnknown (default) or Error. */
  containerReason?: 'ContainerStatusUnknown' | 'Error';
  /** Override the whole message (e.g. the older "which exceeds its request of 0" wording). */
  message?: string;
}

export interface SystemOomOptions {
  process: string;
  pid: number;
}

export interface DisruptOptions {
  /** Exit code of the stopped containers (143 by default: SIGTERM). */
  exitCode?: number;
}

function getPod(cluster: SimCluster, ns: string, name: string): KubeObject {
  const pod = cluster.peek('pods', ns, name);
  if (!pod) throw notFound(resourceDef('pods'), name);
  return pod;
}

function findStatus(pod: Json, container: string): { status: Json; init: boolean; spec: Json } {
  const init = (pod.status.initContainerStatuses ?? []).find((s: Json) => s.name === container);
  if (init) return { status: init, init: true, spec: (pod.spec.initContainers ?? []).find((c: Json) => c.name === container) };
  const main = (pod.status.containerStatuses ?? []).find((s: Json) => s.name === container);
  if (!main) throw new Error(`pod ${pod.metadata.namespace}/${pod.metadata.name} has no container ${container}`);
  return { status: main, init: false, spec: pod.spec.containers.find((c: Json) => c.name === container) };
}

function setCondition(pod: Json, type: string, status: string, at: string, reason?: string, message?: string): void {
  const conds: Json[] = (pod.status.conditions ??= []);
  const old = conds.find((c) => c.type === type);
  const next = podCondition(type, status, old && old.status === status ? old.lastTransitionTime : at, reason, message);
  if (old) conds[conds.indexOf(old)] = next;
  else conds.push(next);
}

function refreshReadiness(pod: Json, at: string): void {
  if (pod.status.phase === 'Failed' || pod.status.phase === 'Succeeded') {
    const reason = pod.status.phase === 'Failed' ? 'PodFailed' : 'PodCompleted';
    setCondition(pod, 'Ready', 'False', at, reason);
    setCondition(pod, 'ContainersReady', 'False', at, reason);
    return;
  }
  const unready = (pod.status.containerStatuses ?? []).filter((s: Json) => !s.ready).map((s: Json) => s.name);
  if (unready.length) {
    const msg = `containers with unready status: [${unready.join(' ')}]`;
    setCondition(pod, 'Ready', 'False', at, 'ContainersNotReady', msg);
    setCondition(pod, 'ContainersReady', 'False', at, 'ContainersNotReady', msg);
  } else {
    setCondition(pod, 'Ready', 'True', at);
    setCondition(pod, 'ContainersReady', 'True', at);
  }
}

function kubelet(pod: KubeObject): { component: string; host?: string } {
  return { component: 'kubelet', host: pod.spec?.nodeName };
}

function restartEvents(cluster: SimCluster, pod: KubeObject, c: { name: string; init: boolean; image: string }): void {
  const ref = podRef(pod, c);
  const k = kubelet(pod);
  for (const text of [pulledEvent(c.image), createdEvent(c.name), startedEvent(c.name)]) cluster.recordEvent({ involved: ref, ...text, ...k });
}

/** A container's main process stopped as `exit` says; the kubelet records and restarts it. */
function terminate(cluster: SimCluster, ns: string, podName: string, container: string, exit: ExitKind, opts: TerminationOptions = {}): KubeObject {
  const pod = getPod(cluster, ns, podName);
  const at = cluster.nowIso();
  const restartPolicy = pod.spec.restartPolicy ?? 'Always';
  const restarts = restartPolicy !== 'Never' && opts.then !== 'deleted';
  const then = opts.then ?? 'crashloop';
  let image = '';
  let init = false;
  const updated = cluster.update('pods', ns, podName, (p) => {
    const found = findStatus(p, container);
    const s = found.status;
    init = found.init;
    image = found.spec?.image ?? s.image;
    const terminated = terminatedState(exit, {
      containerID: s.containerID,
      finishedAt: at,
      startedAt: opts.startedAt ?? s.state?.running?.startedAt ?? s.lastState?.terminated?.finishedAt ?? p.status.startTime ?? at,
      // An empty termination message is no message: the field is left out.
      message: opts.message || undefined,
    });
    if (restarts) {
      s.lastState = { terminated };
      s.restartCount = (s.restartCount ?? 0) + 1;
      if (then === 'running') {
        s.containerID = containerID(cluster);
        s.state = { running: { startedAt: at } };
        s.ready = !found.spec?.readinessProbe;
        s.started = true;
      } else {
        s.state = crashLoopWaiting(container, backoffSeconds(s.restartCount), { name: podName, namespace: ns, uid: p.metadata.uid });
        s.ready = false;
        s.started = false;
      }
    } else {
      s.state = { terminated };
      s.ready = false;
      s.started = false;
    }
    if (init && restarts && then !== 'running') {
      // An init container that keeps failing holds the pod in Pending, its app containers not started.
      p.status.phase = 'Pending';
      setCondition(p, 'Initialized', 'False', at, 'ContainersNotInitialized', `containers with incomplete status: [${container}]`);
      for (const cs of p.status.containerStatuses ?? []) {
        cs.state = { waiting: { reason: 'PodInitializing' } };
        cs.ready = false;
        cs.started = false;
      }
    }
    if (!restarts) {
      const stillRunning = (p.status.containerStatuses ?? []).some((cs: Json) => cs.state?.running);
      if (init || !stillRunning) p.status.phase = exit.exitCode === 0 && !init ? 'Succeeded' : 'Failed';
    }
    refreshReadiness(p, at);
  });
  if (restarts) {
    const ref = podRef(updated, { name: container, init });
    if (then === 'running') restartEvents(cluster, updated, { name: container, init, image });
    else cluster.recordEvent({ involved: ref, ...backOffEvent(container, { name: podName, namespace: ns, uid: updated.metadata.uid! }), ...kubelet(updated) });
  }
  if (opts.then === 'deleted') {
    cluster.delete('pods', ns, podName);
  }
  return updated;
}

/** The container's main process was OOM-killed by the kernel at its cgroup limit: OOMKilled, exit 137. */
export function oomKill(cluster: SimCluster, ns: string, pod: string, container: string, opts: TerminationOptions = {}): KubeObject {
  return terminate(cluster, ns, pod, container, OOM_KILLED, opts);
}

/**
 * A process inside the container was OOM-killed earlier; the container stopped later for another
 * reason, and the runtime still reports OOMKilled (exit 143 on a rollout, 1 on a crash).
 */
export function childOom(cluster: SimCluster, ns: string, pod: string, container: string, opts: ChildOomOptions = {}): KubeObject {
  return terminate(cluster, ns, pod, container, childOomExit(opts.exitCode), { then: 'running', ...opts });
}

/** Liveness probe failures, then the kubelet kills the container: reason Error, exit 137. Not an OOM. */
export function livenessKill(cluster: SimCluster, ns: string, podName: string, container: string, opts: LivenessOptions = {}): KubeObject {
  const pod = getPod(cluster, ns, podName);
  const found = findStatus(pod, container);
  const ref = podRef(pod, { name: container, init: found.init });
  const k = kubelet(pod);
  const failures = opts.failures ?? found.spec?.livenessProbe?.failureThreshold ?? 3;
  for (let i = 0; i < failures; i++) {
    cluster.recordEvent({ involved: ref, ...livenessFailedEvent(opts.statusCode ?? 500), ...k });
  }
  cluster.recordEvent({ involved: ref, ...livenessKillingEvent(container), ...k });
  return terminate(cluster, ns, podName, container, SIGKILLED, { then: opts.then ?? 'running' });
}

/** Node-pressure eviction by the kubelet. The owner (ReplicaSet, ...) then creates a replacement pod. */
export function evict(cluster: SimCluster, ns: string, podName: string, opts: EvictOptions = {}): KubeObject {
  const pod = getPod(cluster, ns, podName);
  const resource = opts.resource ?? 'memory';
  const containers = (opts.containers ?? []).map((c) => {
    const spec = (pod.spec.containers ?? []).find((x: Json) => x.name === c.name);
    const req = c.request ?? spec?.resources?.requests?.[resource];
    return { name: c.name, usage: c.usage, request: req === undefined ? '0' : canonicalQuantity(req) };
  });
  const threshold = opts.threshold ?? (resource === 'memory' ? '100Mi' : resource === 'pids' ? undefined : '10%');
  const available = opts.available ?? (resource === 'memory' ? '81232Ki' : undefined);
  const message = opts.message ?? evictionMessage(resource, threshold, available, containers);
  const k = kubelet(pod);
  cluster.recordEvent({ involved: podRef(pod), ...evictedEvent(message), annotations: evictionAnnotations(resource, containers), ...k });
  recordStopping(cluster, pod);
  const at = cluster.nowIso();
  const reason = opts.containerReason ?? 'ContainerStatusUnknown';
  return cluster.update('pods', ns, podName, (p) => {
    Object.assign(p.status, evictedStatus(message));
    setCondition(p, 'DisruptionTarget', 'True', at, EVICTION_BY_KUBELET, message);
    for (const s of p.status.containerStatuses ?? []) {
      const startedAt = s.state?.running?.startedAt;
      s.state = {
        terminated:
          reason === 'ContainerStatusUnknown'
            ? unlocatedTerminatedState()
            : terminatedState(SIGKILLED, { containerID: s.containerID, finishedAt: at, startedAt: startedAt ?? at }),
      };
      s.ready = false;
      s.started = false;
    }
    refreshReadiness(p, at);
  });
}

/** The kernel OOM killer ran for a process outside pod cgroups: a SystemOOM Warning on the Node. */
export function systemOom(cluster: SimCluster, nodeName: string, opts: SystemOomOptions): KubeObject {
  if (!cluster.peek('nodes', undefined, nodeName)) throw notFound(resourceDef('nodes'), nodeName);
  return cluster.recordEvent({ involved: nodeRef(nodeName), ...systemOomEvent(opts.process, opts.pid), component: 'kubelet', host: nodeName });
}

/** The kubelet's Killing event for each container still running when the pod is stopped. */
function recordStopping(cluster: SimCluster, pod: KubeObject): void {
  const k = kubelet(pod);
  for (const s of pod.status.containerStatuses ?? []) {
    if (s.state?.running) cluster.recordEvent({ involved: podRef(pod, { name: s.name }), ...stoppingEvent(s.name), ...k });
  }
}

/** Graceful deletion with a DisruptionTarget condition, then the pod is removed. */
function disrupt(
  cluster: SimCluster,
  ns: string,
  podName: string,
  reason: string,
  conditionMessage: string,
  event: (pod: KubeObject) => void,
  opts: DisruptOptions,
): KubeObject {
  const pod = getPod(cluster, ns, podName);
  event(pod);
  const at = cluster.now();
  const grace = pod.spec.terminationGracePeriodSeconds ?? 30;
  const marked = cluster.update('pods', ns, podName, (p) => {
    setCondition(p, 'DisruptionTarget', 'True', cluster.nowIso(), reason, conditionMessage);
    p.metadata.deletionTimestamp = new Date(at.getTime() + grace * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    p.metadata.deletionGracePeriodSeconds = grace;
  });
  recordStopping(cluster, marked);
  const exitCode = opts.exitCode ?? 143;
  const stoppedAt = cluster.nowIso();
  cluster.update('pods', ns, podName, (p) => {
    for (const s of p.status.containerStatuses ?? []) {
      if (!s.state?.running) continue;
      s.state = {
        terminated: terminatedState(stopExit(exitCode), { containerID: s.containerID, finishedAt: stoppedAt, startedAt: s.state.running.startedAt }),
      };
      s.ready = false;
      s.started = false;
    }
    p.status.phase = exitCode === 0 ? 'Succeeded' : 'Failed';
    refreshReadiness(p, stoppedAt);
  });
  return cluster.delete('pods', ns, podName);
}

/** The scheduler preempts the pod for a higher-priority one. */
export function preempt(cluster: SimCluster, ns: string, podName: string, opts: DisruptOptions = {}): KubeObject {
  return disrupt(
    cluster,
    ns,
    podName,
    'PreemptionByScheduler',
    'default-scheduler: preempting to accommodate a higher priority pod',
    (pod) => {
      cluster.recordEvent({
        involved: podRef(pod),
        type: 'Normal',
        reason: 'Preempted',
        message: `Preempted by pod ${cluster.rand.uuid()} on node ${pod.spec.nodeName ?? ''}`,
        component: 'default-scheduler',
        reportingInstance: 'default-scheduler-control-plane',
      });
    },
    opts,
  );
}

/** The taint manager deletes the pod of a node with a NoExecute taint it does not tolerate. */
export function taintEvict(cluster: SimCluster, ns: string, podName: string, opts: DisruptOptions = {}): KubeObject {
  return disrupt(
    cluster,
    ns,
    podName,
    'DeletionByTaintManager',
    'Taint manager: deleting due to NoExecute taint',
    (pod) => {
      cluster.recordEvent({
        involved: podRef(pod),
        type: 'Normal',
        reason: 'TaintManagerEviction',
        message: `Marking for deletion Pod ${ns}/${podName}`,
        component: 'taint-eviction-controller',
      });
    },
    opts,
  );
}

/** An eviction through the Eviction API (kubectl drain). */
export function apiEvict(cluster: SimCluster, ns: string, podName: string, opts: DisruptOptions = {}): KubeObject {
  return disrupt(cluster, ns, podName, 'EvictionByEvictionAPI', 'Eviction API: evicting', () => undefined, opts);
}

const PRESSURE: Record<string, { on: [string, string]; off: [string, string]; taint: string }> = {
  MemoryPressure: {
    on: ['KubeletHasInsufficientMemory', 'kubelet has insufficient memory available'],
    off: ['KubeletHasSufficientMemory', 'kubelet has sufficient memory available'],
    taint: 'node.kubernetes.io/memory-pressure',
  },
  DiskPressure: {
    on: ['KubeletHasDiskPressure', 'kubelet has disk pressure'],
    off: ['KubeletHasNoDiskPressure', 'kubelet has no disk pressure'],
    taint: 'node.kubernetes.io/disk-pressure',
  },
  PIDPressure: {
    on: ['KubeletHasInsufficientPID', 'kubelet has insufficient PID available'],
    off: ['KubeletHasSufficientPID', 'kubelet has sufficient PID available'],
    taint: 'node.kubernetes.io/pid-pressure',
  },
};

/** Set a node's MemoryPressure (or Disk/PID) condition, its taint, and the kubelet's node event. */
export function setNodePressure(cluster: SimCluster, nodeName: string, on: boolean, type: 'MemoryPressure' | 'DiskPressure' | 'PIDPressure'): KubeObject {
  const p = PRESSURE[type]!;
  const [reason, message] = on ? p.on : p.off;
  const at = cluster.nowIso();
  const node = cluster.update('nodes', undefined, nodeName, (n) => {
    const conds: Json[] = n.status.conditions;
    const c = conds.find((x) => x.type === type);
    const changed = !c || c.status !== (on ? 'True' : 'False');
    const next = { type, status: on ? 'True' : 'False', lastHeartbeatTime: at, lastTransitionTime: changed ? at : c.lastTransitionTime, reason, message };
    if (c) conds[conds.indexOf(c)] = next;
    else conds.push(next);
    const taints: Json[] = (n.spec.taints ?? []).filter((t: Json) => t.key !== p.taint);
    if (on) taints.push({ key: p.taint, effect: 'NoSchedule', timeAdded: at });
    if (taints.length) n.spec.taints = taints;
    else delete n.spec.taints;
  });
  const eventReason = reason.replace(/^Kubelet/, 'Node');
  cluster.recordEvent({
    involved: nodeRef(nodeName),
    type: 'Normal',
    reason: eventReason,
    message: `Node ${nodeName} status is now: ${eventReason}`,
    component: 'kubelet',
    host: nodeName,
  });
  return node;
}
