import { createHmac, timingSafeEqual } from 'node:crypto';

/** Slack refuses requests whose timestamp is more than five minutes away from now; so does oombot. */
export const MAX_REQUEST_AGE_SECONDS = 5 * 60;

export type SignatureCheck = { ok: true } | { ok: false; reason: string };

/**
 * The headers alone: present, well-formed, and a timestamp within five minutes of now. Checked before the
 * body is read, so a request that cannot be Slack's costs nothing.
 */
export function checkSlackHeaders(input: {
  signature: string | string[] | undefined;
  timestamp: string | string[] | undefined;
  nowMs?: number;
}): SignatureCheck {
  const { signature, timestamp } = input;
  if (typeof signature !== 'string' || typeof timestamp !== 'string') {
    return { ok: false, reason: 'missing X-Slack-Signature or X-Slack-Request-Timestamp' };
  }
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'X-Slack-Request-Timestamp is not a number' };
  const nowSeconds = Math.floor((input.nowMs ?? Date.now()) / 1000);
  if (Math.abs(nowSeconds - Number(timestamp)) > MAX_REQUEST_AGE_SECONDS) {
    return { ok: false, reason: 'X-Slack-Request-Timestamp is more than 5 minutes from now (stale or replayed request, or a skewed clock)' };
  }
  if (!/^v0=[0-9a-f]{64}$/.test(signature)) return { ok: false, reason: 'X-Slack-Signature is not a v0 signature' };
  return { ok: true };
}

/**
 * Checks `X-Slack-Signature` (`v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{raw body}`) in constant time,
 * and that `X-Slack-Request-Timestamp` is within five minutes of now, either way (replays and clock games).
 */
export function verifySlackSignature(input: {
  signingSecret: string;
  rawBody: Buffer | string;
  signature: string | string[] | undefined;
  timestamp: string | string[] | undefined;
  nowMs?: number;
}): SignatureCheck {
  const headers = checkSlackHeaders(input);
  if (!headers.ok) return headers;
  const timestamp = input.timestamp as string;
  const hmac = createHmac('sha256', input.signingSecret);
  hmac.update(`v0:${timestamp}:`);
  hmac.update(input.rawBody);
  const expected = hmac.digest();
  const given = Buffer.from((input.signature as string).slice(3), 'hex');
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'signature mismatch: check SLACK_SIGNING_SECRET (Basic Information > App Credentials > Signing Secret)' };
  }
  return { ok: true };
}
