/** Resource paths (/api/v1/..., /apis/{group}/{version}/...) and filters over the recorded requests. */
import type { RecordedRequest } from '../types.js';

export interface Route {
  group: string;
  version: string;
  namespace?: string;
  plural: string;
  name?: string;
  sub?: string;
  watchPrefix: boolean;
}

/** /api/v1/... and /apis/{group}/{version}/... resource paths. */
export function parseResourcePath(segs: string[]): Route | undefined {
  let group = '';
  let version: string;
  let rest: string[];
  if (segs[0] === 'api') {
    version = segs[1] ?? '';
    rest = segs.slice(2);
  } else if (segs[0] === 'apis') {
    group = segs[1] ?? '';
    version = segs[2] ?? '';
    rest = segs.slice(3);
  } else return undefined;
  if (!version || rest.length === 0) return undefined;
  let watchPrefix = false;
  if (rest[0] === 'watch') {
    watchPrefix = true;
    rest = rest.slice(1);
  }
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3 && rest[2] !== 'status' && rest[2] !== 'finalize') {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [plural, name, sub] = rest;
  if (!plural || rest.length > 3) return undefined;
  const route: Route = { group, version, plural, watchPrefix };
  if (namespace !== undefined) route.namespace = namespace;
  if (name !== undefined) route.name = name;
  if (sub !== undefined) route.sub = sub;
  return route;
}

export type RequestFilter =
  | (Partial<Pick<RecordedRequest, 'method' | 'path'>> & { contentType?: string; dryRun?: boolean })
  | ((r: RecordedRequest) => boolean);

export function matchesFilter(r: RecordedRequest, f?: RequestFilter): boolean {
  if (!f) return true;
  if (typeof f === 'function') return f(r);
  if (f.method && r.method !== f.method.toUpperCase()) return false;
  if (f.path && r.path !== f.path) return false;
  if (f.contentType && (r.contentType ?? '').split(';')[0] !== f.contentType) return false;
  if (f.dryRun !== undefined && (r.query.dryRun === 'All') !== f.dryRun) return false;
  return true;
}
