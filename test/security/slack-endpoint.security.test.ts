/**
 * POST /slack/events as an attacker meets it: the signature headers are checked before any body is read,
 * bodies are bounded in size and time, requests in flight are capped, and no body, random or truncated,
 * signed or not, makes the endpoint fail (500) or the process stop answering.
 */
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '@slack/bolt';
import { boltLogger } from '../../bot/bolt-logger.js';
import { SharedHttpReceiver } from '../../bot/shared-http-receiver.js';
import { blockActionPayload, sendSigned, signSlackRequest, slashCommandFields } from '../../sim/slack/index.js';
import { SECRET, startBotHarness, type BotHarness } from '../bot/bot-harness.js';
import { captureLogger } from '../helpers/silent-logger.js';

/** Sends headers and the start of a body, never the rest; resolves with the status when one comes. */
function sendStalled(url: string, headers: Record<string, string>, firstBytes: string): Promise<{ status: number; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-length': '1000', ...headers } },
      (res) => {
        res.resume();
        resolve({ status: res.statusCode ?? 0, ms: Date.now() - started });
        req.destroy();
      },
    );
    req.on('error', (err) => ((err as NodeJS.ErrnoException).code === 'ECONNRESET' ? undefined : reject(err)));
    req.write(firstBytes);
  });
}

describe('POST /slack/events against a running bot', () => {
  let h: BotHarness;
  beforeAll(async () => {
    // Answers go through the response_url at once instead of waiting to fit in the ack.
    h = await startBotHarness({ bot: { ackBudgetMs: 50 } });
  });
  afterAll(async () => {
    await h.close();
  });

  it('answers an unsigned request 401 at once, without waiting for its body', async () => {
    const res = await sendStalled(h.url, {}, 'payload=');
    expect(res.status).toBe(401);
    expect(res.ms).toBeLessThan(2_000);
    const stale = await sendStalled(
      h.url,
      { 'x-slack-request-timestamp': String(Math.floor(Date.now() / 1000) - 3600), 'x-slack-signature': `v0=${'0'.repeat(64)}` },
      'payload=',
    );
    expect(stale.status).toBe(401);
  });

  it('never fails on random or truncated bodies, signed or not, and keeps answering', async () => {
    const valid = [
      new URLSearchParams(
        slashCommandFields({ text: 'why api', user_id: 'U0APPROVER', channel_id: 'C0ALERTS', response_url: 'http://127.0.0.1:9/x', trigger_id: 't' }),
      ).toString(),
      `payload=${encodeURIComponent(JSON.stringify(blockActionPayload({ action_id: 'oom_raise_limit', value: 'p', user: { id: 'U0APPROVER' }, channel: { id: 'C0ALERTS' }, response_url: 'http://127.0.0.1:9/x', trigger_id: 't', message_ts: '1700000000.000100' })))}`,
    ];
    const bodies = fc.oneof(
      fc.string({ maxLength: 3000 }),
      fc.string({ unit: 'binary', maxLength: 500 }),
      fc.constantFrom(...valid).chain((v) => fc.nat({ max: v.length }).map((n) => v.slice(0, n))),
      fc.jsonValue().map((j) => JSON.stringify(j)),
      fc.jsonValue().map((j) => `payload=${encodeURIComponent(JSON.stringify(j))}`),
    );
    const types = fc.constantFrom('application/x-www-form-urlencoded', 'application/json', 'text/plain', '');
    // Sent 16 at a time: a signed object that no handler takes waits for Bolt's 3 s before its 404.
    const cases = fc.sample(fc.tuple(bodies, types, fc.boolean()), { numRuns: 240, seed: 20261207 });
    for (let i = 0; i < cases.length; i += 16) {
      await Promise.all(
        cases.slice(i, i + 16).map(async ([body, type, signed]) => {
          const res = await sendSigned(h.url, SECRET, body, type, signed ? {} : { unsigned: true });
          expect([200, 400, 401, 404], `${res.status} for ${JSON.stringify(body).slice(0, 200)}`).toContain(res.status);
          if (!signed) expect(res.status).toBe(401);
        }),
      );
    }
    const health = await fetch(h.url.replace('/slack/events', '/healthz'));
    expect(health.status).toBe(200);
  }, 120_000);
});

describe('the receiver under load', () => {
  let server: Server;
  let url = '';
  let release: () => void = () => undefined;
  const logs = captureLogger();
  const receiver = new SharedHttpReceiver({ signingSecret: SECRET, log: logs.log, boltLogger: boltLogger(logs.log), maxConcurrent: 2, bodyTimeoutMs: 300 });
  beforeAll(async () => {
    const held = new Promise<void>((r) => {
      release = r;
    });
    // An app whose handlers never finish until released: every request stays in flight.
    receiver.init({
      processEvent: async (e: { ack: (r?: unknown) => Promise<void> }) => {
        await held;
        await e.ack();
      },
    } as unknown as App);
    await receiver.start();
    server = createServer((req, res) => void receiver.requestListener(req, res));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
  });
  afterAll(async () => {
    release();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const command = () =>
    new URLSearchParams({ command: '/oom', text: 'help', user_id: 'U1', channel_id: 'C1', response_url: 'http://127.0.0.1:9/x', trigger_id: 't' }).toString();

  it('answers 503 with Retry-After past the cap of requests in flight', async () => {
    const inFlight = [
      sendSigned(url, SECRET, command(), 'application/x-www-form-urlencoded'),
      sendSigned(url, SECRET, command(), 'application/x-www-form-urlencoded'),
    ];
    await new Promise((r) => setTimeout(r, 200));
    const third = await sendSigned(url, SECRET, command(), 'application/x-www-form-urlencoded');
    expect(third.status).toBe(503);
    expect(third.headers.get('retry-after')).toBe('1');
    release();
    expect((await Promise.all(inFlight)).map((r) => r.status)).toEqual([200, 200]);
  });

  it('answers 408 when a signed body does not arrive in time', async () => {
    const ts = String(Math.floor(Date.now() / 1000));
    const res = await sendStalled(url, { 'x-slack-request-timestamp': ts, 'x-slack-signature': signSlackRequest(SECRET, 'payload=x', ts) }, 'payload=');
    expect(res.status).toBe(408);
  });
});
