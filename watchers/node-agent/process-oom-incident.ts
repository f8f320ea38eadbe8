import type { Incident, ProcessOomDetail } from '../../core/incident.js';
import type { KernelKillRecord } from '../../core/kernel-kill.js';
import type { OomKill } from '../../kernel/index.js';
import { buildIncident } from '../detect/build-incident.js';
import { incidentId } from '../detect/incident-id.js';
import type { ContainerOnNode } from './node-pods.js';

/**
 * Id of a kernel OOM kill: the node's boot and the kernel log's sequence number name one record of one
 * boot, however often the ring buffer is read again (an agent restart replays it whole).
 */
export function processOomIncidentId(cluster: string, node: string, bootId: string, seq: number): string {
  return incidentId('process-oom', [cluster, node, bootId, String(seq)]);
}

export interface KernelKillContext {
  cluster: string;
  node: string;
  bootId: string;
  /** When the kernel logged it, ISO 8601. */
  at: string;
  now: Date;
}

/** The record of a kill the worker reads back: the victim, its sizes, and the pod and container it was in. */
export function toKernelKillRecord(
  kill: OomKill,
  ctx: KernelKillContext,
  where: { containerId?: string; podUid?: string; on?: ContainerOnNode },
): KernelKillRecord {
  const r: KernelKillRecord = {
    at: ctx.at,
    node: ctx.node,
    bootId: ctx.bootId,
    seq: kill.seq,
    process: kill.process,
    pid: kill.pid,
    constraint: kill.constraint,
  };
  const copy = <K extends keyof KernelKillRecord>(key: K, value: KernelKillRecord[K] | undefined) => {
    if (value !== undefined) r[key] = value;
  };
  copy('uid', kill.uid);
  copy('containerId', where.containerId);
  copy('podUid', where.podUid);
  copy('namespace', where.on?.pod.namespace);
  copy('pod', where.on?.pod.name);
  copy('container', where.on?.container);
  copy('anonRssKb', kill.anonRssKb);
  copy('fileRssKb', kill.fileRssKb);
  copy('shmemRssKb', kill.shmemRssKb);
  copy('totalVmKb', kill.totalVmKb);
  if (kill.groupKill) r.groupKill = true;
  return r;
}

/** The `process-oom` incident of a kill inside a container that kept running. */
export function processOomIncident(kill: OomKill, ctx: KernelKillContext, on: ContainerOnNode, containerId: string | undefined): Incident {
  const detail: ProcessOomDetail = {
    node: ctx.node,
    container: on.container,
    process: kill.process,
    pid: kill.pid,
    constraint: kill.constraint,
    bootId: ctx.bootId,
    seq: kill.seq,
  };
  if (containerId !== undefined) detail.containerId = containerId;
  for (const key of ['uid', 'anonRssKb', 'fileRssKb', 'shmemRssKb', 'totalVmKb', 'oomScoreAdj'] as const) {
    const value = kill[key];
    if (value !== undefined) detail[key] = value;
  }
  if (kill.groupKill) detail.groupKill = true;
  const id = processOomIncidentId(ctx.cluster, ctx.node, ctx.bootId, kill.seq);
  return buildIncident('process-oom', id, ctx.at, { cluster: ctx.cluster, now: ctx.now, cutoff: new Date(0), live: true }, { pod: on.pod, processOom: detail });
}
