/** What the workload controllers share: re-entrancy guard, owner references, pod readiness, dependents. */
import type { Json, KubeObject } from '../types.js';
import type { SimCluster } from '../cluster.js';
import { apiVersionOf, type ResourceDef } from '../resources.js';
import { controllerOf } from '../object-meta.js';

const syncing = new WeakMap<SimCluster, Set<string>>();

/** Runs `fn` unless a sync of the same object is already running further up the stack. */
export function guard(cluster: SimCluster, uid: string, fn: () => void): boolean {
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

export function isReady(pod: KubeObject): boolean {
  return (pod.status?.conditions ?? []).some((c: Json) => c.type === 'Ready' && c.status === 'True');
}

/** Counts towards replicas: neither terminating nor ended. */
export function isActive(pod: KubeObject): boolean {
  return !pod.metadata.deletionTimestamp && pod.status?.phase !== 'Failed' && pod.status?.phase !== 'Succeeded';
}

/** Objects of `plural` whose controller is `owner`. */
export function ownedBy(cluster: SimCluster, plural: string, owner: KubeObject): KubeObject[] {
  return cluster.list(plural, owner.metadata.namespace).filter((o) => controllerOf(o)?.uid === owner.metadata.uid);
}

/** Garbage collection with background propagation: dependents go as soon as their owner does. */
export function deleteDependents(cluster: SimCluster, plural: string, owner: KubeObject): void {
  for (const o of ownedBy(cluster, plural, owner)) cluster.delete(plural, o.metadata.namespace, o.metadata.name);
}

export function deletePodsOf(cluster: SimCluster, owner: KubeObject): void {
  for (const p of cluster.podsOwnedBy(owner.metadata.uid!)) cluster.delete('pods', p.metadata.namespace, p.metadata.name);
}

/**
 * The ControllerRevision a StatefulSet or DaemonSet controller keeps for its current pod template, named
 * `name` (`<owner>-<hash>`): created with the next revision number, or, for a template seen before (a
 * rollback), moved to the next revision. `data` is the template as the controllers store it, a replace patch.
 */
export function syncControllerRevision(cluster: SimCluster, def: ResourceDef, owner: KubeObject, name: string, hash: string): void {
  const ns = owner.metadata.namespace!;
  const owned = ownedBy(cluster, 'controllerrevisions', owner);
  const max = Math.max(0, ...owned.map((r) => Number(r.revision ?? 0)));
  const current = owned.find((r) => r.metadata.name === name);
  if (current) {
    if (Number(current.revision ?? 0) !== max) cluster.update('controllerrevisions', ns, name, (r) => (r.revision = max + 1));
    return;
  }
  cluster.create('controllerrevisions', {
    metadata: {
      name,
      namespace: ns,
      labels: { ...(owner.spec.selector?.matchLabels ?? {}), 'controller.kubernetes.io/hash': hash },
      ownerReferences: [ownerRef(def, owner)],
    },
    data: { spec: { template: { ...structuredClone(owner.spec.template), $patch: 'replace' } } },
    revision: max + 1,
  });
}
