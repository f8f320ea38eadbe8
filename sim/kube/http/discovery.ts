/** GET of the discovery documents, /version and the health endpoints. */
import type { ServerResponse } from 'node:http';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, simVersion, type OptionalApis } from '../discovery.js';
import { notFoundPath, sendJson, sendStatus } from './respond.js';

/**
 * Answers the GET if `path` is a discovery or health path, and says whether it did. `host` is the
 * server's address as /api advertises it; `apis` which optional groups are served.
 */
export function serveDiscovery(res: ServerResponse, path: string, segs: string[], host: string, apis: OptionalApis & { minorVersion: number }): boolean {
  if (path === '/version') {
    sendJson(res, 200, simVersion(apis.minorVersion));
    return true;
  }
  if (path === '/healthz' || path === '/livez' || path === '/readyz') {
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('ok');
    return true;
  }
  if (path === '/api') {
    sendJson(res, 200, apiVersions(host));
    return true;
  }
  if (path === '/apis') {
    sendJson(res, 200, apiGroupList(apis));
    return true;
  }
  let doc: unknown;
  if (segs.length === 2 && segs[0] === 'api') doc = apiResourceList('', segs[1]!, apis);
  else if (segs.length === 2 && segs[0] === 'apis') {
    const g = apiGroup(segs[1]!, apis);
    doc = g ? { kind: 'APIGroup', apiVersion: 'v1', ...g } : undefined;
  } else if (segs.length === 3 && segs[0] === 'apis') doc = apiResourceList(segs[1]!, segs[2]!, apis);
  else return false;
  if (doc) sendJson(res, 200, doc);
  else sendStatus(res, notFoundPath().status);
  return true;
}
