import type { RedisClient } from '../core/queue.js';
import type { Queue } from 'bullmq';
import type { Config } from '../core/config.js';
import type { Logger } from '../core/logger.js';
import type { KubeHttp } from '../core/kube.js';
import type { NearLimitJob } from '../core/near-limit.js';
import { Sampler } from './sampler.js';

export interface SamplerRole {
  sampler: Sampler;
  stop(): Promise<void>;
}

/** The sampler role: memory history and near-limit warnings. Safe to run as two replicas (see sampler.ts). */
export async function startSamplerRole(deps: {
  config: Config;
  kube: KubeHttp;
  cluster: string;
  redis: RedisClient;
  queue: Queue<NearLimitJob>;
  log: Logger;
}): Promise<SamplerRole> {
  const { config } = deps;
  const sampler = new Sampler({
    kube: deps.kube,
    redis: deps.redis,
    queue: deps.queue,
    log: deps.log.child({ cluster: deps.cluster }),
    cluster: deps.cluster,
    queueName: config.queueName,
    namespaces: config.watchNamespaces,
    intervalMs: config.sampleIntervalMs,
    warnAt: config.warnAt,
  });
  sampler.start();
  deps.log.info({ intervalMs: config.sampleIntervalMs, warnAt: config.warnAt }, 'sampling container memory from metrics.k8s.io');
  return { sampler, stop: () => sampler.stop() };
}
