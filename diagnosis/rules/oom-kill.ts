/** What every rule of a main-process OOM kill (OOMKilled + 137) looks at, gathered once. */
import type { Evidence } from '../diagnosis.js';
import type { EventSummary } from '../enriched.js';
import type { Ctx } from './context.js';
import { vpaEvidence } from './vpa.js';
import {
  kernelKillEvidence,
  limitEvidence,
  logEvidence,
  nodeEvidence,
  podGoneEvidence,
  systemOomEvents,
  systemOomEvidence,
  uptimeEvidence,
  usageEvidence,
  type NodeEvidence,
} from './evidence.js';

export interface OomKill {
  ctx: Ctx;
  name: string;
  /** Evidence every diagnosis of the kill starts with. */
  base: Evidence[];
  node: NodeEvidence;
  sysOom: EventSummary[];
  logs: Evidence[];
  /** Anything that says the node ran out: overcommit, MemoryPressure, a SystemOOM at the time. */
  nodeSignals: boolean;
  nodeAll: Evidence[];
}

/** An OOM kill of a container whose limit is known. */
export interface AtLimit extends OomKill {
  limitBytes: number;
}

export function readOomKill(ctx: Ctx): OomKill {
  const name = ctx.containerName ?? 'the container';
  const t = ctx.incident.termination;
  const restarts = t && t.restartCount > 0 ? ` (restart count ${t.restartCount})` : '';
  const base: Evidence[] = [
    { text: `Container ${name} was OOMKilled with exit code 137${restarts}`, source: 'pod status' },
    ...podGoneEvidence(ctx),
    ...limitEvidence(ctx),
    ...uptimeEvidence(ctx),
    ...usageEvidence(ctx),
    ...vpaEvidence(ctx),
    ...kernelKillEvidence(ctx),
  ];
  const node = nodeEvidence(ctx);
  const sysOom = systemOomEvents(ctx);
  return {
    ctx,
    name,
    base,
    node,
    sysOom,
    logs: logEvidence(ctx),
    nodeSignals: node.overcommitted || node.pressure || node.kernelOom || sysOom.length > 0,
    nodeAll: [...systemOomEvidence(ctx, sysOom), ...node.evidence],
  };
}
