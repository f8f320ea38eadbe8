/** Create, get, patch, replace and delete of one object, and the pods/eviction and pods/resize subresources. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimCluster } from '../cluster.js';
import { resourceDef, type ResourceDef } from '../resources.js';
import { badRequest, notFound } from '../status.js';
import { withKind } from '../object-meta.js';
import { toTable, wantsTable } from '../table.js';
import { objectJson } from '../watch-conn.js';
import { admitUpdate } from '../patch-object.js';
import { resizePod } from '../resize.js';
import { fieldManagerOf } from '../managed-fields.js';
import { methodNotAllowed, parseJsonBody, sendJson } from './respond.js';

export function serveCreate(
  cluster: SimCluster,
  req: IncomingMessage,
  res: ServerResponse,
  def: ResourceDef,
  ns: string | undefined,
  body: string,
  q: Record<string, string>,
): void {
  const obj = parseJsonBody(body);
  if (!obj || typeof obj !== 'object' || !obj.metadata) throw badRequest("Object 'metadata' is missing");
  if (def.namespaced) {
    if (obj.metadata.namespace && ns && obj.metadata.namespace !== ns)
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    obj.metadata.namespace = ns ?? obj.metadata.namespace;
    if (!cluster.peek('namespaces', undefined, obj.metadata.namespace)) throw notFound(resourceDef('namespaces'), obj.metadata.namespace);
  }
  const created = cluster.create(def.plural, obj, { dryRun: q.dryRun === 'All', manager: fieldManagerOf(req, q) });
  sendJson(res, 201, withKind(def, created));
}

/** POST pods/{name}/eviction: a drain's eviction, answered with a Success Status. */
export function serveEviction(
  cluster: SimCluster,
  res: ServerResponse,
  def: ResourceDef,
  ns: string | undefined,
  name: string,
  q: Record<string, string>,
): void {
  if (!cluster.peek('pods', ns, name)) throw notFound(def, name);
  if (q.dryRun !== 'All') cluster.apiEvict(ns!, name);
  sendJson(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
}

/** GET or PATCH of pods/{name}/resize: only the containers' resources change (see resize.ts). */
export function serveResize(
  cluster: SimCluster,
  req: IncomingMessage,
  res: ServerResponse,
  def: ResourceDef,
  ns: string,
  name: string,
  body: string,
  q: Record<string, string>,
): void {
  if (req.method === 'GET') {
    const obj = cluster.peek('pods', ns, name);
    if (!obj) throw notFound(def, name);
    return sendJson(res, 200, objectJson(def, obj));
  }
  if (req.method !== 'PATCH') throw methodNotAllowed();
  const out = resizePod(cluster, ns, name, body, String(req.headers['content-type'] ?? ''), { dryRun: q.dryRun === 'All' });
  sendJson(res, 200, withKind(def, out));
}

/** GET, PATCH, PUT or DELETE of one object (or its status subresource). */
export function serveObject(
  cluster: SimCluster,
  req: IncomingMessage,
  res: ServerResponse,
  def: ResourceDef,
  ns: string | undefined,
  name: string,
  body: string,
  q: Record<string, string>,
): void {
  const dryRun = q.dryRun === 'All';
  switch (req.method ?? 'GET') {
    case 'GET': {
      const obj = cluster.peek(def.plural, ns, name);
      if (!obj) throw notFound(def, name);
      if (wantsTable(req.headers.accept)) return sendJson(res, 200, toTable(def, [obj], cluster.resourceVersion, cluster.now().getTime()));
      // Accept: application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1 asks for the metadata alone.
      if (wantsPartialMetadata(req.headers.accept)) {
        return sendJson(
          res,
          200,
          { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: obj.metadata },
          { 'Content-Type': 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1' },
        );
      }
      return sendJson(res, 200, objectJson(def, obj));
    }
    case 'PATCH': {
      const contentType = String(req.headers['content-type'] ?? '');
      const out = cluster.patch(def.plural, ns, name, body, contentType, { dryRun, manager: fieldManagerOf(req, q, contentType) });
      return sendJson(res, 200, withKind(def, out));
    }
    case 'PUT': {
      const current = cluster.peek(def.plural, ns, name);
      if (!current) throw notFound(def, name);
      const next = parseJsonBody(body);
      admitUpdate(cluster, def, current, next);
      next.metadata.resourceVersion = current.metadata.resourceVersion;
      return sendJson(res, 200, withKind(def, cluster.replaceStored(def, current, next, { dryRun, manager: fieldManagerOf(req, q) })));
    }
    case 'DELETE':
      return sendJson(res, 200, withKind(def, cluster.delete(def.plural, ns, name, { dryRun })));
    default:
      throw methodNotAllowed();
  }
}

/** Whether the client asked for PartialObjectMetadata (first in its Accept list that the server knows). */
function wantsPartialMetadata(accept: string | undefined): boolean {
  return !!accept && /(^|,)\s*application\/json;\s*as=PartialObjectMetadata;\s*g=meta\.k8s\.io;\s*v=v1/.test(accept);
}
