import type { RedisClient } from '../core/queue.js';
import { FlushLoop } from './flush-loop.js';
import type { V1Pod } from '@kubernetes/client-node';
import { formatNodeSums, nodeSumsKey, NODE_SUMS_SYNCED_FIELD, podMemory, type NodeSums } from '../core/node-sums.js';

/**
 * Each node's sum of memory requests and limits and its count of running (not finished) pods, kept from
 * the pod watch, so the worker need not list a node's pods for every incident. Per pod one small
 * record (node index, two numbers); per node one running sum. Nodes that changed are written to one
 * Redis hash at most once a `flushEveryMs`; the hash says when it was last complete (the pod watch
 * synced), and the worker trusts it only then.
 */
export class NodeSumsTracker extends FlushLoop {
  /**
   * What each pod adds to its node (an interned node index, its memory requests and limits in bytes) in
   * a slot of three typed arrays instead of an object per pod: at 150k pods that is 150k fewer objects
   * for the garbage collector to mark while the pod list streams through, and about 7 MiB less heap.
   */
  private readonly slots = new Map<string, number>();
  private shareNode = new Int32Array(1024);
  private shareRequests = new Float64Array(1024);
  private shareLimits = new Float64Array(1024);
  private readonly freeSlots: number[] = [];
  private usedSlots = 0;
  private readonly nodeNames: string[] = [];
  private readonly nodeIndex = new Map<string, number>();
  private readonly sums: NodeSums[] = [];
  private readonly dirty = new Set<number>();

  constructor(
    private readonly opts: {
      redis: RedisClient;
      queueName: string;
      cluster: string;
      /** Whether the pod watch has listed everything (sums are complete). */
      synced: () => boolean;
      flushEveryMs?: number;
      ttlMs?: number;
      now?: () => Date;
      onError?: (err: unknown) => void;
    },
  ) {
    super(opts.flushEveryMs);
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
    let slot = this.slots.get(uid);
    if (slot !== undefined) {
      if (this.shareNode[slot] === node && this.shareRequests[slot] === requests && this.shareLimits[slot] === limits) return;
      this.subtract(slot);
    } else {
      slot = this.allocate();
      this.slots.set(uid, slot);
    }
    this.shareNode[slot] = node;
    this.shareRequests[slot] = requests;
    this.shareLimits[slot] = limits;
    const sum = this.sums[node]!;
    sum.requestsBytes += requests;
    sum.limitsBytes += limits;
    sum.pods++;
    this.dirty.add(node);
  }

  /** A pod was deleted (or finished). */
  remove(uid: string): void {
    const slot = this.slots.get(uid);
    if (slot === undefined) return;
    this.slots.delete(uid);
    this.subtract(slot);
    this.freeSlots.push(slot);
  }

  /** The sums of one node now (for tests and logs). */
  get(nodeName: string): NodeSums | undefined {
    const i = this.nodeIndex.get(nodeName);
    return i === undefined ? undefined : { ...this.sums[i]! };
  }

  /** Writes the sums of the nodes that changed since the last write. */
  protected async write(): Promise<void> {
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

  private subtract(slot: number): void {
    const node = this.shareNode[slot]!;
    const sum = this.sums[node]!;
    sum.requestsBytes -= this.shareRequests[slot]!;
    sum.limitsBytes -= this.shareLimits[slot]!;
    sum.pods--;
    this.dirty.add(node);
  }

  /** A free slot, the arrays doubled when every slot is taken. */
  private allocate(): number {
    const reused = this.freeSlots.pop();
    if (reused !== undefined) return reused;
    if (this.usedSlots === this.shareNode.length) {
      const grow = <T extends Int32Array | Float64Array>(a: T, make: (n: number) => T): T => {
        const bigger = make(a.length * 2);
        bigger.set(a);
        return bigger;
      };
      this.shareNode = grow(this.shareNode, (n) => new Int32Array(n));
      this.shareRequests = grow(this.shareRequests, (n) => new Float64Array(n));
      this.shareLimits = grow(this.shareLimits, (n) => new Float64Array(n));
    }
    return this.usedSlots++;
  }
}
