/** Reading and stamping object metadata: kind/apiVersion on output, the controller owner, create-time fields. */
import type { Json, KubeObject } from './types.js';
import { apiVersionOf, type ResourceDef } from './resources.js';

/** The object with kind and apiVersion first, as single GETs and watch events carry them. */
export function withKind(def: ResourceDef, obj: KubeObject): KubeObject {
  return { kind: def.kind, apiVersion: apiVersionOf(def), ...obj };
}

export function controllerOf(obj: KubeObject): { kind: string; name: string; uid: string; apiVersion: string } | undefined {
  const refs = obj.metadata.ownerReferences;
  if (!refs) return undefined;
  for (const r of refs) if (r.controller) return r;
  return undefined;
}

/** Metadata as the API server stores it on create: its own uid, timestamp and generation win over the client's. */
export function stampMeta(meta: Json, uid: string, ts: string, hasGeneration?: boolean): Json {
  const out: Json = { name: meta.name, ...(meta.generateName ? { generateName: meta.generateName } : {}) };
  if (meta.namespace) out.namespace = meta.namespace;
  out.uid = uid;
  out.resourceVersion = '';
  if (hasGeneration) out.generation = 1;
  out.creationTimestamp = ts;
  for (const [k, v] of Object.entries(meta)) if (!(k in out) && v !== undefined) out[k] = v;
  out.uid = uid;
  out.creationTimestamp = ts;
  if (hasGeneration) out.generation = 1;
  return out;
}

/** A full object rather than the options of a factory (the create* conveniences take either). */
export function isKubeObject(v: unknown): v is KubeObject {
  return typeof v === 'object' && v !== null && 'metadata' in v;
}
