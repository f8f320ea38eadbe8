import type { Redis } from 'ioredis';
import { NODE_SUMS_SYNCED_FIELD, nodeSumsKey, parseNodeSums, type NodeSums } from '../core/node-sums.js';

/**
 * Reads a node's memory sums as the watcher keeps them (core/node-sums.ts). Trusted only while a
 * watcher has written complete sums recently: otherwise undefined, and the worker lists the node's pods.
 */
export class NodeSumsReader {
  constructor(
    private readonly redis: Redis,
    private readonly queueName: string,
    /** Sums older than this are not trusted (the watcher writes every second while synced). */
    private readonly maxAgeMs = 30_000,
    private readonly clock: () => number = Date.now,
  ) {}

  async get(cluster: string, node: string): Promise<NodeSums | undefined> {
    const [synced, sums] = await this.redis.hmget(nodeSumsKey(this.queueName, cluster), NODE_SUMS_SYNCED_FIELD, node);
    const at = synced ? Date.parse(synced) : Number.NaN;
    if (!Number.isFinite(at) || this.clock() - at > this.maxAgeMs) return undefined;
    // Synced and no field: the watcher sees no running pod on that node.
    if (sums === null || sums === undefined) return { requestsBytes: 0, limitsBytes: 0, pods: 0 };
    return parseNodeSums(sums);
  }
}
