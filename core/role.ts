/**
 * What a role (watcher, worker, bot) is given to start with and what it hands back. The roles implement
 * this; bin/ wires them into one process.
 */
import type { Queue } from 'bullmq';
import type { RedisClient } from './queue.js';
import type { Config } from './config.js';
import type { HttpServer } from './http-server.js';
import type { Incident } from './incident.js';
import type { KubeHttp } from './kube.js';
import type { ClusterDirectory } from './clusters.js';
import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

export interface RoleHandle {
  stop(): Promise<void>;
  /** Added to /readyz under the role's name when present. */
  readiness?(): { ok: boolean; detail?: string } | Promise<{ ok: boolean; detail?: string }>;
}

/** What a role gets to start with: one context object, shared clients, a child logger. */
export interface RoleContext {
  config: Config;
  log: Logger;
  metrics: Metrics;
  http: HttpServer;
  redis: RedisClient;
  queue: Queue<Incident>;
  /** Loaded on first use: only roles that talk to Kubernetes need a kubeconfig. */
  kube(): KubeHttp;
  /**
   * The clusters the worker and the bot reach, by the name incidents carry: the kubeconfig's (loaded on
   * first use) in a single process. One directory per process, built on first use.
   */
  clusters(): ClusterDirectory;
}

/** What a role that follows one cluster (the watcher, the node agent) is started with: the context's clients and that cluster. */
export interface ClusterRoleDeps extends Pick<RoleContext, 'config' | 'log' | 'metrics' | 'redis' | 'queue'> {
  kube: KubeHttp;
  cluster: string;
}

export type RoleStarter = (ctx: RoleContext) => Promise<RoleHandle>;
