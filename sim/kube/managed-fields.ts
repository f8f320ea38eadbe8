/**
 * metadata.managedFields as the API server keeps them: who set which fields, by which operation, when.
 * A write through the API is made by a manager, named by the `fieldManager` query parameter or else by
 * the User-Agent up to its first `/` (kubectl's "kubectl-client-side-apply", client-go's binary name).
 * The manager owns every field the write changed, merged into its earlier entry; other managers lose those
 * fields, and an entry left owning nothing is dropped. Fields are FieldsV1: `f:<name>` for object keys and
 * `k:{"name":"..."}` for list items keyed by name (containers, env), a list of anything else as one field.
 */
import type { IncomingMessage } from 'node:http';
import type { Json, KubeObject } from './types.js';

export interface FieldManager {
  manager: string;
  operation: 'Update' | 'Apply';
}

/** The manager of a write, as the API server names it. */
export function fieldManagerOf(req: IncomingMessage, query: Record<string, string>, contentType = ''): FieldManager {
  const agent = String(req.headers['user-agent'] ?? '')
    .split('/')[0]
    ?.trim();
  const manager = query.fieldManager || agent || 'unknown';
  return { manager: manager.slice(0, 128), operation: contentType.startsWith('application/apply-patch') ? 'Apply' : 'Update' };
}

/** Sets `next.metadata.managedFields` after a write by `who` that turned `before` (none: a create) into `next`. */
export function stampManagedFields(before: KubeObject | undefined, next: KubeObject, who: FieldManager, apiVersion: string, at: string): void {
  const changed = diffFields(strip(before), strip(next));
  if (changed === undefined && before) {
    next.metadata.managedFields = before.metadata.managedFields;
    return;
  }
  const entries: Json[] = structuredClone(before?.metadata.managedFields ?? []);
  const out: Json[] = [];
  let mine: Json | undefined;
  for (const e of entries) {
    if (e.manager === who.manager && e.operation === who.operation) {
      mine = e;
      continue;
    }
    const left = subtract(e.fieldsV1 ?? {}, changed ?? {});
    if (Object.keys(left).length > 0) out.push({ ...e, fieldsV1: left });
  }
  out.push({
    manager: who.manager,
    operation: who.operation,
    apiVersion,
    time: at,
    fieldsType: 'FieldsV1',
    fieldsV1: merge(mine?.fieldsV1 ?? {}, changed ?? {}),
  });
  next.metadata.managedFields = out;
}

/** What the field sets cover: labels, annotations and the spec (status and server-set metadata are not managed here). */
function strip(obj: KubeObject | undefined): Json {
  if (!obj) return {};
  const meta: Json = {};
  if (obj.metadata.labels) meta.labels = obj.metadata.labels;
  if (obj.metadata.annotations) meta.annotations = obj.metadata.annotations;
  const out: Json = {};
  if (Object.keys(meta).length > 0) out.metadata = meta;
  if (obj.spec !== undefined) out.spec = obj.spec;
  return out;
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function keyedByName(list: readonly unknown[]): boolean {
  return list.length > 0 && list.every((x) => isObject(x) && typeof x.name === 'string');
}

/** The fields set in `after` that differ from `before`, as FieldsV1; undefined when nothing changed. */
function diffFields(before: unknown, after: unknown): Json | undefined {
  if (JSON.stringify(before) === JSON.stringify(after)) return undefined;
  if (isObject(after)) {
    const out: Json = {};
    const was = isObject(before) ? before : {};
    for (const [k, v] of Object.entries(after)) {
      const d = diffFields(was[k], v);
      if (d !== undefined) out[`f:${k}`] = d;
    }
    return Object.keys(out).length > 0 ? out : isObject(before) ? undefined : {};
  }
  if (Array.isArray(after) && keyedByName(after)) {
    const out: Json = {};
    const was: unknown[] = Array.isArray(before) ? before : [];
    for (const item of after as Json[]) {
      const d = diffFields(
        was.find((x) => isObject(x) && x.name === item.name),
        item,
      );
      if (d !== undefined) out[`k:${JSON.stringify({ name: item.name })}`] = { '.': {}, ...d };
    }
    return Object.keys(out).length > 0 ? out : undefined;
  }
  return after === undefined ? undefined : {};
}

function merge(a: Json, b: Json): Json {
  const out: Json = structuredClone(a);
  for (const [k, v] of Object.entries(b)) out[k] = isObject(out[k]) && isObject(v) && Object.keys(v).length > 0 ? merge(out[k], v) : (out[k] ?? v);
  return out;
}

/** `a` without the leaf fields of `b`. */
function subtract(a: Json, b: Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(a)) {
    const taken = b[k];
    if (taken === undefined) out[k] = v;
    else if (isObject(v) && isObject(taken) && Object.keys(taken).length > 0 && Object.keys(v).length > 0) {
      const left = subtract(v, taken);
      if (Object.keys(left).length > 0) out[k] = left;
    }
  }
  return out;
}
