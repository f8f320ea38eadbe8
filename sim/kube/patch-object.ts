/** PATCH of a stored object: content types, preconditions, admission, dry run. */
import type { Json, KubeObject } from './types.js';
import type { SimCluster } from './cluster.js';
import { withKind } from './object-meta.js';
import type { ResourceDef } from './resources.js';
import { SimApiError, conflict, invalid, makeStatus, notFound, badRequest } from './status.js';
import { applyJsonPatch, applyMergePatch, applyStrategicMergePatch, PatchError } from './patch.js';
import { checkLimitRange, checkQuota, dropDisabledPodFields, validatePodUpdate, validateResources } from './admission.js';
import { defaultTemplate } from './controllers/on-create.js';
import type { FieldManager } from './managed-fields.js';

export interface PatchOptions {
  dryRun?: boolean;
  /** Who patches (metadata.managedFields). */
  manager?: FieldManager;
}

export const PATCH_CONTENT_TYPES = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;

export function unsupportedMediaType(): SimApiError {
  return new SimApiError(
    makeStatus(
      415,
      'the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml, application/strategic-merge-patch+json',
      'UnsupportedMediaType',
    ),
  );
}

/** Path of the pod template spec inside a workload, for validation messages. */
function templateOf(def: ResourceDef, obj: Json): { spec: Json; path: string } | undefined {
  switch (def.plural) {
    case 'deployments':
    case 'replicasets':
    case 'statefulsets':
    case 'daemonsets':
    case 'jobs':
      return obj.spec?.template ? { spec: obj.spec.template.spec, path: 'spec.template.spec' } : undefined;
    case 'cronjobs':
      return obj.spec?.jobTemplate?.spec?.template ? { spec: obj.spec.jobTemplate.spec.template.spec, path: 'spec.jobTemplate.spec.template.spec' } : undefined;
    case 'pods':
      return { spec: obj.spec, path: 'spec' };
    default:
      return undefined;
  }
}

/** Validation and admission shared by PATCH and PUT. Returns the object to store. */
export function admitUpdate(cluster: SimCluster, def: ResourceDef, current: KubeObject, next: KubeObject): KubeObject {
  const name = current.metadata.name;
  const wanted = next.metadata?.resourceVersion;
  if (wanted && wanted !== current.metadata.resourceVersion) throw conflict(def, name);
  if (next.metadata?.name !== undefined && next.metadata.name !== name) {
    throw invalid(def, name, [
      { field: 'metadata.name', type: 'FieldValueInvalid', detail: `Invalid value: "${String(next.metadata.name)}": field is immutable` },
    ]);
  }
  if (def.plural === 'pods') {
    validatePodUpdate(def, name, current.spec, next.spec);
    return next;
  }
  const t = templateOf(def, next);
  if (!t) return next;
  if (def.plural === 'jobs' && JSON.stringify(current.spec?.template) !== JSON.stringify(next.spec?.template)) {
    throw invalid(def, name, [
      { field: 'spec.template', type: 'FieldValueInvalid', detail: `Invalid value: ${JSON.stringify(next.spec?.template)}: field is immutable` },
    ]);
  }
  // Defaulting happens before validation, as in the API server.
  if (def.plural === 'cronjobs') next.spec.jobTemplate.spec.template = defaultTemplate(next.spec.jobTemplate.spec.template, 'Never');
  else next.spec.template = defaultTemplate(next.spec.template, def.plural === 'jobs' ? 'Never' : 'Always');
  const admitted = templateOf(def, next)!;
  dropDisabledPodFields(cluster, admitted.spec, templateOf(def, current)?.spec);
  validateResources(def, name, admitted.spec, t.path);
  const ns = current.metadata.namespace!;
  if (JSON.stringify(templateOf(def, current)?.spec) !== JSON.stringify(admitted.spec) || next.spec?.replicas !== current.spec?.replicas) {
    checkLimitRange(cluster, def, name, ns, admitted.spec);
    const replicas =
      def.plural === 'daemonsets'
        ? cluster.count('nodes')
        : def.plural === 'cronjobs' || def.plural === 'jobs'
          ? (next.spec?.parallelism ?? 1)
          : (next.spec?.replicas ?? 1);
    if (def.plural !== 'cronjobs') checkQuota(cluster, def, current, admitted.spec, replicas);
  }
  return next;
}

/** The stored object with the patch applied (content type checked, errors as the API server words them). */
export function patchedCopy(def: ResourceDef, current: KubeObject | undefined, name: string, body: string | Json, contentType: string): KubeObject {
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== PATCH_CONTENT_TYPES.json && type !== PATCH_CONTENT_TYPES.merge && type !== PATCH_CONTENT_TYPES.strategic) {
    throw unsupportedMediaType();
  }
  if (!current) throw notFound(def, name);
  let patch: Json;
  try {
    patch = typeof body === 'string' ? JSON.parse(body) : body;
  } catch (err) {
    throw badRequest(`error decoding patch: ${(err as Error).message}`);
  }
  const base = withKind(def, structuredClone(current));
  let next: Json;
  try {
    if (type === PATCH_CONTENT_TYPES.json) next = applyJsonPatch(base, patch);
    else if (type === PATCH_CONTENT_TYPES.merge) next = applyMergePatch(base, patch);
    else next = applyStrategicMergePatch(base, patch);
  } catch (err) {
    if (err instanceof PatchError) throw new SimApiError(makeStatus(422, err.message, 'Invalid'));
    throw err;
  }
  if (!next || typeof next !== 'object' || !next.metadata) throw badRequest("Object 'metadata' is missing");
  return next;
}

export function patchObject(
  cluster: SimCluster,
  def: ResourceDef,
  namespace: string | undefined,
  name: string,
  body: string | Json,
  contentType: string,
  opts: PatchOptions,
): KubeObject {
  const current = cluster.peek(def.plural, namespace, name);
  const next = patchedCopy(def, current, name, body, contentType);
  admitUpdate(cluster, def, current!, next);
  next.metadata.resourceVersion = current!.metadata.resourceVersion;
  return cluster.replaceStored(def, current!, next, { dryRun: opts.dryRun, ...(opts.manager ? { manager: opts.manager } : {}) });
}
