/**
 * Each node's sum of memory requests and limits, kept by the watcher from its pod watch and read by the
 * worker (the node's overcommit) instead of listing the node's pods: one Redis hash per cluster, a
 * field per node ("requests limits pods", bytes), and a field saying when the sums were last complete.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { KEY_PREFIX } from './queue.js';
import { parseMemoryBytes } from './quantity.js';

export interface NodeSums {
  requestsBytes: number;
  limitsBytes: number;
  /** Pods on the node that have not finished (phase neither Succeeded nor Failed). */
  pods: number;
}

/** The field holding the time the watcher last wrote complete sums (its pod watch synced). */
export const NODE_SUMS_SYNCED_FIELD = '_synced';

export function nodeSumsKey(queueName: string, cluster: string): string {
  return `${KEY_PREFIX}:${queueName}:node-sums:${cluster}`;
}

export function formatNodeSums(s: NodeSums): string {
  return `${s.requestsBytes} ${s.limitsBytes} ${s.pods}`;
}

/** undefined when the field is not three non-negative integers (Redis is a trust boundary). */
export function parseNodeSums(text: string | null | undefined): NodeSums | undefined {
  const m = typeof text === 'string' ? /^(\d{1,20}) (\d{1,20}) (\d{1,9})$/.exec(text) : null;
  if (!m) return undefined;
  const [requestsBytes, limitsBytes, pods] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (![requestsBytes, limitsBytes, pods].every(Number.isSafeInteger)) return undefined;
  return { requestsBytes, limitsBytes, pods };
}

/** A pod-level memory limit or request (KEP-2837) bounds the whole pod: it counts instead of its containers'. */
export function podMemory(pod: V1Pod): { requests: number; limits: number } {
  const bytes = memoryBytes;
  const podLevel = (pod.spec as { resources?: { limits?: Record<string, string>; requests?: Record<string, string> } } | undefined)?.resources;
  let limits = 0;
  let requests = 0;
  const containers = pod.spec?.containers;
  for (const c of Array.isArray(containers) ? containers : []) {
    limits += bytes(c?.resources?.limits?.memory) ?? 0;
    requests += bytes(c?.resources?.requests?.memory) ?? 0;
  }
  return {
    limits: bytes(podLevel?.limits?.memory) ?? limits,
    requests: bytes(podLevel?.requests?.memory) ?? requests,
  };
}

/** Quantities repeat across a cluster's pods ("512Mi"): each text is parsed once. */
const parsed = new Map<string, number | undefined>();

function memoryBytes(q: unknown): number | undefined {
  if (typeof q !== 'string') return parseMemoryBytes(q);
  if (parsed.has(q)) return parsed.get(q);
  const value = parseMemoryBytes(q);
  if (parsed.size < 10_000) parsed.set(q, value);
  return value;
}
