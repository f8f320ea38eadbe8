import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../core/config.js';
import { ACTION_RAISE_LIMIT } from '../../alert/action-ids.js';
import { runDemo } from '../../sim/demo.js';
import { freePort } from '../../sim/private-redis.js';
import { startSlackServer, type SlackServer } from '../../sim/slack/index.js';
import { sendBlockAction } from '../../sim/slack/signed-client.js';
import { REDIS_URL } from '../helpers/redis.js';

const SECRET = 'demo-signing-secret';
const APPROVER = 'U0OLGA';

interface Btn {
  action_id?: string;
  value?: string;
}

/** What a newcomer sees: `npm start` with nothing configured runs these scenarios. */
describe('the demo', () => {
  let slack: SlackServer | undefined;
  afterEach(async () => {
    vi.restoreAllMocks();
    await slack?.close();
    slack = undefined;
  });

  it('unfolds six scenarios, prints an alert for each with the right cause, a near-limit warning before a kill with its chart, and finishes cleanly', async () => {
    const printed: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      printed.push(String(chunk));
      return true;
    });
    const said: string[] = [];
    const config = loadConfig({ REDIS_URL, PORT: String(await freePort()), LOG_LEVEL: 'silent' });
    await runDemo({ config, roles: ['watcher', 'worker', 'bot', 'sampler'], exitWhenDone: true, stepSeconds: 0.5, say: (l) => said.push(l) });
    vi.restoreAllMocks();

    const out = printed.join('');
    if (process.env.DEMO_OUT) (await import('node:fs')).writeFileSync(process.env.DEMO_OUT, out);
    expect(said.filter((l) => /^\d\/6 /.test(l))).toHaveLength(6);
    expect(said.at(-1)).toMatch(/^demo finished: \d+ incidents handled, 0 failed, 0 in flight$/);
    expect(said.some((l) => l.includes('kubectl --kubeconfig '))).toBe(true);
    expect(out).toMatch(/\[CRITICAL\] OOMKilled: shop\/checkout-/);
    expect(out).toMatch(/\[CRITICAL\] OOMKilled: batch\/reports-/);
    expect(out).toMatch(/Evicted \(memory\): shop\/search-/);
    expect(out).toMatch(/Node out of memory: node-1/);
    expect(out).toMatch(/Killed by SIGKILL, not OOM: platform\/gateway-/);
    // The liveness-probe kill is never called an OOM.
    expect(out).not.toMatch(/OOMKilled: platform\/gateway/);
    expect(out).toContain('Raise the memory limit of main in Deployment shop/checkout');
    // shop/cart: warned while it climbed, with the time left, then killed, with its chart.
    const warned = out.indexOf('[WARNING] Near memory limit: shop/Deployment/cart');
    const killed = out.search(/\[CRITICAL\] OOMKilled: shop\/cart-/);
    expect(warned).toBeGreaterThan(-1);
    expect(killed).toBeGreaterThan(warned);
    expect(out).toMatch(/of its 512Mi memory limit \(9\d%\) and is rising\. At this rate it reaches the limit in about \d+s/);
    expect(out).toMatch(/Near-limit warning +warned at .* UTC, 9\d% of the limit and rising/);
    const chart = /memory, last (?:hour|\d+ min|\d+ s): ([▁▂▃▄▅▆▇█]+) peak ~?\d+(\.\d+)?Mi of its 512Mi limit \(chart: (\S+memory-cart-\S+\.png)\)/.exec(out);
    expect(chart?.[1]?.length).toBeGreaterThanOrEqual(5);
    expect(readFileSync(chart![3]!).subarray(1, 4).toString('latin1')).toBe('PNG');
  }, 90_000);

  it('with Slack configured, an approver clicking "Raise limit" patches the simulated Deployment and its pods stop dying', async () => {
    slack = await startSlackServer({ users: [{ id: APPROVER, name: 'olga' }] });
    const port = await freePort();
    const config = loadConfig({
      REDIS_URL,
      PORT: String(port),
      LOG_LEVEL: 'silent',
      SLACK_BOT_TOKEN: slack.token,
      SLACK_API_URL: slack.apiUrl,
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_CHANNEL: '#alerts',
      OOMBOT_APPROVERS: APPROVER,
    });
    const said: string[] = [];
    const stop = new AbortController();
    const demo = runDemo({ config, roles: ['watcher', 'worker', 'bot'], stepSeconds: 0.5, say: (l) => said.push(l), signal: stop.signal });
    try {
      const s = slack;
      const alert = await s.waitFor(
        () => s.messagesIn('#alerts').find((m) => (m.text ?? '').includes('shop/checkout-') && JSON.stringify(m.blocks).includes(ACTION_RAISE_LIMIT)),
        30_000,
      );
      const raise = ((alert.blocks ?? []) as { elements?: Btn[] }[]).flatMap((b) => b.elements ?? []).find((b) => b.action_id === ACTION_RAISE_LIMIT)!;
      const { response_url, trigger_id } = s.interaction({ channel: 'C0ALERTS', user: APPROVER, messageTs: alert.ts });
      const res = await sendBlockAction(`http://127.0.0.1:${port}/slack/events`, SECRET, {
        action_id: ACTION_RAISE_LIMIT,
        value: raise.value!,
        user: { id: APPROVER, username: 'olga' },
        channel: { id: 'C0ALERTS', name: 'alerts' },
        message_ts: alert.ts,
        message: s.asSlackMessage(alert),
        response_url,
        trigger_id,
      });
      expect(res.status).toBe(200);
      await expect.poll(() => said.includes('shop/checkout has a limit that fits: its pods stop dying'), { timeout: 30_000 }).toBe(true);
      // The alert records who applied what.
      await s.waitFor(() => JSON.stringify(s.message('C0ALERTS', alert.ts)!.blocks).includes(`<@${APPROVER}>`), 10_000);
    } finally {
      stop.abort();
      await demo;
    }
  }, 90_000);
});
