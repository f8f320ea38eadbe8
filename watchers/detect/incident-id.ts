import { createHash } from 'node:crypto';
import type { ContainerTermination, IncidentKind } from '../../core/incident.js';

/**
 * Deterministic incident ids: the same kill always gets the same id, whichever path or watch event
 * saw it, so the queue drops repeats. BullMQ custom ids must not be integers nor contain ':',
 * so an id is `<kind>-<first 32 hex chars of sha256(parts joined by NUL)>`.
 */
export function incidentId(kind: IncidentKind, parts: readonly string[]): string {
  const digest = createHash('sha256').update(parts.join('\u0000'), 'utf8').digest('hex');
  return `${kind}-${digest.slice(0, 32)}`;
}

/**
 * The part that names one termination of one container. finishedAt alone (no restartCount): the same
 * termination is seen first in `state.terminated` (restartCount N) and then in `lastState.terminated`
 * (restartCount N+1). Without finishedAt, the containerID; without that, the ordinal of the run that ended,
 * which is restartCount for `state` and restartCount - 1 for `lastState`, so it is stable as well.
 */
export function terminationKey(termination: Pick<ContainerTermination, 'finishedAt' | 'containerID' | 'restartCount' | 'from'>): string {
  if (termination.finishedAt !== undefined) return termination.finishedAt;
  if (termination.containerID !== undefined) return termination.containerID;
  const run = termination.from === 'lastState' ? termination.restartCount - 1 : termination.restartCount;
  return `restart-${run}`;
}

/**
 * `init:api` or `api`. Names are unique across a pod's init, regular and ephemeral containers, so an
 * ephemeral container needs no prefix of its own.
 */
export function containerKey(termination: Pick<ContainerTermination, 'container' | 'init'>): string {
  return termination.init ? `init:${termination.container}` : termination.container;
}

/** Id of a container termination (container-oom, child-oom, sigkill). */
export function terminationIncidentId(
  kind: IncidentKind,
  cluster: string,
  podUid: string,
  termination: Pick<ContainerTermination, 'container' | 'init' | 'finishedAt' | 'containerID' | 'restartCount' | 'from'>,
): string {
  return incidentId(kind, [cluster, podUid, containerKey(termination), terminationKey(termination)]);
}

/**
 * Id of an eviction or disruption: one per pod, so the pod-status path and the Event path of the same
 * eviction produce the same id.
 */
export function podIncidentId(kind: 'evicted' | 'disruption', cluster: string, podUid: string): string {
  return incidentId(kind, [cluster, podUid]);
}

/** Id of a node OOM: each increment of the aggregated SystemOOM event's count is a new OOM. */
export function nodeOomIncidentId(cluster: string, node: string, eventUid: string, count: number): string {
  return incidentId('node-oom', [cluster, node, eventUid, String(count)]);
}
