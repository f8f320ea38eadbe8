/**
 * Env values are secrets until proven otherwise. A Deployment whose container has passwords and tokens
 * in env values, in runtime option variables (JAVA_TOOL_OPTIONS, NODE_OPTIONS), in command and args, plus
 * an envFrom Secret and a secretKeyRef, is OOM-killed; the whole product runs (watcher → worker → Slack,
 * every button, /oom), and no value appears in any Slack call, any answer, any log line, or the console
 * output of the Slack-less mode. oombot never reads Secret objects at all.
 *
 * test/handlers/model/secrets.test.ts checks the same for the pure pipeline; this is the product.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../core/config.js';
import { loadKubeTarget } from '../../core/kube.js';
import { startOombot, type Oombot } from '../../bin/start.js';
import { ACTION_EXPLAIN, ACTION_RAISE_LIMIT, ACTION_SHOW_LOGS } from '../../alert/action-ids.js';
import { makeDeployment, type SimApiServer, type SimCluster } from '../../sim/kube/index.js';
import type { SignedResponse } from '../../sim/slack/index.js';
import { startBotHarness, type BotHarness } from '../bot/bot-harness.js';
import { removeQueueData, REDIS_URL, uniqueQueueName } from '../helpers/redis.js';
import { captureLogger } from '../helpers/silent-logger.js';
import { startSimCluster } from '../helpers/watcher-harness.js';
import { everythingSentToSlack } from './slack-output.js';

const MiB = 2 ** 20;

const SECRETS = {
  env: 'pw-env-7Qx2Lm9Rv4',
  token: 'xoxb-1111-2222-tokenValue9z',
  javaOptions: 'jvm-prop-Sd83kdP1',
  nodeOptions: 'node-flag-Kd9s0Qa2',
  goMemLimit: 'gomem-value-3Jd7',
  args: 'arg-token-Z8d7F6s5',
  command: 'cmd-pass-Hq5Wm2',
};

/** The vault Deployment: every way a secret can sit in a container spec. */
function createVault(cluster: SimCluster): void {
  const d = makeDeployment({
    name: 'vault',
    namespace: 'shop',
    replicas: 1,
    containers: [
      {
        name: 'vault',
        memoryRequest: '256Mi',
        memoryLimit: '512Mi',
        command: ['sh', '-c', `exec java -Ddb.password=${SECRETS.command} -jar /app.jar`],
        args: [`--token=${SECRETS.args}`, '--api-key', SECRETS.args],
        env: [
          { name: 'DB_PASSWORD', value: SECRETS.env },
          { name: 'SLACK_TOKEN', value: SECRETS.token },
          { name: 'JAVA_TOOL_OPTIONS', value: `-Djavax.net.ssl.trustStorePassword=${SECRETS.javaOptions} -Xmx450m` },
          { name: 'NODE_OPTIONS', value: `--max-old-space-size=300 --secret=${SECRETS.nodeOptions}` },
          { name: 'GOMEMLIMIT', value: SECRETS.goMemLimit },
          { name: 'API_KEY', valueFrom: { secretKeyRef: { name: 'vault-keys', key: 'api' } } },
        ],
      },
    ],
  });
  d.spec.template.spec.containers[0].envFrom = [{ secretRef: { name: 'vault-secrets' } }, { configMapRef: { name: 'vault-config' } }];
  cluster.createDeployment(d);
}

function killVault(cluster: SimCluster): string {
  const pod = cluster.list('pods', 'shop').find((p) => String(p.metadata.name).startsWith('vault-'))!.metadata.name as string;
  cluster.setUsage('shop', pod, 'vault', 505 * MiB);
  cluster.setLogs('shop', pod, 'vault', { previous: 'starting\nheap grows\njava.lang.OutOfMemoryError: Java heap space\n' });
  cluster.oomKill('shop', pod, 'vault', { startedAt: new Date(Date.now() - 1800_000).toISOString() });
  return pod;
}

function expectNoSecret(where: string, text: string): void {
  for (const [kind, value] of Object.entries(SECRETS)) expect(text.includes(value), `${kind} secret in ${where}`).toBe(false);
}

describe('secrets in a container spec never leave it', () => {
  let h: BotHarness | undefined;
  let app: Oombot | undefined;
  let kube: SimApiServer | undefined;
  let queueName = '';
  afterEach(async () => {
    vi.restoreAllMocks();
    await h?.close();
    await app?.stop();
    await kube?.close();
    if (queueName) await removeQueueData(queueName);
    h = undefined;
    app = undefined;
    kube = undefined;
    queueName = '';
  });

  it('not in the alert, its buttons, /oom answers, or the logs', async () => {
    h = await startBotHarness({ roles: ['watcher', 'worker', 'bot'] });
    await expect.poll(async () => (await h!.app.http.readiness()).ok, { timeout: 10_000 }).toBe(true);
    createVault(h.cluster);
    const pod = killVault(h.cluster);
    const slack = h.slack;
    await slack.waitFor(() => slack.messagesIn('#alerts').length === 1, 15_000);
    const alert = slack.messagesIn('#alerts')[0]!;
    const alertJson = JSON.stringify(alert.blocks);
    // The heap flag is read from the env value and shown, so the values were within reach.
    expect(alertJson).toContain('-Xmx450m (from JAVA_TOOL_OPTIONS)');

    const acks: SignedResponse[] = [];
    const answers: string[] = [];
    const ask = async (res: Promise<SignedResponse>) => {
      const r = await res;
      acks.push(r);
      answers.push(await h!.answer(r));
    };
    const buttons = (alert.blocks as { elements?: { action_id?: string; value?: string }[] }[]).flatMap((b) => b.elements ?? []);
    const incidentId = buttons.find((b) => b.action_id === ACTION_EXPLAIN)!.value!;
    await ask(h.click(ACTION_EXPLAIN, incidentId, { messageTs: alert.ts }));
    await ask(h.click(ACTION_SHOW_LOGS, incidentId, { messageTs: alert.ts }));
    await ask(h.command(`why shop/${pod}`));
    await ask(h.command('history shop/vault'));
    await ask(h.command('top shop'));
    const raise = buttons.find((b) => b.action_id === ACTION_RAISE_LIMIT);
    if (raise?.value) await ask(h.click(ACTION_RAISE_LIMIT, raise.value, { messageTs: alert.ts }));
    await h.bot.idle();

    expect(answers.join('\n')).toContain('All evidence');
    expectNoSecret('Slack calls and response_url posts', everythingSentToSlack(slack));
    for (const r of acks) expectNoSecret('an acknowledgement', r.text);
    expectNoSecret('answers', answers.join('\n'));
    expectNoSecret('the log', JSON.stringify(h.logs.lines()));
    // Redis holds jobs, history and proposals: none of it may hold a value either.
    const keys = await h.app.redis.keys(`*${h.queueName}*`);
    const stored = await Promise.all(
      keys.map(async (k) =>
        (await h!.app.redis.type(k)) === 'string' ? h!.app.redis.get(k) : JSON.stringify(await h!.app.redis.hgetall(k).catch(() => ({}))),
      ),
    );
    expectNoSecret('Redis', stored.join('\n'));
    expect(h.kube.requests().filter((r) => /\/secrets|\/configmaps/.test(r.path))).toEqual([]);
  });

  it('not on the console when no Slack token is set', async () => {
    const printed: string[] = [];
    vi.spyOn(process.stdout, 'write').mockImplementation(((chunk: string | Uint8Array) => {
      printed.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return true;
    }) as typeof process.stdout.write);
    const sim = await startSimCluster({ replicas: 1 });
    kube = sim.server;
    queueName = uniqueQueueName('secrets');
    const logs = captureLogger('debug');
    app = await startOombot({
      config: loadConfig({ REDIS_URL, OOMBOT_QUEUE: queueName, PORT: '0', LOG_LEVEL: 'debug' }),
      roles: ['watcher', 'worker'],
      log: logs.log,
      kubeTarget: loadKubeTarget({ kubeconfig: sim.kubeconfig, clusterName: 'sim' }),
      host: '127.0.0.1',
    });
    await expect.poll(async () => (await app!.http.readiness()).ok, { timeout: 10_000 }).toBe(true);
    createVault(sim.cluster);
    killVault(sim.cluster);
    await expect.poll(() => printed.join('').includes('OOMKilled: shop/vault-'), { timeout: 15_000 }).toBe(true);
    vi.restoreAllMocks();
    const out = printed.join('');
    expect(out).toContain('-Xmx450m (from JAVA_TOOL_OPTIONS)');
    expectNoSecret('console output', out);
    expectNoSecret('the log', JSON.stringify(logs.lines()));
  });
});
