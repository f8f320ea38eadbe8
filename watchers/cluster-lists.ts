import type { V1Node } from '@kubernetes/client-node';
import type { RedisClient } from '../core/queue.js';
import { FlushLoop } from './flush-loop.js';
import { LIMIT_RANGES_CACHE_KEY, NODES_CACHE_KEY, sharedCacheKey, trimNamespaced, trimNode, VPAS_CACHE_KEY, type ByNamespace } from '../core/cluster-lists.js';

type ListKey = typeof NODES_CACHE_KEY | typeof LIMIT_RANGES_CACHE_KEY | typeof VPAS_CACHE_KEY;

interface Namespaced {
  metadata?: { name?: string; namespace?: string };
  spec?: unknown;
}

/**
 * Nodes, LimitRanges and VPAs as the watcher's watches have them, written to the shared cache of cluster
 * reads (core/cluster-lists.ts) so that no incident lists them. Each list is written within a
 * `flushEveryMs` of a change and every `refreshEveryMs` while its watch is synced, with a time to live:
 * when the watcher stops or its watch fails, the entry expires and the worker reads the list itself.
 * Per object one trimmed copy (a node's name, memory and MemoryPressure; a LimitRange's or VPA's spec).
 */
export class ClusterListsKeeper extends FlushLoop {
  private readonly items: Record<ListKey, Map<string, unknown>> = {
    [NODES_CACHE_KEY]: new Map(),
    [LIMIT_RANGES_CACHE_KEY]: new Map(),
    [VPAS_CACHE_KEY]: new Map(),
  };
  private readonly dirty = new Set<ListKey>();
  private readonly written = new Map<ListKey, number>();
  /** The VPA API answered 404: the cluster has none, which the worker is told (null) instead of asking. */
  private vpaApiMissing = false;

  constructor(
    private readonly opts: {
      redis: RedisClient;
      queueName: string;
      /** The cluster whose lists these are: the shared cache's keys name it. */
      cluster: string;
      /** Whether the watch behind a list has listed everything and is watching. */
      synced: (key: ListKey) => boolean;
      flushEveryMs?: number;
      refreshEveryMs?: number;
      ttlMs?: number;
      clock?: () => number;
      onError?: (err: unknown) => void;
    },
  ) {
    super(opts.flushEveryMs);
  }

  /** The first page of a (re)list: what was kept before is replaced by what the list brings. */
  relisting(key: ListKey): void {
    this.items[key].clear();
    if (key === VPAS_CACHE_KEY) this.vpaApiMissing = false;
    this.dirty.add(key);
  }

  node(type: 'ADDED' | 'MODIFIED' | 'DELETED', node: V1Node): void {
    const name = node?.metadata?.name;
    if (name) this.put(NODES_CACHE_KEY, name, type === 'DELETED' ? undefined : trimNode(node));
  }

  /** A LimitRange or a VPA, kept by namespace. */
  namespaced(key: typeof LIMIT_RANGES_CACHE_KEY | typeof VPAS_CACHE_KEY, type: 'ADDED' | 'MODIFIED' | 'DELETED', item: Namespaced): void {
    const ns = item?.metadata?.namespace;
    const name = item?.metadata?.name;
    if (!ns || !name) return;
    this.put(key, `${ns}/${name}`, type === 'DELETED' ? undefined : trimNamespaced(item));
  }

  /** The VPA list answered 404 Not Found: no VPA CRD in this cluster. */
  noVpaApi(): void {
    if (this.vpaApiMissing) return;
    this.vpaApiMissing = true;
    this.items[VPAS_CACHE_KEY].clear();
    this.dirty.add(VPAS_CACHE_KEY);
  }

  /** What a list's entry in the shared cache holds now (for tests and logs). */
  value(key: ListKey): unknown {
    if (key === NODES_CACHE_KEY) return [...this.items[key].values()];
    if (key === VPAS_CACHE_KEY && this.vpaApiMissing) return null;
    const out: ByNamespace<unknown> = {};
    for (const item of this.items[key].values()) {
      const ns = (item as Namespaced).metadata?.namespace ?? '';
      const list = out[ns] ?? [];
      list.push(item);
      out[ns] = list;
    }
    return out;
  }

  /**
   * Dirty only when what is kept changed: kubelets update their Node every few minutes and at 1,500 nodes
   * that is several updates a second, almost none of which change a node's memory or MemoryPressure.
   */
  private put(key: ListKey, id: string, value: unknown): void {
    const list = this.items[key];
    if (value === undefined) {
      if (list.delete(id)) this.dirty.add(key);
      return;
    }
    const before = list.get(id);
    list.set(id, value);
    if (before === undefined || JSON.stringify(before) !== JSON.stringify(value)) this.dirty.add(key);
  }

  /** Writes the lists that changed or are due for a refresh, while their watch is synced. */
  protected async write(): Promise<void> {
    const now = (this.opts.clock ?? Date.now)();
    const refresh = this.opts.refreshEveryMs ?? 20_000;
    const due = (Object.keys(this.items) as ListKey[]).filter(
      (key) =>
        (this.opts.synced(key) || (key === VPAS_CACHE_KEY && this.vpaApiMissing)) && (this.dirty.has(key) || now - (this.written.get(key) ?? 0) >= refresh),
    );
    if (due.length === 0) return;
    const ttl = this.opts.ttlMs ?? 60_000;
    const multi = this.opts.redis.multi();
    for (const key of due) {
      this.dirty.delete(key);
      multi.set(sharedCacheKey(this.opts.queueName, this.opts.cluster, key), JSON.stringify(this.value(key)), 'PX', ttl);
    }
    try {
      await multi.exec();
      for (const key of due) this.written.set(key, now);
    } catch (err) {
      for (const key of due) this.dirty.add(key);
      this.opts.onError?.(err);
    }
  }
}
