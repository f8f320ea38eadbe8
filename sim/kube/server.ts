/**
 * The simulated cluster behind a real HTTP server on 127.0.0.1, speaking enough of the Kubernetes REST
 * API for @kubernetes/client-node (list, get, watch, patch, logs, events, metrics) and for kubectl
 * (discovery, Table output). With fault injection for watch and list failures.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { SimCluster } from './cluster.js';
import { withKind } from './object-meta.js';
import type { Json, KubeObject, RecordedRequest } from './types.js';
import { findResource, resourceDef, type ResourceDef } from './resources.js';
import { SimApiError, badRequest, makeStatus, notFound, toStatus, type StatusObject } from './status.js';
import { parseFieldSelector, parseLabelSelector, type Matcher } from './selectors.js';
import { apiGroup, apiGroupList, apiResourceList, apiVersions, SIM_VERSION } from './discovery.js';
import { toTable, wantsTable } from './table.js';
import { WatchConn, objectJson } from './watch-conn.js';
import { kubeconfigText, writeKubeconfigFile, type KubeconfigOptions } from './kubeconfig.js';
import { admitUpdate } from './patch-object.js';
import { podMetricsOf, nodeMetricsOf, buildNodeMetrics, buildPodMetrics } from './metrics.js';

export interface SimApiServerOptions {
  cluster: SimCluster;
  /** 0 (default) picks a free port. */
  port?: number;
  host?: string;
  /** Interval of BOOKMARK events on watches that asked for them (default 60 000 ms). */
  bookmarkIntervalMs?: number;
  /** Server-side watch timeout when the client sends no timeoutSeconds (default random 30-60 min). */
  watchTimeoutSeconds?: number;
  /** Delay before answering each request. */
  latencyMs?: number;
}

export interface FailOptions {
  message?: string;
  /** For 429 and 503: Retry-After header and details.retryAfterSeconds. */
  retryAfterSeconds?: number;
}

export type RequestFilter = Partial<Pick<RecordedRequest, 'method' | 'path'>> & { contentType?: string; dryRun?: boolean } | ((r: RecordedRequest) => boolean);

export interface SimApiServer {
  readonly url: string;
  readonly port: number;
  readonly host: string;
  readonly cluster: SimCluster;
  /** Delay before answering each request (ms); can be changed at any time. */
  latencyMs: number;
  bookmarkIntervalMs: number;
  close(): Promise<void>;
  /** kubeconfig YAML pointing at this server. */
  kubeconfig(opts?: KubeconfigOptions): string;
  writeKubeconfig(path: string, opts?: KubeconfigOptions): string;
  /** Reset the TCP connection of every open watch. Returns how many. */
  dropWatches(): number;
  /** End every open watch cleanly, as the server does at timeoutSeconds. Returns how many. */
  endWatches(): number;
  /** Keep watches open but send nothing (no events, no bookmarks); events in between are lost to them. */
  stallWatches(on: boolean): void;
  /** Stop listening and reset all connections; `false` listens again on the same port. */
  setUnreachable(on: boolean): Promise<void>;
  /** The next `n` list requests answer with this HTTP status (default 500) as a Status object. */
  failNext(n: number, status?: number, opts?: FailOptions): void;
  watchCount(): number;
  /** TCP connections accepted since the server started (to check that clients reuse connections). */
  connectionCount(): number;
  requestCount(filter?: RequestFilter): number;
  requests(filter?: RequestFilter): RecordedRequest[];
}

const JSON_HEADERS = { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' };

function matchesFilter(r: RecordedRequest, f?: RequestFilter): boolean {
  if (!f) return true;
  if (typeof f === 'function') return f(r);
  if (f.method && r.method !== f.method.toUpperCase()) return false;
  if (f.path && r.path !== f.path) return false;
  if (f.contentType && (r.contentType ?? '').split(';')[0] !== f.contentType) return false;
  if (f.dryRun !== undefined && (r.query.dryRun === 'All') !== f.dryRun) return false;
  return true;
}

interface Route {
  group: string;
  version: string;
  namespace?: string;
  plural: string;
  name?: string;
  sub?: string;
  watchPrefix: boolean;
}

/** /api/v1/... and /apis/{group}/{version}/... resource paths. */
function parseResourcePath(segs: string[]): Route | undefined {
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

class SimApiServerImpl implements SimApiServer {
  readonly cluster: SimCluster;
  readonly host: string;
  port = 0;
  latencyMs: number;
  bookmarkIntervalMs: number;
  private readonly watchTimeoutSeconds: number | undefined;
  private server: Server;
  private readonly sockets = new Set<Socket>();
  private connectionsOpened = 0;
  private readonly watches = new Set<WatchConn>();
  private stalled = false;
  private unreachable = false;
  private failures: { left: number; status: number; opts: FailOptions } = { left: 0, status: 500, opts: {} };
  private readonly unsubscribe: () => void;

  constructor(opts: SimApiServerOptions) {
    this.cluster = opts.cluster;
    this.host = opts.host ?? '127.0.0.1';
    this.port = opts.port ?? 0;
    this.latencyMs = opts.latencyMs ?? 0;
    this.bookmarkIntervalMs = opts.bookmarkIntervalMs ?? 60_000;
    this.watchTimeoutSeconds = opts.watchTimeoutSeconds;
    this.server = this.makeServer();
    this.unsubscribe = this.cluster.subscribe((change) => {
      if (this.stalled) return;
      for (const w of this.watches) w.deliver(change);
    });
  }

  get url(): string {
    return `http://${this.host}:${this.port}`;
  }

  private makeServer(): Server {
    const server = createServer((req, res) => {
      this.handle(req, res).catch((err) => this.sendStatus(res, toStatus(err)));
    });
    server.keepAliveTimeout = 30_000;
    server.on('connection', (s: Socket) => {
      this.connectionsOpened++;
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    return server;
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.port, this.host, () => {
        this.server.off('error', reject);
        const addr = this.server.address();
        if (addr && typeof addr === 'object') this.port = addr.port;
        resolve();
      });
    });
  }

  private closeServer(): Promise<void> {
    for (const w of this.watches) w.dispose();
    this.watches.clear();
    return new Promise((resolve) => {
      if (!this.server.listening) {
        for (const s of this.sockets) s.destroy();
        resolve();
        return;
      }
      this.server.close(() => resolve());
      this.server.closeAllConnections();
      for (const s of this.sockets) s.destroy();
    });
  }

  async close(): Promise<void> {
    this.unsubscribe();
    await this.closeServer();
  }

  kubeconfig(opts?: KubeconfigOptions): string {
    return kubeconfigText(this.url, opts);
  }

  writeKubeconfig(path: string, opts?: KubeconfigOptions): string {
    return writeKubeconfigFile(path, this.url, opts);
  }

  dropWatches(): number {
    const n = this.watches.size;
    for (const w of [...this.watches]) w.destroy();
    this.watches.clear();
    return n;
  }

  endWatches(): number {
    const n = this.watches.size;
    for (const w of [...this.watches]) w.end();
    this.watches.clear();
    return n;
  }

  stallWatches(on: boolean): void {
    this.stalled = on;
  }

  async setUnreachable(on: boolean): Promise<void> {
    if (on === this.unreachable) return;
    this.unreachable = on;
    if (on) {
      await this.closeServer();
    } else {
      this.server = this.makeServer();
      await this.listen();
    }
  }

  failNext(n: number, status = 500, opts: FailOptions = {}): void {
    this.failures = { left: n, status, opts };
  }

  connectionCount(): number {
    return this.connectionsOpened;
  }

  watchCount(): number {
    return this.watches.size;
  }

  requests(filter?: RequestFilter): RecordedRequest[] {
    return this.cluster.requests.filter((r) => matchesFilter(r, filter));
  }

  requestCount(filter?: RequestFilter): number {
    return this.requests(filter).length;
  }

  // ---- request handling ----

  private readBody(req: IncomingMessage): Promise<string> {
    if (req.method === 'GET' || req.method === 'HEAD') return Promise.resolve('');
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
      req.on('error', reject);
    });
  }

  private sendJson(res: ServerResponse, code: number, body: string | Json, headers: Record<string, string> = {}): void {
    if (res.headersSent) {
      res.end();
      return;
    }
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(code, { ...JSON_HEADERS, 'Content-Length': Buffer.byteLength(text), ...headers });
    res.end(text);
  }

  private sendStatus(res: ServerResponse, status: StatusObject, headers: Record<string, string> = {}): void {
    this.sendJson(res, status.code, status, headers);
  }

  private notFoundPath(): SimApiError {
    return new SimApiError(makeStatus(404, 'the server could not find the requested resource', 'NotFound', {}));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    const body = await this.readBody(req);
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) query[k] = v;
    const record: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query, at: Date.now() };
    const contentType = req.headers['content-type'];
    if (contentType) record.contentType = contentType;
    if (req.headers.accept) record.accept = req.headers.accept;
    if (body) record.body = body;
    this.cluster.recordRequest(record);
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
    if (res.destroyed) return;

    const path = url.pathname.replace(/\/+$/, '') || '/';
    const segs = path.split('/').filter((s) => s !== '').map(decodeURIComponent);
    const method = record.method;
    const metrics = this.cluster.metricsEnabled;

    // Discovery and health.
    if (method === 'GET') {
      if (path === '/version') return this.sendJson(res, 200, SIM_VERSION);
      if (path === '/healthz' || path === '/livez' || path === '/readyz') {
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('ok');
        return;
      }
      if (path === '/api') return this.sendJson(res, 200, apiVersions(`${this.host}:${this.port}`));
      if (path === '/apis') return this.sendJson(res, 200, apiGroupList(metrics));
      if (segs.length === 2 && segs[0] === 'api') {
        const list = apiResourceList('', segs[1]!, metrics);
        return list ? this.sendJson(res, 200, list) : this.sendStatus(res, this.notFoundPath().status);
      }
      if (segs.length === 2 && segs[0] === 'apis') {
        const g = apiGroup(segs[1]!, metrics);
        return g ? this.sendJson(res, 200, { kind: 'APIGroup', apiVersion: 'v1', ...g }) : this.sendStatus(res, this.notFoundPath().status);
      }
      if (segs.length === 3 && segs[0] === 'apis') {
        const list = apiResourceList(segs[1]!, segs[2]!, metrics);
        return list ? this.sendJson(res, 200, list) : this.sendStatus(res, this.notFoundPath().status);
      }
    }

    const route = parseResourcePath(segs);
    if (!route) throw this.notFoundPath();
    if (route.group === 'metrics.k8s.io') {
      if (!metrics || route.version !== 'v1beta1') throw this.notFoundPath();
      return this.handleMetrics(res, method, route);
    }
    const def = findResource(route.group, route.version, route.plural);
    if (!def) throw this.notFoundPath();
    if (!def.namespaced && route.namespace) throw this.notFoundPath();
    const ns = def.namespaced ? route.namespace : undefined;

    if (!route.name) {
      if (method === 'GET') {
        const watch = route.watchPrefix || query.watch === 'true' || query.watch === '1';
        if (watch) return this.handleWatch(req, res, def, ns, query);
        return this.handleList(req, res, def, ns, query);
      }
      if (method === 'POST') return this.handleCreate(res, def, ns, body, query);
      throw new SimApiError(makeStatus(405, `the server does not allow this method on the requested resource`, 'MethodNotAllowed'));
    }

    const name = route.name;
    if (route.sub === 'log' && def.plural === 'pods' && method === 'GET') return this.handleLog(res, ns!, name, query);
    if (route.sub === 'eviction' && def.plural === 'pods' && method === 'POST') {
      if (!this.cluster.peek('pods', ns, name)) throw notFound(def, name);
      if (query.dryRun !== 'All') this.cluster.apiEvict(ns!, name);
      return this.sendJson(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
    }
    if (route.sub && route.sub !== 'status') throw this.notFoundPath();

    switch (method) {
      case 'GET': {
        const obj = this.cluster.peek(def.plural, ns, name);
        if (!obj) throw notFound(def, name);
        if (wantsTable(req.headers.accept)) return this.sendJson(res, 200, toTable(def, [obj], this.cluster.resourceVersion, this.cluster.now().getTime()));
        return this.sendJson(res, 200, objectJson(def, obj));
      }
      case 'PATCH': {
        const out = this.cluster.patch(def.plural, ns, name, body, String(req.headers['content-type'] ?? ''), { dryRun: query.dryRun === 'All' });
        return this.sendJson(res, 200, withKind(def, out));
      }
      case 'PUT': {
        const current = this.cluster.peek(def.plural, ns, name);
        if (!current) throw notFound(def, name);
        let next: Json;
        try {
          next = JSON.parse(body);
        } catch (err) {
          throw badRequest(`error decoding body: ${(err as Error).message}`);
        }
        admitUpdate(this.cluster, def, current, next);
        next.metadata.resourceVersion = current.metadata.resourceVersion;
        const out = this.cluster.replaceStored(def, current, next, { dryRun: query.dryRun === 'All' });
        return this.sendJson(res, 200, withKind(def, out));
      }
      case 'DELETE': {
        const out = this.cluster.delete(def.plural, ns, name, { dryRun: query.dryRun === 'All' });
        return this.sendJson(res, 200, withKind(def, out));
      }
      default:
        throw new SimApiError(makeStatus(405, `the server does not allow this method on the requested resource`, 'MethodNotAllowed'));
    }
  }

  private takeFailure(res: ServerResponse): boolean {
    if (this.failures.left <= 0) return false;
    this.failures.left--;
    const { status, opts } = this.failures;
    const headers: Record<string, string> = {};
    const details: NonNullable<StatusObject['details']> = {};
    if (opts.retryAfterSeconds !== undefined) {
      headers['Retry-After'] = String(opts.retryAfterSeconds);
      details.retryAfterSeconds = opts.retryAfterSeconds;
    }
    const message = opts.message ?? (status === 429 ? 'Too many requests, please try again later.' : status === 503 ? 'the server is currently unable to handle the request' : 'Internal error occurred: injected failure');
    this.sendStatus(res, makeStatus(status, message, undefined, Object.keys(details).length ? details : undefined), headers);
    return true;
  }

  private handleList(req: IncomingMessage, res: ServerResponse, def: ResourceDef, ns: string | undefined, q: Record<string, string>): void {
    if (this.takeFailure(res)) return;
    const label = parseLabelSelector(q.labelSelector);
    const field = parseFieldSelector(q.fieldSelector, def);
    const selective = !!(q.labelSelector || q.fieldSelector);
    const store = this.cluster.store(def.plural);
    // spec.nodeName alone on pods is served from an index, as the API server's watch cache does.
    const onNode = def.plural === 'pods' && !q.labelSelector ? /^spec\.nodeName=([^,!=]+)$/.exec(q.fieldSelector ?? '') : null;
    const keys = onNode ? this.cluster.podKeysOnNode(onNode[1]!) : store.sortedKeys();
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
    const rv = this.cluster.resourceVersion;
    const cont = more ? encodeContinue(rv, lastKey) : undefined;
    if (wantsTable(req.headers.accept)) return this.sendJson(res, 200, toTable(def, items, rv, this.cluster.now().getTime(), cont));
    let meta = `{"resourceVersion":"${rv}"`;
    if (cont) {
      meta += `,"continue":"${cont}"`;
      if (!selective) meta += `,"remainingItemCount":${end - i}`;
    }
    meta += '}';
    const parts: string[] = [];
    for (const o of items) parts.push(JSON.stringify(o));
    const apiVersion = def.group ? `${def.group}/${def.version}` : def.version;
    this.sendJson(res, 200, `{"kind":"${def.kind}List","apiVersion":"${apiVersion}","metadata":${meta},"items":[${parts.join(',')}]}`);
  }

  private handleWatch(req: IncomingMessage, res: ServerResponse, def: ResourceDef, ns: string | undefined, q: Record<string, string>): void {
    const label: Matcher = parseLabelSelector(q.labelSelector);
    const field: Matcher = parseFieldSelector(q.fieldSelector, def);
    const rvParam = q.resourceVersion;
    const sendInitial = !rvParam || rvParam === '0' || q.sendInitialEvents === 'true';
    const bookmarks = q.allowWatchBookmarks === 'true' || q.allowWatchBookmarks === '1';
    res.writeHead(200, { ...JSON_HEADERS, 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    const conn = new WatchConn(def, res, ns, label, field, bookmarks);
    if (!sendInitial) {
      const rv = Number(rvParam);
      const history = Number.isFinite(rv) ? this.cluster.changesSince(def.plural, rv) : undefined;
      if (!history) {
        const oldest = this.cluster.oldestResourceVersion(def.plural);
        const status = makeStatus(410, `too old resource version: ${rvParam} (${oldest})`, 'Expired');
        res.end(`${JSON.stringify({ type: 'ERROR', object: status })}\n`);
        return;
      }
      if (!this.stalled) for (const c of history) conn.deliver(c);
    } else if (!this.stalled) {
      let batch: string[] = [];
      for (const o of this.cluster.store(def.plural).objects.values()) {
        if (!conn.matches(o)) continue;
        batch.push(conn.line('ADDED', o));
        if (batch.length >= 1000) {
          conn.write(batch.join(''));
          batch = [];
        }
      }
      if (batch.length) conn.write(batch.join(''));
      if (q.sendInitialEvents === 'true' && bookmarks) conn.bookmark(this.cluster.resourceVersion, true);
    }
    this.watches.add(conn);
    const close = (): void => {
      conn.dispose();
      this.watches.delete(conn);
    };
    res.on('close', close);
    const timeout = q.timeoutSeconds ? Number(q.timeoutSeconds) : (this.watchTimeoutSeconds ?? 1800 + Math.floor(Math.random() * 1800));
    conn.addTimer(
      setTimeout(() => {
        this.watches.delete(conn);
        conn.end();
      }, timeout * 1000),
    );
    if (bookmarks) {
      conn.addTimer(
        setInterval(() => {
          if (!this.stalled) conn.bookmark(this.cluster.resourceVersion);
        }, this.bookmarkIntervalMs),
      );
    }
  }

  private handleCreate(res: ServerResponse, def: ResourceDef, ns: string | undefined, body: string, q: Record<string, string>): void {
    let obj: Json;
    try {
      obj = JSON.parse(body);
    } catch (err) {
      throw badRequest(`error decoding body: ${(err as Error).message}`);
    }
    if (!obj || typeof obj !== 'object' || !obj.metadata) throw badRequest("Object 'metadata' is missing");
    if (def.namespaced) {
      if (obj.metadata.namespace && ns && obj.metadata.namespace !== ns) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      obj.metadata.namespace = ns ?? obj.metadata.namespace;
      if (!this.cluster.peek('namespaces', undefined, obj.metadata.namespace)) throw notFound(resourceDef('namespaces'), obj.metadata.namespace);
    }
    const created = this.cluster.create(def.plural, obj, { dryRun: q.dryRun === 'All' });
    this.sendJson(res, 201, withKind(def, created));
  }

  private handleLog(res: ServerResponse, ns: string, name: string, q: Record<string, string>): void {
    const def = resourceDef('pods');
    const pod = this.cluster.peek('pods', ns, name);
    if (!pod) throw notFound(def, name);
    const names: string[] = (pod.spec.containers ?? []).map((c: Json) => c.name);
    const initNames: string[] = (pod.spec.initContainers ?? []).map((c: Json) => c.name);
    let container = q.container;
    if (!container) {
      if (names.length !== 1) {
        let msg = `a container name must be specified for pod ${name}, choose one of: [${names.join(' ')}]`;
        if (initNames.length) msg += ` or one of the init containers: [${initNames.join(' ')}]`;
        throw badRequest(msg);
      }
      container = names[0]!;
    }
    if (!names.includes(container) && !initNames.includes(container)) throw badRequest(`container ${container} is not valid for pod ${name}`);
    const statuses: Json[] = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])];
    const status = statuses.find((s) => s.name === container);
    const logs = this.cluster.getLogs(ns, name, container);
    let text: string;
    if (q.previous === 'true' || q.previous === '1') {
      if (logs?.previous === undefined || !status?.lastState?.terminated) throw badRequest(`previous terminated container "${container}" in pod "${name}" not found`);
      text = logs.previous;
    } else {
      const waiting = status?.state?.waiting?.reason;
      if (waiting === 'ContainerCreating' || waiting === 'PodInitializing' || (!status && pod.status?.phase === 'Pending')) {
        throw badRequest(`container "${container}" in pod "${name}" is waiting to start: ${waiting ?? 'ContainerCreating'}`);
      }
      text = logs?.current ?? '';
    }
    if (q.tailLines !== undefined) {
      const n = Number(q.tailLines);
      const lines = text.split('\n');
      const trailing = text.endsWith('\n');
      if (trailing) lines.pop();
      text = n <= 0 ? '' : lines.slice(-n).join('\n') + (trailing && lines.length ? '\n' : '');
    }
    let buf = Buffer.from(text, 'utf8');
    if (q.limitBytes !== undefined) buf = buf.subarray(0, Math.max(0, Number(q.limitBytes)));
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': buf.length, 'Cache-Control': 'no-cache, private' });
    res.end(buf);
  }

  private handleMetrics(res: ServerResponse, method: string, route: Route): void {
    if (method !== 'GET') throw new SimApiError(makeStatus(405, 'the server does not allow this method on the requested resource', 'MethodNotAllowed'));
    const strip = (o: KubeObject): KubeObject => {
      const { kind: _k, apiVersion: _a, ...rest } = o;
      return rest as KubeObject;
    };
    if (route.plural === 'pods') {
      if (route.name) {
        const pod = this.cluster.peek('pods', route.namespace, route.name);
        const m = pod ? podMetricsOf(this.cluster, pod) : undefined;
        if (!m) throw new SimApiError(makeStatus(404, `podmetrics.metrics.k8s.io "${route.namespace}/${route.name}" not found`, 'NotFound', { name: route.name, group: 'metrics.k8s.io', kind: 'pods' }));
        return this.sendJson(res, 200, m);
      }
      if (this.takeFailure(res)) return;
      const items = buildPodMetrics(this.cluster, route.namespace).map(strip);
      return this.sendJson(res, 200, { kind: 'PodMetricsList', apiVersion: 'metrics.k8s.io/v1beta1', metadata: {}, items });
    }
    if (route.plural === 'nodes' && !route.namespace) {
      if (route.name) {
        const node = this.cluster.peek('nodes', undefined, route.name);
        if (!node) throw new SimApiError(makeStatus(404, `nodemetrics.metrics.k8s.io "${route.name}" not found`, 'NotFound', { name: route.name, group: 'metrics.k8s.io', kind: 'nodes' }));
        return this.sendJson(res, 200, nodeMetricsOf(this.cluster, node));
      }
      if (this.takeFailure(res)) return;
      return this.sendJson(res, 200, { kind: 'NodeMetricsList', apiVersion: 'metrics.k8s.io/v1beta1', metadata: {}, items: buildNodeMetrics(this.cluster).map(strip) });
    }
    throw this.notFoundPath();
  }
}

/** Start the simulated API server. Close it with `close()`. */
export async function startSimApiServer(opts: SimApiServerOptions): Promise<SimApiServer> {
  const s = new SimApiServerImpl(opts);
  await s.listen();
  return s;
}

