/** What the kubelet writes when it evicts a pod for node pressure: the pod's status, the message, the annotations. */
import type { Json } from '../types.js';

/** The kubelet's eviction message (evictionMessage in the kubelet's eviction package). */
export function evictionMessage(
  resource: string,
  threshold: string | undefined,
  available: string | undefined,
  containers: Array<{ name: string; usage: string; request: string }>,
): string {
  let message = `The node was low on resource: ${resource}. `;
  if (threshold !== undefined && available !== undefined) message += `Threshold quantity: ${threshold}, available: ${available}. `;
  for (const c of containers) message += `Container ${c.name} was using ${c.usage}, request is ${c.request}, has larger consumption of ${resource}. `;
  return message;
}

/**
 * Annotations of the Evicted event. Without offending containers (a pids eviction names none) the
 * kubelet still writes the keys, empty.
 */
export function evictionAnnotations(resource: string, containers: Array<{ name: string; usage: string }> | undefined): Record<string, string> {
  return {
    offending_containers: (containers ?? []).map((c) => c.name).join(','),
    offending_containers_usage: (containers ?? []).map((c) => c.usage).join(','),
    starved_resource: resource,
  };
}

/** The pod-level fields of an evicted pod's status. */
export function evictedStatus(message: string): Json {
  return { phase: 'Failed', reason: 'Evicted', message };
}

/** DisruptionTarget reason of a kubelet eviction. */
export const EVICTION_BY_KUBELET = 'TerminationByKubelet';
