import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSlackServer, type SlackServer } from '../../../sim/slack/server.js';

let slack: SlackServer;
let clock: number;

beforeEach(async () => {
  clock = 1_700_000_000_000;
  slack = await startSlackServer({ now: () => clock, rateLimits: { 'chat.postMessage': null } });
});
afterEach(async () => {
  await slack.close();
});

const respond = async (url: string, body: unknown) => {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as { ok: boolean; error?: string } };
};

describe('response_url', () => {
  it('mints /respond/<id> URLs on the server', () => {
    const url = slack.mintResponseUrl({ channel: '#alerts', user: 'U0ALICE' });
    expect(url.startsWith(`${slack.url}/respond/`)).toBe(true);
    expect(slack.responseUrls[0]).toMatchObject({ url, channel: 'C0ALERTS', user: 'U0ALICE', uses: [] });
  });

  it('allows 5 uses and refuses the 6th', async () => {
    const url = slack.mintResponseUrl({ channel: 'C0ALERTS', user: 'U0ALICE' });
    for (let i = 1; i <= 5; i += 1) {
      expect(await respond(url, { text: `update ${i}` })).toEqual({ status: 200, body: { ok: true } });
    }
    expect(await respond(url, { text: 'one too many' })).toEqual({ status: 404, body: { ok: false, error: 'used_url' } });
    expect(slack.ephemerals.map((e) => e.text)).toEqual(['update 1', 'update 2', 'update 3', 'update 4', 'update 5']);
    expect(slack.responseUrls[0]?.uses.map((u) => u.status)).toEqual([200, 200, 200, 200, 200, 404]);
  });

  it('expires after 30 minutes', async () => {
    const url = slack.mintResponseUrl({ channel: 'C0ALERTS', user: 'U0ALICE' });
    clock += 30 * 60_000;
    expect((await respond(url, { text: 'just in time' })).status).toBe(200);
    clock += 1;
    expect(await respond(url, { text: 'late' })).toEqual({ status: 404, body: { ok: false, error: 'expired_url' } });
  });

  it('posts in_channel, replaces or deletes the original message', async () => {
    const original = await fetch(`${slack.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: { authorization: `Bearer ${slack.token}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'channel=C0ALERTS&text=original',
    }).then((r) => r.json() as Promise<{ ts: string }>);
    const url = slack.mintResponseUrl({ channel: 'C0ALERTS', user: 'U0ALICE', messageTs: original.ts });

    await respond(url, { response_type: 'in_channel', text: 'for everyone' });
    expect(slack.messagesIn('alerts').map((m) => m.text)).toEqual(['original', 'for everyone']);

    await respond(url, { replace_original: true, text: 'replaced', blocks: [{ type: 'divider' }] });
    expect(slack.message('alerts', original.ts)).toMatchObject({ text: 'replaced', history: [{ text: 'original' }] });

    await respond(url, { delete_original: true });
    expect(slack.message('alerts', original.ts)).toBeUndefined();
  });

  it('validates the payload like chat.postMessage', async () => {
    const url = slack.mintResponseUrl({ channel: 'C0ALERTS', user: 'U0ALICE' });
    expect((await respond(url, {})).body.error).toBe('no_text');
    expect((await respond(url, { text: 'x', blocks: [{ type: 'header', text: { type: 'plain_text', text: 'h'.repeat(151) } }] })).body.error).toBe(
      'invalid_blocks',
    );
    expect((await respond(`${slack.url}/respond/T0/1/unknown`, { text: 'x' })).body.error).toBe('invalid_url');
  });
});
