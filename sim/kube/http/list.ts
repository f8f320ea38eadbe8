/**
 * LIST of a resource: label and field selectors, namespace prefix, `limit` and `continue` paging over
 * the keys in etcd's order, and Table output for kubectl.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SimCluster } from '../cluster.js';
import type { KubeObject } from '../types.js';
import type { ResourceDef } from '../resources.js';
import { badRequest } from '../status.js';
import { parseFieldSelector, parseLabelSelector } from '../selectors.js';
import { toTable, wantsTable } from '../table.js';
import { sendJson } from './respond.js';

function lowerBound(keys: string[], target: string): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function encodeContinue(rv: string, lastKey: string): string {
  return Buffer.from(JSON.stringify({ v: 'meta.k8s.io/v1', rv: Number(rv), start: `${lastKey}\u0000` })).toString('base64');
}

function decodeContinue(token: string): string {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64').toString('utf8'));
    if (parsed.v !== 'meta.k8s.io/v1' || typeof parsed.start !== 'string') throw new Error('bad');
    return parsed.start;
  } catch {
    throw badRequest(`continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)`);
  }
}

export function serveList(
  cluster: SimCluster,
  req: IncomingMessage,
  res: ServerResponse,
  def: ResourceDef,
  ns: string | undefined,
  q: Record<string, string>,
): void {
  const label = parseLabelSelector(q.labelSelector);
  const field = parseFieldSelector(q.fieldSelector, def);
  const selective = !!(q.labelSelector || q.fieldSelector);
  const store = cluster.store(def.plural);
  // spec.nodeName alone on pods is served from an index, as the API server's watch cache does.
  const onNode = def.plural === 'pods' && !q.labelSelector ? /^spec\.nodeName=([^,!=]+)$/.exec(q.fieldSelector ?? '') : null;
  const keys = onNode ? cluster.podKeysOnNode(onNode[1]!) : store.sortedKeys();
  const prefix = ns ? `${ns}/` : '';
  let i = lowerBound(keys, prefix);
  if (q.continue) i = Math.max(i, lowerBound(keys, decodeContinue(q.continue)));
  const limit = q.limit ? Number(q.limit) : 0;
  if (q.limit && (!Number.isInteger(limit) || limit < 0)) throw badRequest(`invalid limit: ${q.limit}`);
  const items: KubeObject[] = [];
  let lastKey = '';
  let more = false;
  let end = keys.length;
  if (prefix) end = lowerBound(keys, `${ns}0`); // '0' sorts right after '/'
  for (; i < end; i++) {
    const key = keys[i]!;
    const obj = store.objects.get(key);
    if (!obj || !label(obj) || !field(obj)) continue;
    if (limit && items.length >= limit) {
      more = true;
      break;
    }
    items.push(obj);
    lastKey = key;
  }
  const rv = cluster.resourceVersion;
  const cont = more ? encodeContinue(rv, lastKey) : undefined;
  if (wantsTable(req.headers.accept)) return sendJson(res, 200, toTable(def, items, rv, cluster.now().getTime(), cont));
  let meta = `{"resourceVersion":"${rv}"`;
  if (cont) {
    meta += `,"continue":"${cont}"`;
    if (!selective) meta += `,"remainingItemCount":${end - i}`;
  }
  meta += '}';
  const parts: string[] = [];
  for (const o of items) parts.push(JSON.stringify(o));
  const apiVersion = def.group ? `${def.group}/${def.version}` : def.version;
  sendJson(res, 200, `{"kind":"${def.kind}List","apiVersion":"${apiVersion}","metadata":${meta},"items":[${parts.join(',')}]}`);
}
