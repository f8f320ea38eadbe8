/**
 * A Slack-compatible HTTP server on 127.0.0.1 for tests, benchmarks and the demo.
 *
 * The real `WebClient` works against it with `new WebClient(token, { slackApiUrl: server.apiUrl })`, and a Bolt
 * `App` with `clientOptions: { slackApiUrl: server.apiUrl }`. It answers the Web API methods oombot uses with
 * Slack's argument handling, validation errors and rate limits, serves response_urls, records everything for
 * assertions, and can be made slow, failing or unreachable. Socket Mode too: `apps.connections.open` with an
 * app token gives a WebSocket URL on this server (see socket-mode.ts and `socketMode`).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NON_MARKETPLACE_RATE_LIMITS, RateLimiter } from './rate-limiter.js';
import { multipartFile, parseApiRequest, readBody, readBodyBytes } from './read-request.js';
import { handleResponseUrl, mintResponseUrl, type ResponseUrlTarget } from './response-url.js';
import { inspectRecords } from './inspect-records.js';
import { messageJson, METHODS, type Body, type MethodContext } from './web-api-methods.js';
import { waitForChange } from './wait-for-change.js';
import { Workspace } from './workspace.js';
import { SocketModeServer, type SocketModeSim } from './socket-mode.js';
import type {
  FailSpec,
  RateLimitRule,
  RecordedCall,
  ResponseUrlRecord,
  SimChannel,
  SimEphemeral,
  RecordedUpload,
  SimFile,
  SimMessage,
  SimUser,
  SimView,
  SlackServerOptions,
} from './types.js';

export type { SlackServerOptions } from './types.js';

/** `refuse`: the port stops accepting connections (ECONNREFUSED); `503`: every request answers 503. */
export type DownMode = 'refuse' | '503';

export interface SlackServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** `http://127.0.0.1:<port>/api/`, for `slackApiUrl`. */
  readonly apiUrl: string;
  readonly port: number;
  /** The first configured bot token. */
  readonly token: string;
  readonly team: { id: string; domain: string; name: string };
  readonly bot: { userId: string; botId: string; appId: string; name: string };
  /** Live conversation list; flip `member` to simulate the bot being removed. */
  readonly channels: SimChannel[];
  readonly users: SimUser[];
  /** Every Web API call, in arrival order. */
  readonly calls: RecordedCall[];
  /** Every stored message (replies and deleted ones included), in posting order. */
  readonly messages: SimMessage[];
  /** Files of the external upload flow, by id (reserved, uploaded, shared). */
  readonly files: Map<string, SimFile>;
  /** Every POST to an upload URL (not a Web API call), in arrival order. */
  readonly uploads: RecordedUpload[];
  readonly ephemerals: SimEphemeral[];
  readonly views: SimView[];
  readonly responseUrls: ResponseUrlRecord[];
  /** Number of calls answered with HTTP 429. */
  readonly rateLimitedCount: number;
  /** The first configured app-level token (`xapp-...`), for Socket Mode. */
  readonly appToken: string;
  /** Socket Mode: connections, envelopes sent and their acks. */
  readonly socketMode: SocketModeSim;

  close(): Promise<void>;
  /** Top-level messages of a channel (id, `#name` or name), oldest first, deleted ones left out. */
  messagesIn(channel: string, opts?: { includeDeleted?: boolean }): SimMessage[];
  /** Replies under `ts`, oldest first; the parent is not included. */
  threadOf(channel: string, ts: string, opts?: { includeDeleted?: boolean }): SimMessage[];
  /** A live (not deleted) message by channel and ts. */
  message(channel: string, ts: string): SimMessage | undefined;
  callsTo(method: string): RecordedCall[];
  /** A recorded message as Slack's API returns it (e.g. the `message` of a block_actions payload). */
  asSlackMessage(message: SimMessage): Record<string, unknown>;
  /** Resolves with the predicate's first truthy value; checks on every change and every 20 ms. */
  waitFor<T>(predicate: () => T | undefined | null | false, timeoutMs?: number): Promise<T>;

  /** The next `n` calls to `method` (`'*'` for any) fail with an HTTP status or a Slack error. */
  failNext(method: string, n: number, spec: FailSpec): void;
  /** Sets (merged over the current rule) or removes (`null`) a method's rate limit; resets its buckets. */
  setRateLimit(method: string, rule: Partial<RateLimitRule> | null): void;
  setLatency(ms: number): void;
  setDown(down: boolean, mode?: DownMode): Promise<void>;

  mintResponseUrl(target: ResponseUrlTarget): string;
  mintTriggerId(): string;
  /** A fresh `response_url` and `trigger_id` for a simulated user interaction. */
  interaction(target: ResponseUrlTarget): { response_url: string; trigger_id: string };
  /** Forgets recorded calls, messages and rate-limit buckets (configuration stays). */
  reset(): void;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

const OAUTH_SCOPES = 'chat:write,chat:write.public,commands,channels:read,channels:join,groups:read,users:read';

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const payload = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(payload).toString(),
    ...headers,
  });
  res.end(payload);
}

export async function startSlackServer(opts: SlackServerOptions = {}): Promise<SlackServer> {
  const now = opts.now ?? Date.now;
  const tokens = opts.tokens ?? ['xoxb-test-token'];
  const appTokens = opts.appTokens ?? ['xapp-1-A0OOMBOT-1-test'];
  const ws = new Workspace(opts, now);
  const limiter = new RateLimiter(now, {
    ...(opts.nonMarketplaceApp && NON_MARKETPLACE_RATE_LIMITS),
    ...opts.rateLimits,
  });
  const calls: RecordedCall[] = [];
  const uploads: RecordedUpload[] = [];
  const failures = new Map<string, Array<{ remaining: number; spec: FailSpec }>>();
  const ctx: MethodContext = {
    ws,
    triggerIdTtlMs: opts.triggerIdTtlMs ?? 3000,
    strictTriggerIds: opts.strictTriggerIds ?? false,
    historyLimit: opts.nonMarketplaceApp ? { default: 15, max: 15 } : { default: 100, max: 999 },
    uploadUrl: (id) => `${baseUrl}/upload/${encodeURIComponent(id)}`,
  };
  const responseLimits = { maxUses: opts.responseUrlMaxUses ?? 5, ttlMs: opts.responseUrlTtlMs ?? 30 * 60_000 };
  let latencyMs = opts.latencyMs ?? 0;
  let down: DownMode | undefined;
  let baseUrl = '';

  const takeFailure = (method: string): FailSpec | undefined => {
    for (const key of [method, '*']) {
      const queue = failures.get(key);
      const head = queue?.[0];
      if (!queue || !head) continue;
      head.remaining -= 1;
      if (head.remaining <= 0) queue.shift();
      return head.spec;
    }
    return undefined;
  };

  const record = (call: RecordedCall) => {
    calls.push(call);
    ws.changed();
  };

  async function handleApi(req: IncomingMessage, res: ServerResponse, url: URL, method: string): Promise<void> {
    const at = now();
    const raw = await readBody(req);
    const { args, token, invalidJson } = parseApiRequest(req, raw, url);
    const answer = (status: number, body: Body, headers?: Record<string, string>) => {
      sendJson(res, status, body, headers);
      record({
        method,
        args,
        at,
        status,
        ok: body.ok,
        ...(body.error !== undefined && { error: body.error }),
        ...(token !== undefined && { token }),
      });
    };

    const failure = takeFailure(method);
    if (failure && 'status' in failure) {
      const headers: Record<string, string> = {};
      if (failure.retryAfter !== undefined) headers['retry-after'] = String(failure.retryAfter);
      const error = failure.status === 429 ? 'ratelimited' : 'service_unavailable';
      return answer(failure.status, { ok: false, error }, headers);
    }
    if (failure) return answer(200, { ok: false, error: failure.error });

    if (method === 'apps.connections.open') {
      if (!token) return answer(200, { ok: false, error: 'not_authed' });
      // Only an app-level token opens a Socket Mode connection.
      if (!appTokens.includes(token)) return answer(200, { ok: false, error: tokens.includes(token) ? 'not_allowed_token_type' : 'invalid_auth' });
      return answer(200, { ok: true, url: socketMode.openConnectionUrl() });
    }

    const handler = METHODS[method];
    if (!handler) return answer(200, { ok: false, error: 'unknown_method' });
    if (!token) return answer(200, { ok: false, error: 'not_authed' });
    if (!tokens.includes(token)) return answer(200, { ok: false, error: 'invalid_auth' });
    if (invalidJson) return answer(200, { ok: false, error: 'invalid_json' });

    const channelKey = ws.resolveChannel(args.channel)?.id ?? (typeof args.channel === 'string' ? args.channel : undefined);
    const retryAfter = limiter.take(method, channelKey);
    if (retryAfter !== undefined) {
      return answer(429, { ok: false, error: 'ratelimited' }, { 'retry-after': String(retryAfter) });
    }
    answer(200, handler(args, ctx), { 'x-oauth-scopes': OAUTH_SCOPES, 'x-accepted-oauth-scopes': 'chat:write' });
  }

  /**
   * The upload URL of files.getUploadURLExternal: takes the file's bytes, raw or as the one file of a
   * multipart form, once. Slack answers 200 with "OK - <length>".
   */
  async function handleUpload(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const file = ws.files.get(id);
    const bytes = await readBodyBytes(req);
    const type = req.headers['content-type'] ?? '';
    const data = type.startsWith('multipart/form-data') ? multipartFile(bytes, type) : bytes;
    const answer = (status: number, text: string) => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(text);
      uploads.push({ fileId: id, length: data?.length ?? 0, contentType: type, at: now(), status });
      ws.changed();
    };
    if (!file || file.bytes) return answer(404, 'Not Found');
    if (!data || data.length === 0) return answer(400, 'Bad Request: no file data');
    file.bytes = data;
    answer(200, `OK - ${data.length}`);
  }

  async function handleRespond(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const raw = await readBody(req);
    let body: Record<string, unknown>;
    try {
      const parsed = JSON.parse(raw) as unknown;
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      body = parsed as Record<string, unknown>;
    } catch {
      return sendJson(res, 400, { ok: false, error: 'invalid_payload' });
    }
    const outcome = handleResponseUrl(ws, id, body, responseLimits);
    sendJson(res, outcome.status, outcome.body);
  }

  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (down === '503') {
      res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '1' });
      res.end('Service Unavailable');
      return;
    }
    if (latencyMs > 0) await sleep(latencyMs);
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname;
    if (path.startsWith('/api/') && (req.method === 'POST' || req.method === 'GET')) {
      return handleApi(req, res, url, path.slice('/api/'.length));
    }
    if (path.startsWith('/upload/') && req.method === 'POST') {
      return handleUpload(req, res, decodeURIComponent(path.slice('/upload/'.length)));
    }
    if (path.startsWith('/respond/') && req.method === 'POST') {
      return handleRespond(req, res, decodeURIComponent(path.slice('/respond/'.length)));
    }
    if (req.method === 'GET' && path === '/_sim/messages') {
      return sendJson(res, 200, inspectRecords(ws, url.searchParams.get('channel')));
    }
    if (req.method === 'GET' && path === '/_sim/calls') return sendJson(res, 200, { ok: true, calls });
    sendJson(res, 404, { ok: false, error: 'not_found' });
  }

  const server: Server = createServer((req, res) => {
    route(req, res).catch((err: unknown) => {
      if (!res.headersSent) sendJson(res, 500, { ok: false, error: 'internal_error', detail: String(err) });
      else res.destroy();
    });
  });
  server.keepAliveTimeout = 1000;
  const socketMode = new SocketModeServer(ws, () => baseUrl, now);
  server.on('upgrade', socketMode.handleUpgrade);

  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
  const stopListening = () =>
    new Promise<void>((resolve) => {
      socketMode.closeAll();
      if (!server.listening) return resolve();
      server.close(() => resolve());
      server.closeAllConnections();
    });

  await listen(opts.port ?? 0);
  const port = (server.address() as AddressInfo).port;
  baseUrl = `http://127.0.0.1:${port}`;

  const sim: SlackServer = {
    url: baseUrl,
    apiUrl: `${baseUrl}/api/`,
    port,
    token: tokens[0] ?? '',
    team: ws.team,
    bot: ws.bot,
    channels: ws.channels,
    users: ws.users,
    calls,
    messages: ws.messages,
    files: ws.files,
    uploads,
    ephemerals: ws.ephemerals,
    views: ws.views,
    responseUrls: ws.responseUrls,
    get rateLimitedCount() {
      return calls.filter((c) => c.status === 429).length;
    },
    appToken: appTokens[0] ?? '',
    socketMode,

    close: async () => {
      down = undefined;
      await stopListening();
      ws.removeAllListeners();
    },
    messagesIn: (channel, o) => ws.messagesIn(channel, o),
    threadOf: (channel, ts, o) => ws.threadOf(channel, ts, o),
    message: (channel, ts) => ws.findMessage(ws.resolveChannel(channel)?.id ?? channel, ts),
    callsTo: (method) => calls.filter((c) => c.method === method),
    asSlackMessage: (message) => messageJson(ws, message),
    waitFor: (predicate, timeoutMs = 5000) =>
      waitForChange(ws, predicate, timeoutMs, () => {
        const recent = calls.slice(-5).map((c) => `${c.method} ${c.status} ${c.error ?? 'ok'}`);
        return `last calls: ${recent.join('; ') || 'none'}`;
      }),

    failNext: (method, n, spec) => {
      const queue = failures.get(method) ?? [];
      queue.push({ remaining: n, spec });
      failures.set(method, queue);
    },
    setRateLimit: (method, rule) => limiter.set(method, rule),
    setLatency: (ms) => {
      latencyMs = ms;
    },
    setDown: async (on, mode = 'refuse') => {
      if (!on) {
        if (down === 'refuse') await listen(port);
        down = undefined;
        return;
      }
      down = mode;
      if (mode === 'refuse') await stopListening();
    },

    mintResponseUrl: (target) => mintResponseUrl(ws, baseUrl, target),
    mintTriggerId: () => ws.mintTriggerId(),
    interaction: (target) => ({ response_url: mintResponseUrl(ws, baseUrl, target), trigger_id: ws.mintTriggerId() }),
    reset: () => {
      calls.length = 0;
      uploads.length = 0;
      failures.clear();
      limiter.reset();
      ws.clearRecords();
    },
  };
  return sim;
}
