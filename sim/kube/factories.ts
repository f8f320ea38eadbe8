/**
 * Realistic Kubernetes objects as a user would submit them (the cluster fills in uid, status, ...).
 * Tests and scripted scenarios use these so that objects look like the real thing.
 */
import type { Json, KubeObject } from './types.js';
import { bytesOf, quantityValue } from './units.js';
import { containerSpec, type ContainerOptions } from './build/container.js';

// The container builder is shared with the tests' pod factories; here it is named like the other make* builders.
export { containerSpec as makeContainer, type ContainerOptions } from './build/container.js';

export interface PodTemplateOptions {
  /** Containers; default one container named after the workload. */
  containers?: ContainerOptions[];
  initContainers?: ContainerOptions[];
  /** Shorthand for the default container. */
  image?: string;
  memoryRequest?: string;
  memoryLimit?: string;
  cpuRequest?: string;
  cpuLimit?: string;
  podLabels?: Record<string, string>;
  podAnnotations?: Record<string, string>;
  restartPolicy?: 'Always' | 'OnFailure' | 'Never';
  priorityClassName?: string;
  priority?: number;
  nodeSelector?: Record<string, string>;
  serviceAccountName?: string;
  /** Pod-level resources (spec.resources, KEP-2837), e.g. `{ limits: { memory: '1Gi' } }`. */
  podResources?: { limits?: Record<string, string>; requests?: Record<string, string> };
}

export interface WorkloadOptions extends PodTemplateOptions {
  name: string;
  namespace?: string;
  replicas?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export type DeploymentOptions = WorkloadOptions;

export interface PodOptions extends PodTemplateOptions {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  nodeName?: string;
}

export interface JobOptions extends PodTemplateOptions {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  backoffLimit?: number;
  parallelism?: number;
  completions?: number;
}

export interface CronJobOptions extends JobOptions {
  schedule?: string;
}

export interface NodeOptions {
  /** Memory capacity, e.g. "8Gi" (default). */
  memory?: string;
  /** Allocatable memory; default capacity minus kube-reserved and the 100Mi eviction threshold. */
  allocatableMemory?: string;
  /** CPU capacity in cores, e.g. "4" (default). */
  cpu?: string;
  pods?: string;
  internalIP?: string;
  labels?: Record<string, string>;
  zone?: string;
  instanceType?: string;
  ready?: boolean;
  unschedulable?: boolean;
  kubeletVersion?: string;
}

function containersOf(defaultName: string, o: PodTemplateOptions): Json[] {
  if (o.containers?.length) return o.containers.map(containerSpec);
  return [
    containerSpec({
      name: defaultName,
      image: o.image,
      memoryRequest: o.memoryRequest ?? '256Mi',
      memoryLimit: o.memoryLimit ?? '512Mi',
      cpuRequest: o.cpuRequest ?? '100m',
      cpuLimit: o.cpuLimit,
    }),
  ];
}

export function makePodSpec(defaultName: string, o: PodTemplateOptions): Json {
  const spec: Json = { containers: containersOf(defaultName, o) };
  if (o.initContainers?.length) spec.initContainers = o.initContainers.map(containerSpec);
  if (o.restartPolicy) spec.restartPolicy = o.restartPolicy;
  if (o.priorityClassName) spec.priorityClassName = o.priorityClassName;
  if (o.priority !== undefined) spec.priority = o.priority;
  if (o.nodeSelector) spec.nodeSelector = o.nodeSelector;
  if (o.serviceAccountName) spec.serviceAccountName = o.serviceAccountName;
  if (o.podResources) spec.resources = structuredClone(o.podResources);
  return spec;
}

function template(selector: Record<string, string>, defaultName: string, o: PodTemplateOptions): Json {
  const metadata: Json = { labels: { ...selector, ...(o.podLabels ?? {}) } };
  if (o.podAnnotations) metadata.annotations = o.podAnnotations;
  return { metadata, spec: makePodSpec(defaultName, o) };
}

function workloadMeta(o: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }): Json {
  const m: Json = { name: o.name, namespace: o.namespace ?? 'default', labels: o.labels ?? { 'app.kubernetes.io/name': o.name } };
  if (o.annotations) m.annotations = o.annotations;
  return m;
}

export function makeDeployment(o: DeploymentOptions): KubeObject {
  const selector = { 'app.kubernetes.io/name': o.name };
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: workloadMeta(o),
    spec: { replicas: o.replicas ?? 1, selector: { matchLabels: selector }, template: template(selector, o.name, o) },
  };
}

export function makeStatefulSet(o: WorkloadOptions): KubeObject {
  const selector = { 'app.kubernetes.io/name': o.name };
  return {
    apiVersion: 'apps/v1',
    kind: 'StatefulSet',
    metadata: workloadMeta(o),
    spec: { replicas: o.replicas ?? 1, serviceName: o.name, selector: { matchLabels: selector }, template: template(selector, o.name, o) },
  };
}

export function makeDaemonSet(o: WorkloadOptions): KubeObject {
  const selector = { 'app.kubernetes.io/name': o.name };
  return {
    apiVersion: 'apps/v1',
    kind: 'DaemonSet',
    metadata: workloadMeta(o),
    spec: { selector: { matchLabels: selector }, template: template(selector, o.name, o) },
  };
}

export function makeJob(o: JobOptions): KubeObject {
  const spec: Json = { backoffLimit: o.backoffLimit ?? 6, template: template({}, o.name, { restartPolicy: 'Never', ...o }) };
  if (o.parallelism !== undefined) spec.parallelism = o.parallelism;
  if (o.completions !== undefined) spec.completions = o.completions;
  return { apiVersion: 'batch/v1', kind: 'Job', metadata: workloadMeta(o), spec };
}

export function makeCronJob(o: CronJobOptions): KubeObject {
  const job = makeJob(o);
  return {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: workloadMeta(o),
    spec: { schedule: o.schedule ?? '*/5 * * * *', jobTemplate: { metadata: {}, spec: job.spec } },
  };
}

export function makePod(o: PodOptions): KubeObject {
  const metadata: Json = { name: o.name, namespace: o.namespace ?? 'default', labels: o.labels ?? { 'app.kubernetes.io/name': o.name } };
  if (o.annotations) metadata.annotations = o.annotations;
  const spec = makePodSpec(o.name, o);
  if (o.nodeName) spec.nodeName = o.nodeName;
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec };
}

export function makeNamespace(name: string, labels?: Record<string, string>): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Namespace',
    metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...(labels ?? {}) } },
    spec: { finalizers: ['kubernetes'] },
    status: { phase: 'Active' },
  };
}

function ki(bytes: number): string {
  return `${Math.floor(bytes / 1024)}Ki`;
}

/** A Ready node. Condition timestamps and machine ids are filled in by the cluster on create. */
export function makeNode(name: string, o: NodeOptions = {}): KubeObject {
  const capacityBytes = bytesOf(o.memory ?? '8Gi');
  if (capacityBytes === undefined) throw new Error(`node ${name}: memory ${String(o.memory)} is not a quantity`);
  const cpu = o.cpu ?? '4';
  const cores = quantityValue(cpu);
  if (cores === undefined) throw new Error(`node ${name}: cpu ${String(cpu)} is not a quantity`);
  // kube-reserved memory grows with node size (GKE/AKS style) plus the 100Mi hard eviction threshold.
  const reserved = Math.min(capacityBytes * 0.25, 255 * 2 ** 20 + capacityBytes * 0.06) + 100 * 2 ** 20;
  const allocatableMemory = o.allocatableMemory ?? ki(capacityBytes - reserved);
  const allocatableCpu = `${Math.round(cores * 1000 - Math.min(cores * 1000 * 0.06, 60 + (cores - 1) * 10))}m`;
  const zone = o.zone ?? 'europe-west1-b';
  const instanceType = o.instanceType ?? 'e2-standard-4';
  const pods = o.pods ?? '110';
  const kubeletVersion = o.kubeletVersion ?? 'v1.32.4';
  const condition = (type: string, status: string, reason: string, message: string): Json => ({
    type,
    status,
    lastHeartbeatTime: null,
    lastTransitionTime: null,
    reason,
    message,
  });
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {
        'beta.kubernetes.io/arch': 'amd64',
        'beta.kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'node.kubernetes.io/instance-type': instanceType,
        'topology.kubernetes.io/zone': zone,
        'topology.kubernetes.io/region': zone.replace(/-[a-z]$/, ''),
        ...(o.labels ?? {}),
      },
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
    },
    spec: { ...(o.unschedulable ? { unschedulable: true } : {}) },
    status: {
      capacity: { cpu, 'ephemeral-storage': '101430960Ki', 'hugepages-1Gi': '0', 'hugepages-2Mi': '0', memory: ki(capacityBytes), pods },
      allocatable: { cpu: allocatableCpu, 'ephemeral-storage': '93478772582', 'hugepages-1Gi': '0', 'hugepages-2Mi': '0', memory: allocatableMemory, pods },
      conditions: [
        condition('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
        condition('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        condition('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        o.ready === false
          ? condition('Ready', 'False', 'KubeletNotReady', 'container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady')
          : condition('Ready', 'True', 'KubeletReady', 'kubelet is posting ready status'),
      ],
      addresses: [
        { type: 'InternalIP', address: o.internalIP ?? '10.0.0.10' },
        { type: 'Hostname', address: name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: 10250 } },
      nodeInfo: {
        machineID: '',
        systemUUID: '',
        bootID: '',
        kernelVersion: '6.1.0-28-cloud-amd64',
        osImage: 'Ubuntu 24.04.1 LTS',
        containerRuntimeVersion: 'containerd://1.7.24',
        kubeletVersion,
        kubeProxyVersion: kubeletVersion,
        operatingSystem: 'linux',
        architecture: 'amd64',
      },
    },
  };
}

export interface LimitRangeOptions {
  name?: string;
  namespace: string;
  max?: { memory?: string; cpu?: string };
  min?: { memory?: string; cpu?: string };
  default?: { memory?: string; cpu?: string };
  defaultRequest?: { memory?: string; cpu?: string };
  maxLimitRequestRatio?: { memory?: string; cpu?: string };
}

export function makeLimitRange(o: LimitRangeOptions): KubeObject {
  const limit: Json = { type: 'Container' };
  for (const k of ['max', 'min', 'default', 'defaultRequest', 'maxLimitRequestRatio'] as const) if (o[k]) limit[k] = o[k];
  return { apiVersion: 'v1', kind: 'LimitRange', metadata: { name: o.name ?? 'limits', namespace: o.namespace }, spec: { limits: [limit] } };
}

export interface ResourceQuotaOptions {
  name?: string;
  namespace: string;
  hard: Record<string, string>;
}

export function makeResourceQuota(o: ResourceQuotaOptions): KubeObject {
  return { apiVersion: 'v1', kind: 'ResourceQuota', metadata: { name: o.name ?? 'compute', namespace: o.namespace }, spec: { hard: o.hard } };
}
