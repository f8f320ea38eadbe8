/**
 * The three patch formats the API server accepts: JSON patch (RFC 6902), JSON merge patch (RFC 7386) and
 * strategic merge patch (lists merged by their patchMergeKey, with $patch directives).
 */
import type { Json } from './types.js';

function isObject(v: unknown): v is Record<string, Json> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function clone<T>(v: T): T {
  return v === undefined ? v : structuredClone(v);
}

/** RFC 7386. */
export function applyMergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return clone(patch);
  const out: Record<string, Json> = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}

/**
 * patchMergeKey of the lists the simulation knows (from the Kubernetes OpenAPI). A list field not named
 * here is replaced as a whole, as for lists without a merge strategy.
 */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  ephemeralContainers: 'name',
  env: 'name',
  ports: 'containerPort',
  volumeMounts: 'mountPath',
  volumeDevices: 'devicePath',
  volumes: 'name',
  imagePullSecrets: 'name',
  conditions: 'type',
  ownerReferences: 'uid',
  hostAliases: 'ip',
  topologySpreadConstraints: 'topologyKey',
  resourceClaims: 'name',
};

export class PatchError extends Error {}

function smpList(orig: Json[], patch: Json[], key: string): Json[] {
  const out = orig.map((x) => x);
  for (const item of patch) {
    if (!isObject(item) || item[key] === undefined) {
      throw new PatchError(`map: ${JSON.stringify(item)} does not contain declared merge key: ${key}`);
    }
    const idx = out.findIndex((x) => isObject(x) && x[key] === item[key]);
    if (item.$patch === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (item.$patch === 'replace') {
      const { $patch: _drop, ...rest } = item;
      if (idx >= 0) out[idx] = rest;
      else out.push(rest);
      continue;
    }
    if (idx >= 0) out[idx] = smpMap(out[idx], item);
    else out.push(smpMap({}, item));
  }
  return out;
}

function smpMap(orig: Json, patch: Record<string, Json>): Json {
  if (patch.$patch === 'replace') {
    const { $patch: _drop, ...rest } = patch;
    return stripDirectives(rest);
  }
  if (patch.$patch === 'delete') return undefined;
  const out: Record<string, Json> = isObject(orig) ? { ...orig } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith('$setElementOrder/')) continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const field = k.slice('$deleteFromPrimitiveList/'.length);
      if (Array.isArray(out[field]) && Array.isArray(v)) out[field] = (out[field] as Json[]).filter((x) => !v.includes(x));
      continue;
    }
    if (v === null) {
      delete out[k];
      continue;
    }
    const key = MERGE_KEYS[k];
    if (Array.isArray(v) && key) {
      const replace = v.find((x) => isObject(x) && x.$patch === 'replace' && Object.keys(x).length === 1);
      if (replace) out[k] = v.filter((x) => x !== replace).map(stripDirectives);
      else out[k] = smpList(Array.isArray(out[k]) ? out[k] : [], v, key);
    } else if (isObject(v)) {
      const merged = smpMap(out[k], v);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    } else {
      out[k] = clone(v);
    }
  }
  return out;
}

function stripDirectives(v: Json): Json {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObject(v)) return v;
  const out: Record<string, Json> = {};
  for (const [k, x] of Object.entries(v)) if (!k.startsWith('$')) out[k] = stripDirectives(x);
  return out;
}

export function applyStrategicMergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) throw new PatchError('strategic merge patch must be a JSON object');
  return smpMap(target, patch);
}

interface JsonPatchOp {
  op: string;
  path: string;
  from?: string;
  value?: Json;
}

function parsePointer(p: string): string[] {
  if (p === '') return [];
  if (!p.startsWith('/')) throw new PatchError(`invalid JSON pointer: ${p}`);
  return p
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function getAt(doc: Json, parts: string[]): Json {
  let cur = doc;
  for (const part of parts) {
    if (Array.isArray(cur)) cur = cur[Number(part)];
    else if (isObject(cur)) cur = cur[part];
    else return undefined;
  }
  return cur;
}

function parentOf(doc: Json, parts: string[], path: string): [Json, string] {
  const parent = getAt(doc, parts.slice(0, -1));
  if (parent === undefined || parent === null || typeof parent !== 'object') {
    throw new PatchError(`doc is missing path: "${path}": missing value`);
  }
  return [parent, parts[parts.length - 1]!];
}

function deepEqual(a: Json, b: Json): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/** RFC 6902. */
export function applyJsonPatch(target: Json, ops: Json): Json {
  if (!Array.isArray(ops)) throw new PatchError('json patch must be an array of operations');
  let doc = clone(target);
  for (const op of ops as JsonPatchOp[]) {
    const parts = parsePointer(op.path);
    switch (op.op) {
      case 'add':
      case 'replace': {
        if (parts.length === 0) {
          doc = clone(op.value);
          break;
        }
        const [parent, last] = parentOf(doc, parts, op.path);
        if (Array.isArray(parent)) {
          const idx = last === '-' ? parent.length : Number(last);
          if (!Number.isInteger(idx) || idx < 0 || idx > parent.length) throw new PatchError(`Unable to access invalid index: ${last}`);
          if (op.op === 'add') parent.splice(idx, 0, clone(op.value));
          else {
            if (idx >= parent.length) throw new PatchError(`replace operation does not apply: doc is missing key: ${op.path}: missing value`);
            parent[idx] = clone(op.value);
          }
        } else {
          if (op.op === 'replace' && !(last in parent)) throw new PatchError(`replace operation does not apply: doc is missing key: ${op.path}: missing value`);
          parent[last] = clone(op.value);
        }
        break;
      }
      case 'remove': {
        const [parent, last] = parentOf(doc, parts, op.path);
        if (Array.isArray(parent)) parent.splice(Number(last), 1);
        else {
          if (!(last in parent)) throw new PatchError(`remove operation does not apply: doc is missing path: "${op.path}": missing value`);
          delete parent[last];
        }
        break;
      }
      case 'move':
      case 'copy': {
        const fromParts = parsePointer(op.from ?? '');
        const value = clone(getAt(doc, fromParts));
        if (value === undefined) throw new PatchError(`${op.op} operation does not apply: doc is missing from path: ${op.from}`);
        if (op.op === 'move') {
          const [p, l] = parentOf(doc, fromParts, op.from ?? '');
          if (Array.isArray(p)) p.splice(Number(l), 1);
          else delete p[l];
        }
        doc = applyJsonPatch(doc, [{ op: 'add', path: op.path, value }]);
        break;
      }
      case 'test': {
        if (!deepEqual(getAt(doc, parts), op.value)) throw new PatchError(`testing value ${op.path} failed: test failed`);
        break;
      }
      default:
        throw new PatchError(`Unexpected kind: ${op.op}`);
    }
  }
  return doc;
}
