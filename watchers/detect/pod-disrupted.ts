import type { V1Pod } from '@kubernetes/client-node';
import type { DisruptionDetail, Incident } from '../../core/incident.js';
import { buildIncident } from './build-incident.js';
import { resolveOccurredAt, type DetectContext } from './context.js';
import { podIncidentId } from './incident-id.js';
import { isEvictionMessage } from './pod-evicted.js';
import { disruptionTargetOf, KUBELET_DISRUPTION_REASON } from './pod-conditions.js';
import { asText, fieldAt } from './read-fields.js';
import { toPodRef } from './to-pod-ref.js';

/**
 * A pod ended by something other than its own containers or a kubelet eviction: its DisruptionTarget
 * condition names PreemptionByScheduler, DeletionByTaintManager, EvictionByEvictionAPI (a drain),
 * DeletionByPodGC, or the kubelet's TerminationByKubelet for a node shutdown or a critical-pod
 * preemption. Kubelet evictions are left to detectEvicted. For MODIFIED and DELETED pods.
 */
export function detectDisrupted(pod: V1Pod, ctx: DetectContext): Incident[] {
  const target = disruptionTargetOf(pod);
  if (target === undefined) return [];
  const podReason = asText(fieldAt(pod, 'status', 'reason'));
  if (podReason === 'Evicted') return [];
  const reason = target.reason ?? 'DisruptionTarget';
  // The kubelet sets TerminationByKubelet for evictions too; only its other terminations, once the pod
  // says which (reason Terminated on a node shutdown, Preempting for a critical pod), are reported here.
  if (reason === KUBELET_DISRUPTION_REASON && (podReason === undefined || isEvictionMessage(target.message))) return [];
  const ref = toPodRef(pod);
  if (ref.uid === '') return [];
  const occurredAt = resolveOccurredAt(target.at, ctx);
  if (occurredAt === undefined) return [];
  const disruption: DisruptionDetail = { reason };
  if (target.message !== undefined) disruption.message = target.message;
  const id = podIncidentId('disruption', ctx.cluster, ref.uid);
  return [buildIncident('disruption', id, occurredAt, ctx, { pod: ref, disruption })];
}
