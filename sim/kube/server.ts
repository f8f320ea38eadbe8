/**
 * The simulated cluster behind a real HTTP server on 127.0.0.1, speaking enough of the Kubernetes REST
 * API for @kubernetes/client-node (list, get, watch, patch, logs, events, metrics) and for kubectl
 * (discovery, Table output). With fault injection for watch and list failures. This module runs the
 * server and routes requests; the handlers are in http/.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { SimCluster } from './cluster.js';
import type { RecordedRequest } from './types.js';
import { VPA_GROUP, findResource } from './resources.js';
import { makeStatus, toStatus } from './status.js';
import type { WatchConn } from './watch-conn.js';
import { kubeconfigText, writeKubeconfigFile, type KubeconfigOptions } from './kubeconfig.js';
import { InjectedFailures, type FailOptions } from './http/faults.js';
import { matchesFilter, parseResourcePath, type RequestFilter } from './http/route.js';
import { methodNotAllowed, notFoundPath, readBody, sendStatus } from './http/respond.js';
import { serveDiscovery } from './http/discovery.js';
import { serveList } from './http/list.js';
import { serveWatch, type WatchHost } from './http/watch.js';
import { serveCreate, serveEviction, serveObject, serveResize } from './http/objects.js';
import { serveLog } from './http/logs.js';
import { serveMetrics } from './http/metrics.js';

export type { FailOptions } from './http/faults.js';

/**
 * What an interceptor has done with a request it caught: served as usual (after whatever the hook did to
 * the cluster, e.g. another writer's change landing just before it), the connection reset before anything
 * happened, or the request committed and then the connection reset before the answer left (a write whose
 * outcome the client cannot know), or answered with an error status (a Status object) instead.
 */
export type InterceptAction = 'serve' | 'reset' | 'commit-then-reset' | { status: number; message?: string };

export interface Interceptor {
  filter: RequestFilter;
  /** Runs before the request is served; its answer (default 'serve') decides what happens. */
  hook: (r: RecordedRequest, cluster: SimCluster) => InterceptAction | undefined | void;
  /** How many matching requests it catches (default 1). */
  times?: number;
}
export type { RequestFilter } from './http/route.js';

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
  /**
   * Catches the next requests matching `filter` (see Interceptor): a test runs something between a
   * client's read and its write, or loses the answer to a write. Returns a function that removes it.
   */
  intercept(filter: RequestFilter, hook: Interceptor['hook'], times?: number): () => void;
  watchCount(): number;
  /** TCP connections accepted since the server started (to check that clients reuse connections). */
  connectionCount(): number;
  requestCount(filter?: RequestFilter): number;
  requests(filter?: RequestFilter): RecordedRequest[];
}

class SimApiServerImpl implements SimApiServer, WatchHost {
  readonly cluster: SimCluster;
  readonly host: string;
  port = 0;
  latencyMs: number;
  bookmarkIntervalMs: number;
  readonly watchTimeoutSeconds: number | undefined;
  readonly watches = new Set<WatchConn>();
  stalled = false;
  private server: Server;
  private readonly sockets = new Set<Socket>();
  private connectionsOpened = 0;
  private unreachable = false;
  private readonly failures = new InjectedFailures();
  private interceptors: Array<Interceptor & { left: number }> = [];
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
      this.handle(req, res).catch((err) => sendStatus(res, toStatus(err)));
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
    this.failures.set(n, status, opts);
  }

  intercept(filter: RequestFilter, hook: Interceptor['hook'], times = 1): () => void {
    const entry = { filter, hook, left: times };
    this.interceptors.push(entry);
    return () => {
      this.interceptors = this.interceptors.filter((i) => i !== entry);
    };
  }

  /** The action of the first interceptor that catches `record` (each catches its `times` requests). */
  private intercepted(record: RecordedRequest): InterceptAction {
    const i = this.interceptors.find((x) => x.left > 0 && matchesFilter(record, x.filter));
    if (!i) return 'serve';
    i.left--;
    if (i.left <= 0) this.interceptors = this.interceptors.filter((x) => x !== i);
    return i.hook(record, this.cluster) ?? 'serve';
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

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://sim');
    const body = await readBody(req);
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) query[k] = v;
    const record: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query, at: Date.now() };
    const contentType = req.headers['content-type'];
    if (contentType) record.contentType = contentType;
    if (req.headers.accept) record.accept = req.headers.accept;
    if (body) record.body = body;
    this.cluster.recordRequest(record);
    res.once('finish', () => {
      record.status = res.statusCode;
    });
    if (this.latencyMs > 0) await new Promise((r) => setTimeout(r, this.latencyMs));
    if (res.destroyed) return;
    const action = this.intercepted(record);
    if (action === 'reset') {
      record.reset = { committed: false };
      req.socket.destroy();
      return;
    }
    if (typeof action === 'object') {
      sendStatus(res, makeStatus(action.status, action.message ?? 'Internal error occurred: injected failure'));
      return;
    }
    if (action === 'commit-then-reset') {
      // Served in full against the cluster, but the answer never leaves: the socket is reset instead.
      const socket = req.socket;
      record.reset = { committed: true };
      res.writeHead = (() => res) as typeof res.writeHead;
      res.write = (() => true) as typeof res.write;
      res.end = (() => {
        socket.destroy();
        return res;
      }) as typeof res.end;
    }

    const path = url.pathname.replace(/\/+$/, '') || '/';
    const segs = path
      .split('/')
      .filter((s) => s !== '')
      .map(decodeURIComponent);
    const method = record.method;
    const metrics = this.cluster.metricsEnabled;
    if (
      method === 'GET' &&
      serveDiscovery(res, path, segs, `${this.host}:${this.port}`, {
        metrics,
        vpa: this.cluster.vpaEnabled,
        podResize: this.cluster.podResizeServed,
        minorVersion: this.cluster.minorVersion,
      })
    )
      return;

    const route = parseResourcePath(segs);
    if (!route) throw notFoundPath();
    if (route.group === 'metrics.k8s.io') {
      if (!metrics || route.version !== 'v1beta1') throw notFoundPath();
      return serveMetrics(this.cluster, res, method, route, this.failures);
    }
    const def = findResource(route.group, route.version, route.plural);
    if (!def) throw notFoundPath();
    // Without the CRD installed the API server has no such path.
    if (def.group === VPA_GROUP && !this.cluster.vpaEnabled) throw notFoundPath();
    if (!def.namespaced && route.namespace) throw notFoundPath();
    const ns = def.namespaced ? route.namespace : undefined;

    if (!route.name) {
      if (method === 'GET') {
        const watch = route.watchPrefix || query.watch === 'true' || query.watch === '1';
        if (watch) return serveWatch(this, res, def, ns, query);
        if (this.failures.take(res)) return;
        return serveList(this.cluster, req, res, def, ns, query);
      }
      if (method === 'POST') return serveCreate(this.cluster, req, res, def, ns, body, query);
      throw methodNotAllowed();
    }

    const name = route.name;
    if (route.sub === 'log' && def.plural === 'pods' && method === 'GET') return serveLog(this.cluster, res, ns!, name, query);
    if (route.sub === 'eviction' && def.plural === 'pods' && method === 'POST') return serveEviction(this.cluster, res, def, ns, name, query);
    if (route.sub === 'resize' && def.plural === 'pods' && this.cluster.podResizeServed)
      return serveResize(this.cluster, req, res, def, ns!, name, body, query);
    if (route.sub && route.sub !== 'status') throw notFoundPath();
    return serveObject(this.cluster, req, res, def, ns, name, body, query);
  }
}

/** Start the simulated API server. Close it with `close()`. */
export async function startSimApiServer(opts: SimApiServerOptions): Promise<SimApiServer> {
  const s = new SimApiServerImpl(opts);
  await s.listen();
  return s;
}
