/** ReplicaSet: creates or deletes pods to match replicas, and reports back to its Deployment. */
import type { Json, KubeObject } from '../types.js';
import type { SimCluster } from '../cluster.js';
import { resourceDef } from '../resources.js';
import { controllerOf } from '../object-meta.js';
import { guard, isActive, isReady, ownerRef } from './common.js';
import { buildPod } from './pods.js';
import { updateDeploymentStatus } from './deployment.js';

export function syncReplicaSet(cluster: SimCluster, rs: KubeObject): void {
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
      const s: Json = {
        replicas: current.length,
        fullyLabeledReplicas: current.length,
        readyReplicas: ready,
        availableReplicas: ready,
        observedGeneration: x.metadata.generation,
      };
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
