import type { Redis } from 'ioredis';
import { z } from 'zod';
import { containerKillsKey, KERNEL_KILLS_KEPT, nodeKillsKey } from '../core/kernel-kill.js';
import type { KernelKill } from '../diagnosis/enriched.js';
import { parseChecked } from './schemas.js';

const kb = z
  .number()
  .int()
  .nonnegative()
  .max(2 ** 50)
  .optional();

/** A kernel kill record as the node agent writes it; Redis is a trust boundary, so it is checked. */
const KernelKillSchema = z.object({
  at: z
    .string()
    .max(40)
    .refine((s) => Number.isFinite(Date.parse(s)), 'not a time'),
  node: z.string().min(1).max(253),
  process: z.string().max(64),
  pid: z
    .number()
    .int()
    .nonnegative()
    .max(2 ** 32),
  constraint: z.enum(['memcg', 'global', 'cpuset', 'mempolicy']),
  container: z.string().max(253).optional(),
  pod: z.string().max(253).optional(),
  namespace: z.string().max(253).optional(),
  anonRssKb: kb,
  fileRssKb: kb,
  shmemRssKb: kb,
  groupKill: z.boolean().optional(),
});

/**
 * The kernel OOM kills the node agent kept (core/kernel-kill.ts): the processes killed in one container,
 * and the global OOM kills of one node. Records that do not fit are left out.
 */
export class KernelKills {
  constructor(
    private readonly redis: Redis,
    private readonly queueName: string,
  ) {}

  /** Kills in the container with this id (64 hex, or `containerd://<id>`), oldest first. */
  async inContainer(cluster: string, containerID: string | undefined): Promise<KernelKill[]> {
    const id = /([0-9a-f]{64})$/.exec(containerID ?? '')?.[1];
    if (!id) return [];
    return this.read(containerKillsKey(this.queueName, cluster, id));
  }

  /** Global OOM kills on the node, oldest first. */
  async onNode(cluster: string, node: string | undefined): Promise<KernelKill[]> {
    if (!node) return [];
    return this.read(nodeKillsKey(this.queueName, cluster, node));
  }

  private async read(key: string): Promise<KernelKill[]> {
    const raw = await this.redis.zrange(key, String(-KERNEL_KILLS_KEPT), '-1');
    return raw.flatMap((r) => {
      const parsed = parseChecked(KernelKillSchema, r);
      return parsed.ok ? [parsed.value] : [];
    });
  }
}
