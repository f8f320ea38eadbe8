/**
 * The diagnosis of one incident: what killed it, why, how sure, what to do, and maybe a limit change.
 * Shared by the Slack alert and `/oom why`. Plain text throughout (renderers escape it).
 */
import type { IncidentKind } from '../core/incident.js';
import type { Proposal } from './propose-limit.js';

export type Cause =
  /** Working set reached the limit under normal running: the limit is too low for the load. */
  | 'limit-too-low'
  /** Kills repeat at a similar uptime, or usage climbs until the kill. */
  | 'memory-leak'
  /** Killed within a minute of starting. */
  | 'startup-spike'
  /** A runtime heap flag lets the process grow to (or past) the limit. */
  | 'runtime-heap'
  /** The node ran out of memory (container under its limit, SystemOOM, overcommit). */
  | 'node-pressure'
  /** Kubelet eviction for memory: usage above the request. */
  | 'eviction-memory'
  /** Kubelet eviction for another resource: ephemeral-storage, nodefs, imagefs, pids. */
  | 'eviction-resource'
  /** Preemption, taint manager or eviction API. */
  | 'disruption'
  /** OOMKilled with an exit code other than 137: a process inside was killed earlier. */
  | 'child-oom'
  /** The kernel log says a process inside the container was OOM-killed and the container kept running. */
  | 'process-oom'
  /** SIGKILL after a failed liveness (or startup) probe. */
  | 'probe-kill'
  /** SIGKILL after the termination grace period ran out. */
  | 'grace-period'
  | 'unknown';

export type Confidence = 'high' | 'medium' | 'low';

export type EvidenceSource =
  | 'pod status'
  | 'pod spec'
  | 'container spec'
  | 'events'
  | 'node'
  | 'metrics'
  | 'previous incidents'
  | 'eviction'
  | 'limit range'
  | 'previous logs'
  | 'incident'
  | 'vpa'
  | 'kernel log'
  | 'rollout history'
  | 'scale events';

export interface Evidence {
  text: string;
  source: EvidenceSource;
}

export interface Diagnosis {
  kind: IncidentKind;
  cause: Cause;
  confidence: Confidence;
  /** One sentence: what happened and why. */
  headline: string;
  /** Every claim in the headline is backed here. */
  evidence: Evidence[];
  advice: string[];
  proposal?: Proposal;
  /** Why there is no proposal although raising would help (cap reached, bare pod, owner unknown). */
  noProposalReason?: string;
  /** Set when raising the limit is the wrong fix, and why. */
  raisingIsWrongFix?: string;
  /**
   * The node OOM this kill was part of: a SystemOOM on the same node seconds apart whose victim process is
   * this container's. The worker then makes the two one alert (the node's group), not two.
   */
  nodeOom?: { node: string; victim: string };
  /**
   * A `process-oom` whose kill ended the container itself (its main process, or all of it under
   * memory.oom.group): the container's own OOMKilled alert names the process, so this one posts nothing.
   */
  joinsContainerOom?: boolean;
}

export const CAUSE_LABELS: Record<Cause, string> = {
  'limit-too-low': 'limit too low for the load',
  'memory-leak': 'suspected memory leak',
  'startup-spike': 'start-up spike',
  'runtime-heap': 'runtime heap sized at or above the limit',
  'node-pressure': 'node out of memory',
  'eviction-memory': 'evicted for memory (use above request)',
  'eviction-resource': 'evicted for a resource other than memory',
  disruption: 'evicted by the cluster (not a resource problem)',
  'child-oom': 'earlier OOM kill of a process inside the container',
  'process-oom': 'a process inside the container was OOM-killed; the container kept running',
  'probe-kill': 'killed after failing a probe (not an OOM)',
  'grace-period': 'killed after the grace period (not an OOM)',
  unknown: 'unknown',
};
