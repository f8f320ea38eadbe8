import type { ClusterRoleDeps, RoleHandle } from '../core/role.js';
import { ProposalStore } from '../stores/proposal-store.js';
import { AgentServer } from './agent-server.js';

/**
 * The agent role: this cluster's API served to the hub (the watcher beside it is its own role, which
 * `--roles agent` brings along). Writes need the hub's OOMBOT_PROPOSAL_KEY to open the proposals they carry out.
 */
export async function startAgentRole(
  deps: Pick<ClusterRoleDeps, 'config' | 'log' | 'metrics' | 'redis' | 'kube' | 'cluster'>,
): Promise<RoleHandle & { server: AgentServer }> {
  const { config, redis, kube, cluster } = deps;
  const log = deps.log.child({ cluster });
  const server = new AgentServer({
    redis,
    queueName: config.queueName,
    cluster,
    kube,
    namespaces: config.watchNamespaces,
    proposals: config.proposalKey ? new ProposalStore(redis, config.queueName, undefined, { key: config.proposalKey, log }) : undefined,
    ...(config.proposalKey ? { key: config.proposalKey } : {}),
    log,
    metrics: deps.metrics,
  });
  await server.start();
  return {
    server,
    readiness: () => server.readiness(),
    stop: () => server.stop(),
  };
}
