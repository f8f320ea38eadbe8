/**
 * Deployment: one ReplicaSet per template hash; a template change rolls out at once (old ReplicaSets scaled
 * to 0), unless spec.paused.
 */
import type { Json, KubeObject } from '../types.js';
import type { SimCluster } from '../cluster.js';
import { resourceDef } from '../resources.js';
import { templateHash } from '../rand.js';
import { guard, isActive, isReady, ownedBy, ownerRef } from './common.js';

export function syncDeployment(cluster: SimCluster, d: KubeObject): void {
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
    // A paused Deployment does not roll out template changes: its running pods keep the old template.
    if (d.spec.paused && owned.length > 0 && !current) return;
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
        metadata: {
          name: rsName,
          namespace: ns,
          labels,
          annotations: annotations(maxRevision + 1),
          ownerReferences: [ownerRef(resourceDef('deployments'), d)],
        },
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

export function updateDeploymentStatus(cluster: SimCluster, ns: string, name: string): void {
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
      return {
        type,
        status,
        lastUpdateTime: same ? old.lastUpdateTime : at,
        lastTransitionTime: old && old.status === status ? old.lastTransitionTime : at,
        reason,
        message,
      };
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
