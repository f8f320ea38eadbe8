/**
 * A simulated cluster "beta" with its agent, and a hub directory reaching it over a real Redis: the
 * pieces of a two-install setup in one test process.
 */
import { AgentClusters, AgentLink } from '../../core/agent-link.js';
import { KubeHttp, loadKubeTarget } from '../../core/kube.js';
import { connectRedis, type RedisClient } from '../../core/queue.js';
import { ProposalStore } from '../../stores/proposal-store.js';
import { AgentServer } from '../../agent/agent-server.js';
import type { SimApiServer, SimCluster } from '../../sim/kube/index.js';
import { startSimCluster } from '../helpers/watcher-harness.js';
import { REDIS_URL, removeQueueData, uniqueQueueName } from '../helpers/redis.js';
import { captureLogger, type CapturedLogger } from '../helpers/silent-logger.js';

export const PROPOSAL_KEY = 'k'.repeat(48);

export interface AgentWorld {
  queueName: string;
  cluster: SimCluster;
  server: SimApiServer;
  /** The agent's own client of its API server (what a single process would use). */
  local: KubeHttp;
  /** The hub's Redis connection and directory. */
  redis: RedisClient;
  hub: AgentClusters;
  /** Proposals as the hub's worker and bot make and claim them. */
  proposals: ProposalStore;
  agent: AgentServer | undefined;
  agentLogs: CapturedLogger;
  startAgent(opts?: { namespaces?: string[]; proposalKey?: string | null; cluster?: string }): Promise<AgentServer>;
  stopAgent(): Promise<void>;
  close(): Promise<void>;
}

export async function startAgentWorld(opts: { hubTimeoutMs?: number } = {}): Promise<AgentWorld> {
  const sim = await startSimCluster();
  const queueName = uniqueQueueName('agent');
  const local = new KubeHttp(loadKubeTarget({ kubeconfig: sim.kubeconfig, clusterName: 'beta' }));
  const redis = connectRedis(REDIS_URL);
  const agentRedis = connectRedis(REDIS_URL);
  const link = new AgentLink(redis, queueName, { key: PROPOSAL_KEY });
  const hub = new AgentClusters(link, undefined, { timeoutMs: opts.hubTimeoutMs ?? 5_000 });
  const proposals = new ProposalStore(redis, queueName, undefined, { key: PROPOSAL_KEY });
  const world: AgentWorld = {
    queueName,
    cluster: sim.cluster,
    server: sim.server,
    local,
    redis,
    hub,
    proposals,
    agent: undefined,
    agentLogs: captureLogger(),
    async startAgent(o = {}) {
      const key = o.proposalKey === undefined ? PROPOSAL_KEY : o.proposalKey;
      world.agentLogs = captureLogger();
      const agent = new AgentServer({
        redis: agentRedis,
        queueName,
        cluster: o.cluster ?? 'beta',
        kube: local,
        namespaces: o.namespaces ?? [],
        proposals: key === null ? undefined : new ProposalStore(agentRedis, queueName, undefined, { key, log: world.agentLogs.log }),
        ...(key === null ? {} : { key }),
        log: world.agentLogs.log,
        heartbeatMs: 200,
      });
      await agent.start();
      world.agent = agent;
      return agent;
    },
    async stopAgent() {
      await world.agent?.stop();
      world.agent = undefined;
    },
    async close() {
      await world.stopAgent();
      await hub.close();
      await local.close();
      await sim.server.close();
      await removeQueueData(queueName);
      await redis.quit();
      await agentRedis.quit();
    },
  };
  return world;
}

/** What a call throws, for comparing errors field by field. */
export async function thrown(
  p: Promise<unknown>,
): Promise<{ name: string; code?: string; status?: number; retryable?: boolean; message: string; hint?: string }> {
  try {
    await p;
  } catch (err) {
    const e = err as { name: string; code?: string; status?: number; retryable?: boolean; message: string; hint?: string };
    return { name: e.name, code: e.code, status: e.status, retryable: e.retryable, message: e.message, hint: e.hint };
  }
  throw new Error('expected the call to fail');
}
