/**
 * A Bolt `Receiver` mounted on oombot's one HTTP server (`POST /slack/events`) instead of a server of its own.
 * It reads the raw body (bounded), verifies the Slack signature over those exact bytes in constant time,
 * refuses timestamps more than 5 minutes away (401, nothing processed), parses form/`payload=`/JSON bodies,
 * answers `ssl_check` and `url_verification`, and hands everything else to `app.processEvent` with Bolt's
 * own HTTPResponseAck, so `ack()` writes the HTTP response (within Slack's 3 seconds).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import { HTTPResponseAck, type App, type Receiver, type ReceiverEvent } from '@slack/bolt';
import type { Logger } from '../core/logger.js';
import { errorMessage } from '../core/errors.js';
import { verifySlackSignature } from './verify-slack-signature.js';

export const SLACK_EVENTS_PATH = '/slack/events';
/** Slash commands and button payloads are a few kB; 1 MB leaves room for big messages in payloads. */
export const MAX_BODY_BYTES = 1024 * 1024;

class BodyTooLarge extends Error {}

async function readRaw(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) throw new BodyTooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new BodyTooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

function empty(res: ServerResponse, status: number): void {
  if (res.headersSent) return;
  res.writeHead(status);
  res.end();
}

export function parseSlackBody(raw: Buffer, contentType: string | undefined): Record<string, unknown> {
  const text = raw.toString('utf8');
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (type === 'application/x-www-form-urlencoded') {
    const form = parseQuery(text);
    if (typeof form.payload === 'string') return JSON.parse(form.payload) as Record<string, unknown>;
    return form as Record<string, unknown>;
  }
  return JSON.parse(text) as Record<string, unknown>;
}

export class SharedHttpReceiver implements Receiver {
  private app: App | undefined;
  private stopped = false;
  /** Requests refused for their signature or age (for tests and metrics). */
  refused = 0;

  constructor(
    private readonly opts: {
      signingSecret: string;
      log: Logger;
      boltLogger: ConstructorParameters<typeof HTTPResponseAck>[0]['logger'];
      now?: () => number;
      bodyLimit?: number;
    },
  ) {}

  init(app: App): void {
    this.app = app;
  }

  async start(): Promise<void> {
    this.stopped = false;
  }

  async stop(): Promise<void> {
    this.stopped = true;
  }

  /** The route handler for `http.route('POST', '/slack/events', ...)`. */
  readonly requestListener = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const { log } = this.opts;
    if (this.stopped || !this.app) return empty(res, 503);
    let raw: Buffer;
    try {
      raw = await readRaw(req, this.opts.bodyLimit ?? MAX_BODY_BYTES);
    } catch (err) {
      if (err instanceof BodyTooLarge) {
        log.warn({ limit: this.opts.bodyLimit ?? MAX_BODY_BYTES }, 'Slack request refused: body too large');
        return empty(res, 413);
      }
      throw err;
    }
    const check = verifySlackSignature({
      signingSecret: this.opts.signingSecret,
      rawBody: raw,
      signature: req.headers['x-slack-signature'],
      timestamp: req.headers['x-slack-request-timestamp'],
      nowMs: (this.opts.now ?? Date.now)(),
    });
    if (!check.ok) {
      this.refused++;
      log.warn({ reason: check.reason, remote: req.socket.remoteAddress }, 'Slack request refused: signature check failed');
      return empty(res, 401);
    }
    let body: Record<string, unknown>;
    try {
      body = parseSlackBody(raw, req.headers['content-type']);
    } catch (err) {
      log.warn({ err: errorMessage(err) }, 'Slack request refused: body is not form-encoded or JSON');
      return empty(res, 400);
    }
    if (body.ssl_check === '1') return empty(res, 200);
    if (body.type === 'url_verification') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ challenge: body.challenge }));
      return;
    }
    const ack = new HTTPResponseAck({
      logger: this.opts.boltLogger,
      processBeforeResponse: false,
      httpRequest: req,
      httpRequestBody: body,
      httpResponse: res,
    });
    const retryNum = Number(req.headers['x-slack-retry-num']);
    const event: ReceiverEvent = {
      body,
      ack: ack.bind(),
      ...(Number.isFinite(retryNum) ? { retryNum } : {}),
      ...(typeof req.headers['x-slack-retry-reason'] === 'string' ? { retryReason: req.headers['x-slack-retry-reason'] } : {}),
    };
    try {
      await this.app.processEvent(event);
    } catch (err) {
      log.error({ err: errorMessage(err) }, 'Slack request failed');
      empty(res, 500);
    }
  };
}
