/**
 * Only Slack can talk to POST /slack/events: the signature covers the exact bytes and the timestamp,
 * and nothing else passes. test/bot/signature.test.ts sends forged, stale, future, unsigned, malformed
 * and altered requests through the receiver; here are the properties behind them for any secret, body
 * and header value, and the receiver's limits (size, body format, header tricks) over HTTP.
 */
import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_REQUEST_AGE_SECONDS, verifySlackSignature } from '../../bot/verify-slack-signature.js';
import { MAX_BODY_BYTES } from '../../bot/shared-http-receiver.js';
import { ACTION_RAISE_LIMIT } from '../../alert/action-ids.js';
import { sendSigned, signSlackRequest } from '../../sim/slack/index.js';
import { SECRET, startBotHarness, type BotHarness } from '../bot/bot-harness.js';

const NOW_S = 1_700_000_000;
const NOW_MS = NOW_S * 1000 + 500;

const secret = fc.string({ minLength: 1, maxLength: 64 });
const body = fc.oneof(
  fc.string({ maxLength: 2000 }),
  fc.string({ unit: 'binary', maxLength: 500 }),
  fc.uint8Array({ maxLength: 1000 }).map((b) => Buffer.from(b)),
);

/** What Slack sends in X-Slack-Signature, over the exact bytes of the body. */
function sign(key: string, raw: string | Buffer, timestamp: string): string {
  if (!Buffer.isBuffer(raw)) return signSlackRequest(key, raw, timestamp);
  return `v0=${createHmac('sha256', key).update(`v0:${timestamp}:`).update(raw).digest('hex')}`;
}

describe('verifySlackSignature, for any secret, body and header', () => {
  it('accepts exactly what Slack signs, within five minutes either way', () => {
    fc.assert(
      fc.property(secret, body, fc.integer({ min: -MAX_REQUEST_AGE_SECONDS, max: MAX_REQUEST_AGE_SECONDS }), (key, raw, offset) => {
        const timestamp = String(NOW_S + offset);
        expect(verifySlackSignature({ signingSecret: key, rawBody: raw, signature: sign(key, raw, timestamp), timestamp, nowMs: NOW_MS })).toEqual({
          ok: true,
        });
      }),
      { numRuns: 500 },
    );
  });

  it('refuses a changed byte, another secret or a timestamp more than five minutes away', () => {
    fc.assert(
      fc.property(
        secret,
        body.filter((b) => b.length > 0),
        fc.nat(),
        fc.integer({ min: 1, max: 255 }),
        secret,
        fc.integer({ min: MAX_REQUEST_AGE_SECONDS + 1, max: 10 ** 9 }),
        fc.boolean(),
        (key, raw, at, xor, otherKey, away, future) => {
          const timestamp = String(NOW_S);
          const signature = sign(key, raw, timestamp);
          const bytes = Buffer.isBuffer(raw) ? Buffer.from(raw) : Buffer.from(raw, 'utf8');
          const i = at % bytes.length;
          bytes[i] = bytes[i]! ^ xor;
          expect(verifySlackSignature({ signingSecret: key, rawBody: bytes, signature, timestamp, nowMs: NOW_MS }).ok).toBe(false);
          if (otherKey !== key) expect(verifySlackSignature({ signingSecret: otherKey, rawBody: raw, signature, timestamp, nowMs: NOW_MS }).ok).toBe(false);
          // A replay outside the window is refused even with a perfect signature over its own timestamp.
          const old = String(future ? NOW_S + away : NOW_S - away);
          if (Number(old) >= 0) {
            const check = verifySlackSignature({ signingSecret: key, rawBody: raw, signature: sign(key, raw, old), timestamp: old, nowMs: NOW_MS });
            expect(check).toEqual({ ok: false, reason: expect.stringContaining('5 minutes') });
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('refuses any other spelling of the signature: a flipped digit, upper case, another version, padding, a list', () => {
    fc.assert(
      fc.property(secret, body, fc.nat({ max: 63 }), (key, raw, at) => {
        const timestamp = String(NOW_S);
        const good = sign(key, raw, timestamp);
        const hex = good.slice(3);
        const flipped = `v0=${hex.slice(0, at)}${hex[at] === '0' ? '1' : '0'}${hex.slice(at + 1)}`;
        const variants: unknown[] = [
          flipped,
          `v0=${hex.toUpperCase()}`,
          `v1=${hex}`,
          `V0=${hex}`,
          ` ${good}`,
          `${good} `,
          `${good}0`,
          good.slice(0, -1),
          `v0=${hex},${good}`,
          [good],
          [good, good],
          '',
          undefined,
          null,
          42,
        ];
        for (const signature of variants) {
          if (signature === `v0=${hex.toUpperCase()}` && hex.toUpperCase() === hex) continue;
          expect(verifySlackSignature({ signingSecret: key, rawBody: raw, signature: signature as string, timestamp, nowMs: NOW_MS }).ok).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('refuses every timestamp that is not plain digits, even when the signature covers that very text', () => {
    const odd = fc.oneof(
      fc.constantFrom(
        ' 1700000000',
        '1700000000 ',
        '+1700000000',
        '-1700000000',
        '1700000000.0',
        '1.7e9',
        '0x6553f100',
        '',
        'NaN',
        'Infinity',
        '١٧٠٠٠٠٠٠٠٠',
        '1700000000\n',
        '1_700_000_000',
        '17000000000000',
      ),
      fc.string({ maxLength: 20 }).filter((s) => !/^\d{1,12}$/.test(s)),
    );
    fc.assert(
      fc.property(secret, body, odd, (key, raw, timestamp) => {
        const check = verifySlackSignature({ signingSecret: key, rawBody: raw, signature: sign(key, raw, timestamp), timestamp, nowMs: NOW_MS });
        expect(check.ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws, whatever the headers hold, and always says why it refused', () => {
    fc.assert(
      fc.property(secret, fc.anything(), fc.anything(), fc.oneof(body, fc.constant('')), (key, signature, timestamp, raw) => {
        const check = verifySlackSignature({ signingSecret: key, rawBody: raw, signature: signature as string, timestamp: timestamp as string, nowMs: NOW_MS });
        if (!check.ok) expect(check.reason.length).toBeGreaterThan(10);
      }),
      { numRuns: 500 },
    );
  });
});

describe('the receiver over HTTP', () => {
  let h: BotHarness;
  beforeAll(async () => {
    h = await startBotHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  const FORM = 'application/x-www-form-urlencoded';

  it('refuses a body over 64 kB with 413 before reading it all or checking anything else', async () => {
    const before = h.bot.receiver!.refused;
    const huge = `payload=${'x'.repeat(MAX_BODY_BYTES + 1)}`;
    const res = await sendSigned(h.url, SECRET, huge, FORM);
    expect(res.status).toBe(413);
    expect(h.bot.receiver!.refused).toBe(before);
    expect(h.logs.lines().some((l) => l.msg === 'Slack request refused: body too large')).toBe(true);
  });

  it('refuses a correctly signed body that is not a Slack payload with 400, and runs nothing', async () => {
    for (const raw of ['payload=%7Bnot%20json', '{"type":', 'payload=']) {
      const res = await sendSigned(h.url, SECRET, raw, raw.startsWith('{') ? 'application/json' : FORM);
      expect(res.status).toBe(400);
    }
    expect(h.logs.lines().some((l) => l.msg === 'Slack request refused: body is not form-encoded or JSON')).toBe(true);
    await h.bot.idle();
    expect(h.patches()).toEqual([]);
  });

  it('refuses two signatures in one header, and a signature sent for another timestamp', async () => {
    const stored = await h.createProposal();
    const ts = Math.floor(Date.now() / 1000);
    const raw = `payload=${encodeURIComponent(JSON.stringify({ type: 'block_actions', user: { id: 'U0APPROVER' }, actions: [{ action_id: ACTION_RAISE_LIMIT, value: stored.id, type: 'button' }] }))}`;
    const good = signSlackRequest(SECRET, raw, ts);
    const forged = signSlackRequest('guess', raw, ts);
    const twice = await sendSigned(h.url, SECRET, raw, FORM, { timestamp: ts, signature: `${forged}, ${good}` });
    expect(twice.status).toBe(401);
    const shifted = await sendSigned(h.url, SECRET, raw, FORM, { timestamp: ts - 1, signature: good });
    expect(shifted.status).toBe(401);
    await h.bot.idle();
    expect(h.patches()).toEqual([]);
    expect(await h.proposals.get(stored.id)).toBeDefined();
  });
});
