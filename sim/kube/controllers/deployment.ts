/**
 * Deployment: one ReplicaSet per template hash. A template change rolls out as the real controller does
 * it: the new ReplicaSet scales up within maxSurge, old ones scale down only as far as maxUnavailable
 * allows given the new pods that are Ready (Recreate: old ones to 0 first). New pods that cannot be
 * scheduled therefore hold the rollout, with the old pods still serving. Unless spec.paused.
 */
import type { Json, KubeObject } from '../types.js';
import type { SimCluster } from '../cluster.js';
import { resourceDef } from '../resources.js';
import { templateHash } from '../rand.js';
import { scalingReplicaSetEvent } from '../build/events.js';
import { guard, isActive, isReady, ownedBy, ownerRef } from './common.js';

/** maxSurge (rounded up) and maxUnavailable (rounded down) of a RollingUpdate, as absolute counts. */
function rollingBounds(d: KubeObject, replicas: number): { surge: number; unavailable: number } {
  const ru = d.spec.strategy?.rollingUpdate ?? {};
  const abs = (v: unknown, fallback: string, up: boolean): number => {
    const raw = v ?? fallback;
    if (typeof raw === 'number') return raw;
    const m = /^(\d+)%$/.exec(String(raw));
    if (!m) return Number(raw) || 0;
    const x = (Number(m[1]) * replicas) / 100;
    return up ? Math.ceil(x) : Math.floor(x);
  };
  const surge = abs(ru.maxSurge, '25%', true);
  const unavailable = abs(ru.maxUnavailable, '25%', false);
  return { surge, unavailable: surge === 0 && unavailable === 0 ? 1 : unavailable };
}

function readyPods(cluster: SimCluster, rs: KubeObject): number {
  return cluster.podsOwnedBy(rs.metadata.uid!).filter((p) => isActive(p) && isReady(p)).length;
}

export function syncDeployment(cluster: SimCluster, d: KubeObject): void {
  guard(cluster, d.metadata.uid!, () => {
    const ns = d.metadata.namespace!;
    const hash = templateHash(d.spec.template);
    const rsName = `${d.metadata.name}-${hash}`;
    const owned = ownedBy(cluster, 'replicasets', d);
    const replicas = d.spec.replicas ?? 1;
    const maxRevision = Math.max(0, ...owned.map((rs) => Number(rs.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? 0)));
    const current = owned.find((rs) => rs.metadata.name === rsName);
    const { surge, unavailable } = rollingBounds(d, replicas);
    const recreate = d.spec.strategy?.type === 'Recreate';
    const annotations = (revision: number): Record<string, string> => ({
      'deployment.kubernetes.io/desired-replicas': String(replicas),
      'deployment.kubernetes.io/max-replicas': String(replicas + surge),
      'deployment.kubernetes.io/revision': String(revision),
    });
    // A paused Deployment does not roll out template changes: its running pods keep the old template.
    if (d.spec.paused && owned.length > 0 && !current) return;
    const setReplicas = (name: string, n: number): void => {
      const before = cluster.peek('replicasets', ns, name)?.spec.replicas ?? 0;
      if (before !== n) scaledEvent(cluster, d, name, before, n);
      cluster.update('replicasets', ns, name, (r) => {
        r.spec.replicas = n;
        r.metadata.annotations = { ...(r.metadata.annotations ?? {}), 'deployment.kubernetes.io/desired-replicas': String(replicas) };
      });
    };
    const oldOnes = (): KubeObject[] =>
      ownedBy(cluster, 'replicasets', d)
        .filter((rs) => rs.metadata.name !== rsName && (rs.spec.replicas ?? 0) > 0)
        .sort((a, b) => String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)));
    const oldTotal = (): number => oldOnes().reduce((n, rs) => n + (rs.spec.replicas ?? 0), 0);
    if (recreate) for (const rs of oldOnes()) setReplicas(rs.metadata.name, 0);

    if (!current) {
      const labels = { ...(d.spec.template.metadata?.labels ?? {}), 'pod-template-hash': hash };
      const start = recreate ? replicas : Math.max(0, Math.min(replicas, replicas + surge - oldTotal()));
      cluster.create('replicasets', {
        metadata: {
          name: rsName,
          namespace: ns,
          labels,
          annotations: annotations(maxRevision + 1),
          ownerReferences: [ownerRef(resourceDef('deployments'), d)],
        },
        spec: {
          replicas: start,
          minReadySeconds: d.spec.minReadySeconds ?? 0,
          selector: { matchLabels: { ...(d.spec.selector?.matchLabels ?? {}), 'pod-template-hash': hash } },
          template: { metadata: { ...d.spec.template.metadata, labels }, spec: d.spec.template.spec },
        },
      });
      if (start > 0) scaledEvent(cluster, d, rsName, 0, start);
    } else {
      const isLatest = Number(current.metadata.annotations?.['deployment.kubernetes.io/revision'] ?? 0) === maxRevision;
      if (!isLatest) {
        cluster.update('replicasets', ns, rsName, (r) => {
          r.metadata.annotations = { ...(r.metadata.annotations ?? {}), ...annotations(maxRevision + 1) };
        });
      }
    }
    // The Deployment carries its newest revision too, as the real controller sets it.
    const revision = cluster.peek('replicasets', ns, rsName)?.metadata.annotations?.['deployment.kubernetes.io/revision'];
    if (revision && cluster.peek('deployments', ns, d.metadata.name)?.metadata.annotations?.['deployment.kubernetes.io/revision'] !== revision) {
      cluster.update('deployments', ns, d.metadata.name, (x) => {
        x.metadata.annotations = { ...(x.metadata.annotations ?? {}), 'deployment.kubernetes.io/revision': revision };
      });
    }
    // Steps of the rolling update until nothing moves (pods here are Ready as soon as they are scheduled).
    for (let step = 0; step < 2 * replicas + 4; step++) {
      const rs = cluster.peek('replicasets', ns, rsName);
      if (!rs) break;
      let moved = false;
      const newReplicas = rs.spec.replicas ?? 0;
      const old = oldOnes();
      const total = newReplicas + oldTotal();
      if (old.length === 0) {
        if (newReplicas !== replicas) {
          setReplicas(rsName, replicas);
          moved = true;
        }
      } else {
        if (newReplicas < replicas) {
          const up = Math.min(replicas + surge - total, replicas - newReplicas);
          if (up > 0) {
            setReplicas(rsName, newReplicas + up);
            moved = true;
          }
        }
        const fresh = cluster.peek('replicasets', ns, rsName)!;
        const newUnavailable = (fresh.spec.replicas ?? 0) - readyPods(cluster, fresh);
        let down = (fresh.spec.replicas ?? 0) + oldTotal() - (replicas - unavailable) - newUnavailable;
        for (const o of old) {
          if (down <= 0) break;
          const n = Math.min(o.spec.replicas ?? 0, down);
          setReplicas(o.metadata.name, (o.spec.replicas ?? 0) - n);
          down -= n;
          moved = true;
        }
      }
      if (!moved) break;
    }
  });
  updateDeploymentStatus(cluster, d.metadata.namespace!, d.metadata.name);
}

/** The deployment controller's ScalingReplicaSet Event on the Deployment. */
function scaledEvent(cluster: SimCluster, d: KubeObject, replicaSet: string, from: number, to: number): void {
  cluster.recordEvent({
    involved: {
      kind: 'Deployment',
      namespace: d.metadata.namespace!,
      name: d.metadata.name,
      uid: d.metadata.uid!,
      apiVersion: 'apps/v1',
      ...(d.metadata.resourceVersion ? { resourceVersion: d.metadata.resourceVersion } : {}),
    },
    ...scalingReplicaSetEvent(replicaSet, from, to),
    component: 'deployment-controller',
  });
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
  const complete = updated === desired && replicas === desired && ready >= desired;
  cluster.updateIfChanged('deployments', ns, name, (x) => {
    const prev: Json[] = x.status?.conditions ?? [];
    const cond = (type: string, status: string, reason: string, message: string, touched = false): Json => {
      const old = prev.find((c) => c.type === type);
      const same = old && old.status === status && old.reason === reason;
      return {
        type,
        status,
        lastUpdateTime: same && !touched ? old.lastUpdateTime : at,
        lastTransitionTime: old && old.status === status ? old.lastTransitionTime : at,
        reason,
        message,
      };
    };
    const available = ready >= desired - Math.floor(desired * 0.25);
    const status: Json = { observedGeneration: x.metadata.generation, replicas, updatedReplicas: updated, readyReplicas: ready, availableReplicas: ready };
    if (replicas - ready > 0) status.unavailableReplicas = replicas - ready;
    const rsName = `${name}-${hash}`;
    // Progressing: updated on every step of a rollout; past progressDeadlineSeconds without a step, False
    // with ProgressDeadlineExceeded (checked whenever the status is computed).
    const old = x.status ?? {};
    const stepped = old.updatedReplicas !== updated || old.readyReplicas !== (ready || undefined) || old.observedGeneration !== x.metadata.generation;
    let progressing: Json;
    if (complete) progressing = cond('Progressing', 'True', 'NewReplicaSetAvailable', `ReplicaSet "${rsName}" has successfully progressed.`);
    else {
      progressing = cond('Progressing', 'True', 'ReplicaSetUpdated', `ReplicaSet "${rsName}" is progressing.`, stepped);
      const deadline = (x.spec.progressDeadlineSeconds ?? 600) * 1000;
      const prevProgress = prev.find((c) => c.type === 'Progressing');
      if (prevProgress?.reason === 'ProgressDeadlineExceeded' && !stepped) progressing = prevProgress;
      else if (!stepped && Date.parse(at) - Date.parse(progressing.lastUpdateTime) > deadline) {
        progressing = cond('Progressing', 'False', 'ProgressDeadlineExceeded', `ReplicaSet "${rsName}" has timed out progressing.`);
      }
    }
    status.conditions = [
      available
        ? cond('Available', 'True', 'MinimumReplicasAvailable', 'Deployment has minimum availability.')
        : cond('Available', 'False', 'MinimumReplicasUnavailable', 'Deployment does not have minimum availability.'),
      progressing,
    ];
    if (!ready) delete status.readyReplicas;
    if (!ready) delete status.availableReplicas;
    x.status = status;
  });
}
