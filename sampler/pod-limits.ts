import type { KubeHttp } from '../core/kube.js';
import { parseMemoryBytes } from '../core/quantity.js';

/** A running pod's containers that have a memory limit, and the workload the pod belongs to. */
export interface PodLimits {
  workload: string;
  /** container name -> memory limit in bytes */
  limits: Map<string, number>;
}

interface PodItem {
  metadata?: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    ownerReferences?: { kind?: string; name?: string; controller?: boolean }[];
  };
  spec?: { containers?: { name?: string; resources?: { limits?: { memory?: string } } }[] };
}

/**
 * "Deployment/api" from a pod's controller reference. A ReplicaSet named after its pod-template-hash is a
 * Deployment's (the name the worker's owner chain would reach); other owners are named as they are.
 */
export function workloadOfPod(pod: PodItem): string {
  const owner = pod.metadata?.ownerReferences?.find((o) => o.controller);
  const hash = pod.metadata?.labels?.['pod-template-hash'];
  if (owner?.kind === 'ReplicaSet' && owner.name && hash && owner.name.endsWith(`-${hash}`)) {
    return `Deployment/${owner.name.slice(0, -(hash.length + 1))}`;
  }
  if (owner?.kind && owner.name) return `${owner.kind}/${owner.name}`;
  return `Pod/${pod.metadata?.name ?? '-'}`;
}

/**
 * The memory limits of running pods, from a paged pod list (500 a page, only Running pods). Kept for
 * `maxAgeMs` and read again sooner when metrics name a pod the list did not have (a new pod), but not
 * more often than `minAgeMs`. Only pods with at least one memory limit are kept.
 */
export class PodLimitsCache {
  private pods = new Map<string, PodLimits>();
  /** Every running pod of the last list, with or without limits: a pod not in it is new. */
  private seen = new Set<string>();
  private readAt = 0;
  calls = 0;

  constructor(
    private readonly kube: KubeHttp,
    private readonly namespaces: string[],
    private readonly maxAgeMs = 5 * 60_000,
    private readonly minAgeMs = 30_000,
  ) {}

  get size(): number {
    return this.pods.size;
  }

  /** Reads the pod list again when it is stale, or when `unknown` pods were seen and it is not too fresh. */
  async refresh(now: number, unknown = 0): Promise<boolean> {
    const age = now - this.readAt;
    if (this.readAt !== 0 && age < this.maxAgeMs && !(unknown > 0 && age >= this.minAgeMs)) return false;
    const next = new Map<string, PodLimits>();
    const seen = new Set<string>();
    const paths = this.namespaces.length > 0 ? this.namespaces.map((ns) => `/api/v1/namespaces/${encodeURIComponent(ns)}/pods`) : ['/api/v1/pods'];
    for (const path of paths) {
      for await (const page of this.kube.listPages<PodItem>(path, { fieldSelector: 'status.phase=Running' }, 500)) {
        this.calls++;
        for (const pod of page) {
          const limits = new Map<string, number>();
          for (const c of pod.spec?.containers ?? []) {
            const bytes = parseMemoryBytes(c.resources?.limits?.memory);
            if (c.name && bytes && bytes > 0) limits.set(c.name, bytes);
          }
          if (pod.metadata?.namespace && pod.metadata.name) seen.add(`${pod.metadata.namespace}/${pod.metadata.name}`);
          if (limits.size > 0 && pod.metadata?.namespace && pod.metadata.name) {
            next.set(`${pod.metadata.namespace}/${pod.metadata.name}`, { workload: workloadOfPod(pod), limits });
          }
        }
      }
    }
    this.pods = next;
    this.seen = seen;
    this.readAt = now;
    return true;
  }

  /** Whether the last list had this pod (with or without limits). */
  knows(namespace: string, pod: string): boolean {
    return this.seen.has(`${namespace}/${pod}`);
  }

  get(namespace: string, pod: string): PodLimits | undefined {
    return this.pods.get(`${namespace}/${pod}`);
  }
}
