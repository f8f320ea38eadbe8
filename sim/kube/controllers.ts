/**
 * Minimal, synchronous controllers: defaulting on create, Deployment -> ReplicaSet -> Pods,
 * StatefulSet, DaemonSet, Job, CronJob, garbage collection of dependents. A template change rolls out
 * at once (old pods deleted, new ones created). Scheduling is round-robin over Ready nodes and ignores
 * capacity, affinity and taints.
 */
import type { Json, KubeObject, ChangeType } from './types.js';
import type { SimCluster } from './cluster.js';
import { controllerOf } from './object-meta.js';
import type { ResourceDef } from './resources.js';
import { apiVersionOf, resourceDef } from './resources.js';
import { templateHash, digest64 } from './rand.js';
import { defaultPodSpec, qosClass, DEFAULT_TOLERATIONS } from './defaults.js';
import { applyLimitRangeDefaults } from './admission.js';
import { podCondition } from './build/conditions.js';
import { runningStatus } from './build/container.js';
import { COMPLETED, terminatedState } from './build/termination.js';

const syncing = new WeakMap<SimCluster, Set<string>>();

/** Runs `fn` unless a sync of the same object is already running further up the stack. */
function guard(cluster: SimCluster, uid: string, fn: () => void): boolean {
  let set = syncing.get(cluster);
  if (!set) syncing.set(cluster, (set = new Set()));
  if (set.has(uid)) return false;
  set.add(uid);
  try {
    fn();
  } finally {
    set.delete(uid);
  }
  return true;
}

export function ownerRef(def: ResourceDef, owner: KubeObject): Json {
  return { apiVersion: apiVersionOf(def), kind: def.kind, name: owner.metadata.name, uid: owner.metadata.uid, controller: true, blockOwnerDeletion: true };
}

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
export function podStatus(cluster: SimCluster, spec: Json, node: KubeObject | undefined, at: string): Json {
  const qos = qosClass(spec);
  if (!node) {
    return {
      phase: 'Pending',
      conditions: [podCondition('PodScheduled', 'False', at, 'Unschedulable', '0/0 nodes are available: no nodes available to schedule pods.')],
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
  const node = extra.nodeName ? cluster.peek('nodes', undefined, extra.nodeName) : cluster.pickNode();
  let spec: Json = template.spec;
  if (cluster.count('limitranges', namespace) > 0) spec = applyLimitRangeDefaults(cluster, namespace, spec);
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
  return { metadata, spec: podSpec, status: podStatus(cluster, podSpec, node, at) };
}

// ---- create-time defaulting ----

export function prepareCreate(cluster: SimCluster, def: ResourceDef, obj: KubeObject): void {
  const at = cluster.nowIso();
  switch (def.plural) {
    case 'pods': {
      if (obj.status?.phase) return; // built by a controller, or a fixture with its own status
      obj.spec = defaultPodSpec(obj.spec ?? {}, obj.spec?.restartPolicy ?? 'Always');
      const ns = obj.metadata.namespace!;
      if (cluster.count('limitranges', ns) > 0) obj.spec = applyLimitRangeDefaults(cluster, ns, obj.spec);
      obj.spec.tolerations = [...(obj.spec.tolerations ?? []), ...DEFAULT_TOLERATIONS];
      const node = obj.spec.nodeName ? cluster.peek('nodes', undefined, obj.spec.nodeName) : cluster.pickNode();
      if (node) obj.spec.nodeName = node.metadata.name;
      obj.status = podStatus(cluster, obj.spec, node, at);
      return;
    }
    case 'nodes': {
      for (const c of obj.status?.conditions ?? []) {
        c.lastHeartbeatTime ??= at;
        c.lastTransitionTime ??= at;
      }
      const info = obj.status?.nodeInfo;
      if (info) {
        info.machineID ||= cluster.rand.hex(32);
        info.systemUUID ||= cluster.rand.uuid();
        info.bootID ||= cluster.rand.uuid();
      }
      return;
    }
    case 'namespaces':
      obj.metadata.labels = { 'kubernetes.io/metadata.name': obj.metadata.name, ...(obj.metadata.labels ?? {}) };
      obj.spec ??= { finalizers: ['kubernetes'] };
      obj.status ??= { phase: 'Active' };
      return;
    case 'resourcequotas':
      obj.status = { hard: { ...(obj.spec?.hard ?? {}) }, used: Object.fromEntries(Object.keys(obj.spec?.hard ?? {}).map((k) => [k, '0'])) };
      return;
    case 'deployments':
      obj.spec = {
        replicas: 1,
        revisionHistoryLimit: 10,
        progressDeadlineSeconds: 600,
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
        ...obj.spec,
        template: defaultTemplate(obj.spec?.template),
      };
      obj.status ??= {};
      return;
    case 'replicasets':
      obj.spec = { replicas: 1, ...obj.spec, template: defaultTemplate(obj.spec?.template) };
      obj.status ??= { replicas: 0 };
      return;
    case 'statefulsets':
      obj.spec = {
        replicas: 1,
        podManagementPolicy: 'OrderedReady',
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
        revisionHistoryLimit: 10,
        persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
        ...obj.spec,
        template: defaultTemplate(obj.spec?.template),
      };
      obj.status ??= { replicas: 0, availableReplicas: 0 };
      return;
    case 'daemonsets':
      obj.spec = {
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
        revisionHistoryLimit: 10,
        ...obj.spec,
        template: defaultTemplate(obj.spec?.template),
      };
      obj.status ??= { currentNumberScheduled: 0, desiredNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0 };
      return;
    case 'jobs': {
      const uid = obj.metadata.uid!;
      const jobLabels = { 'batch.kubernetes.io/controller-uid': uid, 'batch.kubernetes.io/job-name': obj.metadata.name, 'controller-uid': uid, 'job-name': obj.metadata.name };
      const template = defaultTemplate(obj.spec?.template, 'Never');
      template.metadata = { ...template.metadata, labels: { ...(template.metadata?.labels ?? {}), ...jobLabels } };
      obj.spec = {
        parallelism: 1,
        completions: 1,
        backoffLimit: 6,
        completionMode: 'NonIndexed',
        suspend: false,
        podReplacementPolicy: 'TerminatingOrFailed',
        manualSelector: false,
        ...obj.spec,
        selector: obj.spec?.selector ?? { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } },
        template,
      };
      obj.metadata.labels = { ...jobLabels, ...(obj.metadata.labels ?? {}) };
      obj.status ??= {};
      return;
    }
    case 'cronjobs':
      obj.spec = {
        concurrencyPolicy: 'Allow',
        suspend: false,
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 1,
        ...obj.spec,
        jobTemplate: { metadata: {}, ...obj.spec?.jobTemplate, spec: { ...obj.spec?.jobTemplate?.spec, template: defaultTemplate(obj.spec?.jobTemplate?.spec?.template, 'Never') } },
      };
      obj.status ??= {};
      return;
    default:
      return;
  }
}

export function defaultTemplate(template: Json, restartPolicy = 'Always'): Json {
  const t = template ?? {};
  return { metadata: { ...(t.metadata ?? {}) }, spec: defaultPodSpec(t.spec ?? { containers: [] }, t.spec?.restartPolicy ?? restartPolicy) };
}

// ---- reactions to writes ----

export function afterWrite(cluster: SimCluster, def: ResourceDef, type: ChangeType, obj: KubeObject, previous?: KubeObject): void {
  const ns = obj.metadata.namespace;
  switch (def.plural) {
    case 'deployments':
      if (type === 'DELETED') deleteDependents(cluster, 'replicasets', obj);
      else syncDeployment(cluster, obj);
      return;
    case 'replicasets':
      if (type === 'DELETED') deletePodsOf(cluster, obj);
      else syncReplicaSet(cluster, obj);
      return;
    case 'statefulsets':
      if (type === 'DELETED') deletePodsOf(cluster, obj);
      else syncStatefulSet(cluster, obj);
      return;
    case 'daemonsets':
      if (type === 'DELETED') deletePodsOf(cluster, obj);
      else syncDaemonSet(cluster, obj);
      return;
    case 'jobs':
      if (type === 'DELETED') deletePodsOf(cluster, obj);
      else syncJob(cluster, obj);
      return;
    case 'cronjobs':
      if (type === 'DELETED') deleteDependents(cluster, 'jobs', obj);
      return;
    case 'nodes':
      if (type === 'ADDED') for (const ds of cluster.list('daemonsets')) syncDaemonSet(cluster, ds);
      return;
    case 'namespaces':
      if (type === 'DELETED') {
        for (const plural of ['deployments', 'statefulsets', 'daemonsets', 'cronjobs', 'jobs', 'replicasets', 'pods', 'events', 'limitranges', 'resourcequotas']) {
          for (const o of cluster.list(plural, obj.metadata.name)) if (cluster.peek(plural, ns ?? o.metadata.namespace, o.metadata.name)) cluster.delete(plural, o.metadata.namespace, o.metadata.name);
        }
      }
      return;
    case 'pods': {
      if (type === 'ADDED') return;
      if (type === 'MODIFIED' && previous && !podChangedForOwner(previous, obj)) return;
      syncOwnerOf(cluster, obj);
      return;
    }
    default:
      return;
  }
}

function isReady(pod: KubeObject): boolean {
  return (pod.status?.conditions ?? []).some((c: Json) => c.type === 'Ready' && c.status === 'True');
}

function isActive(pod: KubeObject): boolean {
  return !pod.metadata.deletionTimestamp && pod.status?.phase !== 'Failed' && pod.status?.phase !== 'Succeeded';
}

function podChangedForOwner(a: KubeObject, b: KubeObject): boolean {
  return a.status?.phase !== b.status?.phase || isReady(a) !== isReady(b) || a.metadata.deletionTimestamp !== b.metadata.deletionTimestamp;
}

export function syncOwnerOf(cluster: SimCluster, pod: KubeObject): void {
  const ref = controllerOf(pod);
  if (!ref) return;
  const plural = { ReplicaSet: 'replicasets', StatefulSet: 'statefulsets', DaemonSet: 'daemonsets', Job: 'jobs' }[ref.kind];
  if (!plural) return;
  const owner = cluster.peek(plural, pod.metadata.namespace, ref.name);
  if (!owner || owner.metadata.uid !== ref.uid) return;
  if (plural === 'replicasets') syncReplicaSet(cluster, owner);
  else if (plural === 'statefulsets') syncStatefulSet(cluster, owner);
  else if (plural === 'daemonsets') syncDaemonSet(cluster, owner);
  else syncJob(cluster, owner);
}

function ownedBy(cluster: SimCluster, plural: string, owner: KubeObject): KubeObject[] {
  return cluster.list(plural, owner.metadata.namespace).filter((o) => controllerOf(o)?.uid === owner.metadata.uid);
}

function deleteDependents(cluster: SimCluster, plural: string, owner: KubeObject): void {
  for (const o of ownedBy(cluster, plural, owner)) cluster.delete(plural, o.metadata.namespace, o.metadata.name);
}

function deletePodsOf(cluster: SimCluster, owner: KubeObject): void {
  for (const p of cluster.podsOwnedBy(owner.metadata.uid!)) cluster.delete('pods', p.metadata.namespace, p.metadata.name);
}

// ---- Deployment ----

function syncDeployment(cluster: SimCluster, d: KubeObject): void {
  guard(cluster, d.metadata.uid!, () => {
    const ns = d.metadata.namespace!;
    const hash = templateHash(d.spec.template);
    const rsName = `${d.metadata.name}-${hash}`;
    const owned = ownedBy(cluster, 'replicasets', d);
    const replicas = d.spec.replicas ?? 1;
    const maxRevision = Math.max(0, ...owned.map((rs) => Number(rs.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? 0)));
    const current = owned.find((rs) => rs.metadata.name === rsName);
    const annotations = (revision: number): Record<string, string> => ({
      'deployment.kubernetes.io/desired-replicas': String(replicas),
      'deployment.kubernetes.io/max-replicas': String(replicas + Math.ceil(replicas * 0.25)),
      'deployment.kubernetes.io/revision': String(revision),
    });
    // Scale old ReplicaSets down first: the rollout is instant.
    for (const rs of owned) {
      if (rs.metadata.name !== rsName && (rs.spec.replicas ?? 0) !== 0) {
        cluster.update('replicasets', ns, rs.metadata.name, (r) => {
          r.spec.replicas = 0;
          r.metadata.annotations = { ...(r.metadata.annotations ?? {}), 'deployment.kubernetes.io/desired-replicas': String(replicas) };
        });
      }
    }
    if (!current) {
      const labels = { ...(d.spec.template.metadata?.labels ?? {}), 'pod-template-hash': hash };
      cluster.create('replicasets', {
        metadata: { name: rsName, namespace: ns, labels, annotations: annotations(maxRevision + 1), ownerReferences: [ownerRef(resourceDef('deployments'), d)] },
        spec: {
          replicas,
          minReadySeconds: d.spec.minReadySeconds ?? 0,
          selector: { matchLabels: { ...(d.spec.selector?.matchLabels ?? {}), 'pod-template-hash': hash } },
          template: { metadata: { ...d.spec.template.metadata, labels }, spec: d.spec.template.spec },
        },
      });
    } else {
      const isLatest = Number(current.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? 0) === maxRevision;
      if ((current.spec.replicas ?? 0) !== replicas || !isLatest) {
        cluster.update('replicasets', ns, rsName, (r) => {
          r.spec.replicas = replicas;
          r.metadata.annotations = { ...(r.metadata.annotations ?? {}), ...annotations(isLatest ? maxRevision : maxRevision + 1) };
        });
      }
    }
  });
  updateDeploymentStatus(cluster, d.metadata.namespace!, d.metadata.name);
}

function updateDeploymentStatus(cluster: SimCluster, ns: string, name: string): void {
  const d = cluster.peek('deployments', ns, name);
  if (!d) return;
  const hash = templateHash(d.spec.template);
  let replicas = 0;
  let updated = 0;
  let ready = 0;
  for (const rs of ownedBy(cluster, 'replicasets', d)) {
    for (const p of cluster.podsOwnedBy(rs.metadata.uid!)) {
      if (!isActive(p)) continue;
      replicas++;
      if (rs.metadata.name === `${name}-${hash}`) updated++;
      if (isReady(p)) ready++;
    }
  }
  const desired = d.spec.replicas ?? 1;
  const at = cluster.nowIso();
  cluster.updateIfChanged('deployments', ns, name, (x) => {
    const prev: Json[] = x.status?.conditions ?? [];
    const cond = (type: string, status: string, reason: string, message: string): Json => {
      const old = prev.find((c) => c.type === type);
      const same = old && old.status === status && old.reason === reason;
      return { type, status, lastUpdateTime: same ? old.lastUpdateTime : at, lastTransitionTime: old && old.status === status ? old.lastTransitionTime : at, reason, message };
    };
    const available = ready >= desired - Math.floor(desired * 0.25);
    const status: Json = { observedGeneration: x.metadata.generation, replicas, updatedReplicas: updated, readyReplicas: ready, availableReplicas: ready };
    if (replicas - ready > 0) status.unavailableReplicas = replicas - ready;
    status.conditions = [
      available
        ? cond('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.')
        : cond('Available', 'False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.'),
      cond('Progressing', 'True', 'NewReplicaSetAvailable', `ReplicaSet "${name}-${hash}" has successfully progressed.`),
    ];
    if (!ready) delete status.readyReplicas;
    if (!ready) delete status.availableReplicas;
    x.status = status;
  });
}

// ---- ReplicaSet ----

function syncReplicaSet(cluster: SimCluster, rs: KubeObject): void {
  const ns = rs.metadata.namespace!;
  const ran = guard(cluster, rs.metadata.uid!, () => {
    const pods = cluster.podsOwnedBy(rs.metadata.uid!).filter(isActive);
    const want = rs.spec.replicas ?? 1;
    if (pods.length < want) {
      const owner = ownerRef(resourceDef('replicasets'), rs);
      const generateName = `${rs.metadata.name}-`;
      for (let i = pods.length; i < want; i++) {
        let name = `${generateName}${cluster.rand.suffix()}`;
        while (cluster.peek('pods', ns, name)) name = `${generateName}${cluster.rand.suffix()}`;
        cluster.create('pods', buildPod(cluster, ns, name, rs.spec.template, owner, { generateName }));
      }
    } else if (pods.length > want) {
      const extra = pods.sort((a, b) => Number(isReady(a)) - Number(isReady(b))).slice(0, pods.length - want);
      for (const p of extra) cluster.delete('pods', ns, p.metadata.name);
    }
    const current = cluster.podsOwnedBy(rs.metadata.uid!).filter(isActive);
    const ready = current.filter(isReady).length;
    cluster.updateIfChanged('replicasets', ns, rs.metadata.name, (x) => {
      const s: Json = { replicas: current.length, fullyLabeledReplicas: current.length, readyReplicas: ready, availableReplicas: ready, observedGeneration: x.metadata.generation };
      if (!current.length) delete s.fullyLabeledReplicas;
      if (!ready) {
        delete s.readyReplicas;
        delete s.availableReplicas;
      }
      x.status = s;
    });
  });
  const owner = controllerOf(rs);
  if (ran && owner?.kind === 'Deployment') updateDeploymentStatus(cluster, ns, owner.name);
}

// ---- StatefulSet ----

function syncStatefulSet(cluster: SimCluster, sts: KubeObject): void {
  const ns = sts.metadata.namespace!;
  const name = sts.metadata.name;
  guard(cluster, sts.metadata.uid!, () => {
    const revision = `${name}-${templateHash(sts.spec.template)}`;
    const want = sts.spec.replicas ?? 1;
    const owner = ownerRef(resourceDef('statefulsets'), sts);
    for (const p of cluster.podsOwnedBy(sts.metadata.uid!)) {
      const ordinal = Number(p.metadata.name.slice(name.length + 1));
      const stale = p.metadata.labels?.['controller-revision-hash'] !== revision;
      if (ordinal >= want || stale || p.status?.phase === 'Failed' || p.status?.phase === 'Succeeded') cluster.delete('pods', ns, p.metadata.name);
    }
    for (let i = 0; i < want; i++) {
      const podName = `${name}-${i}`;
      if (cluster.peek('pods', ns, podName)) continue;
      const labels = { 'apps.kubernetes.io/pod-index': String(i), 'controller-revision-hash': revision, 'statefulset.kubernetes.io/pod-name': podName };
      const pod = buildPod(cluster, ns, podName, sts.spec.template, owner, { labels, generateName: `${name}-` });
      pod.spec.hostname = podName;
      if (sts.spec.serviceName) pod.spec.subdomain = sts.spec.serviceName;
      cluster.create('pods', pod);
    }
    const pods = cluster.podsOwnedBy(sts.metadata.uid!).filter(isActive);
    const ready = pods.filter(isReady).length;
    cluster.updateIfChanged('statefulsets', ns, name, (x) => {
      x.status = {
        observedGeneration: x.metadata.generation,
        replicas: pods.length,
        readyReplicas: ready,
        currentReplicas: pods.length,
        updatedReplicas: pods.length,
        currentRevision: revision,
        updateRevision: revision,
        collisionCount: 0,
        availableReplicas: ready,
      };
    });
  });
}

// ---- DaemonSet ----

function syncDaemonSet(cluster: SimCluster, ds: KubeObject): void {
  const ns = ds.metadata.namespace!;
  guard(cluster, ds.metadata.uid!, () => {
    const hash = templateHash(ds.spec.template);
    const owner = ownerRef(resourceDef('daemonsets'), ds);
    const byNode = new Map<string, KubeObject>();
    for (const p of cluster.podsOwnedBy(ds.metadata.uid!)) {
      const stale = p.metadata.labels?.['controller-revision-hash'] !== hash;
      if (stale || p.status?.phase === 'Failed' || p.status?.phase === 'Succeeded') cluster.delete('pods', ns, p.metadata.name);
      else if (p.spec.nodeName) byNode.set(p.spec.nodeName, p);
    }
    const nodes = cluster.list('nodes');
    for (const n of nodes) {
      if (byNode.has(n.metadata.name)) continue;
      const labels = { 'controller-revision-hash': hash, 'pod-template-generation': String(ds.metadata.generation ?? 1) };
      const generateName = `${ds.metadata.name}-`;
      cluster.create('pods', buildPod(cluster, ns, `${generateName}${cluster.rand.suffix()}`, ds.spec.template, owner, { labels, nodeName: n.metadata.name, generateName }));
    }
    const pods = cluster.podsOwnedBy(ds.metadata.uid!).filter(isActive);
    const ready = pods.filter(isReady).length;
    cluster.updateIfChanged('daemonsets', ns, ds.metadata.name, (x) => {
      x.status = {
        currentNumberScheduled: pods.length,
        desiredNumberScheduled: nodes.length,
        numberAvailable: ready,
        numberMisscheduled: 0,
        numberReady: ready,
        observedGeneration: x.metadata.generation,
        updatedNumberScheduled: pods.length,
      };
      if (nodes.length > ready) x.status.numberUnavailable = nodes.length - ready;
    });
  });
}

// ---- Job and CronJob ----

function syncJob(cluster: SimCluster, job: KubeObject): void {
  const ns = job.metadata.namespace!;
  guard(cluster, job.metadata.uid!, () => {
    const pods = cluster.podsOwnedBy(job.metadata.uid!);
    const failed = pods.filter((p) => p.status?.phase === 'Failed').length;
    const succeeded = pods.filter((p) => p.status?.phase === 'Succeeded').length;
    let active = pods.filter(isActive);
    const completions = job.spec.completions ?? 1;
    const done = (job.status?.conditions ?? []).some((c: Json) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
    const overLimit = failed > (job.spec.backoffLimit ?? 6);
    if (!done && !overLimit && succeeded < completions) {
      const want = Math.min(job.spec.parallelism ?? 1, completions - succeeded);
      const owner = ownerRef(resourceDef('jobs'), job);
      const generateName = `${job.metadata.name}-`;
      for (let i = active.length; i < want; i++) {
        cluster.create('pods', buildPod(cluster, ns, `${generateName}${cluster.rand.suffix()}`, job.spec.template, owner, { generateName }));
      }
      active = cluster.podsOwnedBy(job.metadata.uid!).filter(isActive);
    }
    const at = cluster.nowIso();
    cluster.updateIfChanged('jobs', ns, job.metadata.name, (x) => {
      const s: Json = { ...(x.status ?? {}) };
      s.startTime ??= at;
      s.active = active.length || undefined;
      s.ready = active.filter(isReady).length;
      s.failed = failed || undefined;
      s.succeeded = succeeded || undefined;
      s.terminating = 0;
      s.uncountedTerminatedPods = {};
      const conds: Json[] = s.conditions ?? [];
      if (overLimit && !conds.some((c) => c.type === 'Failed')) {
        s.conditions = [
          ...conds,
          { type: 'FailureTarget', status: 'True', lastProbeTime: at, lastTransitionTime: at, reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' },
          { type: 'Failed', status: 'True', lastProbeTime: at, lastTransitionTime: at, reason: 'BackoffLimitExceeded', message: 'Job has reached the specified backoff limit' },
        ];
      } else if (succeeded >= completions && !conds.some((c) => c.type === 'Complete')) {
        s.conditions = [
          ...conds,
          { type: 'SuccessCriteriaMet', status: 'True', lastProbeTime: at, lastTransitionTime: at, reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' },
          { type: 'Complete', status: 'True', lastProbeTime: at, lastTransitionTime: at, reason: 'CompletionsReached', message: 'Reached expected number of succeeded pods' },
        ];
        s.completionTime = at;
      }
      for (const k of Object.keys(s)) if (s[k] === undefined) delete s[k];
      x.status = s;
    });
  });
}

export function triggerCronJob(cluster: SimCluster, namespace: string, name: string): KubeObject {
  const cj = cluster.peek('cronjobs', namespace, name);
  if (!cj) throw new Error(`cronjob ${namespace}/${name} not found`);
  const now = cluster.now();
  const minute = Math.floor(now.getTime() / 60_000);
  const scheduled = new Date(minute * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  let jobName = `${name}-${minute}`;
  for (let i = 1; cluster.peek('jobs', namespace, jobName); i++) jobName = `${name}-${minute + i}`;
  const tmpl = cj.spec.jobTemplate ?? {};
  const job = cluster.create('jobs', {
    metadata: {
      name: jobName,
      namespace,
      labels: { ...(tmpl.metadata?.labels ?? {}) },
      annotations: { ...(tmpl.metadata?.annotations ?? {}), 'batch.kubernetes.io/cronjob-scheduled-timestamp': scheduled },
      ownerReferences: [ownerRef(resourceDef('cronjobs'), cj)],
    },
    spec: structuredClone(tmpl.spec ?? {}),
  });
  cluster.update('cronjobs', namespace, name, (x) => {
    x.status = {
      ...(x.status ?? {}),
      active: [...(x.status?.active ?? []), { kind: 'Job', namespace, name: jobName, uid: job.metadata.uid, apiVersion: 'batch/v1', resourceVersion: job.metadata.resourceVersion }],
      lastScheduleTime: scheduled,
    };
  });
  return cluster.peek('jobs', namespace, jobName)!;
}
