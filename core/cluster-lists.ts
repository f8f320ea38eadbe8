/**
 * Cluster-wide lists every incident needs (nodes, LimitRanges, VPAs) as the watcher keeps them from its
 * watches, in the cache of cluster reads that every worker and bot shares (stores/shared-cache.ts).
 * While a watcher keeps them there, a first incident reads none of them; without one (it is down, or
 * only some namespaces are watched), the worker reads them itself once a minute as before.
 */
import type { V1Node } from '@kubernetes/client-node';
import { KEY_PREFIX } from './queue.js';

/** Where the shared cache keeps `key` of `cluster` in Redis (a hub serves several clusters: keys name theirs). */
export function sharedCacheKey(queueName: string, cluster: string, key: string): string {
  return `${KEY_PREFIX}:${queueName}:cache:${cluster}/${key}`;
}

/** Shared cache keys: every node; the cluster's LimitRanges and VPAs by namespace (null: no VPA API). */
export const NODES_CACHE_KEY = 'nodes';
export const LIMIT_RANGES_CACHE_KEY = 'limitranges';
export const VPAS_CACHE_KEY = 'vpas';

/** A cluster-wide list's items by namespace. */
export type ByNamespace<T> = Record<string, T[]>;

/** A node trimmed to what enrichment and the bot read (name, memory allocatable and capacity, MemoryPressure). */
export function trimNode(n: V1Node): V1Node {
  const conditions = Array.isArray(n?.status?.conditions) ? n.status.conditions : [];
  return {
    metadata: { name: n?.metadata?.name },
    status: {
      allocatable: { memory: n?.status?.allocatable?.memory } as Record<string, string>,
      capacity: { memory: n?.status?.capacity?.memory } as Record<string, string>,
      conditions: conditions.filter((c) => c?.type === 'MemoryPressure').map((c) => ({ type: c.type, status: c.status })),
    },
  } as V1Node;
}

/** A LimitRange or VPA trimmed to its name and spec (what enrichment reads), as kept by namespace. */
export function trimNamespaced<T>(item: { metadata?: { name?: string; namespace?: string }; spec?: unknown }): T {
  return { metadata: { name: item.metadata?.name, namespace: item.metadata?.namespace }, spec: item.spec } as T;
}
