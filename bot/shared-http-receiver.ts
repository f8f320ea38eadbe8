/**
 * A Bolt `Receiver` mounted on oombot's one HTTP server (`POST /slack/events`) instead of a server of its own.
 * Before reading anything it checks the signature headers (401 when missing, malformed or more than 5
 * minutes away) and how many requests are in flight (503 past the cap); it reads the raw body bounded in
 * size (413 over 64 kB) and time (408), verifies the Slack signature over those exact bytes in constant
 * time (401, nothing processed), parses form/`payload=`/JSON bodies,
 * answers `ssl_check` and `url_verification`, and hands everything else to `app.processEvent` with Bolt's
 * own HTTPResponseAck, so `ack()` writes the HTTP response (within Slack's 3 seconds).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import { HTTPResponseAck, type App, type Receiver, type ReceiverEvent } from '@slack/bolt';
import type { Logger } from '../core/logger.js';
import { errorMessage } from '../core/errors.js';
import { checkSlackHeaders, verifySlackSignature } from './verify-slack-signature.js';

export const SLACK_EVENTS_PATH = '/slack/events';
/** Slash commands and button payloads are a few kB (a click carries its message, itself bounded). */
export const MAX_BODY_BYTES = 64 * 1024;
/** Requests handled at once; more are answered 503 at once (Slack retries events, people click again). */
export const MAX_CONCURRENT_REQUESTS = 64;
/** A body must arrive within this long. */
export const BODY_TIMEOUT_MS = 10_000;

class BodyTooLarge extends Error {}
class BodyTimeout extends Error {}

/** The raw body, refused past `limit` bytes or `timeoutMs`; the request is left for the caller to answer. */
function readRaw(req: IncomingMessage, limit: number, timeoutMs: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new BodyTooLarge());
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (err?: Error) => {
      clearTimeout(timer);
      req.off('data', onData).off('end', onEnd).off('error', onError);
      if (err) {
        // Stop reading what is left; the answer closes the connection.
        req.pause();
        reject(err);
      } else {
        resolve(Buffer.concat(chunks));
      }
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) return done(new BodyTooLarge());
      chunks.push(chunk);
    };
    const onEnd = () => done();
    const onError = (err: Error) => done(err);
    const timer = setTimeout(() => done(new BodyTimeout()), timeoutMs);
    timer.unref();
    req.on('data', onData).on('end', onEnd).on('error', onError);
  });
}

function empty(res: ServerResponse, status: number): void {
  if (res.headersSent) return;
  res.writeHead(status);
  res.end();
}

/** The body as Slack sends it: a form (a `payload=` of JSON for interactions), or JSON. Throws unless an object. */
export function parseSlackBody(raw: Buffer, contentType: string | undefined): Record<string, unknown> {
  const text = raw.toString('utf8');
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  let body: unknown;
  if (type === 'application/x-www-form-urlencoded') {
    const form = parseQuery(text);
    body = typeof form.payload === 'string' ? JSON.parse(form.payload) : { ...form };
  } else {
    body = JSON.parse(text);
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new Error('the body is not an object');
  return body as Record<string, unknown>;
}

export class SharedHttpReceiver implements Receiver {
  private app: App | undefined;
  private stopped = false;
  /** Requests refused for their signature or age (for tests and metrics). */
  refused = 0;
  private active = 0;

  constructor(
    private readonly opts: {
      signingSecret: string;
      log: Logger;
      boltLogger: ConstructorParameters<typeof HTTPResponseAck>[0]['logger'];
      now?: () => number;
      bodyLimit?: number;
      maxConcurrent?: number;
      bodyTimeoutMs?: number;
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
    const nowMs = (this.opts.now ?? Date.now)();
    const headers = checkSlackHeaders({ signature: req.headers['x-slack-signature'], timestamp: req.headers['x-slack-request-timestamp'], nowMs });
    if (!headers.ok) return this.refuse(req, res, headers.reason);
    if (this.active >= (this.opts.maxConcurrent ?? MAX_CONCURRENT_REQUESTS)) {
      log.warn({ active: this.active }, 'Slack request refused: too many in flight');
      res.setHeader('retry-after', '1');
      return empty(res, 503);
    }
    this.active++;
    try {
      await this.handle(req, res, nowMs);
    } finally {
      this.active--;
    }
  };

  private refuse(req: IncomingMessage, res: ServerResponse, reason: string): void {
    this.refused++;
    this.opts.log.warn({ reason, remote: req.socket.remoteAddress }, 'Slack request refused: signature check failed');
    // The body is never read: close the connection rather than drain what an unsigned client sends.
    res.setHeader('connection', 'close');
    empty(res, 401);
  }

  private async handle(req: IncomingMessage, res: ServerResponse, nowMs: number): Promise<void> {
    const { log } = this.opts;
    const app = this.app!;
    let raw: Buffer;
    try {
      raw = await readRaw(req, this.opts.bodyLimit ?? MAX_BODY_BYTES, this.opts.bodyTimeoutMs ?? BODY_TIMEOUT_MS);
    } catch (err) {
      if (err instanceof BodyTooLarge) {
        log.warn({ limit: this.opts.bodyLimit ?? MAX_BODY_BYTES }, 'Slack request refused: body too large');
        res.setHeader('connection', 'close');
        return empty(res, 413);
      }
      if (err instanceof BodyTimeout) {
        log.warn('Slack request refused: the body did not arrive in time');
        res.setHeader('connection', 'close');
        return empty(res, 408);
      }
      log.info({ err: errorMessage(err) }, 'Slack request aborted by the client');
      return empty(res, 400);
    }
    const check = verifySlackSignature({
      signingSecret: this.opts.signingSecret,
      rawBody: raw,
      signature: req.headers['x-slack-signature'],
      timestamp: req.headers['x-slack-request-timestamp'],
      nowMs,
    });
    if (!check.ok) return this.refuse(req, res, check.reason);
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
      await app.processEvent(event);
    } catch (err) {
      log.error({ err: errorMessage(err) }, 'Slack request failed');
      empty(res, 500);
    }
  }
}
