import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PrometheusClient, workingSetQuery } from '../../core/prometheus.js';
import { loadConfig } from '../../core/config.js';
import { loadKubeTarget } from '../../core/kube.js';
import { startOombot, type Oombot } from '../../bin/start.js';
import { startSlackServer, type SlackServer } from '../../sim/slack/index.js';
import type { SimApiServer } from '../../sim/kube/index.js';
import { missingPrometheus, openMetrics, startPrometheus, type TestPrometheus } from '../helpers/prometheus.js';
import { removeQueueData, REDIS_URL, uniqueQueueName } from '../helpers/redis.js';
import { captureLogger } from '../helpers/silent-logger.js';
import { startSimCluster } from '../helpers/watcher-harness.js';

const Mi = 2 ** 20;
const NOW = Math.floor(Date.now() / 1000);
const METRIC = 'container_memory_working_set_bytes';
/** Two hours of a leak, every 30 s, until a minute ago: 200Mi climbing 2.5Mi a minute. */
const climb = (): [number, number][] => Array.from({ length: 240 }, (_, i) => [NOW - 7200 + i * 30 - 60, Math.round((200 + i * 1.25) * Mi)]);

const missing = missingPrometheus();
if (missing) process.stderr.write(`skipping the Prometheus tests: ${missing}\n`);

// CI installs Prometheus (.ci/run): there a missing binary is a failure, not a skip.
it.runIf(missing && process.env.CI)('CI has prometheus and promtool for the Prometheus tests', () => {
  throw new Error(missing);
});

/** The memory curve from a real Prometheus server (backfilled with promtool), not a mock. */
describe.skipIf(missing)('Prometheus as the source of the memory curve', () => {
  let prom: TestPrometheus | undefined;
  let kube: SimApiServer | undefined;
  let slack: SlackServer | undefined;
  let app: Oombot | undefined;
  let queueName = '';
  let sim: Awaited<ReturnType<typeof startSimCluster>>;
  let pod = '';

  beforeAll(async () => {
    sim = await startSimCluster({ replicas: 1 });
    kube = sim.server;
    pod = sim.cluster.list('pods', 'shop')[0]!.metadata.name as string;
    prom = await startPrometheus(
      openMetrics(METRIC, [
        { labels: { namespace: 'shop', pod, container: 'api' }, samples: climb() },
        { labels: { namespace: 'shop', pod: 'other', container: 'api' }, samples: climb().map(([t]) => [t, 1]) },
      ]),
    );
  }, 60_000);
  afterAll(async () => {
    await prom?.stop();
    await kube?.close();
  });
  afterEach(async () => {
    await app?.stop();
    await slack?.close();
    if (queueName) await removeQueueData(queueName);
    app = undefined;
  });

  it('query_range gives the container series only, at a step that keeps about 240 points', async () => {
    const client = new PrometheusClient(prom!.url);
    const points = await client.workingSet('shop', pod, 'api', NOW - 3600, NOW);
    expect(points.length).toBeGreaterThanOrEqual(200);
    expect(points.length).toBeLessThanOrEqual(241);
    expect(points.every((p, i) => i === 0 || p.at > points[i - 1]!.at)).toBe(true);
    // The climb, not the other pod's flat series.
    expect(points[0]!.bytes).toBeGreaterThan(300 * Mi);
    expect(points.at(-1)!.bytes).toBe(Math.round((200 + 239 * 1.25) * Mi));
    expect(await client.workingSet('shop', 'nobody', 'api', NOW - 3600, NOW)).toEqual([]);
    // Label values are PromQL string literals: a quote cannot end the selector.
    expect(workingSetQuery('a"b', 'p\\', 'c')).toBe('max(container_memory_working_set_bytes{namespace="a\\"b",pod="p\\\\",container="c"})');
  });

  it('with PROMETHEUS_URL, the alert chart reaches back an hour before oombot started (no sampler running)', async () => {
    slack = await startSlackServer();
    queueName = uniqueQueueName('prom');
    app = await startOombot({
      config: loadConfig({
        REDIS_URL,
        OOMBOT_QUEUE: queueName,
        SLACK_BOT_TOKEN: 'xoxb-test-token',
        SLACK_API_URL: slack.apiUrl,
        SLACK_CHANNEL: '#alerts',
        PROMETHEUS_URL: prom!.url,
        PORT: '0',
      }),
      roles: ['watcher', 'worker'],
      log: captureLogger('info').log,
      kubeTarget: loadKubeTarget({ kubeconfig: sim.kubeconfig, clusterName: 'sim' }),
      host: '127.0.0.1',
    });
    await expect.poll(async () => (await app!.http.readiness()).ok, { timeout: 10_000 }).toBe(true);
    sim.cluster.setUsage('shop', pod, 'api', 511 * Mi);
    sim.cluster.oomKill('shop', pod, 'api', { startedAt: new Date((NOW - 7200) * 1000).toISOString() });
    const alert = await slack.waitFor(() => slack!.messagesIn('#alerts').find((m) => m.text?.includes('OOMKilled')), 15_000);
    const reply = await slack.waitFor(() => slack!.threadOf('#alerts', alert.ts).find((m) => m.files), 15_000);
    const samples = Number(/, (\d+) samples\.$/.exec(reply.text ?? '')?.[1]);
    expect(reply.text).toMatch(/^Memory of api, last hour before the kill: peak ~?\d+(\.\d+)?Mi of its 512Mi limit, \d+ samples\.$/);
    expect(samples).toBeGreaterThanOrEqual(200);
  }, 40_000);
});
