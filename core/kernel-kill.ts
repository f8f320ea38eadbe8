/**
 * What the node agent keeps in Redis of each kernel OOM kill it reads, for the worker to name the victim
 * process in the container's own alert (its OOMKilled incident, an OOMKilled left by a child kill) and to
 * count a node-wide (global) OOM as node evidence. The agent writes, stores/kernel-kills.ts reads.
 */
import { KEY_PREFIX } from './queue.js';
import type { OomConstraint } from './incident.js';

export interface KernelKillRecord {
  /** When the kernel logged it, ISO 8601. */
  at: string;
  node: string;
  bootId: string;
  seq: number;
  process: string;
  pid: number;
  uid?: number;
  constraint: OomConstraint;
  containerId?: string;
  podUid?: string;
  namespace?: string;
  pod?: string;
  container?: string;
  anonRssKb?: number;
  fileRssKb?: number;
  shmemRssKb?: number;
  totalVmKb?: number;
  groupKill?: boolean;
}

/** Kills kept per container or per node (the newest). */
export const KERNEL_KILLS_KEPT = 20;

/** Kills of processes in one container, by its id (64 hex), scored by time. */
export function containerKillsKey(queueName: string, cluster: string, containerId: string): string {
  return `${KEY_PREFIX}:${queueName}:kernel:container:${cluster}:${containerId}`;
}

/** Global (node-wide, CONSTRAINT_NONE) OOM kills on one node, scored by time. */
export function nodeKillsKey(queueName: string, cluster: string, node: string): string {
  return `${KEY_PREFIX}:${queueName}:kernel:node:${cluster}:${node}`;
}

/** How far the node agent has read the node's kernel log: `<boot id> <sequence number>`. */
export function kmsgCursorKey(queueName: string, cluster: string, node: string): string {
  return `${KEY_PREFIX}:${queueName}:kernel:cursor:${cluster}:${node}`;
}
