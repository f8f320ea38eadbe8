import { afterEach, describe, expect, it } from 'vitest';
import { sendSigned } from '../../sim/slack/index.js';
import { ACTION_RAISE_LIMIT } from '../../alert/action-ids.js';
import { verifySlackSignature } from '../../bot/verify-slack-signature.js';
import { signSlackRequest } from '../../sim/slack/signed-client.js';
import { SECRET, startBotHarness, type BotHarness } from './bot-harness.js';

describe('Slack request verification on POST /slack/events', () => {
  let h: BotHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it.each([
    ['a forged signature', { forgeWithSecret: 'not-the-secret' }],
    ['a stale timestamp (over 5 minutes)', { ageSeconds: 301 }],
    ['a timestamp 10 minutes in the future', { ageSeconds: -600 }],
    ['no signature headers', { unsigned: true }],
    ['a malformed signature', { signature: 'v1=abc' }],
  ])('%s → 401, and nothing is done', async (_what, sign) => {
    h = await startBotHarness();
    const stored = await h.createProposal();
    const click = await h.click(ACTION_RAISE_LIMIT, stored.id, { sign });
    const command = await h.command('snooze api 1h', undefined, sign);
    expect(click.status).toBe(401);
    expect(command.status).toBe(401);
    expect(click.text).toBe('');
    await new Promise((r) => setTimeout(r, 200));
    expect(h.patches()).toHaveLength(0);
    expect(h.slack.responseUrls.every((r) => r.uses.length === 0)).toBe(true);
    expect(h.bot.receiver?.refused).toBe(2);
    // The proposal was not touched: a genuine click still applies it.
    expect(await h.answer(await h.click(ACTION_RAISE_LIMIT, stored.id))).toContain('Done');
  });

  it('a body changed after signing is refused', async () => {
    h = await startBotHarness();
    const ts = Math.floor(Date.now() / 1000);
    const signed = 'command=%2Foom&text=help&user_id=U0APPROVER';
    const res = await sendSigned(h.url, SECRET, signed.replace('help', 'top'), 'application/x-www-form-urlencoded', {
      signature: signSlackRequest(SECRET, signed, ts),
      timestamp: ts,
    });
    expect(res.status).toBe(401);
  });

  it("a 5-minute-old request is still accepted (Slack's window)", async () => {
    h = await startBotHarness();
    const res = await h.command('help', undefined, { ageSeconds: 290 });
    expect(res.status).toBe(200);
  });

  it('verifySlackSignature checks in constant time over the raw bytes', () => {
    const now = 1_700_000_000_000;
    const body = Buffer.from('payload=%7B%22a%22%3A1%7D');
    const signature = signSlackRequest('s3cret', body.toString(), 1_700_000_000);
    expect(verifySlackSignature({ signingSecret: 's3cret', rawBody: body, signature, timestamp: '1700000000', nowMs: now })).toEqual({ ok: true });
    expect(verifySlackSignature({ signingSecret: 's3cret', rawBody: body, signature, timestamp: '1700000000', nowMs: now + 301_000 }).ok).toBe(false);
    expect(verifySlackSignature({ signingSecret: 'other', rawBody: body, signature, timestamp: '1700000000', nowMs: now }).ok).toBe(false);
    expect(verifySlackSignature({ signingSecret: 's3cret', rawBody: body, signature: [signature], timestamp: '1700000000', nowMs: now }).ok).toBe(false);
  });
});
