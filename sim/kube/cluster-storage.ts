/**
 * The API server's storage under the simulated cluster: objects per resource, one global
 * resourceVersion, a bounded change history per resource for watch resumption, and synchronous
 * subscribers. It knows nothing of controllers; SimCluster builds the cluster's behaviour on top.
 */
import { ResourceStore, objectKey } from './store.js';
import { RESOURCES, resourceDef, type ResourceDef, type ResourceName } from './resources.js';
import { withKind } from './object-meta.js';
import type { Change, ChangeListener, KubeObject } from './types.js';

export class ClusterStorage {
  private rv = 0;
  private readonly stores = new Map<string, ResourceStore>();
  private readonly listeners = new Set<ChangeListener>();

  /** `historySize`: changes kept per resource for watch resumption. */
  constructor(historySize: number) {
    for (const def of RESOURCES) this.stores.set(def.plural, new ResourceStore(def.plural, historySize));
  }

  /** Current (latest) resourceVersion, as a string. */
  get resourceVersion(): string {
    return String(this.rv);
  }

  get resourceVersionNumber(): number {
    return this.rv;
  }

  /** Called synchronously on every write. Returns an unsubscribe function. */
  subscribe(listener: ChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Changes of `resource` after `rv`, or undefined when that history is gone (410). */
  changesSince(resource: string, rv: number): Change[] | undefined {
    return this.store(resource).since(rv);
  }

  oldestResourceVersion(resource: string): number {
    return this.store(resource).oldestRv(this.rv);
  }

  /** Drop all change history: watches from any older resourceVersion answer 410 Gone. */
  compact(): void {
    for (const s of this.stores.values()) s.compact(this.rv);
  }

  // ---- raw store access ----

  /** @internal */
  store(resource: string): ResourceStore {
    const s = this.stores.get(resource);
    if (!s) throw new Error(`unknown resource ${resource}`);
    return s;
  }

  /** The stored object itself (do not mutate it: stored objects are shared with watch history). */
  peek(resource: ResourceName | string, namespace: string | undefined, name: string): KubeObject | undefined {
    const def = resourceDef(resource);
    return this.store(resource).objects.get(objectKey(def.namespaced ? namespace : undefined, name));
  }

  /** A copy of an object, with kind and apiVersion as a GET returns it. */
  get(resource: ResourceName | string, namespace: string | undefined, name: string): KubeObject | undefined {
    const obj = this.peek(resource, namespace, name);
    return obj ? withKind(resourceDef(resource), structuredClone(obj)) : undefined;
  }

  /** Stored objects (not copies; do not mutate), optionally of one namespace. */
  list(resource: ResourceName | string, namespace?: string): KubeObject[] {
    const out: KubeObject[] = [];
    for (const o of this.store(resource).objects.values()) if (!namespace || o.metadata.namespace === namespace) out.push(o);
    return out;
  }

  count(resource: ResourceName | string, namespace?: string): number {
    const s = this.store(resource);
    if (!namespace) return s.objects.size;
    let n = 0;
    for (const o of s.objects.values()) if (o.metadata.namespace === namespace) n++;
    return n;
  }

  // ---- writes ----

  /** Stores (or removes) `obj` under a new resourceVersion, records the change and tells the subscribers. */
  protected write(def: ResourceDef, type: Change['type'], obj: KubeObject, previous?: KubeObject): KubeObject {
    const rv = ++this.rv;
    obj.metadata.resourceVersion = String(rv);
    const store = this.store(def.plural);
    const key = objectKey(obj.metadata.namespace, obj.metadata.name);
    if (type === 'DELETED') store.delete(key);
    else store.set(key, obj);
    this.stored(def, type, key, obj);
    const change: Change = previous ? { resource: def.plural, type, rv, object: obj, previous } : { resource: def.plural, type, rv, object: obj };
    store.record(change);
    for (const l of this.listeners) {
      try {
        l(change);
      } catch {
        // A failing subscriber must not break the cluster.
      }
    }
    return obj;
  }

  /** Called on every write, after the store changed and before anyone hears of it: keeps indexes current. */
  protected stored(_def: ResourceDef, _type: Change['type'], _key: string, _obj: KubeObject): void {}
}
