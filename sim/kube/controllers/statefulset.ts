/** StatefulSet: pods <name>-0..n-1, replaced when their revision is stale (RollingUpdate) or they ended. */
import type { KubeObject } from '../types.js';
import type { SimCluster } from '../cluster.js';
import { resourceDef } from '../resources.js';
import { templateHash } from '../rand.js';
import { guard, isActive, isReady, ownerRef, syncControllerRevision } from './common.js';
import { buildPod } from './pods.js';

export function syncStatefulSet(cluster: SimCluster, sts: KubeObject): void {
  const ns = sts.metadata.namespace!;
  const name = sts.metadata.name;
  guard(cluster, sts.metadata.uid!, () => {
    const hash = templateHash(sts.spec.template);
    const revision = `${name}-${hash}`;
    const want = sts.spec.replicas ?? 1;
    const owner = ownerRef(resourceDef('statefulsets'), sts);
    syncControllerRevision(cluster, resourceDef('statefulsets'), sts, revision, hash);
    for (const p of cluster.podsOwnedBy(sts.metadata.uid!)) {
      const ordinal = Number(p.metadata.name.slice(name.length + 1));
      // OnDelete: a pod of an old revision stays until someone deletes it.
      const stale = p.metadata.labels?.['controller-revision-hash'] !== revision && sts.spec.updateStrategy?.type !== 'OnDelete';
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
    const updated = pods.filter((p) => p.metadata.labels?.['controller-revision-hash'] === revision).length;
    cluster.updateIfChanged('statefulsets', ns, name, (x) => {
      const done = updated === pods.length;
      const currentRevision = done ? revision : (x.status?.currentRevision ?? revision);
      x.status = {
        observedGeneration: x.metadata.generation,
        replicas: pods.length,
        readyReplicas: ready,
        currentReplicas: pods.filter((p) => p.metadata.labels?.['controller-revision-hash'] === currentRevision).length,
        updatedReplicas: updated,
        currentRevision,
        updateRevision: revision,
        collisionCount: 0,
        availableReplicas: ready,
      };
    });
  });
}
