/** API-server defaulting of pod specs, and the QoS class the kubelet reports. */
import type { Json } from './types.js';
import { nanoOf } from './units.js';

/** Defaults the API server fills into a container (SetDefaults_Container and friends). */
export function defaultContainer(c: Json): Json {
  const out: Json = { ...c };
  if (out.imagePullPolicy === undefined) {
    const image = String(out.image ?? '');
    const tag = image.includes('@') ? 'digest' : (/:([^/:]+)$/.exec(image)?.[1] ?? 'latest');
    out.imagePullPolicy = tag === 'latest' ? 'Always' : 'IfNotPresent';
  }
  if (out.terminationMessagePath === undefined) out.terminationMessagePath = '/dev/termination-log';
  if (out.terminationMessagePolicy === undefined) out.terminationMessagePolicy = 'File';
  // Requests defaulted from limits belong to the Pod alone (SetDefaults_Pod, see defaultRequestsFromLimits
  // in admission.ts): a template keeps only what was written.
  out.resources = { ...(out.resources ?? {}) };
  if (Array.isArray(out.ports)) out.ports = out.ports.map((p: Json) => ({ protocol: 'TCP', ...p }));
  for (const probe of ['livenessProbe', 'readinessProbe', 'startupProbe']) {
    if (out[probe]) out[probe] = { timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3, ...out[probe] };
  }
  return out;
}

/** Defaults of a pod spec (SetDefaults_PodSpec). */
export function defaultPodSpec(spec: Json, restartPolicy = 'Always'): Json {
  const out: Json = {
    restartPolicy,
    terminationGracePeriodSeconds: 30,
    dnsPolicy: 'ClusterFirst',
    securityContext: {},
    schedulerName: 'default-scheduler',
    serviceAccountName: 'default',
    serviceAccount: 'default',
    enableServiceLinks: true,
    preemptionPolicy: 'PreemptLowerPriority',
    priority: 0,
    ...spec,
  };
  if (out.serviceAccountName && !spec.serviceAccount) out.serviceAccount = out.serviceAccountName;
  out.containers = (spec.containers ?? []).map(defaultContainer);
  if (spec.initContainers) out.initContainers = spec.initContainers.map(defaultContainer);
  return out;
}

/** Tolerations the DefaultTolerationSeconds admission plugin adds to every pod. */
export const DEFAULT_TOLERATIONS: readonly Json[] = [
  { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
  { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
];

/**
 * status.qosClass, computed like the kubelet's GetPodQOS: over all containers (init included), non-zero
 * cpu and memory requests and limits are summed exactly; Guaranteed needs every container to limit both
 * cpu and memory, and the sums of requests and limits to be equal.
 */
export function qosClass(spec: Json): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  // With pod-level resources (KEP-2837) they alone decide (ComputePodQOS).
  const containers: Json[] = spec.resources ? [spec] : [...(spec.containers ?? []), ...(spec.initContainers ?? [])];
  const requests = new Map<string, bigint>();
  const limits = new Map<string, bigint>();
  let guaranteed = true;
  for (const c of containers) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    const limitsFound = new Set<string>();
    for (const r of ['cpu', 'memory']) {
      const rq = nanoOf(req[r]);
      if (rq !== undefined && rq > 0n) requests.set(r, (requests.get(r) ?? 0n) + rq);
      const lm = nanoOf(lim[r]);
      if (lm !== undefined && lm > 0n) {
        limitsFound.add(r);
        limits.set(r, (limits.get(r) ?? 0n) + lm);
      }
    }
    if (limitsFound.size !== 2) guaranteed = false;
  }
  if (requests.size === 0 && limits.size === 0) return 'BestEffort';
  if (guaranteed) {
    for (const [r, v] of requests) if (limits.get(r) !== v) guaranteed = false;
  }
  return guaranteed && requests.size === limits.size ? 'Guaranteed' : 'Burstable';
}
