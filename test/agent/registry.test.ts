/**
 * The agents' registry as the hub sees it: each agent's heartbeat, versions and namespaces, the local
 * cluster beside the agents, and an agent called away once its heartbeat is older than the limit.
 */
import { spawn } from 'node:child_process';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AgentServer } from '../../agent/agent-server.js';
import { connectRedis } from '../../core/queue.js';
import { freePort, redisAnswers } from '../../sim/private-redis.js';
import { captureLogger } from '../helpers/silent-logger.js';
import { AGENT_AWAY_MS, AgentClusters, AgentLink, agentsKey, agoText, readAgentRecords } from '../../core/agent-link.js';
import { startAgentWorld, thrown, type AgentWorld } from './agent-harness.js';

let w: AgentWorld;
beforeEach(async () => {
  w = await startAgentWorld();
});
afterEach(async () => {
  await w.close();
});

describe('the agents registry', () => {
  it("holds each agent's heartbeat, versions and namespaces, renewed while it runs", async () => {
    const before = Date.now();
    await w.startAgent({ namespaces: ['shop', 'payments'] });
    const first = (await readAgentRecords(w.redis, w.queueName)).get('beta')!;
    expect(first).toMatchObject({ version: '0.1.0', kubernetesVersion: 'v1.35.0', namespaces: ['shop', 'payments'] });
    expect(first.startedAt).toBeGreaterThanOrEqual(before);
    let later = first;
    const until = Date.now() + 3_000;
    while (later.lastSeen === first.lastSeen && Date.now() < until) {
      await new Promise((r) => setTimeout(r, 50));
      later = (await readAgentRecords(w.redis, w.queueName)).get('beta')!;
    }
    expect(later.lastSeen).toBeGreaterThan(first.lastSeen);
    expect(later.startedAt).toBe(first.startedAt);

    // Stopped, the agent's entry stays, and ages: the hub then calls it away.
    await w.stopAgent();
    const stopped = (await readAgentRecords(w.redis, w.queueName)).get('beta')!;
    await new Promise((r) => setTimeout(r, 400));
    expect((await readAgentRecords(w.redis, w.queueName)).get('beta')!.lastSeen).toBe(stopped.lastSeen);
  });

  it('lists the local cluster and every agent by name, the away ones marked', async () => {
    await w.startAgent();
    const now = Date.now();
    await w.redis.hset(
      agentsKey(w.queueName),
      'gamma',
      JSON.stringify({ version: '0.0.9', startedAt: now - 86_400_000, lastSeen: now - AGENT_AWAY_MS - 1_000, namespaces: [] }),
    );
    await w.redis.hset(agentsKey(w.queueName), 'junk', 'not json');
    const directory = new AgentClusters(new AgentLink(w.redis, w.queueName), () => ({ name: 'alpha', kube: w.local }));
    try {
      expect(directory.local).toBe('alpha');
      expect(directory.kube('alpha')).toBe(w.local);
      const list = await directory.list();
      expect(list.map((c) => [c.name, c.via, c.away])).toEqual([
        ['alpha', 'local', undefined],
        ['beta', 'agent', false],
        ['gamma', 'agent', true],
      ]);
      expect(list[1]).toMatchObject({ version: '0.1.0', kubernetesVersion: 'v1.35.0', namespaces: [] });
      expect(list[2]!.lastSeen).toBe(now - AGENT_AWAY_MS - 1_000);
      expect(await thrown(directory.kube('gamma').getJson('/api/v1/nodes'))).toMatchObject({
        code: 'AGENT_AWAY',
        message: "cluster gamma's agent was last seen 31 s ago",
      });
      expect(await thrown(directory.kube('delta').getJson('/api/v1/nodes'))).toMatchObject({
        code: 'UNKNOWN_CLUSTER',
        message: 'no cluster named "delta" is connected (known: beta, gamma)',
      });
      expect(() => directory.kube('not/a cluster')).toThrow(/no cluster named/);
    } finally {
      await directory.close();
    }
  });

  it('says how long ago in words a person reads at a glance', () => {
    expect([12_000, 89_000, 180_000, 2 * 3600_000, 3 * 86_400_000].map(agoText)).toEqual(['12 s ago', '89 s ago', '3 min ago', '2 h ago', '3 d ago']);
  });
});

describe('an agent started while Redis is out of reach', () => {
  it('starts anyway, and announces itself and serves once Redis is there', async () => {
    const port = await freePort();
    const url = `redis://127.0.0.1:${port}`;
    const agentRedis = connectRedis(url);
    agentRedis.on('error', () => undefined);
    const agent = new AgentServer({
      redis: agentRedis,
      queueName: w.queueName,
      cluster: 'beta',
      kube: w.local,
      namespaces: [],
      proposals: undefined,
      log: captureLogger().log,
      heartbeatMs: 200,
    });
    const started = Date.now();
    await agent.start();
    expect(Date.now() - started).toBeLessThan(4_000);
    const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    const hubRedis = connectRedis(url);
    hubRedis.on('error', () => undefined);
    const hub = new AgentClusters(new AgentLink(hubRedis, w.queueName), undefined, { timeoutMs: 2_000 });
    try {
      await expect.poll(() => redisAnswers(url), { timeout: 10_000 }).toBe(true);
      await expect.poll(async () => (await hub.list()).map((c) => c.name), { timeout: 10_000 }).toEqual(['beta']);
      expect((await hub.kube('beta').getJson<{ items: unknown[] }>('/api/v1/nodes')).items).toHaveLength(2);
    } finally {
      await hub.close();
      await agent.stop();
      hubRedis.disconnect();
      agentRedis.disconnect();
      server.kill('SIGKILL');
    }
  });
});
