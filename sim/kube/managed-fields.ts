/**
 * metadata.managedFields as the API server keeps them for updates (operation Update, FieldsV1): each
 * write records the fields it set under its field manager (`?fieldManager=`, else the client's user
 * agent name) with the time, and takes those fields away from every other manager. Only the fields a
 * merge or strategic merge patch names are tracked here (list items by their `name` key), which is
 * what a reader needs to tell who last set a container's memory limit.
 */
import type { Json, KubeObject } from './types.js';

function fieldsOf(patch: Json): Json {
  const out: Json = {};
  for (const [k, v] of Object.entries(patch ?? {})) {
    if (k.startsWith('$')) continue;
    if (Array.isArray(v)) {
      const items: Json = {};
      for (const item of v) {
        if (item && typeof item === 'object' && typeof item.name === 'string') {
          const { name: _n, ...rest } = item;
          items[`k:${JSON.stringify({ name: item.name })}`] = { '.': {}, 'f:name': {}, ...fieldsOf(rest) };
        }
      }
      out[`f:${k}`] = items;
    } else if (v && typeof v === 'object') out[`f:${k}`] = fieldsOf(v);
    else out[`f:${k}`] = {};
  }
  return out;
}

function merge(into: Json, add: Json): Json {
  for (const [k, v] of Object.entries(add)) into[k] = k in into && Object.keys(v as Json).length ? merge(into[k], v as Json) : (into[k] ?? v);
  return into;
}

/** Removes from `from` every leaf field that `taken` holds; returns whether anything is left. */
function subtract(from: Json, taken: Json): boolean {
  for (const [k, v] of Object.entries(taken)) {
    if (!(k in from)) continue;
    const sub = v as Json;
    if (Object.keys(sub).length === 0 || k === '.') delete from[k];
    else if (!subtract(from[k], sub)) delete from[k];
  }
  return Object.keys(from).length > 0;
}

export function recordManagedFields(next: KubeObject, patch: Json, manager: string, apiVersion: string, time: string): void {
  const { metadata, ...rest } = patch ?? {};
  const fields = fieldsOf({
    ...rest,
    ...(metadata?.labels || metadata?.annotations ? { metadata: { labels: metadata.labels, annotations: metadata.annotations } } : {}),
  });
  if (Object.keys(fields).length === 0) return;
  const entries: Json[] = structuredClone(next.metadata.managedFields ?? []);
  const kept: Json[] = [];
  let mine: Json | undefined;
  for (const e of entries) {
    if (e.manager === manager && e.operation === 'Update') mine = e;
    else if (subtract(e.fieldsV1 ?? {}, fields)) kept.push(e);
  }
  mine ??= { manager, operation: 'Update', apiVersion, fieldsType: 'FieldsV1', fieldsV1: {} };
  mine.time = time;
  mine.fieldsV1 = merge(mine.fieldsV1 ?? {}, fields);
  next.metadata.managedFields = [...kept, mine];
}
