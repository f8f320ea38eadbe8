/**
 * Pods built from a template and started at once, as the kubelet reports them a moment later: container
 * statuses with containerd's image ids, Running and Ready conditions, IPs. The node comes from
 * SimCluster.pickNode (round-robin over Ready nodes).
 */
import type { Json, KubeObject } from '../types.js';
import type { SimCluster } from '../cluster.js';
import { digest64 } from '../rand.js';
import { qosClass, DEFAULT_TOLERATIONS } from '../defaults.js';
import { applyLimitRangeDefaults, defaultRequestsFromLimits } from '../admission.js';
import { injectSidecars } from '../sidecar-injector.js';
import { podCondition } from '../build/conditions.js';
import { runningStatus } from '../build/container.js';
import { COMPLETED, terminatedState } from '../build/termination.js';

/** "nginx:1.27" -> "docker.io/library/nginx:1.27", as containerd reports images. */
export function normalizeImage(image: string): string {
  let ref = image;
  if (!/[:@]/.test(ref.slice(ref.lastIndexOf('/') + 1))) ref += ':latest';
  const first = ref.split('/')[0]!;
  if (!ref.includes('/')) return `docker.io/library/${ref}`;
  if (!first.includes('.') && !first.includes(':') && first !== 'localhost') return `docker.io/${ref}`;
  return ref;
}

const imageCache = new Map<string, { image: string; imageID: string }>();

/** Image and imageID as containerd reports them (cached: bulk creation shares the strings). */
function reportedImage(image: string): { image: string; imageID: string } {
  let hit = imageCache.get(image);
  if (!hit) {
    const full = normalizeImage(image);
    const repo = full.includes('@') ? full.slice(0, full.indexOf('@')) : full.replace(/:[^/:]+$/, '');
    hit = { image: full, imageID: `${repo}@sha256:${digest64(full)}` };
    if (imageCache.size > 10_000) imageCache.clear();
    imageCache.set(image, hit);
  }
  return hit;
}

export function imageID(image: string): string {
  return reportedImage(image).imageID;
}

export function containerID(cluster: SimCluster): string {
  return `containerd://${cluster.rand.hex(64)}`;
}

export function runningContainerStatus(cluster: SimCluster, c: Json, startedAt: string): Json {
  const img = reportedImage(String(c.image));
  return runningStatus({ name: c.name, image: img.image, imageID: img.imageID, containerID: containerID(cluster), startedAt });
}

/** An init container that ran to completion (a sidecar, restartPolicy Always, keeps running instead). */
function completedInitStatus(cluster: SimCluster, c: Json, at: string): Json {
  if (c.restartPolicy === 'Always') return runningContainerStatus(cluster, c, at);
  const status = runningContainerStatus(cluster, c, at);
  status.started = false;
  status.state = { terminated: terminatedState(COMPLETED, { containerID: status.containerID, finishedAt: at, startedAt: at }) };
  return status;
}

let lastConditions: { at: string; value: Json[] } | undefined;

/**
 * Conditions of a Running, Ready pod. Pods created at the same second share one array: stored objects
 * are never mutated in place (updates work on a copy), so sharing is safe and saves memory in bulk.
 */
function runningConditions(at: string): Json[] {
  if (lastConditions?.at !== at) {
    lastConditions = {
      at,
      value: [
        podCondition('PodReadyToStartContainers', 'True', at),
        podCondition('Initialized', 'True', at),
        podCondition('Ready', 'True', at),
        podCondition('ContainersReady', 'True', at),
        podCondition('PodScheduled', 'True', at),
      ],
    };
  }
  return lastConditions.value;
}

/** Status of a pod that the kubelet has started: Running, Ready, all containers running. */
export function podStatus(cluster: SimCluster, spec: Json, node: KubeObject | undefined, at: string, unschedulable?: string): Json {
  const qos = qosClass(spec);
  if (!node) {
    return {
      phase: 'Pending',
      conditions: [
        podCondition('PodScheduled', 'False', at, 'Unschedulable', unschedulable ?? '0/0 nodes are available: no nodes available to schedule pods.'),
      ],
      qosClass: qos,
    };
  }
  const hostIP = (node.status?.addresses ?? []).find((a: Json) => a.type === 'InternalIP')?.address ?? '10.0.0.10';
  const podIP = cluster.nextPodIP();
  const status: Json = {
    phase: 'Running',
    conditions: runningConditions(at),
    hostIP,
    hostIPs: [{ ip: hostIP }],
    podIP,
    podIPs: [{ ip: podIP }],
    startTime: at,
  };
  if (spec.initContainers?.length) {
    status.initContainerStatuses = spec.initContainers.map((c: Json) => completedInitStatus(cluster, c, at));
  }
  status.containerStatuses = spec.containers.map((c: Json) => runningContainerStatus(cluster, c, at));
  status.qosClass = qos;
  return status;
}

/** A pod built from a template, scheduled and Running (as the kubelet reports it a moment later). */
export function buildPod(
  cluster: SimCluster,
  namespace: string,
  name: string,
  template: Json,
  owner: Json | undefined,
  extra: { labels?: Record<string, string>; nodeName?: string; generateName?: string } = {},
): KubeObject {
  const at = cluster.nowIso();
  let spec: Json = template.spec;
  if (cluster.count('limitranges', namespace) > 0) spec = applyLimitRangeDefaults(cluster, namespace, spec);
  spec = defaultRequestsFromLimits(spec);
  spec = injectSidecars(
    cluster,
    namespace,
    { labels: { ...(template.metadata?.labels ?? {}), ...(extra.labels ?? {}) }, annotations: template.metadata?.annotations },
    spec,
  );
  const placed = extra.nodeName ? { node: cluster.peek('nodes', undefined, extra.nodeName) } : cluster.scheduleFor(spec);
  const node = placed.node;
  const podSpec: Json = { ...spec, tolerations: spec.tolerations ? [...spec.tolerations, ...DEFAULT_TOLERATIONS] : DEFAULT_TOLERATIONS };
  if (node) podSpec.nodeName = node.metadata.name;
  else delete podSpec.nodeName;
  const metadata: Json = { name };
  if (extra.generateName) metadata.generateName = extra.generateName;
  metadata.namespace = namespace;
  // Without extra labels, pods share their template's labels object (never mutated in place).
  metadata.labels = extra.labels ? { ...(template.metadata?.labels ?? {}), ...extra.labels } : (template.metadata?.labels ?? {});
  if (template.metadata?.annotations) metadata.annotations = template.metadata.annotations;
  if (owner) metadata.ownerReferences = [owner];
  return { metadata, spec: podSpec, status: podStatus(cluster, podSpec, node, at, placed.reason) };
}
