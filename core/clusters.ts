/**
 * Which clusters a worker or bot can reach, and how: the one whose kubeconfig this process holds, and
 * (in a hub) every cluster whose agent connects to the same Redis (core/agent-link.ts). Every incident,
 * proposal and command names its cluster; the directory turns that name into the cluster's API.
 */
import { OombotError } from './errors.js';
import type { KubeApi } from './kube-api.js';

export interface ClusterInfo {
  name: string;
  /** `local`: this process holds the cluster's credentials; `agent`: reached through the cluster's agent. */
  via: 'local' | 'agent';
  /** The agent's oombot version. */
  version?: string;
  /** The API server's version as the agent last read it (e.g. "v1.35.0"). */
  kubernetesVersion?: string;
  /** When the agent last sent a heartbeat (ms since the epoch). */
  lastSeen?: number;
  /** Namespaces the agent watches and serves; empty or absent: all. */
  namespaces?: string[];
  /** The agent's heartbeat is older than the limit: its cluster's reads and fixes fail until it is back. */
  away?: boolean;
}

export interface ClusterDirectory {
  /** The cluster this process holds credentials for, if any (undefined in a hub). */
  readonly local: string | undefined;
  /**
   * The API of `cluster`. Throws a coded OombotError (UNKNOWN_CLUSTER) when this process has no way to
   * reach it; calls to an agent that is away fail with AGENT_AWAY, saying when it was last seen.
   */
  kube(cluster: string): KubeApi;
  /** Every cluster known: the local one, and each agent seen within the retention, by name. */
  list(): Promise<ClusterInfo[]>;
  close(): Promise<void>;
}

/** The single-process directory: one cluster, the kubeconfig's, loaded on first use. */
export class LocalClusters implements ClusterDirectory {
  constructor(private readonly load: () => { name: string; kube: KubeApi }) {}

  get local(): string {
    return this.load().name;
  }

  kube(cluster: string): KubeApi {
    const { name, kube } = this.load();
    if (cluster === name) return kube;
    throw unknownCluster(cluster, [name]);
  }

  async list(): Promise<ClusterInfo[]> {
    return [{ name: this.load().name, via: 'local' }];
  }

  async close(): Promise<void> {}
}

/** The error for a cluster no kubeconfig and no agent answers for. */
export function unknownCluster(cluster: string, known: readonly string[]): OombotError {
  return new OombotError('UNKNOWN_CLUSTER', `no cluster named "${cluster}" is connected${known.length ? ` (known: ${known.join(', ')})` : ''}`, {
    hint: `run an oombot agent in cluster ${cluster} (oombot start --roles agent, CLUSTER_NAME=${cluster}) against this Redis`,
  });
}
