/**
 * The issue's cases, each as the kubelet and controllers write it, through the real path (detect ->
 * enrich -> diagnose -> message). The table says the cause, the confidence and the claims the message
 * must make (and must not); every case's console and Block Kit renders are golden files in
 * test/golden/cases/. Every claim cites its source, and no message blames the node without node evidence.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import { buildMessage } from '../../alert/message.js';
import { renderSlack } from '../../alert/render-slack.js';
import { renderText } from '../../alert/render-text.js';
import { diagnose } from '../../diagnosis/diagnose.js';
import type { Cause, Confidence, Diagnosis } from '../../diagnosis/diagnosis.js';
import { toEnriched } from '../../investigate/enrich.js';
import {
  containerSpec,
  disruptionTarget,
  eventObject,
  evictionAnnotations,
  evictionMessage,
  podCondition,
  runningStatus,
  scalingReplicaSetEvent,
  successfulRescaleEvent,
  systemOomEvent,
} from '../../sim/kube/build/index.js';
import { scaleEventOf, type ScaleEvent } from '../../core/scale-events.js';
import { scaleDownBefore } from '../../investigate/scale-down.js';
import { createDisruptedPod, createEvictedEvent, createEvictedPod, createOomKilledPod, createSystemOomEvent, type Overrides } from '../helpers/pods.js';
import { CASE_NOW, type CaseWorld, gatherCase, node } from './case-world.js';
import { POLICY } from './fixtures.js';

const GOLDEN = new URL('../golden/cases/', import.meta.url);
const UPDATE = process.env.UPDATE_GOLDEN === '1';
const MiB = 2 ** 20;

function assertGolden(file: string, actual: string): void {
  const url = new URL(file, GOLDEN);
  if (UPDATE) {
    mkdirSync(GOLDEN, { recursive: true });
    writeFileSync(url, actual);
    return;
  }
  if (!existsSync(url)) throw new Error(`missing golden file ${fileURLToPath(url)}: run the tests with UPDATE_GOLDEN=1`);
  expect(actual).toBe(readFileSync(url, 'utf8'));
}

/** A container spec as the API server returns it (defaults filled in). */
function container(name: string, o: { image?: string; limit?: string; request?: string; env?: { name: string; value: string }[]; args?: string[] } = {}) {
  const resources: Record<string, Record<string, string>> = { limits: {}, requests: {} };
  if (o.limit) resources.limits!.memory = o.limit;
  if (o.request) resources.requests!.memory = o.request;
  return containerSpec({
    name,
    image: o.image ?? `registry.example.com/shop/${name}:2.14.1`,
    resources,
    ...(o.env ? { env: o.env } : {}),
    ...(o.args ? { args: o.args } : {}),
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
    imagePullPolicy: 'IfNotPresent',
  });
}

/** The api pod OOM-killed (lastState OOMKilled 137) with these containers. */
function killed(containers: unknown[], opts: Parameters<typeof createOomKilledPod>[1] = {}, overrides: Overrides = {}): V1Pod {
  const { spec, ...rest } = overrides as { spec?: Overrides };
  return createOomKilledPod(
    { ...rest, spec: { ...(spec ?? {}), containers } },
    { startedAt: '2025-11-20T09:10:00Z', finishedAt: '2025-11-20T09:41:11Z', restartCount: 1, ...opts },
  );
}

/** metrics-server's sample of a container, `ago` seconds before the kill (09:41:11). */
function sample(name: string, bytes: number, ago: number) {
  return {
    containers: [{ name, usage: { memory: `${Math.round(bytes / 1024)}Ki`, cpu: '12m' } }],
    timestamp: new Date(Date.parse('2025-11-20T09:41:11Z') - ago * 1000).toISOString().replace(/\.\d+Z$/, 'Z'),
    window: '15s',
  };
}

const running = (name: string) =>
  runningStatus({
    name,
    image: `registry.example.com/shop/${name}:2.14.1`,
    imageID: '',
    containerID: `containerd://${name}00000000`,
    startedAt: '2025-11-20T08:12:06Z',
  });

/** An Event a controller (not the kubelet) writes on a workload object, as client-go's recorder does. */
function controllerEvent(
  involved: { kind: string; name: string; apiVersion: string },
  text: { type: 'Normal' | 'Warning'; reason: string; message: string },
  component: string,
  at: string,
): CoreV1Event {
  return eventObject({
    metadata: { name: `${involved.name}.${Date.parse(at).toString(16)}`, namespace: 'shop' },
    involvedObject: { kind: involved.kind, namespace: 'shop', name: involved.name, uid: `${involved.kind}-uid`, apiVersion: involved.apiVersion },
    ...text,
    component,
    firstTimestamp: at,
  }) as unknown as CoreV1Event;
}

/** The VPA updater's Event on a pod it resized in place (InPlaceOrRecreate). */
const VPA_RESIZED = { type: 'Normal' as const, reason: 'InPlaceResizedByVPA', message: 'Pod was resized in place by VPA Updater.' };

const deploymentEvent = (replicaSet: string, from: number, to: number, at: string) =>
  controllerEvent({ kind: 'Deployment', name: 'api', apiVersion: 'apps/v1' }, scalingReplicaSetEvent(replicaSet, from, to), 'deployment-controller', at);

const hpaEvent = (size: number, reason: string, at: string) =>
  controllerEvent(
    { kind: 'HorizontalPodAutoscaler', name: 'api', apiVersion: 'autoscaling/v2' },
    successfulRescaleEvent(size, reason),
    'horizontal-pod-autoscaler',
    at,
  );

/** A managedFields entry owning spec.replicas, as the API server records it. */
const replicasWriter = (manager: string, time: string, subresource?: string) => ({
  manager,
  operation: 'Update',
  apiVersion: 'apps/v1',
  time,
  fieldsType: 'FieldsV1',
  fieldsV1: { 'f:spec': { 'f:replicas': {} } },
  ...(subresource ? { subresource } : {}),
});

const istio = () => container('istio-proxy', { image: 'docker.io/istio/proxyv2:1.24.1', limit: '256Mi', request: '128Mi' });

interface Case {
  name: string;
  world: () => CaseWorld;
  cause: Cause;
  confidence: Confidence;
  /** Claims the message makes (console text). */
  says: RegExp[];
  /** Claims it must not make. */
  never?: RegExp[];
  proposal?: string | null;
  check?: (d: Diagnosis, text: string) => void;
}

const NODE_BLAME = /node (ran|running) out of memory|node out of memory|node OOM|overcommitted/i;

const CASES: Case[] = [
  {
    name: 'jvm-xmx-stale-sample',
    world: () => ({
      pod: killed([container('api', { limit: '768Mi', request: '768Mi', env: [{ name: 'JAVA_TOOL_OPTIONS', value: '-Xmx1g -Djdbc.password=hunter2' }] })]),
      metrics: sample('api', 411 * MiB, 40),
    }),
    cause: 'runtime-heap',
    confidence: 'high',
    says: [/-Xmx1g/, /Last sample 40s before the kill: 411Mi/],
    never: [NODE_BLAME, /hunter2|jdbc/, /usage at the kill/i],
  },
  {
    name: 'job-oom-at-limit',
    world: () => ({
      pod: killed(
        [container('report', { limit: '1Gi', request: '1Gi' })],
        { container: 'report', from: 'state', restartCount: 0 },
        {
          metadata: {
            name: 'report-28911-x7k2p',
            labels: { 'batch.kubernetes.io/job-name': 'report-28911' },
            ownerReferences: [{ apiVersion: 'batch/v1', kind: 'Job', name: 'report-28911', uid: 'job-uid', controller: true, blockOwnerDeletion: true }],
          },
        },
      ),
      owner: 'Job',
      metrics: sample('report', 300 * MiB, 90),
    }),
    cause: 'limit-too-low',
    confidence: 'medium',
    says: [/OOMKilled with exit code 137/, /Last sample 1m 30s before the kill: 300Mi/],
    never: [NODE_BLAME],
  },
  {
    name: 'node-oom-victim',
    world: () => ({
      pod: killed([container('api', { limit: '512Mi', request: '256Mi' })]),
      events: [createSystemOomEvent({ ...systemOomEvent('api', 4242), firstTimestamp: '2025-11-20T09:41:09Z', lastTimestamp: '2025-11-20T09:41:09Z' })],
      metrics: sample('api', 200 * MiB, 20),
    }),
    cause: 'node-pressure',
    confidence: 'high',
    says: [/SystemOOM/, /victim process: api/],
    check: (d) => expect(d.nodeOom).toEqual({ node: 'worker-3', victim: 'api' }),
  },
  {
    name: 'pod-level-limit-container-b',
    world: () => ({
      pod: killed([container('a', { limit: '512Mi' }), container('b')], { container: 'b' }, { spec: { resources: { limits: { memory: '1Gi' } } } }),
    }),
    cause: 'limit-too-low',
    confidence: 'medium',
    says: [/Memory limit\s+none of its own/, /Pod memory limit\s+1Gi/, /pod-level/i],
    never: [/has no memory limit|unlimited/i, NODE_BLAME],
  },
  {
    name: 'leak-first-sight',
    world: () => ({
      pod: killed([container('api', { limit: '512Mi', request: '256Mi' })], { restartCount: 4 }, { status: { startTime: '2025-11-20T07:36:31Z' } }),
      history: [
        {
          id: 'container-oom-earlier',
          kind: 'container-oom',
          cluster: 'prod',
          namespace: 'shop',
          pod: 'api-7f9c6b8d4-x2k9p',
          container: 'api',
          workload: 'Deployment/api',
          occurredAt: '2025-11-20T09:10:00Z',
          startedAt: '2025-11-20T08:39:00Z',
          finishedAt: '2025-11-20T09:10:00Z',
          restartCount: 3,
          exitCode: 137,
          fromStatus: true,
        },
      ],
    }),
    cause: 'memory-leak',
    confidence: 'high',
    says: [/4th restart of api in 2h 4m since the pod started, each run about 31m/, /it and an earlier run on record ended in OOM kills/],
    proposal: null,
  },
  {
    name: 'node-options-heap',
    world: () => ({
      pod: killed(
        [
          container('web', {
            image: 'node:22.11-alpine',
            limit: '768Mi',
            env: [{ name: 'NODE_OPTIONS', value: '--max-old-space-size=1024 --require /secret/apm.js' }],
          }),
        ],
        {
          container: 'web',
        },
      ),
    }),
    cause: 'runtime-heap',
    confidence: 'high',
    says: [/--max-old-space-size=1024/],
    never: [/apm\.js|--require/],
  },
  {
    name: 'gomemlimit-over-limit',
    world: () => ({
      pod: killed([
        container('api', {
          limit: '512Mi',
          env: [
            { name: 'GOMEMLIMIT', value: '2GiB' },
            { name: 'GOGC', value: '200' },
          ],
        }),
      ]),
    }),
    cause: 'runtime-heap',
    confidence: 'medium',
    says: [/GOMEMLIMIT=2GiB \(from GOMEMLIMIT\) is at or above the 512Mi limit/, /Set GOMEMLIMIT to about 90% of the limit/],
    never: [/GOGC=|200/],
  },
  {
    name: 'gomemlimit-unreadable',
    world: () => ({
      pod: killed([container('api', { limit: '512Mi', env: [{ name: 'GOMEMLIMIT', value: '2GiB # tuned by ops, token=abc' }] })]),
    }),
    cause: 'limit-too-low',
    confidence: 'medium',
    says: [/OOMKilled/],
    never: [/2GiB|token|abc/],
  },
  {
    name: 'dotnet-heap-hard-limit',
    world: () => ({
      pod: killed([container('api', { limit: '512Mi', env: [{ name: 'DOTNET_GCHeapHardLimit', value: '0x40000000' }] })]),
    }),
    cause: 'runtime-heap',
    confidence: 'high',
    says: [/DOTNET_GCHeapHardLimit=0x40000000 \(from DOTNET_GCHeapHardLimit\) lets the \.NET GC heap grow to 1Gi, at or above the 512Mi limit/],
  },
  {
    name: 'jdk-cgroup-v2-blind',
    world: () => ({ pod: killed([container('api', { image: 'eclipse-temurin:11.0.15_10-jre', limit: '1Gi', request: '1Gi' })]), nodeMemory: '64Gi' }),
    cause: 'runtime-heap',
    confidence: 'medium',
    says: [/JDK 11\.0\.15, which does not see cgroup v2 limits \(fixed in 11\.0\.16\)/, /Upgrade to JDK 11\.0\.16 or later, or set -Xmx/],
    never: [NODE_BLAME],
  },
  {
    name: 'node18-cgroup-v2-blind',
    world: () => ({ pod: killed([container('web', { image: 'node:18.19.0-alpine', limit: '1Gi' })], { container: 'web' }), nodeMemory: '64Gi' }),
    cause: 'runtime-heap',
    confidence: 'medium',
    says: [/Node\.js 18\.19, which does not see cgroup v2 limits \(fixed in 20\.3\.0\)/],
  },
  {
    name: 'sidecar-app-killed',
    world: () => {
      const pod = killed([container('api', { limit: '512Mi', request: '256Mi' }), istio()]);
      pod.status!.containerStatuses = [...(pod.status!.containerStatuses ?? []), running('istio-proxy') as never];
      return {
        pod,
        templateContainers: [container('api', { limit: '512Mi', request: '256Mi' })],
        metrics: sample('api', 505 * MiB, 10),
        logs: 'java.lang.OutOfMemoryError',
      };
    },
    cause: 'limit-too-low',
    confidence: 'high',
    says: [/OOMKilled: shop\/api-7f9c6b8d4-x2k9p \(api\)/, /Raise the memory limit of api in Deployment shop\/api/],
    proposal: '640Mi',
    check: (d) => expect(d.proposal?.container).toBe('api'),
  },
  {
    name: 'sidecar-proxy-killed',
    world: () => {
      const pod = killed([container('api', { limit: '512Mi', request: '256Mi' }), istio()], { container: 'istio-proxy' });
      pod.status!.containerStatuses = [running('api') as never, ...(pod.status!.containerStatuses ?? [])];
      return { pod, templateContainers: [container('api', { limit: '512Mi', request: '256Mi' })], metrics: sample('istio-proxy', 250 * MiB, 10) };
    },
    cause: 'limit-too-low',
    confidence: 'high',
    says: [/OOMKilled: shop\/api-7f9c6b8d4-x2k9p \(istio-proxy\)/, /istio-proxy/],
    proposal: null,
  },
  {
    name: 'disruption-eviction-api',
    world: () => ({ pod: createDisruptedPod('EvictionByEvictionAPI'), kind: 'disruption' }),
    cause: 'disruption',
    confidence: 'high',
    says: [/eviction API \(a node drain/, /EvictionByEvictionAPI/],
    never: [NODE_BLAME],
  },
  {
    name: 'disruption-preemption',
    world: () => ({ pod: createDisruptedPod('PreemptionByScheduler'), kind: 'disruption' }),
    cause: 'disruption',
    confidence: 'high',
    says: [/preempted by the scheduler/],
  },
  {
    name: 'disruption-taint-manager',
    world: () => ({ pod: createDisruptedPod('DeletionByTaintManager'), kind: 'disruption' }),
    cause: 'disruption',
    confidence: 'high',
    says: [/taint manager/],
  },
  {
    name: 'disruption-node-shutdown',
    world: () => ({
      pod: createDisruptedPod(
        'TerminationByKubelet',
        {
          status: {
            phase: 'Failed',
            reason: 'Terminated',
            message: 'Pod was terminated in response to imminent node shutdown.',
            conditions: [
              disruptionTarget('TerminationByKubelet', 'Pod was terminated in response to imminent node shutdown.', '2025-11-20T09:52:10Z'),
              podCondition('Ready', 'False', '2025-11-20T09:52:10Z', 'PodFailed'),
            ],
          },
        },
        '2025-11-20T09:52:10Z',
      ),
      kind: 'disruption',
    }),
    cause: 'disruption',
    confidence: 'high',
    says: [/stopped by the kubelet \(a graceful node shutdown/],
  },
  {
    name: 'evicted-besteffort-memory',
    world: () => {
      const victim = { name: 'api', usage: '912340Ki', request: '0' };
      const pod = createEvictedPod(
        { spec: { containers: [container('api')] }, status: { qosClass: 'BestEffort' } },
        { message: evictionMessage('memory', '100Mi', '81232Ki', [victim]) },
      );
      return { pod, events: [createEvictedEvent(pod, {}, evictionAnnotations('memory', [victim]))], node: node('worker-3', '16Gi', true), kind: 'evicted' };
    },
    // The pod-status path reads the use from the eviction message (medium); the Event path's annotations make it high.
    cause: 'eviction-memory',
    confidence: 'medium',
    says: [/BestEffort \(no requests or limits\): it is the first evicted/, /Raise the memory request of api/],
  },
  {
    name: 'evicted-burstable-memory',
    world: () => {
      const pod = createEvictedPod();
      return { pod, events: [createEvictedEvent(pod)], node: node('worker-3', '16Gi', true), kind: 'evicted' };
    },
    cause: 'eviction-memory',
    confidence: 'medium',
    says: [/Burstable: for a workload that must not be evicted, set requests = limits/],
  },
  {
    name: 'oomkilled-exit-0',
    world: () => ({ pod: createOomKilledPod({}, { exitCode: 0, startedAt: '2025-11-20T09:10:00Z', finishedAt: '2025-11-20T09:41:11Z' }), kind: 'child-oom' }),
    cause: 'child-oom',
    confidence: 'high',
    says: [/exit code 0/],
    never: [/api used all of its/],
  },
  {
    name: 'vpa-lowered-limit',
    world: () => ({
      pod: killed(
        [container('api', { limit: '300Mi', request: '150Mi' })],
        {},
        {
          metadata: { annotations: { vpaUpdates: 'Pod resources updated by api: container 0: memory request, memory limit', vpaObservedContainers: 'api' } },
        },
      ),
      templateContainers: [container('api', { limit: '512Mi', request: '256Mi' })],
      metrics: sample('api', 298 * MiB, 10),
      vpas: [
        {
          metadata: { name: 'api', namespace: 'shop' },
          spec: { targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' }, updatePolicy: { updateMode: 'Recreate' } },
        },
      ],
    }),
    cause: 'limit-too-low',
    confidence: 'high',
    says: [
      /The VPA rewrote the memory of api when the pod was created \(Pod resources updated by api: container 0: memory request, memory limit\): limit 300Mi in the pod, 512Mi in the template; request 150Mi in the pod, 256Mi in the template \(vpa\)/,
      /The VPA gave api a lower memory limit than its template/,
    ],
    proposal: null,
  },
  {
    name: 'rollout-limit-cut',
    world: () => ({
      pod: killed([container('api', { image: 'registry.example.com/shop/api:1.5', limit: '512Mi', request: '256Mi' })]),
      metrics: sample('api', 508 * MiB, 15),
      change: {
        sourceKind: 'ReplicaSet',
        sourceName: 'api-7f9c6b8d4',
        revision: 5,
        previousRevision: 4,
        at: '2025-11-20T08:12:03Z',
        by: { manager: 'argocd-controller', operation: 'Update' },
        changes: [
          { container: 'api', field: 'image', from: 'registry.example.com/shop/api:1.4', to: 'registry.example.com/shop/api:1.5' },
          { container: 'api', field: 'memory limit', from: '1Gi', to: '512Mi', fromBytes: 2 ** 30, toBytes: 512 * MiB },
        ],
      },
    }),
    cause: 'limit-too-low',
    confidence: 'high',
    says: [
      /ReplicaSet shop\/api-7f9c6b8d4 revision 5 made 2025-11-20 08:12:03 UTC, 1h 29m before the first kill, by argocd-controller: image registry\.example\.com\/shop\/api:1\.4 → registry\.example\.com\/shop\/api:1\.5, memory limit 1Gi → 512Mi; no kill on record before it \(rollout history\)/,
      /The memory limit of api was cut from 1Gi to 512Mi in revision 5 \(rollout history\)/,
      /It ran with 1Gi in revision 4: restoring that limit is the quickest fix/,
      /at least 1Gi \(the 1Gi it ran with in revision 4\)/,
    ],
    proposal: '1Gi',
  },
  {
    // The HPA scaled api from 4 to 2 at 09:29; the kills began 12 minutes later. The rollout's scale-down
    // of the old ReplicaSet at 08:12 is the rollout's, not a scale-down of the pod's ReplicaSet.
    name: 'scale-down-by-hpa',
    world: () => ({
      pod: killed([container('api', { limit: '512Mi', request: '256Mi' })]),
      metrics: sample('api', 506 * MiB, 12),
      scaleEvents: [
        deploymentEvent('api-6c8d7f5b9', 4, 0, '2025-11-20T08:12:40Z'),
        deploymentEvent('api-7f9c6b8d4', 4, 2, '2025-11-20T09:29:05Z'),
        hpaEvent(2, 'All metrics below target', '2025-11-20T09:29:04Z'),
      ],
      deploymentManagedFields: [replicasWriter('kube-controller-manager', '2025-11-20T09:29:04Z', 'scale')],
    }),
    cause: 'limit-too-low',
    confidence: 'high',
    says: [
      /Kills began 12m 6s after Deployment shop\/api was scaled down from 4 to 2 replicas at 2025-11-20 09:29:05 UTC \(ReplicaSet api-7f9c6b8d4, by the HPA shop\/api: All metrics below target\); no kill on record before it \(scale events\)/,
      /Fewer replicas share the load since the scale-down, so each pod takes more: raise the HPA's minReplicas/,
    ],
    never: [/api-6c8d7f5b9/, NODE_BLAME],
  },
  {
    // InPlaceOrRecreate: the VPA updater resized the running pod in place (its Event on the pod) to a lower
    // limit than the template's; no admission annotation. Said as a resize at its time, not "when created".
    name: 'vpa-in-place-lowered',
    world: () => {
      const pod = killed([container('api', { limit: '300Mi', request: '150Mi' })]);
      const resized = controllerEvent({ kind: 'Pod', name: pod.metadata!.name!, apiVersion: 'v1' }, VPA_RESIZED, 'vpa-updater', '2025-11-20T09:22:40Z');
      return {
        pod,
        events: [resized],
        templateContainers: [container('api', { limit: '512Mi', request: '256Mi' })],
        metrics: sample('api', 298 * MiB, 10),
        vpas: [
          {
            metadata: { name: 'api', namespace: 'shop' },
            spec: { targetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: 'api' }, updatePolicy: { updateMode: 'InPlaceOrRecreate' } },
          },
        ],
      };
    },
    cause: 'limit-too-low',
    confidence: 'high',
    says: [
      /The VPA updater resized pod api-7f9c6b8d4-x2k9p in place at 2025-11-20 09:22:40 UTC, 18m 31s before the kill \(Pod was resized in place by VPA Updater\.\): limit 300Mi in the pod, 512Mi in the template; request 150Mi in the pod, 256Mi in the template \(events\)/,
      /The VPA gave api a lower memory limit than its template/,
    ],
    never: [/when the pod was created/, NODE_BLAME],
  },
  {
    // An older controller wrote "Scaled down replica set <rs> to <n>" without "from": only the new size is said.
    name: 'scale-down-old-format',
    world: () => ({
      pod: killed([container('api', { limit: '512Mi', request: '256Mi' })]),
      metrics: sample('api', 506 * MiB, 12),
      scaleEvents: [
        controllerEvent(
          { kind: 'Deployment', name: 'api', apiVersion: 'apps/v1' },
          { type: 'Normal', reason: 'ScalingReplicaSet', message: 'Scaled down replica set api-7f9c6b8d4 to 1' },
          'deployment-controller',
          '2025-11-20T09:20:11Z',
        ),
      ],
      deploymentManagedFields: [replicasWriter('kubectl', '2025-11-20T09:20:10Z', 'scale')],
    }),
    cause: 'limit-too-low',
    confidence: 'high',
    says: [
      /Kills began 21m after Deployment shop\/api was scaled down to 1 replica at 2025-11-20 09:20:11 UTC \(ReplicaSet api-7f9c6b8d4, by kubectl\); no kill on record before it \(scale events\)/,
      /scale it back up, or raise the limit/,
    ],
    never: [/from \d+ to 1/, /HPA/],
  },
  {
    // Killed before the scale-down too: the scale-down is not what started it, and nothing says so.
    name: 'scale-down-after-kills',
    world: () => ({
      pod: killed([container('api', { limit: '512Mi', request: '256Mi' })]),
      metrics: sample('api', 506 * MiB, 12),
      scaleEvents: [deploymentEvent('api-7f9c6b8d4', 4, 2, '2025-11-20T09:29:05Z')],
      history: [
        {
          id: 'container-oom-before-scale',
          kind: 'container-oom',
          cluster: 'prod',
          namespace: 'shop',
          pod: 'api-7f9c6b8d4-q8w2n',
          container: 'api',
          workload: 'Deployment/api',
          occurredAt: '2025-11-20T07:02:00Z',
          exitCode: 137,
        },
      ],
    }),
    cause: 'limit-too-low',
    confidence: 'high',
    says: [],
    never: [/scaled down/i, /Fewer replicas/],
  },
];

/** The scale-down as the worker finds it: the kept events (as the watcher keeps them), the pod's ReplicaSet. */
function scaleDownOf(world: CaseWorld, g: ReturnType<typeof gatherCase>) {
  const kept = (world.scaleEvents ?? []).map((e) => scaleEventOf(e)).filter((e): e is ScaleEvent & { namespace: string; id: string } => e !== undefined);
  const [rs, deployment] = g.owners;
  if (rs?.kind !== 'ReplicaSet' || deployment?.kind !== 'Deployment') return undefined;
  const managedFields = (deployment as unknown as { metadata?: { managedFields?: [] } }).metadata?.managedFields;
  return scaleDownBefore(
    kept.filter((e) => e.kind === 'Deployment'),
    kept.filter((e) => e.kind === 'HorizontalPodAutoscaler'),
    { replicaSet: rs.name, deployment: deployment.name, managedFields },
    g.incident.occurredAt,
  );
}

function run(c: Case) {
  const world = c.world();
  // A stable uid: incident ids (in the golden files) derive from it.
  world.pod.metadata = {
    ...world.pod.metadata,
    uid: `0b1f6c3e-2d4a-4c8e-9a51-${c.name.length.toString(16).padStart(4, '0')}${c.name.slice(0, 8).replace(/[^a-z0-9]/g, '0')}`,
  };
  const g = gatherCase(world);
  const enriched = toEnriched(g, world.history ?? [], CASE_NOW);
  if (world.change) enriched.change = world.change;
  const scaleDown = scaleDownOf(world, g);
  if (scaleDown) enriched.scaleDown = scaleDown;
  const d = diagnose(enriched, POLICY);
  const model = buildMessage(enriched, d, d.proposal ? { proposalId: `prop-${c.name}` } : {});
  return { world, enriched, d, model, text: renderText(model) };
}

/** Evidence that the node ran out: a SystemOOM event, MemoryPressure on the node, or an overcommit the node's pods show. */
function hasNodeEvidence(world: CaseWorld): boolean {
  const pressure = (world.node?.status?.conditions ?? []).some((x) => x.type === 'MemoryPressure' && x.status === 'True');
  return pressure || (world.events ?? []).some((e) => e.reason === 'SystemOOM');
}

describe('the issue cases, through detect, enrich and diagnose', () => {
  for (const c of CASES) {
    it(c.name, () => {
      const { world, d, model, text } = run(c);
      expect({ cause: d.cause, confidence: d.confidence }, text).toEqual({ cause: c.cause, confidence: c.confidence });
      for (const claim of c.says) expect(text).toMatch(claim);
      for (const claim of c.never ?? []) expect(text).not.toMatch(claim);
      if (c.proposal !== undefined) expect(d.proposal ? (d.proposal.target === 'limit' ? d.proposal.toLimit : d.proposal.toRequest) : null).toBe(c.proposal);
      // Every claim cites its evidence.
      for (const e of d.evidence) expect(e.source.length, e.text).toBeGreaterThan(0);
      if (!hasNodeEvidence(world)) expect(`${d.headline} ${d.cause}`).not.toMatch(/node-pressure|node (ran|running) out of memory/i);
      c.check?.(d, text);
      assertGolden(`${c.name}.txt`, text);
      assertGolden(`${c.name}.json`, `${JSON.stringify(renderSlack(model), null, 2)}\n`);
    });
  }
});
