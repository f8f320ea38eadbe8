/**
 * Records that decide what oombot changes in the cluster (fix proposals) are sealed with an HMAC: Redis is a
 * trust boundary, and someone able to write a key must not be able to choose the workload or the value that
 * the next approver's click applies. The key comes from OOMBOT_PROPOSAL_KEY (a Secret shared by the worker,
 * which creates proposals, and the bot, which applies them); without it, a key made at start-up serves a
 * single process (the demo, `npm start` with every role).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

const VERSION = 'v1';

/** This process's own key, for when no OOMBOT_PROPOSAL_KEY is configured. */
export const PROCESS_KEY = randomBytes(32);

function mac(key: string | Buffer, json: string): Buffer {
  return createHmac('sha256', key).update(`${VERSION}.`).update(json).digest();
}

/** `v1.<mac>.<json>`: the JSON exactly as it was signed. */
export function seal(key: string | Buffer, value: unknown): string {
  const json = JSON.stringify(value);
  return `${VERSION}.${mac(key, json).toString('base64url')}.${json}`;
}

export type Opened = { ok: true; value: unknown } | { ok: false; reason: string };

/** The value of a sealed record, or why it is refused (not sealed, wrong key or altered, not JSON). */
export function open(key: string | Buffer, raw: string): Opened {
  const first = raw.indexOf('.');
  const second = raw.indexOf('.', first + 1);
  if (first < 0 || second < 0 || raw.slice(0, first) !== VERSION) return { ok: false, reason: 'not a sealed record' };
  const given = Buffer.from(raw.slice(first + 1, second), 'base64url');
  const json = raw.slice(second + 1);
  const expected = mac(key, json);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'its signature does not match: it was altered, or written with another OOMBOT_PROPOSAL_KEY' };
  }
  try {
    return { ok: true, value: JSON.parse(json) as unknown };
  } catch {
    return { ok: false, reason: 'not JSON' };
  }
}
