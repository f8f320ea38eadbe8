import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';
import { errorMessage } from './errors.js';

export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => void | Promise<void>;

export interface ReadinessCheck {
  name: string;
  check: () => Promise<{ ok: boolean; detail?: string }>;
}

/**
 * The one HTTP server of a process: /healthz, /readyz, /metrics, and routes the roles mount
 * (the bot mounts POST /slack/events).
 */
export class HttpServer {
  private readonly server: Server;
  private readonly routes = new Map<string, RouteHandler>();
  private readonly checks: ReadinessCheck[] = [];

  constructor(private readonly deps: { log: Logger; metrics: Metrics }) {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.keepAliveTimeout = 5_000;
    // A slow client cannot hold a connection open: headers within 10 s, the whole request within 30 s.
    this.server.headersTimeout = 10_000;
    this.server.requestTimeout = 30_000;
  }

  route(method: string, path: string, handler: RouteHandler): void {
    this.routes.set(`${method.toUpperCase()} ${path}`, handler);
  }

  addReadinessCheck(check: ReadinessCheck): void {
    this.checks.push(check);
  }

  async readiness(): Promise<{ ok: boolean; checks: Record<string, { ok: boolean; detail?: string }> }> {
    const results = await Promise.all(
      this.checks.map(async (c) => {
        try {
          return [c.name, await c.check()] as const;
        } catch (err) {
          return [c.name, { ok: false, detail: errorMessage(err) }] as const;
        }
      }),
    );
    return { ok: results.every(([, r]) => r.ok), checks: Object.fromEntries(results) };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    try {
      if (req.method === 'GET' && path === '/healthz') return json(res, 200, { ok: true });
      if (req.method === 'GET' && path === '/readyz') {
        const r = await this.readiness();
        return json(res, r.ok ? 200 : 503, r);
      }
      if (req.method === 'GET' && path === '/metrics') {
        const body = await this.deps.metrics.render();
        res.writeHead(200, { 'content-type': this.deps.metrics.registry.contentType });
        res.end(body);
        return;
      }
      const handler = this.routes.get(`${req.method} ${path}`);
      if (handler) return await handler(req, res);
      json(res, 404, { ok: false, error: 'not found' });
    } catch (err) {
      this.deps.log.error({ err: errorMessage(err), path }, 'HTTP handler failed');
      if (!res.headersSent) json(res, 500, { ok: false, error: 'internal error' });
      else res.destroy();
    }
  }

  async listen(port: number, host = '0.0.0.0'): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return (this.server.address() as AddressInfo).port;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    // Give in-flight requests a moment, then cut what is left (keep-alive sockets, slow clients).
    const cut = setTimeout(() => this.server.closeAllConnections(), 2_000);
    cut.unref();
    await closed;
    clearTimeout(cut);
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
