/**
 * `oombot start --roles agent` in a member cluster: the watcher and the agent server in one process,
 * answering a hub that has no kubeconfig of its own, with /readyz reporting Redis and the API server.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { startOombot, type Oombot } from '../../bin/start.js';
import { AgentClusters, AgentLink } from '../../core/agent-link.js';
import { loadConfig, parseRoles } from '../../core/config.js';
import type { Incident } from '../../core/incident.js';
import { loadKubeTarget } from '../../core/kube.js';
import { connectRedis } from '../../core/queue.js';
import type { SimApiServer } from '../../sim/kube/index.js';
import { REDIS_URL, removeQueueData, uniqueQueueName } from '../helpers/redis.js';
import { captureLogger } from '../helpers/silent-logger.js';
import { startSimCluster } from '../helpers/watcher-harness.js';

describe('parseRoles', () => {
  it('brings the watcher along with the agent, and keeps the roles it is combined with', () => {
    expect(parseRoles('agent')).toEqual(['watcher', 'agent']);
    expect(parseRoles('agent,sampler')).toEqual(['watcher', 'agent', 'sampler']);
    expect(parseRoles('watcher,agent,node-agent')).toEqual(['watcher', 'agent', 'node-agent']);
    expect(() => parseRoles('agents')).toThrow(/node-agent, agent separated by commas/);
  });
});

describe('the agent role', () => {
  let app: Oombot | undefined;
  let server: SimApiServer | undefined;
  let queueName = '';
  afterEach(async () => {
    await app?.stop();
    await server?.close();
    await removeQueueData(queueName);
    app = undefined;
  });

  it('watches its cluster and serves it to a hub; /readyz says when its API server is out of reach', async () => {
    const sim = await startSimCluster();
    server = sim.server;
    queueName = uniqueQueueName('agent-role');
    const config = loadConfig({
      REDIS_URL,
      OOMBOT_QUEUE: queueName,
      PORT: '0',
      WATCH_NAMESPACES: 'shop',
      OOMBOT_PROPOSAL_KEY: 'k'.repeat(48),
    });
    const logs = captureLogger('info');
    app = await startOombot({
      config,
      roles: parseRoles('agent'),
      log: logs.log,
      kubeTarget: loadKubeTarget({ kubeconfig: sim.kubeconfig, clusterName: 'beta' }),
      host: '127.0.0.1',
    });
    expect(Object.keys(app.roles).sort()).toEqual(['agent', 'watcher']);
    await expect.poll(async () => (await app!.http.readiness()).ok, { timeout: 10_000 }).toBe(true);
    expect(Object.keys((await app.http.readiness()).checks).sort()).toEqual(['agent', 'redis', 'watcher']);

    // A hub: the same Redis, no kubeconfig.
    const redis = connectRedis(REDIS_URL);
    const hub = new AgentClusters(new AgentLink(redis, config.queueName, { key: config.proposalKey! }));
    try {
      expect(hub.local).toBeUndefined();
      expect(await hub.list()).toEqual([
        expect.objectContaining({ name: 'beta', via: 'agent', away: false, namespaces: ['shop'], kubernetesVersion: 'v1.35.0' }),
      ]);
      const pods = await hub.kube('beta').getJson<{ items: unknown[] }>('/api/v1/namespaces/shop/pods');
      expect(pods.items).toHaveLength(3);
      expect(await app.metrics.render()).toContain('oombot_agent_requests_total{op="getJson",outcome="served"} 1');

      // Its watcher queues the cluster's kills for the hub's worker.
      const pod = sim.cluster.list('pods', 'shop')[0]!.metadata.name as string;
      sim.cluster.oomKill('shop', pod, 'api');
      const { Queue } = await import('bullmq');
      const incidents = new Queue<Incident>(config.queueName, { connection: redis, prefix: 'oombot' });
      await expect.poll(async () => (await incidents.getJobs(['waiting', 'prioritized'])).map((j) => j.data.cluster), { timeout: 10_000 }).toContain('beta');
      await incidents.close();
    } finally {
      await hub.close();
      await redis.quit();
    }

    await sim.server.setUnreachable(true);
    await expect
      .poll(async () => (await app!.http.readiness()).checks.agent, { timeout: 10_000 })
      .toMatchObject({ ok: false, detail: expect.stringContaining('API server') });
    await sim.server.setUnreachable(false);
  });

  it('an agent without OOMBOT_PROPOSAL_KEY starts, and says at start that it refuses every write', async () => {
    const sim = await startSimCluster();
    server = sim.server;
    queueName = uniqueQueueName('agent-role');
    const logs = captureLogger('info');
    app = await startOombot({
      config: loadConfig({ REDIS_URL, OOMBOT_QUEUE: queueName, PORT: '0' }),
      roles: ['agent'],
      log: logs.log,
      kubeTarget: loadKubeTarget({ kubeconfig: sim.kubeconfig, clusterName: 'beta' }),
      host: '127.0.0.1',
    });
    expect(logs.lines().find((l) => String(l.msg).startsWith('OOMBOT_PROPOSAL_KEY is not set'))).toMatchObject({ level: 'warn', cluster: 'beta' });
  });
});
