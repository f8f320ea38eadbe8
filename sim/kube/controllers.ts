/**
 * Minimal, synchronous controllers: defaulting on create, Deployment -> ReplicaSet -> Pods,
 * StatefulSet, DaemonSet, Job, CronJob, garbage collection of dependents. A Deployment rolls a template
 * change out in maxSurge/maxUnavailable steps (pods become Ready as soon as they are scheduled); a
 * StatefulSet with OnDelete waits for its pods to be deleted. Scheduling is round-robin over Ready nodes
 * (by memory requests with scheduleByMemory) and ignores affinity and taints. Each workload kind has its module in controllers/; this one routes
 * every write to the controller that reacts to it.
 */
import type { KubeObject, ChangeType } from './types.js';
import type { SimCluster } from './cluster.js';
import type { ResourceDef } from './resources.js';
import { controllerOf } from './object-meta.js';
import { podRef } from './build/events.js';
import { deleteDependents, deletePodsOf, isReady } from './controllers/common.js';
import { syncDeployment } from './controllers/deployment.js';
import { syncReplicaSet } from './controllers/replicaset.js';
import { syncStatefulSet } from './controllers/statefulset.js';
import { syncDaemonSet } from './controllers/daemonset.js';
import { syncJob } from './controllers/job.js';

export { ownerRef } from './controllers/common.js';
export { normalizeImage, imageID, containerID, runningContainerStatus, podStatus, buildPod } from './controllers/pods.js';
export { prepareCreate, defaultTemplate } from './controllers/on-create.js';
export { triggerCronJob } from './controllers/job.js';
export { updateDeploymentStatus } from './controllers/deployment.js';

/** Lets the controllers react to a write: sync the written workload, or the owner of a pod that changed. */
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
      if (type === 'DELETED') {
        deletePodsOf(cluster, obj);
        deleteDependents(cluster, 'controllerrevisions', obj);
      } else syncStatefulSet(cluster, obj);
      return;
    case 'daemonsets':
      if (type === 'DELETED') {
        deletePodsOf(cluster, obj);
        deleteDependents(cluster, 'controllerrevisions', obj);
      } else syncDaemonSet(cluster, obj);
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
        for (const plural of [
          'deployments',
          'statefulsets',
          'daemonsets',
          'cronjobs',
          'jobs',
          'replicasets',
          'pods',
          'events',
          'limitranges',
          'resourcequotas',
        ]) {
          for (const o of cluster.list(plural, obj.metadata.name))
            if (cluster.peek(plural, ns ?? o.metadata.namespace, o.metadata.name)) cluster.delete(plural, o.metadata.namespace, o.metadata.name);
        }
      }
      return;
    case 'pods': {
      if (type === 'ADDED') {
        recordFailedScheduling(cluster, obj);
        return;
      }
      if (type === 'MODIFIED' && previous && !podChangedForOwner(previous, obj)) return;
      syncOwnerOf(cluster, obj);
      return;
    }
    default:
      return;
  }
}

/** kube-scheduler's FailedScheduling Warning on a pod it could not place. */
function recordFailedScheduling(cluster: SimCluster, pod: KubeObject): void {
  const cond = (pod.status?.conditions ?? []).find((c: { type?: string }) => c.type === 'PodScheduled');
  if (!cluster.scheduleByMemory || pod.status?.phase !== 'Pending' || cond?.status !== 'False' || cond.reason !== 'Unschedulable') return;
  cluster.recordEvent({
    involved: podRef(pod),
    type: 'Warning',
    reason: 'FailedScheduling',
    message: String(cond.message ?? ''),
    component: 'default-scheduler',
  });
}

function podChangedForOwner(a: KubeObject, b: KubeObject): boolean {
  return a.status?.phase !== b.status?.phase || isReady(a) !== isReady(b) || a.metadata.deletionTimestamp !== b.metadata.deletionTimestamp;
}

/** Sync the controller that owns `pod`, if it still exists with the same uid. */
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
