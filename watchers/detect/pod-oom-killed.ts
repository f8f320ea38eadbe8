import type { V1Pod } from '@kubernetes/client-node';
import type { Incident } from '../../core/incident.js';
import { buildIncident } from './build-incident.js';
import { listTerminations } from './container-terminations.js';
import { resolveOccurredAt, type DetectContext } from './context.js';
import { terminationIncidentId } from './incident-id.js';
import { toPodRef } from './to-pod-ref.js';

/** Exit code of a process killed by SIGKILL (128 + 9). */
export const SIGKILL_EXIT_CODE = 137;

/**
 * Containers (init, regular, ephemeral) whose termination has reason OOMKilled.
 * Exit 137: the main process was OOM-killed (`container-oom`). Any other exit code: the runtime set
 * OOMKilled from the cgroup's cumulative counter after an earlier OOM inside the container, and this
 * stop was not an OOM (`child-oom`; exit 143 on a rollout, 1 on a crash, 0).
 */
export function detectOomKilled(pod: V1Pod, ctx: DetectContext): Incident[] {
  const terminations = listTerminations(pod).filter((termination) => termination.reason === 'OOMKilled');
  if (terminations.length === 0) return [];
  const ref = toPodRef(pod);
  if (ref.uid === '') return [];
  const incidents: Incident[] = [];
  for (const termination of terminations) {
    const occurredAt = resolveOccurredAt(termination.finishedAt, ctx);
    if (occurredAt === undefined) continue;
    const kind = termination.exitCode === SIGKILL_EXIT_CODE ? 'container-oom' : 'child-oom';
    const id = terminationIncidentId(kind, ctx.cluster, ref.uid, termination);
    incidents.push(buildIncident(kind, id, occurredAt, ctx, { pod: ref, termination }));
  }
  return incidents;
}
