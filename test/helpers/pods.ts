/**
 * Factories for realistic Kubernetes pods and events as the API server sends them (times as RFC 3339
 * strings, as in raw JSON), plus readers for the JSON fixtures in test/fixtures/kube.
 * Every factory takes `overrides`, deep-merged into the object (arrays are replaced, not merged).
 * The pieces (container specs and statuses, terminations, conditions, eviction messages, events) come from
 * the simulator's builders in sim/kube/build, so that both describe a pod the same way.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import type { DetectContext } from '../../watchers/detect/context.js';
import type { KubeObject } from '../../sim/kube/types.js';
import {
  EVICTION_BY_KUBELET,
  OOM_KILLED,
  SIGKILLED,
  childOomExit,
  containerSpec as sharedContainerSpec,
  crashLoopWaiting,
  disruptionTarget,
  evictedEvent,
  evictedStatus,
  evictionAnnotations,
  evictionMessage,
  eventObject,
  involvedObjectJson,
  nodeRef,
  podCondition,
  podRef,
  runningStatus,
  systemOomEvent,
  terminatedState,
} from '../../sim/kube/build/index.js';

const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'kube');

/** A JSON-shaped partial object to deep-merge. */
export type Overrides = { [key: string]: unknown };

/** The parsed JSON of test/fixtures/kube/<name>. */
export function readKubeFixture<T = unknown>(name: string): T {
  return JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as T;
}

export function podFixture(name: string): V1Pod {
  return readKubeFixture<V1Pod>(name);
}

export function eventFixture(name: string): CoreV1Event {
  return readKubeFixture<CoreV1Event>(name);
}

export function eventsFixture(name: string): CoreV1Event[] {
  return readKubeFixture<CoreV1Event[]>(name);
}

/** The fixture clock: every fixture and factory time falls between CUTOFF and NOW. */
export const NOW = new Date('2025-11-20T10:00:00Z');
export const CUTOFF = new Date('2025-11-20T09:00:00Z');

export function createDetectContext(overrides: Partial<DetectContext> = {}): DetectContext {
  return { cluster: 'prod-eu-1', now: NOW, cutoff: CUTOFF, live: true, ...overrides };
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Deep merge of JSON-like values; `undefined` in overrides deletes the key. */
export function deepMerge<T>(base: T, overrides: Overrides | undefined): T {
  if (overrides === undefined) return structuredClone(base);
  const out: Record<string, unknown> = isPlainObject(base) ? structuredClone(base) : {};
  for (const [key, value] of Object.entries(overrides)) {
    if (value === undefined) {
      delete out[key];
    } else if (isPlainObject(value) && isPlainObject(out[key])) {
      out[key] = deepMerge(out[key], value);
    } else {
      out[key] = structuredClone(value);
    }
  }
  return out as T;
}

let serial = 0;
function nextUid(): string {
  serial += 1;
  return `6f1d3a2b-0c4e-4d5f-8a6b-${serial.toString(16).padStart(12, '0')}`;
}

export interface ContainerOptions {
  name?: string;
  memoryLimit?: string;
  memoryRequest?: string;
}

const IMAGE = 'registry.example.com/shop/api:2.14.1';

/** The shop's api container as a GET returns it: defaulted fields set, and an env value that must never leak. */
function containerSpec(opts: ContainerOptions = {}): Record<string, unknown> {
  const limits: Record<string, string> = {};
  const requests: Record<string, string> = { cpu: '100m' };
  if (opts.memoryLimit !== undefined) limits.memory = opts.memoryLimit;
  if (opts.memoryRequest !== undefined) requests.memory = opts.memoryRequest;
  return sharedContainerSpec({
    name: opts.name ?? 'api',
    image: IMAGE,
    env: [{ name: 'API_TOKEN', value: 'xoxb-not-a-real-token' }],
    // Both blocks even when empty, as this fixture pod always had them.
    resources: { limits, requests },
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    imagePullPolicy: 'IfNotPresent',
  });
}

/** A running, healthy Deployment pod with one container `api` (limit 512Mi, request 256Mi). */
export function createPod(overrides?: Overrides): V1Pod {
  const uid = nextUid();
  const base = {
    metadata: {
      name: 'api-7f9c6b8d4-x2k9p',
      generateName: 'api-7f9c6b8d4-',
      namespace: 'shop',
      uid,
      resourceVersion: '48213377',
      creationTimestamp: '2025-11-20T08:12:03Z',
      labels: { 'app.kubernetes.io/name': 'api', 'pod-template-hash': '7f9c6b8d4' },
      ownerReferences: [
        {
          apiVersion: 'apps/v1',
          kind: 'ReplicaSet',
          name: 'api-7f9c6b8d4',
          uid: '5c2d8e1a-9b3f-4f7d-8c6a-2e1b0d9f3a77',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      containers: [containerSpec({ memoryLimit: '512Mi', memoryRequest: '256Mi' })],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      nodeName: 'worker-3',
      schedulerName: 'default-scheduler',
      priority: 0,
    },
    status: {
      phase: 'Running',
      conditions: [podCondition('Ready', 'True', '2025-11-20T08:12:20Z')],
      hostIP: '10.0.4.17',
      podIP: '10.244.3.52',
      startTime: '2025-11-20T08:12:03Z',
      containerStatuses: [
        runningStatus({
          name: 'api',
          image: IMAGE,
          imageID: '',
          containerID: 'containerd://c0ffee0000000000000000000000000000000000000000000000000000000001',
          startedAt: '2025-11-20T08:12:06Z',
        }),
      ],
      qosClass: 'Burstable',
    },
  };
  return deepMerge(base, overrides) as unknown as V1Pod;
}

export interface TerminationOptions {
  container?: string;
  exitCode?: number;
  reason?: string;
  /** lastState: the container restarted (default); state: restartPolicy Never or the pod is done. */
  from?: 'lastState' | 'state';
  startedAt?: string;
  finishedAt?: string | null;
  restartCount?: number;
  message?: string;
  init?: boolean;
  containerID?: string;
}

/** The kubelet's back-off after the fifth restart (2m40s), the default restartCount of a crash loop here. */
const CRASH_LOOP_BACKOFF_SECONDS = 160;

/** A container status whose lastState (or state) is terminated as described. */
export function terminatedStatus(opts: TerminationOptions = {}): Record<string, unknown> {
  const from = opts.from ?? 'lastState';
  const terminated = terminatedState(
    { exitCode: opts.exitCode ?? OOM_KILLED.exitCode, reason: opts.reason ?? OOM_KILLED.reason },
    {
      containerID: opts.containerID ?? 'containerd://8f2c1b7e9d3a4f60c5b2e1d7a9c3f5e2b4d6a8c0e1f3a5b7c9d2e4f6a8b0c1d3',
      startedAt: opts.startedAt ?? '2025-11-20T09:38:55Z',
      // null: a runtime that reported no finish time.
      finishedAt: opts.finishedAt === undefined ? '2025-11-20T09:41:11Z' : (opts.finishedAt ?? undefined),
      message: opts.message,
    },
  );
  const name = opts.container ?? 'api';
  return {
    name,
    // The kubelet also names the pod in this message; the detectors do not read it, so it is left short here.
    state: from === 'state' ? { terminated } : crashLoopWaiting(name, CRASH_LOOP_BACKOFF_SECONDS),
    lastState: from === 'lastState' ? { terminated } : {},
    ready: false,
    restartCount: opts.restartCount ?? (from === 'lastState' ? 5 : 0),
    image: IMAGE,
    imageID: '',
    started: false,
  };
}

function podWithTermination(opts: TerminationOptions, overrides?: Overrides): V1Pod {
  const name = opts.container ?? 'api';
  const status = terminatedStatus(opts);
  const spec = containerSpec({ name, memoryLimit: '512Mi', memoryRequest: '256Mi' });
  const shape: Overrides =
    opts.init === true
      ? {
          spec: { initContainers: [spec], containers: [containerSpec({ name: 'main', memoryLimit: '512Mi' })] },
          status: { phase: 'Pending', initContainerStatuses: [status], containerStatuses: [] },
        }
      : {
          spec: { containers: [spec], ...(opts.from === 'state' ? { restartPolicy: 'Never' } : {}) },
          status: { containerStatuses: [status], ...(opts.from === 'state' ? { phase: 'Failed' } : {}) },
        };
  return deepMerge(createPod(shape), overrides);
}

/** A crash-looping pod whose container `api` was OOM-killed (OOMKilled, 137, in lastState). */
export function createOomKilledPod(overrides?: Overrides, opts: TerminationOptions = {}): V1Pod {
  return podWithTermination({ ...OOM_KILLED, ...opts }, overrides);
}

/** OOMKilled with exit 143: an earlier OOM inside the container, then a graceful stop (rollout). */
export function createChildOomPod(overrides?: Overrides, opts: TerminationOptions = {}): V1Pod {
  return podWithTermination({ ...childOomExit(143), ...opts }, overrides);
}

/** Exit 137 with reason Error: killed by SIGKILL (a failed liveness probe, say). */
export function createSigkilledPod(overrides?: Overrides, opts: TerminationOptions = {}): V1Pod {
  return podWithTermination({ ...SIGKILLED, ...opts }, overrides);
}

/** The api container (request 256Mi) was using 912340Ki when the node ran below its 100Mi threshold. */
const MEMORY_EVICTION_VICTIM = { name: 'api', usage: '912340Ki', request: '256Mi' };

export const MEMORY_EVICTION_MESSAGE = evictionMessage('memory', '100Mi', '81232Ki', [MEMORY_EVICTION_VICTIM]);

export interface EvictionOptions {
  message?: string;
  /** DisruptionTarget reason; null for no condition (kubelets before 1.26). */
  disruptionReason?: string | null;
  conditionTime?: string | null;
  finishedAt?: string | null;
}

/** A pod the kubelet evicted for memory pressure (phase Failed, reason Evicted, DisruptionTarget). */
export function createEvictedPod(overrides?: Overrides, opts: EvictionOptions = {}): V1Pod {
  const message = opts.message ?? MEMORY_EVICTION_MESSAGE;
  const conditions: unknown[] = [podCondition('Ready', 'False', '2025-11-20T09:50:18Z', 'PodFailed')];
  if (opts.disruptionReason !== null) {
    const at = opts.conditionTime === null ? undefined : (opts.conditionTime ?? '2025-11-20T09:50:17Z');
    conditions.unshift(disruptionTarget(opts.disruptionReason ?? EVICTION_BY_KUBELET, message, at));
  }
  const status = terminatedStatus({
    from: 'state',
    ...SIGKILLED,
    finishedAt: opts.finishedAt === undefined ? '2025-11-20T09:50:17Z' : opts.finishedAt,
    startedAt: '2025-11-20T08:12:06Z',
  });
  return deepMerge(createPod({ status: { ...evictedStatus(message), conditions, containerStatuses: [status] } }), overrides);
}

/** A running pod with a DisruptionTarget condition of this reason (preemption, taint manager, drain). */
export function createDisruptedPod(reason: string, overrides?: Overrides, at: string | null = '2025-11-20T09:52:10Z'): V1Pod {
  const condition = disruptionTarget(reason, `${reason}: the pod is about to be deleted`, at ?? undefined);
  return deepMerge(
    createPod({
      metadata: { deletionTimestamp: '2025-11-20T09:52:40Z', deletionGracePeriodSeconds: 30 },
      status: { conditions: [condition, podCondition('Ready', 'True', '2025-11-20T08:12:20Z')] },
    }),
    overrides,
  );
}

export interface PodEventOptions {
  reason: string;
  message: string;
  pod?: V1Pod;
  type?: 'Normal' | 'Warning';
  component?: string;
  at?: string;
  count?: number;
  fieldPath?: string;
  annotations?: Record<string, string>;
}

/** A core/v1 Event about a pod, as the API server lists it. */
export function createPodEvent(opts: PodEventOptions, overrides?: Overrides): CoreV1Event {
  const pod = opts.pod ?? createPod();
  const at = opts.at ?? '2025-11-20T09:50:17Z';
  const component = opts.component ?? 'kubelet';
  // The pod as it was when the event was recorded: an older resourceVersion than the pod's own.
  const involved = { ...podRef(pod as KubeObject), resourceVersion: '48213000', ...(opts.fieldPath !== undefined && { fieldPath: opts.fieldPath }) };
  const metadata: Record<string, unknown> = {
    name: `${pod.metadata?.name}.187a1b2c3d4e5f60`,
    namespace: pod.metadata?.namespace,
    uid: nextUid(),
    resourceVersion: '48213500',
    creationTimestamp: at,
  };
  if (opts.annotations !== undefined) metadata.annotations = opts.annotations;
  const host = component === 'kubelet' ? (pod.spec?.nodeName ?? 'worker-3') : undefined;
  const event = eventObject({
    metadata,
    involvedObject: involvedObjectJson(involved),
    type: opts.type ?? 'Warning',
    reason: opts.reason,
    message: opts.message,
    component,
    host,
    firstTimestamp: at,
    count: opts.count ?? 1,
  });
  return deepMerge(event, overrides) as unknown as CoreV1Event;
}

/** The kubelet's Evicted event for a pod, with the structured annotations. */
export function createEvictedEvent(
  pod: V1Pod,
  overrides?: Overrides,
  annotations: Record<string, string> | null = evictionAnnotations('memory', [MEMORY_EVICTION_VICTIM]),
): CoreV1Event {
  const opts: PodEventOptions = { ...evictedEvent(MEMORY_EVICTION_MESSAGE), pod };
  if (annotations !== null) opts.annotations = annotations;
  return createPodEvent(opts, overrides);
}

/** The kubelet's SystemOOM Warning event on a node. */
export function createSystemOomEvent(overrides?: Overrides): CoreV1Event {
  const event = eventObject({
    metadata: {
      name: 'worker-3.187a4e5f60718293',
      namespace: 'default',
      uid: 'c5d6e7f8-a9b0-4c1d-8e2f-3a4b5c6d7e12',
      resourceVersion: '48229931',
      creationTimestamp: '2025-11-20T09:20:05Z',
    },
    // This fixture's node reference carries an apiVersion; the simulator's, like the kubelet's, has none.
    involvedObject: involvedObjectJson({ ...nodeRef('worker-3'), apiVersion: 'v1' }),
    ...systemOomEvent('java', 12345),
    component: 'kubelet',
    host: 'worker-3',
    firstTimestamp: '2025-11-20T09:20:05Z',
    lastTimestamp: '2025-11-20T09:48:51Z',
  });
  return deepMerge(event, overrides) as unknown as CoreV1Event;
}
