/**
 * The pods/{name}/resize subresource (in-place pod resize, Kubernetes 1.33+): a patch that may change
 * only `spec.containers[*].resources` of a running pod. The kubelet's answer is simulated at once: the
 * resize is applied (status.containerStatuses[].resources follow the spec), or the pod gets the
 * `PodResizePending` condition, reason `Infeasible` when the node's allocatable memory could never fit
 * the new requests, `Deferred` when it could once other pods leave.
 */
import type { Json, KubeObject } from './types.js';
import type { SimCluster } from './cluster.js';
import { resourceDef } from './resources.js';
import { conflict, invalid, type FieldError } from './status.js';
import { patchedCopy, type PatchOptions } from './patch-object.js';
import { validateResources } from './admission.js';
import { bytesOf, formatBytes } from './units.js';

const RESIZE_FORBIDDEN = 'Forbidden: only cpu and memory resources for containers are mutable';

/** Everything of a pod spec but the containers' cpu and memory, to see what else a patch touched. */
function withoutResources(spec: Json): string {
  const s: Json = structuredClone(spec ?? {});
  for (const c of s.containers ?? []) {
    for (const kind of ['limits', 'requests'] as const) {
      const r = c.resources?.[kind];
      if (!r) continue;
      delete r.cpu;
      delete r.memory;
      if (Object.keys(r).length === 0) delete c.resources[kind];
    }
    if (c.resources && Object.keys(c.resources).length === 0) delete c.resources;
  }
  return JSON.stringify(s);
}

/** ValidatePodResize: only containers' cpu and memory, and nothing outside the spec, may change. */
function validateResize(name: string, current: KubeObject, next: KubeObject): void {
  const def = resourceDef('pods');
  const errors: FieldError[] = [];
  if (withoutResources(current.spec) !== withoutResources(next.spec)) errors.push({ field: 'spec', type: 'FieldValueForbidden', detail: RESIZE_FORBIDDEN });
  const { resourceVersion: _a, ...metaBefore } = current.metadata;
  const { resourceVersion: _b, ...metaAfter } = next.metadata ?? {};
  if (JSON.stringify(metaBefore) !== JSON.stringify(metaAfter))
    errors.push({ field: 'metadata', type: 'FieldValueForbidden', detail: 'Forbidden: the resize subresource changes only spec.containers[*].resources' });
  if (errors.length) throw invalid(def, name, errors);
  const phase = current.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed')
    throw invalid(def, name, [{ field: 'spec', type: 'FieldValueForbidden', detail: `Forbidden: cannot resize a pod in phase ${phase}` }]);
  validateResources(def, name, next.spec, 'spec');
}

function memoryRequests(spec: Json): number {
  let sum = 0;
  for (const c of spec?.containers ?? []) sum += bytesOf(c.resources?.requests?.memory ?? c.resources?.limits?.memory) ?? 0;
  return sum;
}

/** What the kubelet would decide: undefined when the resize fits now. */
function pendingReason(cluster: SimCluster, pod: KubeObject, spec: Json): { reason: 'Infeasible' | 'Deferred'; message: string } | undefined {
  const nodeName = pod.spec?.nodeName;
  const node = nodeName ? cluster.peek('nodes', undefined, nodeName) : undefined;
  const allocatable = bytesOf(node?.status?.allocatable?.memory);
  if (allocatable === undefined) return undefined;
  const requested = memoryRequests(spec);
  if (requested > allocatable) {
    return {
      reason: 'Infeasible',
      message: `Node didn't have enough capacity: memory, requested: ${requested}, capacity: ${allocatable}`,
    };
  }
  let used = 0;
  for (const key of cluster.podKeysOnNode(nodeName)) {
    const [ns, name] = key.split('/') as [string, string];
    if (ns === pod.metadata.namespace && name === pod.metadata.name) continue;
    const other = cluster.peek('pods', ns, name);
    if (!other || other.status?.phase === 'Succeeded' || other.status?.phase === 'Failed') continue;
    used += memoryRequests(other.spec);
  }
  if (used + requested > allocatable) {
    return {
      reason: 'Deferred',
      message: `Node didn't have enough resource: memory, requested: ${requested} (${formatBytes(requested)}), used: ${used}, capacity: ${allocatable}`,
    };
  }
  return undefined;
}

function resizeCondition(reason: string, message: string, at: string): Json {
  return { type: 'PodResizePending', status: 'True', reason, message, lastProbeTime: null, lastTransitionTime: at };
}

/** The kubelet's side: apply the resize to the container statuses, or mark it pending. */
function settleResize(cluster: SimCluster, pod: KubeObject): void {
  const status: Json = pod.status ?? (pod.status = {});
  const conditions: Json[] = (status.conditions ?? []).filter((c: Json) => c.type !== 'PodResizePending' && c.type !== 'PodResizeInProgress');
  const pending = pendingReason(cluster, pod, pod.spec);
  if (pending) {
    conditions.push(resizeCondition(pending.reason, pending.message, cluster.nowIso()));
  } else {
    status.containerStatuses = (status.containerStatuses ?? []).map((cs: Json) => {
      const c = (pod.spec.containers ?? []).find((x: Json) => x.name === cs.name);
      if (!c) return cs;
      const resources = structuredClone(c.resources ?? {});
      return { ...cs, resources, ...(resources.requests ? { allocatedResources: resources.requests } : {}) };
    });
  }
  status.conditions = conditions;
}

/** PATCH pods/{name}/resize. With dryRun the would-be pod is returned and nothing changes. */
export function resizePod(cluster: SimCluster, namespace: string, name: string, body: string | Json, contentType: string, opts: PatchOptions = {}): KubeObject {
  const def = resourceDef('pods');
  const current = cluster.peek('pods', namespace, name);
  const next = patchedCopy(def, current, name, body, contentType);
  delete next.kind;
  delete next.apiVersion;
  const wanted = next.metadata.resourceVersion;
  if (wanted && wanted !== current!.metadata.resourceVersion) throw conflict(def, name);
  // Status is not the client's to write here: the kubelet reports the outcome.
  next.status = structuredClone(current!.status);
  validateResize(name, current!, next);
  next.metadata.resourceVersion = current!.metadata.resourceVersion;
  if (!opts.dryRun) settleResize(cluster, next);
  return cluster.replaceStored(def, current!, next, { dryRun: opts.dryRun });
}
