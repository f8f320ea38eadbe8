/** The pod indexes the simulated API server keeps: by controller owner and by node. */
import type { Change, KubeObject } from './types.js';
import { controllerOf } from './object-meta.js';

export class PodIndex {
  /** controller owner uid -> keys of pods it controls */
  private readonly byOwner = new Map<string, Set<string>>();
  private readonly byNode = new Map<string, Set<string>>();

  /** Keys ("namespace/name") of the pods whose controller ownerReference has this uid. */
  ownedBy(uid: string): Iterable<string> {
    return this.byOwner.get(uid) ?? [];
  }

  /** Keys of the pods on a node, sorted (the API server's spec.nodeName index). */
  onNode(node: string): string[] {
    return [...(this.byNode.get(node) ?? [])].sort();
  }

  update(type: Change['type'], key: string, pod: KubeObject): void {
    // By node, as the API server's watch cache indexes spec.nodeName (a pod's node never changes once set).
    const node = pod.spec?.nodeName as string | undefined;
    if (node) updateSet(this.byNode, node, key, type);
    const owner = controllerOf(pod);
    if (owner) updateSet(this.byOwner, owner.uid, key, type);
  }
}

/** Adds `key` to the set under `index`, or removes it on DELETED (dropping the set once empty). */
function updateSet(map: Map<string, Set<string>>, index: string, key: string, type: Change['type']): void {
  let set = map.get(index);
  if (type === 'DELETED') {
    set?.delete(key);
    if (set && set.size === 0) map.delete(index);
    return;
  }
  if (!set) map.set(index, (set = new Set()));
  set.add(key);
}
