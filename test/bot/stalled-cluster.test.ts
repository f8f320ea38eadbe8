/**
 * A stalled Kubernetes API server: Slack still gets every acknowledgement within 3 s, a change that could
 * not be made in time is not made later behind the person's back, and commands answer when they can.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ACTION_RAISE_LIMIT } from '../../alert/action-ids.js';
import type { SignedResponse } from '../../sim/slack/index.js';
import { startBotHarness, type BotHarness } from './bot-harness.js';

const STALL_MS = 6_000;

function responseUrlOf(res: SignedResponse): string {
  const form = new URLSearchParams(res.request.body);
  const payload = form.get('payload');
  return payload ? (JSON.parse(payload) as { response_url: string }).response_url : form.get('response_url')!;
}

/** The response_url's nth answer. */
async function answerAt(h: BotHarness, url: string, nth: number): Promise<string> {
  const record = await h.slack.waitFor(() => h.slack.responseUrls.find((r) => r.url === url && r.uses.filter((u) => u.status === 200).length > nth), 15_000);
  const body = record.uses.filter((u) => u.status === 200)[nth]!.body as { text?: string; blocks?: unknown };
  return `${body.text ?? ''}\n${JSON.stringify(body.blocks ?? [])}`;
}

describe('a stalled API server', () => {
  let h: BotHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('commands and clicks are acknowledged within 3 s; a click it stalls changes nothing, says so, and the same button works later', async () => {
    h = await startBotHarness({ bot: { workTimeoutMs: 1_500 } });
    const stored = await h.createProposal();
    const ts = await h.postAlert(stored);
    h.kube.latencyMs = STALL_MS;

    const t0 = Date.now();
    const [click, command] = await Promise.all([h.click(ACTION_RAISE_LIMIT, stored.id, { messageTs: ts }), h.command('why api')]);
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(click.status).toBe(200);
    expect(command.status).toBe(200);
    expect((command.json as { text?: string }).text).toContain('Looking into it');

    // The click: given up before anything was sent, said so, and the claim given back.
    const refused = await h.answer(click);
    expect(refused).toContain('did not answer in time');
    expect(refused).toContain('nothing was changed');
    expect(refused).toContain(`"value":"${stored.id}"`);
    expect(await h.proposals.claimedBy(stored.id)).toBeUndefined();

    // The command: a note that it is still at work, then its answer once the API server answers.
    const url = responseUrlOf(command);
    expect(await answerAt(h, url, 0)).toContain('Still looking into it');
    h.kube.latencyMs = 0;
    expect(await answerAt(h, url, 1)).toContain('Several pods starting with api');

    // By now the stalled requests have been answered: the abandoned click patched nothing, even late.
    await h.bot.idle();
    expect(h.patches()).toHaveLength(0);
    expect(h.cluster.get('deployments', 'shop', 'api')!.spec.template.spec.containers[0].resources.limits.memory).toBe('512Mi');

    // The API server is back: the same button applies the change, once.
    expect(await h.answer(await h.click(ACTION_RAISE_LIMIT, stored.id, { messageTs: ts }))).toContain('Done');
    expect(h.patches({ dryRun: false })).toHaveLength(1);
  });
});
