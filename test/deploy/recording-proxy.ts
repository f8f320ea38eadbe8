/**
 * A recording HTTP proxy in front of the simulated API server, one per oombot role, so each request is
 * attributed to the role that made it (as its ServiceAccount would be). Watch streams pass through.
 * It also serves the one workload kind the simulated cluster lacks, ReplicationControllers, from
 * memory (get, and a strategic merge patch of container resources), so the bot can patch one.
 * Given `authorize`, it answers a request that function refuses as the API server answers a request
 * RBAC denies (403 Forbidden), and marks it `forbidden` in the record.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KubeTarget } from '../../core/kube.js';
import { loadKubeconfigText } from '../../core/kubeconfig.js';
import { kubeconfigText } from '../../sim/kube/kubeconfig.js';

export interface ProxiedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** Refused by `authorize`, and answered 403. */
  forbidden?: true;
}

export interface RecordingProxy {
  url: string;
  target: KubeTarget;
  requests: ProxiedRequest[];
  close(): Promise<void>;
}

type Json = Record<string, unknown>;

const RC_PATH = /^\/api\/v1\/namespaces\/([^/]+)\/replicationcontrollers\/([^/]+)$/;

interface ContainerJson {
  name: string;
  resources?: { limits?: Record<string, string | null>; requests?: Record<string, string | null> };
}

/** Applies `{spec:{template:{spec:{containers:[{name, resources}]}}}}` to a stored RC (merge by name). */
function patchContainers(rc: Json, patch: Json): void {
  const lists = ((patch.spec as Json | undefined)?.template as Json | undefined)?.spec as Record<string, ContainerJson[]> | undefined;
  const spec = ((rc.spec as Json).template as Json).spec as Record<string, ContainerJson[]>;
  for (const [list, changes] of Object.entries(lists ?? {})) {
    for (const change of changes) {
      const c = spec[list]?.find((x) => x.name === change.name);
      if (!c) continue;
      for (const part of ['limits', 'requests'] as const) {
        for (const [k, v] of Object.entries(change.resources?.[part] ?? {})) {
          c.resources ??= {};
          c.resources[part] ??= {};
          if (v === null) delete c.resources[part]![k];
          else c.resources[part]![k] = v;
        }
      }
    }
  }
}

function sendForbidden(res: ServerResponse, r: ProxiedRequest): void {
  res.writeHead(403, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({ kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Forbidden', code: 403, message: `${r.method} ${r.path} is forbidden` }),
  );
}

export async function startRecordingProxy(
  upstream: string,
  opts: { replicationControllers?: Json[]; authorize?: (r: ProxiedRequest) => boolean } = {},
): Promise<RecordingProxy> {
  const requests: ProxiedRequest[] = [];
  const rcs = new Map(
    (opts.replicationControllers ?? []).map((rc) => [`${String((rc.metadata as Json).namespace)}/${String((rc.metadata as Json).name)}`, rc]),
  );
  const up = new URL(upstream);

  const serveRc = (req: IncomingMessage, res: ServerResponse, body: string, key: string, dryRun: boolean) => {
    const rc = rcs.get(key);
    const send = (status: number, json: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(json));
    };
    if (!rc)
      return send(404, {
        kind: 'Status',
        apiVersion: 'v1',
        status: 'Failure',
        reason: 'NotFound',
        code: 404,
        message: `replicationcontrollers "${key.split('/')[1]}" not found`,
      });
    if (req.method === 'GET') return send(200, rc);
    if (req.method === 'PATCH') {
      const copy = structuredClone(rc);
      patchContainers(copy, JSON.parse(body) as Json);
      if (!dryRun) rcs.set(key, copy);
      return send(200, copy);
    }
    return send(405, { kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'MethodNotAllowed', code: 405 });
  };

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://proxy');
    const record: ProxiedRequest = { method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams) };
    requests.push(record);
    if (opts.authorize && !opts.authorize(record)) {
      record.forbidden = true;
      req.resume();
      sendForbidden(res, record);
      return;
    }
    const rc = RC_PATH.exec(url.pathname);
    if (rc) {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () =>
        serveRc(
          req,
          res,
          Buffer.concat(chunks).toString('utf8'),
          `${decodeURIComponent(rc[1]!)}/${decodeURIComponent(rc[2]!)}`,
          url.searchParams.get('dryRun') === 'All',
        ),
      );
      return;
    }
    const out = request({ hostname: up.hostname, port: up.port, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
      res.writeHead(upRes.statusCode ?? 502, upRes.headers);
      upRes.pipe(res);
    });
    out.on('error', () => res.destroy());
    res.on('close', () => out.destroy());
    req.pipe(out);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    target: { credentials: loadKubeconfigText(kubeconfigText(url), process.cwd()).credentials, clusterName: 'sim', server: url },
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
