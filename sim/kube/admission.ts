/**
 * Validation and admission of pod specs: request <= limit (422 Invalid), LimitRange defaults and
 * min/max (403 Forbidden, as the LimitRanger plugin), ResourceQuota on memory (403 exceeded quota).
 *
 * Simplification: the real API server admits a Deployment (or other workload) whose template breaks a
 * LimitRange or a quota, and it is the ReplicaSet that then fails to create pods (FailedCreate events).
 * The simulation rejects the workload write itself, with the message the pod creation would get, so a
 * dry-run PATCH shows the problem at once.
 */
import type { Json, KubeObject } from './types.js';
import type { SimCluster } from './cluster.js';
import { controllerOf } from './object-meta.js';
import { forbidden, invalid, type FieldError } from './status.js';
import type { ResourceDef } from './resources.js';
import { bytesOf, canonicalQuantity, compareValues, quantityOf, quantityValue, formatBytes } from './units.js';

function containerLimits(cluster: SimCluster, namespace: string): Json[] {
  const out: Json[] = [];
  for (const lr of cluster.list('limitranges', namespace)) for (const l of lr.spec?.limits ?? []) if (l.type === 'Container') out.push(l);
  return out;
}

/**
 * The API server's own Pod defaulting (SetDefaults_Pod), with or without a LimitRange: a container that
 * sets a limit but no request for a resource gets the limit as its request, on the Pod only (templates
 * keep what was written). Returns `spec` itself when nothing needs filling in.
 */
export function defaultRequestsFromLimits(spec: Json): Json {
  const fill = (c: Json): Json => {
    const limits: Json = c.resources?.limits ?? {};
    const requests: Json = c.resources?.requests ?? {};
    const missing = Object.keys(limits).filter((k) => requests[k] === undefined);
    if (missing.length === 0) return c;
    const filled: Json = { ...requests };
    for (const k of missing) filled[k] = limits[k];
    return { ...c, resources: { ...c.resources, requests: filled } };
  };
  const containers = (spec.containers ?? []).map(fill);
  const initContainers = spec.initContainers?.map(fill);
  const same =
    containers.every((c: Json, i: number) => c === spec.containers[i]) &&
    (!initContainers || initContainers.every((c: Json, i: number) => c === spec.initContainers[i]));
  const out = same ? spec : { ...spec, containers, ...(initContainers ? { initContainers } : {}) };
  return defaultPodLevelRequests(out);
}

/** The resources a pod-level spec.resources may name (IsSupportedPodLevelResource). */
const POD_LEVEL_RESOURCES = new Set(['cpu', 'memory']);

/**
 * defaultPodRequests (SetDefaults_Pod, PodLevelResources): with a pod-level limit set, a pod-level request
 * left out becomes the sum of its containers' requests (init containers: the largest) when any container
 * requests it, else the pod-level limit. On the Pod only, like the container defaults.
 */
function defaultPodLevelRequests(spec: Json): Json {
  const limits: Json | undefined = spec.resources?.limits;
  if (!limits || Object.keys(limits).length === 0) return spec;
  const requests: Json = { ...(spec.resources.requests ?? {}) };
  let changed = false;
  for (const r of POD_LEVEL_RESOURCES) {
    if (requests[r] !== undefined) continue;
    const sum = aggregateRequest(spec, r);
    if (sum !== undefined) requests[r] = r === 'memory' ? formatBytes(sum) : canonicalQuantity(`${sum / 1000}`);
    else if (limits[r] !== undefined) requests[r] = limits[r];
    else continue;
    changed = true;
  }
  return changed ? { ...spec, resources: { ...spec.resources, requests } } : spec;
}

/** The containers' effective request of `r` (bytes for memory, millicores for cpu), or undefined when none asks. */
function aggregateRequest(spec: Json, r: string): number | undefined {
  const value = (q: unknown): number | undefined => (r === 'memory' ? bytesOf(q) : quantityValue(q) === undefined ? undefined : quantityValue(q)! * 1000);
  let any = false;
  let sum = 0;
  for (const c of spec.containers ?? []) {
    const v = value(c.resources?.requests?.[r]);
    if (v !== undefined) {
      any = true;
      sum += v;
    }
  }
  let init = 0;
  for (const c of spec.initContainers ?? []) {
    const v = value(c.resources?.requests?.[r]);
    if (v !== undefined) {
      any = true;
      init = Math.max(init, v);
    }
  }
  return any ? Math.max(sum, init) : undefined;
}

/**
 * dropDisabledPodFields: a server without PodLevelResources (before 1.34) drops spec.resources from a new
 * pod or template, and from an update unless the old object already had it.
 */
export function dropDisabledPodFields(cluster: SimCluster, spec: Json | undefined, old?: Json): void {
  if (!spec || cluster.podLevelResources || spec.resources === undefined || old?.resources !== undefined) return;
  delete spec.resources;
}

/** LimitRanger's mutation: fill default limits and requests into containers that lack them. */
export function applyLimitRangeDefaults(cluster: SimCluster, namespace: string, spec: Json): Json {
  const limits = containerLimits(cluster, namespace);
  if (!limits.some((l) => l.default || l.defaultRequest)) return spec;
  const fill = (c: Json): Json => {
    const res: Json = { ...(c.resources ?? {}) };
    const lim: Json = { ...(res.limits ?? {}) };
    const req: Json = { ...(res.requests ?? {}) };
    for (const l of limits) {
      for (const [k, v] of Object.entries(l.default ?? {})) if (lim[k] === undefined) lim[k] = v;
      for (const [k, v] of Object.entries(l.defaultRequest ?? {})) if (req[k] === undefined) req[k] = v;
    }
    for (const [k, v] of Object.entries(lim)) if (req[k] === undefined) req[k] = v;
    if (Object.keys(lim).length) res.limits = lim;
    if (Object.keys(req).length) res.requests = req;
    return { ...c, resources: res };
  };
  const out: Json = { ...spec, containers: (spec.containers ?? []).map(fill) };
  if (spec.initContainers) out.initContainers = spec.initContainers.map(fill);
  return out;
}

/** ValidateResourceRequirements: a request may not exceed its limit. */
export function validateResources(def: ResourceDef, name: string, spec: Json, specPath: string): void {
  const errors: FieldError[] = [];
  for (const [field, list] of [
    ['initContainers', spec.initContainers],
    ['containers', spec.containers],
  ] as const) {
    (list ?? []).forEach((c: Json, i: number) => {
      const lim = c.resources?.limits ?? {};
      const req = c.resources?.requests ?? {};
      for (const [r, v] of Object.entries(req)) {
        const l = lim[r];
        if (quantityOf(v) === undefined) {
          errors.push({
            field: `${specPath}.${field}[${i}].resources.requests[${r}]`,
            type: 'FieldValueInvalid',
            detail: `Invalid value: "${String(v)}": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'`,
          });
        } else if (compareValues(v, l) === 1) {
          errors.push({
            field: `${specPath}.${field}[${i}].resources.requests`,
            type: 'FieldValueInvalid',
            detail: `Invalid value: "${canonicalQuantity(v)}": must be less than or equal to ${r} limit of ${canonicalQuantity(l)}`,
          });
        }
      }
    });
  }
  errors.push(...podLevelErrors(spec, specPath));
  if (errors.length) throw invalid(def, name, errors);
}

/**
 * validatePodResourceRequirements (PodLevelResources): only cpu and memory, each request at most its limit,
 * no container limit above the pod-level limit, and the containers' requests within the pod-level request.
 */
function podLevelErrors(spec: Json, specPath: string): FieldError[] {
  const res = spec.resources;
  if (!res) return [];
  const errors: FieldError[] = [];
  const at = `${specPath}.resources`;
  const lim: Json = res.limits ?? {};
  const req: Json = res.requests ?? {};
  for (const [kind, list] of [
    ['limits', lim],
    ['requests', req],
  ] as const) {
    for (const [r, v] of Object.entries(list)) {
      if (!POD_LEVEL_RESOURCES.has(r)) {
        errors.push({ field: `${at}.${kind}[${r}]`, type: 'FieldValueNotSupported', detail: `Unsupported value: "${r}": supported values: "cpu", "memory"` });
      } else if (quantityOf(v) === undefined) {
        errors.push({ field: `${at}.${kind}[${r}]`, type: 'FieldValueInvalid', detail: `Invalid value: "${String(v)}": must be a valid quantity` });
      }
    }
  }
  if (errors.length) return errors;
  for (const [r, v] of Object.entries(req)) {
    if (compareValues(v, lim[r]) === 1) {
      errors.push({
        field: `${at}.requests`,
        type: 'FieldValueInvalid',
        detail: `Invalid value: "${canonicalQuantity(v)}": must be less than or equal to ${r} limit of ${canonicalQuantity(lim[r])}`,
      });
    }
  }
  for (const [field, list] of [
    ['initContainers', spec.initContainers],
    ['containers', spec.containers],
  ] as const) {
    (list ?? []).forEach((c: Json, i: number) => {
      for (const [r, v] of Object.entries<unknown>(c.resources?.limits ?? {})) {
        if (lim[r] !== undefined && compareValues(v, lim[r]) === 1) {
          errors.push({
            field: `${specPath}.${field}[${i}].resources.limits[${r}]`,
            type: 'FieldValueInvalid',
            detail: `Invalid value: "${canonicalQuantity(v)}": must be less than or equal to pod limits`,
          });
        }
      }
    });
  }
  if (req.memory !== undefined) {
    const sum = aggregateRequest(spec, 'memory');
    const podReq = bytesOf(req.memory);
    if (sum !== undefined && podReq !== undefined && sum > podReq) {
      errors.push({
        field: `${at}.requests[memory]`,
        type: 'FieldValueInvalid',
        detail: `Invalid value: "${canonicalQuantity(req.memory)}": must be greater than or equal to aggregate container requests of ${formatBytes(sum)}`,
      });
    }
  }
  return errors;
}

/** LimitRanger's validation for containers (min, max, maxLimitRequestRatio). */
export function checkLimitRange(cluster: SimCluster, def: ResourceDef, name: string, namespace: string, spec: Json): void {
  const ranges = containerLimits(cluster, namespace);
  if (!ranges.length) return;
  const admitted = applyLimitRangeDefaults(cluster, namespace, spec);
  const problems: string[] = [];
  for (const c of [...(admitted.initContainers ?? []), ...(admitted.containers ?? [])]) {
    const lim = c.resources?.limits ?? {};
    const req = c.resources?.requests ?? {};
    for (const l of ranges) {
      for (const [r, max] of Object.entries(l.max ?? {})) {
        if (lim[r] === undefined) problems.push(`maximum ${r} usage per Container is ${canonicalQuantity(max)}.  No limit is specified`);
        else if (compareValues(lim[r], max) === 1)
          problems.push(`maximum ${r} usage per Container is ${canonicalQuantity(max)}, but limit is ${canonicalQuantity(lim[r])}`);
      }
      for (const [r, min] of Object.entries(l.min ?? {})) {
        if (req[r] === undefined) problems.push(`minimum ${r} usage per Container is ${canonicalQuantity(min)}.  No request is specified`);
        else if (compareValues(req[r], min) === -1)
          problems.push(`minimum ${r} usage per Container is ${canonicalQuantity(min)}, but request is ${canonicalQuantity(req[r])}`);
      }
      for (const [r, ratio] of Object.entries(l.maxLimitRequestRatio ?? {})) {
        const lq = quantityValue(lim[r]);
        const rq = quantityValue(req[r]);
        if (lq !== undefined && rq) {
          const actual = lq / rq;
          if (actual > (quantityValue(ratio) ?? Infinity))
            problems.push(`${r} max limit to request ratio per Container is ${String(ratio)}, but provided ratio is ${actual.toFixed(6)}`);
        }
      }
    }
  }
  if (problems.length) throw forbidden(def, name, problems.length === 1 ? problems[0]! : `[${problems.join(', ')}]`);
}

function podMemory(spec: Json, kind: 'limits' | 'requests'): number {
  // A pod-level value is what the pod accounts for (PodRequests/PodLimits with PodLevelResources).
  const podLevel = bytesOf(spec.resources?.[kind]?.memory);
  if (podLevel !== undefined) return podLevel;
  let sum = 0;
  for (const c of spec.containers ?? []) sum += bytesOf(c.resources?.[kind]?.memory) ?? 0;
  let init = 0;
  for (const c of spec.initContainers ?? []) init = Math.max(init, bytesOf(c.resources?.[kind]?.memory) ?? 0);
  return Math.max(sum, init);
}

function isTerminal(p: KubeObject): boolean {
  return p.status?.phase === 'Failed' || p.status?.phase === 'Succeeded';
}

/** Pods that would be replaced when this workload's template changes. */
function podsOfWorkload(cluster: SimCluster, def: ResourceDef, workload: KubeObject): KubeObject[] {
  const uid = workload.metadata.uid!;
  if (def.plural === 'deployments') {
    const out: KubeObject[] = [];
    for (const rs of cluster.list('replicasets', workload.metadata.namespace))
      if (controllerOf(rs)?.uid === uid) out.push(...cluster.podsOwnedBy(rs.metadata.uid!));
    return out;
  }
  return cluster.podsOwnedBy(uid);
}

/**
 * ResourceQuota on memory (limits.memory, requests.memory, memory) for a workload whose pods would all
 * be replaced by pods of `spec`: used - its current pods + replicas x new pod must fit under hard.
 */
export function checkQuota(cluster: SimCluster, def: ResourceDef, workload: KubeObject, spec: Json, replicas: number): void {
  const ns = workload.metadata.namespace!;
  const quotas = cluster.list('resourcequotas', ns);
  if (!quotas.length) return;
  const mine = new Set(podsOfWorkload(cluster, def, workload).map((p) => p.metadata.name));
  for (const q of quotas) {
    for (const [key, hardQ] of Object.entries<string>(q.spec?.hard ?? {})) {
      const kind = key === 'limits.memory' ? 'limits' : key === 'requests.memory' || key === 'memory' ? 'requests' : undefined;
      if (!kind) continue;
      const hard = bytesOf(hardQ) ?? Infinity;
      let used = 0;
      let mineUsed = 0;
      for (const p of cluster.list('pods', ns)) {
        if (isTerminal(p)) continue;
        const m = podMemory(p.spec, kind);
        used += m;
        if (mine.has(p.metadata.name)) mineUsed += m;
      }
      const wanted = podMemory(spec, kind) * replicas;
      const requested = wanted - mineUsed;
      if (requested > 0 && used + requested > hard) {
        throw forbidden(
          def,
          workload.metadata.name,
          `exceeded quota: ${q.metadata.name}, requested: ${key}=${formatBytes(requested)}, used: ${key}=${formatBytes(used)}, limited: ${key}=${canonicalQuantity(hardQ)}`,
        );
      }
    }
  }
}

const POD_MUTABLE_MESSAGE =
  'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)';

/** ValidatePodUpdate: a pod's spec is immutable apart from images and a few fields. */
export function validatePodUpdate(def: ResourceDef, name: string, before: Json, after: Json): void {
  const strip = (spec: Json): string => {
    const s: Json = structuredClone(spec ?? {});
    for (const c of [...(s.containers ?? []), ...(s.initContainers ?? [])]) delete c.image;
    delete s.activeDeadlineSeconds;
    delete s.tolerations;
    delete s.terminationGracePeriodSeconds;
    return JSON.stringify(s);
  };
  if (strip(before) !== strip(after)) {
    throw invalid(def, name, [{ field: 'spec', type: 'FieldValueForbidden', detail: `Forbidden: ${POD_MUTABLE_MESSAGE}` }]);
  }
}
