/** DaemonSet: one pod per node (taints and node selectors are ignored); OnDelete waits for its pods to be deleted. */
import type { KubeObject } from '../types.js';
import type { SimCluster } from '../cluster.js';
import { resourceDef } from '../resources.js';
import { templateHash } from '../rand.js';
import { guard, isActive, isReady, ownerRef, syncControllerRevision } from './common.js';
import { buildPod } from './pods.js';

export function syncDaemonSet(cluster: SimCluster, ds: KubeObject): void {
  const ns = ds.metadata.namespace!;
  guard(cluster, ds.metadata.uid!, () => {
    const hash = templateHash(ds.spec.template);
    const owner = ownerRef(resourceDef('daemonsets'), ds);
    syncControllerRevision(cluster, resourceDef('daemonsets'), ds, `${ds.metadata.name}-${hash}`, hash);
    const byNode = new Map<string, KubeObject>();
    for (const p of cluster.podsOwnedBy(ds.metadata.uid!)) {
      // OnDelete: a pod of an old revision stays until someone deletes it.
      const stale = p.metadata.labels?.['controller-revision-hash'] !== hash && ds.spec.updateStrategy?.type !== 'OnDelete';
      if (stale || p.status?.phase === 'Failed' || p.status?.phase === 'Succeeded') cluster.delete('pods', ns, p.metadata.name);
      else if (p.spec.nodeName) byNode.set(p.spec.nodeName, p);
    }
    const nodes = cluster.list('nodes');
    for (const n of nodes) {
      if (byNode.has(n.metadata.name)) continue;
      const labels = { 'controller-revision-hash': hash, 'pod-template-generation': String(ds.metadata.generation ?? 1) };
      const generateName = `${ds.metadata.name}-`;
      cluster.create(
        'pods',
        buildPod(cluster, ns, `${generateName}${cluster.rand.suffix()}`, ds.spec.template, owner, { labels, nodeName: n.metadata.name, generateName }),
      );
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
        updatedNumberScheduled: pods.filter((p) => p.metadata.labels?.['controller-revision-hash'] === hash).length,
      };
      if (nodes.length > ready) x.status.numberUnavailable = nodes.length - ready;
    });
  });
}
