import type { Redis } from 'ioredis';
import type { V1Pod } from '@kubernetes/client-node';
import { formatNodeSums, nodeSumsKey, NODE_SUMS_SYNCED_FIELD, podMemory, type NodeSums } from '../core/node-sums.js';

/** What one pod adds to its node: an interned node index, its memory requests and limits in bytes. */
interface Share {
  node: number;
  requests: number;
  limits: number;
}

/**
 * Each node's sum of memory requests and limits and its count of running (not finished) pods, kept from
 * the pod watch, so the worker need not list a node's pods for every incident. Per pod one small
 * record (node index, two numbers); per node one running sum. Nodes that changed are written to one
 * Redis hash at most once a `flushEveryMs`; the hash says when it was last complete (the pod watch
 * synced), and the worker trusts it only then.
 */
export class NodeSumsTracker {
  private readonly shares = new Map<string, Share>();
  private readonly nodeNames: string[] = [];
  private readonly nodeIndex = new Map<string, number>();
  private readonly sums: NodeSums[] = [];
  private readonly dirty = new Set<number>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly opts: {
      redis: Redis;
      queueName: string;
      cluster: string;
      /** Whether the pod watch has listed everything (sums are complete). */
      synced: () => boolean;
      flushEveryMs?: number;
      ttlMs?: number;
      now?: () => Date;
      onError?: (err: unknown) => void;
    },
  ) {}

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.opts.flushEveryMs ?? 1_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flushing;
  }

  /** A pod was added or changed. */
  update(uid: string, pod: V1Pod): void {
    const nodeName = pod.spec?.nodeName;
    const phase = pod.status?.phase;
    if (!nodeName || phase === 'Succeeded' || phase === 'Failed') {
      this.remove(uid);
      return;
    }
    const { requests, limits } = podMemory(pod);
    const node = this.intern(nodeName);
    const before = this.shares.get(uid);
    if (before && before.node === node && before.requests === requests && before.limits === limits) return;
    if (before) this.subtract(before);
    const share = { node, requests, limits };
    this.shares.set(uid, share);
    const sum = this.sums[node]!;
    sum.requestsBytes += requests;
    sum.limitsBytes += limits;
    sum.pods++;
    this.dirty.add(node);
  }

  /** A pod was deleted (or finished). */
  remove(uid: string): void {
    const before = this.shares.get(uid);
    if (!before) return;
    this.shares.delete(uid);
    this.subtract(before);
  }

  /** The sums of one node now (for tests and logs). */
  get(nodeName: string): NodeSums | undefined {
    const i = this.nodeIndex.get(nodeName);
    return i === undefined ? undefined : { ...this.sums[i]! };
  }

  /** Writes the nodes that changed, and the time the sums were last complete. */
  flush(): Promise<void> {
    this.flushing ??= this.write().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async write(): Promise<void> {
    const { redis, queueName, cluster } = this.opts;
    const key = nodeSumsKey(queueName, cluster);
    const changed = [...this.dirty];
    this.dirty.clear();
    const synced = this.opts.synced();
    if (changed.length === 0 && !synced) return;
    const fields: string[] = [];
    for (const i of changed) fields.push(this.nodeNames[i]!, formatNodeSums(this.sums[i]!));
    if (synced) fields.push(NODE_SUMS_SYNCED_FIELD, (this.opts.now?.() ?? new Date()).toISOString());
    try {
      const multi = redis.multi();
      if (fields.length > 0) multi.hset(key, ...fields);
      multi.pexpire(key, this.opts.ttlMs ?? 600_000);
      await multi.exec();
    } catch (err) {
      for (const i of changed) this.dirty.add(i);
      this.opts.onError?.(err);
    }
  }

  private intern(name: string): number {
    let i = this.nodeIndex.get(name);
    if (i === undefined) {
      i = this.nodeNames.length;
      this.nodeNames.push(name);
      this.nodeIndex.set(name, i);
      this.sums.push({ requestsBytes: 0, limitsBytes: 0, pods: 0 });
    }
    return i;
  }

  private subtract(share: Share): void {
    const sum = this.sums[share.node]!;
    sum.requestsBytes -= share.requests;
    sum.limitsBytes -= share.limits;
    sum.pods--;
    this.dirty.add(share.node);
  }
}
