import type { RedisClient } from '../core/queue.js';
import type { Logger } from '../core/logger.js';
import { errorMessage } from '../core/errors.js';
import type { PrometheusClient } from '../core/prometheus.js';
import { MemoryHistory, type MemoryPoint } from '../stores/memory-history.js';

/** A container's working set over time ("namespace/pod/container"), oldest first. */
export interface WorkingSetHistory {
  read(container: string, sinceSec: number, untilSec?: number): Promise<MemoryPoint[]>;
}

/**
 * Where the memory curve comes from: Prometheus when PROMETHEUS_URL is set (cAdvisor's series reach back
 * before oombot started), else, and whenever Prometheus fails or has no series for the container, the
 * sampler's history in Redis. A failing Prometheus is logged once until it answers again.
 */
export function workingSetHistory(opts: {
  redis: RedisClient;
  queueName: string;
  prometheus?: PrometheusClient;
  log: Logger;
}): (cluster: string) => WorkingSetHistory {
  let failing = false;
  return (cluster) => {
    const sampled = new MemoryHistory(opts.redis, opts.queueName, cluster);
    const prometheus = opts.prometheus;
    if (!prometheus) return { read: (container, sinceSec) => sampled.read(container, sinceSec) };
    return {
      async read(container, sinceSec, untilSec) {
        const [namespace, pod, name] = container.split('/');
        if (namespace && pod && name) {
          try {
            const points = await prometheus.workingSet(namespace, pod, name, sinceSec, untilSec ?? Math.ceil(Date.now() / 1000));
            if (failing) opts.log.info('Prometheus answers again: memory curves come from it');
            failing = false;
            if (points.length > 0) return points;
          } catch (err) {
            if (!failing) opts.log.warn({ err: errorMessage(err) }, 'cannot read the working set from Prometheus: using the sampler history instead');
            failing = true;
          }
        }
        return sampled.read(container, sinceSec);
      },
    };
  };
}
