/**
 * A gate in front of the Slack-compatible server for one process: it passes every Web API call through
 * and lets a test act at the exact moment a call reaches Slack, or Slack's answer is about to go back.
 * Killing the process there gives the two crashes that matter for posting exactly once: before Slack
 * stored the message, and after Slack stored it but before the process heard so.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface GateCall {
  method: string;
  args: Record<string, unknown>;
}

export interface GateHooks {
  /** Before the call goes on to Slack; `false` drops it there (the connection is reset). */
  request?(call: GateCall): boolean | void;
  /** After Slack answered, before the answer goes back. */
  answer?(call: GateCall, answer: { status: number; body: string }): void;
}

function parseArgs(req: IncomingMessage, raw: string): Record<string, unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim();
  if (type === 'application/json') {
    try {
      return JSON.parse(raw) as Record<string, unknown>;
    } catch {
      return {};
    }
  }
  return Object.fromEntries(new URLSearchParams(raw));
}

export class SlackGate {
  private constructor(
    private readonly server: Server,
    readonly apiUrl: string,
  ) {}

  /** `target`: the Slack server's base URL (http://127.0.0.1:port). */
  static async start(target: string, hooks: GateHooks): Promise<SlackGate> {
    const server = createServer((req: IncomingMessage, res: ServerResponse) => {
      res.on('error', () => undefined);
      req.on('error', () => undefined);
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        void (async () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          const call = { method: (req.url ?? '').replace(/^\/api\//, '').split('?')[0] ?? '', args: parseArgs(req, raw) };
          if (hooks.request?.(call) === false) {
            res.destroy();
            return;
          }
          const headers: Record<string, string> = {};
          for (const name of ['content-type', 'authorization']) {
            const value = req.headers[name];
            if (typeof value === 'string') headers[name] = value;
          }
          try {
            const upstream = await fetch(`${target}${req.url ?? '/'}`, { method: req.method ?? 'POST', headers, body: req.method === 'GET' ? undefined : raw });
            const body = await upstream.text();
            hooks.answer?.(call, { status: upstream.status, body });
            const out: Record<string, string> = {};
            for (const name of ['content-type', 'retry-after', 'x-oauth-scopes']) {
              const value = upstream.headers.get(name);
              if (value !== null) out[name] = value;
            }
            res.writeHead(upstream.status, out);
            res.end(body);
          } catch {
            res.destroy();
          }
        })();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    const port = (server.address() as AddressInfo).port;
    return new SlackGate(server, `http://127.0.0.1:${port}/api/`);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

/** A top-level alert post (not a thread reply). */
export function isAlertPost(call: GateCall): boolean {
  return call.method === 'chat.postMessage' && !call.args.thread_ts;
}

/** A thread reply post. */
export function isThreadPost(call: GateCall): boolean {
  return call.method === 'chat.postMessage' && Boolean(call.args.thread_ts);
}
