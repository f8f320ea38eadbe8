import type { Queue } from 'bullmq';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { KubeApi } from '../core/kube-api.js';
import type { ClusterDirectory, ClusterInfo } from '../core/clusters.js';
import type { Incident } from '../core/incident.js';
import type { ProposalStore } from '../stores/proposal-store.js';
import type { SnoozeStore } from '../stores/snooze-store.js';
import type { ClusterCache, ClusterCaches, NodeSumsSource } from '../investigate/gather.js';
import { reachCluster, scopedTo } from '../investigate/reach-cluster.js';
import { code } from './reply.js';
import type { AlertGroups } from '../stores/alert-groups.js';
import type { IncidentHistory } from '../stores/incident-history.js';
import type { KernelKills } from '../stores/kernel-kills.js';
import type { FixStore } from '../stores/fix-store.js';
import type { Metrics } from '../core/metrics.js';

/**
 * What every bot handler works with: one context object, as the workers' handlers get, scoped to the one
 * cluster the command or click is about (`forCluster`). Redis is reached only through the stores that own
 * its keys (history, proposals, snoozes, the queue).
 */
export interface BotDeps {
  config: Config;
  log: Logger;
  /** The API of `cluster`. */
  kube: KubeApi;
  /** The cluster this request is about: its name in incidents and history keys. */
  cluster: string;
  /** Answers name the cluster: more than one is known, so a bare `shop/api` would not say which. */
  named?: boolean;
  /** Every cluster the bot can reach (one in a single process, every agent's in a hub). */
  clusters: ClusterDirectory;
  /** One read cache per cluster; `cache` is `cluster`'s. */
  caches: ClusterCaches;
  queue: Queue<Incident>;
  history: IncidentHistory;
  /** What the node agents read in the kernel logs, for `/oom why` and Explain to say what the alert said. */
  kernelKills?: KernelKills;
  proposals: ProposalStore;
  snoozes: SnoozeStore;
  /** The alert groups, to keep a change on the alert when the worker updates it later. */
  alerts: AlertGroups;
  cache: ClusterCache;
  /** Each node's memory sums as the watcher keeps them (the node's overcommit without listing its pods). */
  nodeSums?: NodeSumsSource;
  now: () => Date;
  /** Fixes applied from Slack, followed after the click (stores/fix-store.ts). */
  fixes?: FixStore;
  metrics?: Metrics;
  /** Posts a message for the team to see (a snooze, for one); absent without SLACK_BOT_TOKEN. */
  announce?: (message: { channel: string; threadTs?: string; text: string }) => Promise<void>;
}

/** What the bot holds before it knows which cluster a request is about. */
export type BotBase = Omit<BotDeps, 'kube' | 'cluster' | 'cache' | 'named'>;

/**
 * The deps of one request about `cluster`: its API, its cache and (given what the directory lists of it)
 * its namespaces. A cluster the directory cannot reach
 * fails on the first read (UNKNOWN_CLUSTER, AGENT_AWAY), where the handler's own error answer says so.
 */
export function forCluster(base: BotBase, cluster: string, opts: { named?: boolean; info?: ClusterInfo } = {}): BotDeps {
  return {
    ...base,
    // Without WATCH_NAMESPACES here, the namespaces the cluster's agent serves are the scope of the answer.
    config: scopedTo(base.config, opts.info),
    cluster,
    kube: reachCluster(base.clusters, cluster).kube,
    cache: base.caches.of(cluster),
    ...(opts.named ? { named: true } : {}),
  };
}

/** ` in cluster `beta`` when answers name their cluster, else nothing (a single cluster reads as before). */
export function inCluster(deps: Pick<BotDeps, 'named' | 'cluster'>): string {
  return deps.named ? ` in cluster ${code(deps.cluster, 63)}` : '';
}
