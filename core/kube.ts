import { existsSync } from 'node:fs';
import { Readable } from 'node:stream';
import { createInterface } from 'node:readline';
import { fetch, type Dispatcher } from 'undici';
import { OombotError } from './errors.js';
import { IN_CLUSTER_TOKEN, loadDefault, loadInCluster, loadKubeconfigFile, type KubeCredentials, type LoadedKubeconfig } from './kubeconfig.js';
import { ListItemSplitter } from './list-stream.js';
import type { KubeApi, SendOptions } from './kube-api.js';

type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

const POOL_MAX_AGE_MS = 10 * 60_000;

/** A loaded kubeconfig and the name oombot gives its cluster in alerts and incident ids. */
export interface KubeTarget {
  /** How requests authenticate (tokens, client certificate, TLS settings). */
  credentials: KubeCredentials;
  clusterName: string;
  server: string;
}

/** Whether any cluster is configured: KUBECONFIG, the in-cluster service account, or ~/.kube/config. */
export function hasKubeConfig(kubeconfig: string | undefined, env: Record<string, string | undefined> = process.env): boolean {
  if (kubeconfig) return true;
  if (env.KUBERNETES_SERVICE_HOST && existsSync(IN_CLUSTER_TOKEN)) return true;
  const home = env.HOME ?? env.USERPROFILE;
  return Boolean(home && existsSync(`${home}/.kube/config`));
}

/**
 * KUBECONFIG when set, the in-cluster service account when running in a pod, else ~/.kube/config.
 * Fails with a message that says what to set.
 */
export function loadKubeTarget(opts: { kubeconfig?: string; clusterName?: string }): KubeTarget {
  let loaded: LoadedKubeconfig;
  try {
    if (opts.kubeconfig) {
      const first = opts.kubeconfig.split(':').find((p) => p !== '');
      if (!first || !existsSync(first)) {
        throw new OombotError('CONFIG', `KUBECONFIG points to "${opts.kubeconfig}", which does not exist`, {
          hint: 'set KUBECONFIG to the path of a kubeconfig file, or unset it to use the in-cluster service account',
        });
      }
      loaded = loadKubeconfigFile(first);
    } else if (process.env.KUBERNETES_SERVICE_HOST && existsSync(IN_CLUSTER_TOKEN)) {
      loaded = loadInCluster();
    } else {
      loaded = loadDefault();
    }
  } catch (err) {
    if (err instanceof OombotError) throw err;
    throw new OombotError('CONFIG', `cannot load the kubeconfig: ${(err as Error).message}`, {
      hint: 'set KUBECONFIG to a valid kubeconfig file',
      cause: err,
    });
  }
  if (!loaded.server) {
    throw new OombotError('CONFIG', 'no Kubernetes cluster configured: the kubeconfig has no current context', {
      hint: 'set KUBECONFIG to a kubeconfig with a current-context, or run oombot inside the cluster',
    });
  }
  const contextName = loaded.contextName || loaded.clusterName || 'in-cluster';
  const clusterName = opts.clusterName ?? sanitizeClusterName(contextName);
  return { credentials: loaded.credentials, clusterName, server: loaded.server };
}

/** Context names can be ARNs or "user@cluster"; keep a readable, id-safe form. */
export function sanitizeClusterName(name: string): string {
  const tail = name.includes('/') ? name.slice(name.lastIndexOf('/') + 1) : name;
  const clean = tail
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63);
  return clean || 'cluster';
}

export type Query = Record<string, string | number | boolean | undefined>;

export interface KubeStatus {
  kind?: string;
  code?: number;
  reason?: string;
  message?: string;
}

/** Maps an API server answer to a coded error: what retrying can fix, and what it cannot. */
export function kubeError(status: number, body: KubeStatus | undefined, what: string): OombotError {
  const message = body?.message ? `${what}: ${body.message}` : `${what}: HTTP ${status}`;
  switch (status) {
    case 401:
    case 403:
      return new OombotError('KUBE_FORBIDDEN', message, {
        status,
        hint: "check oombot's ServiceAccount and ClusterRole (deploy/) or the kubeconfig user's rights",
      });
    case 404:
      return new OombotError('KUBE_NOT_FOUND', message, { status });
    case 409:
      return new OombotError('KUBE_CONFLICT', message, { status });
    case 410:
      return new OombotError('KUBE_GONE', message, { status, retryable: true });
    case 400:
    case 415:
    case 422:
      return new OombotError('KUBE_INVALID', message, { status });
    default:
      return new OombotError('KUBE_UNREACHABLE', message, { status, retryable: true });
  }
}

const DEFAULT_TIMEOUT_MS = 15_000;

export interface WatchEvent<T> {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  object: T;
}

/**
 * Thin JSON-over-HTTP access to the API server using the kubeconfig's authentication and TLS
 * settings. Objects come back as the API server sent them (strings for times, no client-side
 * model conversion), the same for lists and watch streams.
 */
export class KubeHttp implements KubeApi {
  /** Every call but a watch gives up after this long (default 15 s): a hung API server never hangs oombot. */
  readonly timeoutMs: number;

  constructor(
    readonly target: KubeTarget,
    opts: { timeoutMs?: number } = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  }

  /**
   * Runs one call (request and body) under the time limit, joined with the caller's own signal. A call
   * that runs out of time fails as retryable; for a write, what the server did is then unknown.
   */
  private async timed<T>(what: string, signal: AbortSignal | undefined, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const limit = AbortSignal.timeout(this.timeoutMs);
    try {
      return await call(signal ? AbortSignal.any([signal, limit]) : limit);
    } catch (err) {
      if (limit.aborted && !signal?.aborted) {
        throw new OombotError('KUBE_UNREACHABLE', `the Kubernetes API server did not answer ${what} within ${Math.round(this.timeoutMs / 100) / 10} s`, {
          retryable: true,
          cause: err,
          hint: 'the API server is slow or overloaded; oombot retries',
        });
      }
      throw err;
    }
  }

  /**
   * One connection pool per API server, so that calls share connections instead of each opening its
   * own connection and TLS handshake (a burst would run out of file descriptors). The pool is rebuilt
   * every few minutes so that a rotated client certificate is picked up; headers (tokens) are fresh on
   * every request.
   */
  private pool?: { dispatcher: Promise<Dispatcher | undefined>; since: number };

  private dispatcher(): Promise<Dispatcher | undefined> {
    const now = Date.now();
    if (!this.pool || now - this.pool.since > POOL_MAX_AGE_MS) {
      const old = this.pool?.dispatcher;
      const fresh = this.target.credentials.dispatcher();
      this.pool = { dispatcher: fresh, since: now };
      // A pool that could not be built (a certificate file missing) is tried again on the next call.
      fresh.catch(() => {
        if (this.pool?.dispatcher === fresh) this.pool = undefined;
      });
      // Requests in flight (watches too) finish on the old pool; it closes once they have.
      if (old) void old.then((d) => d?.close()).catch(() => undefined);
    }
    return this.pool.dispatcher;
  }

  /** Closes the connection pool (open watches end). */
  async close(): Promise<void> {
    const old = this.pool?.dispatcher;
    this.pool = undefined;
    await old?.then((d) => d?.destroy()).catch(() => undefined);
  }

  private async request(
    method: HttpMethod,
    path: string,
    query: Query | undefined,
    init: { body?: string; contentType?: string; signal?: AbortSignal; accept?: string } = {},
  ) {
    const url = new URL(this.target.server.replace(/\/+$/, '') + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const [headers, dispatcher] = await Promise.all([this.target.credentials.headers(), this.dispatcher()]);
    headers.accept = init.accept ?? 'application/json';
    if (init.contentType) headers['content-type'] = init.contentType;
    try {
      return await fetch(url, {
        method,
        headers,
        body: init.body,
        dispatcher,
        signal: init.signal,
      });
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      throw new OombotError(
        'KUBE_UNREACHABLE',
        `cannot reach the Kubernetes API server at ${this.target.server}: ${cause?.code ?? cause?.message ?? (err as Error).message}`,
        { retryable: true, cause: err, hint: 'check that the API server is up and KUBECONFIG points at it' },
      );
    }
  }

  async getJson<T>(path: string, query?: Query, signal?: AbortSignal): Promise<T> {
    return this.timed(`GET ${path}`, signal, (s) => this.getJsonNow<T>(path, query, s));
  }

  /**
   * One object's metadata only (a PartialObjectMetadata: name, labels, annotations, owners), for an
   * object whose spec is not needed: a fraction of its bytes.
   */
  async getMetadata<T>(path: string, signal?: AbortSignal): Promise<T> {
    return this.timed(`GET ${path}`, signal, (s) => this.getJsonNow<T>(path, undefined, s, PARTIAL_OBJECT_METADATA));
  }

  private async getJsonNow<T>(path: string, query: Query | undefined, signal: AbortSignal, accept?: string): Promise<T> {
    const res = await this.request('GET', path, query, { signal, accept });
    const text = await res.text();
    const body = parseJson(text);
    if (!res.ok) throw kubeError(res.status, body as KubeStatus, `GET ${path}`);
    return body as T;
  }

  /**
   * A collection read a page at a time (`limit` and `continue`), so that a 150k-pod list never sits in
   * memory whole: the caller keeps only what it needs of each page.
   */
  async *listPages<T>(path: string, query: Query = {}, pageSize = 500, signal?: AbortSignal): AsyncGenerator<T[]> {
    let cont: string | undefined;
    do {
      const page = await this.getJson<{ metadata?: { continue?: string }; items?: T[] }>(path, { ...query, limit: pageSize, continue: cont }, signal);
      cont = page.metadata?.continue || undefined;
      yield page.items ?? [];
    } while (cont);
  }

  /**
   * Every item of a collection to `each`, page by page (`limit` and `continue`), each item parsed from
   * the body as it arrives: memory stays at one item and one chunk even from a server that ignores
   * `limit` (metrics-server answers the whole cluster in one body).
   */
  async eachListItem<T>(path: string, query: Query, each: (item: T) => void, pageSize = 500, signal?: AbortSignal): Promise<void> {
    let cont: string | undefined;
    do cont = (await this.listPage(path, { ...query, continue: cont }, each, pageSize, signal)).continue;
    while (cont);
  }

  /** One page of a collection, each item to `each` as it is parsed; the `continue` of the next page, if any. */
  async listPage<T>(path: string, query: Query, each: (item: T) => void, pageSize = 500, signal?: AbortSignal): Promise<{ continue?: string }> {
    const top = await this.timed(`GET ${path}`, signal, (s) => this.streamItems(path, { ...query, limit: pageSize }, s, each as (item: unknown) => void));
    const cont = (top.metadata as { continue?: string } | undefined)?.continue || undefined;
    return cont ? { continue: cont } : {};
  }

  private async streamItems(path: string, query: Query, signal: AbortSignal, each: (item: unknown) => void): Promise<Record<string, unknown>> {
    const res = await this.request('GET', path, query, { signal });
    if (!res.ok || !res.body) throw kubeError(res.status, parseJson(await res.text()) as KubeStatus, `GET ${path}`);
    const splitter = new ListItemSplitter(each);
    const decoder = new TextDecoder();
    for await (const chunk of res.body as AsyncIterable<Uint8Array>) splitter.push(decoder.decode(chunk, { stream: true }));
    splitter.push(decoder.decode());
    splitter.end();
    return splitter.top;
  }

  async getText(path: string, query?: Query): Promise<string> {
    return this.timed(`GET ${path}`, undefined, async (signal) => {
      const res = await this.request('GET', path, query, { accept: '*/*', signal });
      const text = await res.text();
      if (!res.ok) throw kubeError(res.status, parseJson(text) as KubeStatus, `GET ${path}`);
      return text;
    });
  }

  async send<T>(method: 'POST' | 'PATCH' | 'PUT' | 'DELETE', path: string, body: unknown, opts: SendOptions = {}): Promise<T> {
    return this.timed(`${method} ${path}`, opts.signal, async (signal) => {
      const res = await this.request(method, path, opts.query, {
        body: body === undefined ? undefined : JSON.stringify(body),
        contentType: opts.contentType ?? 'application/json',
        signal,
      });
      const parsed = parseJson(await res.text());
      if (!res.ok) throw kubeError(res.status, parsed as KubeStatus, `${method} ${path}`);
      return parsed as T;
    });
  }

  /**
   * Opens a watch stream and calls `onEvent` for each line (`onOpen` once the server accepted it).
   * Resolves when the stream ends (the server closed it, `signal` aborted it, or no byte arrived for
   * `silenceMs`) with the reason.
   */
  async watch<T>(
    path: string,
    query: Query,
    onEvent: (event: WatchEvent<T>) => void,
    opts: { signal: AbortSignal; silenceMs: number; onOpen?: () => void },
  ): Promise<'closed' | 'silent' | 'aborted'> {
    const controller = new AbortController();
    const abort = () => controller.abort();
    opts.signal.addEventListener('abort', abort, { once: true });
    let silent = false;
    let timer: NodeJS.Timeout | undefined;
    const arm = () => {
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        silent = true;
        controller.abort();
      }, opts.silenceMs);
      timer.unref();
    };
    try {
      arm();
      const res = await this.request('GET', path, { ...query, watch: 'true' }, { signal: controller.signal });
      if (!res.ok || !res.body) {
        const text = await res.text().catch(() => '');
        throw kubeError(res.status, parseJson(text) as KubeStatus, `watch ${path}`);
      }
      opts.onOpen?.();
      const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream);
      body.on('data', arm);
      const lines = createInterface({ input: body, crlfDelay: Infinity });
      try {
        for await (const line of lines) {
          if (line === '') continue;
          const event = parseJson(line) as WatchEvent<T> | undefined;
          if (event && typeof event === 'object' && typeof event.type === 'string') onEvent(event);
        }
      } catch (err) {
        if (!controller.signal.aborted) throw err;
      }
      if (opts.signal.aborted) return 'aborted';
      return silent ? 'silent' : 'closed';
    } catch (err) {
      if (opts.signal.aborted) return 'aborted';
      if (silent) return 'silent';
      throw err;
    } finally {
      if (timer) clearTimeout(timer);
      opts.signal.removeEventListener('abort', abort);
      controller.abort();
    }
  }
}

/** The Accept header asking for an object's metadata only (with JSON as the fallback). */
const PARTIAL_OBJECT_METADATA = 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1,application/json';

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
