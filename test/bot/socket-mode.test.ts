/**
 * Socket Mode (SLACK_APP_TOKEN): the bot opens the connection with apps.connections.open, is greeted with
 * `hello`, and acknowledges every envelope by its envelope_id; answers that take time go through the
 * response_url, as in HTTP mode.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ACTION_RAISE_LIMIT } from '../../alert/action-ids.js';
import type { SocketAck } from '../../sim/slack/index.js';
import { APPROVER, OTHER, startBotHarness, type BotHarness } from './bot-harness.js';

const CHANNEL = 'C0ALERTS';

/** The response_url's first answer (text and blocks), once it came. */
async function answerAt(h: BotHarness, url: string, nth = 0): Promise<string> {
  const record = await h.slack.waitFor(() => h.slack.responseUrls.find((r) => r.url === url && r.uses.filter((u) => u.status === 200).length > nth), 15_000);
  const body = record.uses.filter((u) => u.status === 200)[nth]!.body as { text?: string; blocks?: unknown };
  return `${body.text ?? ''}\n${JSON.stringify(body.blocks ?? [])}`;
}

function command(h: BotHarness, text: string, user = APPROVER): { ack: Promise<SocketAck>; responseUrl: string } {
  const { response_url, trigger_id } = h.slack.interaction({ channel: CHANNEL, user });
  return { ack: h.slack.socketMode.slashCommand({ text, user_id: user, channel_id: CHANNEL, response_url, trigger_id }), responseUrl: response_url };
}

function click(
  h: BotHarness,
  value: string,
  opts: { user?: string; messageTs?: string; envelopeId?: string; responseUrl?: string } = {},
): { ack: Promise<SocketAck>; responseUrl: string } {
  const user = opts.user ?? APPROVER;
  const message = opts.messageTs ? h.slack.message(CHANNEL, opts.messageTs) : undefined;
  const responseUrl =
    opts.responseUrl ?? h.slack.interaction({ channel: CHANNEL, user, ...(opts.messageTs ? { messageTs: opts.messageTs } : {}) }).response_url;
  const ack = h.slack.socketMode.blockAction(
    {
      action_id: ACTION_RAISE_LIMIT,
      value,
      user: { id: user, username: user === APPROVER ? 'olga' : 'alice' },
      channel: { id: CHANNEL, name: 'alerts' },
      message_ts: opts.messageTs ?? '1700000000.000100',
      ...(message ? { message: h.slack.asSlackMessage(message) } : { is_ephemeral: true }),
      response_url: responseUrl,
    },
    opts.envelopeId ? { envelopeId: opts.envelopeId } : {},
  );
  return { ack, responseUrl };
}

describe('Socket Mode', () => {
  let h: BotHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('connects with the app token through apps.connections.open, and serves no HTTP endpoint', async () => {
    h = await startBotHarness({ socketMode: true });
    expect(h.bot.mode).toBe('socket');
    expect(h.bot.receiver).toBeUndefined();
    expect(h.slack.socketMode.connections).toBe(1);
    const opened = h.slack.callsTo('apps.connections.open');
    expect(opened.map((c) => [c.ok, c.token])).toEqual([[true, h.slack.appToken]]);
    // Nothing listens on POST /slack/events: requests come over the socket only.
    const res = await fetch(h.url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'command=%2Foom&text=help' });
    expect(res.status).toBe(404);
    expect(h.logs.lines().some((l) => l.msg === 'Slack bot connected (Socket Mode)')).toBe(true);
  });

  it('acknowledges /oom with its answer in the ack, and bad input with a short helpful one', async () => {
    h = await startBotHarness({ socketMode: true });
    const help = await command(h, 'help').ack;
    expect(help.ms).toBeLessThan(3_000);
    expect(String(help.payload?.text)).toContain('explains OOM kills');
    expect(help.payload?.response_type).toBe('ephemeral');
    const bad = await command(h, 'frobnicate <!channel>').ack;
    expect(String(bad.payload?.text)).toContain('not a subcommand');
    expect(JSON.stringify(bad.payload)).not.toContain('<!channel>');
  });

  it('a click is acknowledged at once and answered through the response_url; a redelivered envelope patches once', async () => {
    h = await startBotHarness({ socketMode: true });
    const stored = await h.createProposal();
    const ts = await h.postAlert(stored);
    const first = click(h, stored.id, { messageTs: ts });
    const ack = await first.ack;
    expect(ack.ms).toBeLessThan(3_000);
    expect(ack.payload).toBeUndefined();
    expect(await answerAt(h, first.responseUrl)).toContain('Done');
    // Slack redelivers an envelope it thinks was not acknowledged: same payload, same response_url.
    const again = click(h, stored.id, { messageTs: ts, responseUrl: first.responseUrl });
    await again.ack;
    expect(await answerAt(h, first.responseUrl, 1)).toContain('at most once');
    await h.bot.idle();
    expect(h.patches({ dryRun: true })).toHaveLength(1);
    expect(h.patches({ dryRun: false })).toHaveLength(1);
    // The audit reaches the alert as in HTTP mode.
    await h.slack.waitFor(() => JSON.stringify(h!.slack.message(CHANNEL, ts)!.blocks).includes(`Raised by <@${APPROVER}>`));
  });

  it('a non-approver click over the socket is refused, logged, and changes nothing', async () => {
    h = await startBotHarness({ socketMode: true });
    const stored = await h.createProposal();
    const c = click(h, stored.id, { user: OTHER });
    await c.ack;
    expect(await answerAt(h, c.responseUrl)).toContain('Only approvers');
    expect(h.patches()).toHaveLength(0);
    expect(h.logs.lines().some((l) => l.msg === 'change refused: user is not an approver' && l.user === OTHER)).toBe(true);
  });

  it('acknowledges within 3 s while the cluster is slow; the answer follows through the response_url', async () => {
    h = await startBotHarness({ socketMode: true });
    h.kube.latencyMs = 2_500;
    const c = command(h, 'why api');
    const ack = await c.ack;
    expect(ack.ms).toBeLessThan(3_000);
    expect(String(ack.payload?.text)).toContain('Looking into it');
    expect(await answerAt(h, c.responseUrl)).toContain('Several pods starting with api');
  });

  it('stopping the bot closes its connection', async () => {
    h = await startBotHarness({ socketMode: true });
    expect(h.slack.socketMode.connections).toBe(1);
    await h.app.stop();
    await h.slack.waitFor(() => h!.slack.socketMode.connections === 0);
  });
});
