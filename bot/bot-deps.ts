import type { Redis } from 'ioredis';
import type { Queue } from 'bullmq';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { KubeHttp } from '../core/kube.js';
import type { Incident } from '../core/incident.js';
import type { ProposalStore } from '../core/proposal-store.js';
import type { SnoozeStore } from '../core/snooze-store.js';
import type { ClusterCache } from '../handlers/gather.js';
import type { IncidentHistory } from '../handlers/incident-history.js';

/** What every bot handler works with: one context object, as the workers' handlers get. */
export interface BotDeps {
  config: Config;
  log: Logger;
  kube: KubeHttp;
  /** The cluster's name in incidents and history keys. */
  cluster: string;
  redis: Redis;
  queue: Queue<Incident>;
  history: IncidentHistory;
  proposals: ProposalStore;
  snoozes: SnoozeStore;
  cache: ClusterCache;
  now: () => Date;
}
