import type { V1Pod } from '@kubernetes/client-node';
import { parseEvictionMessage, type ParsedEviction } from '../../core/eviction-message.js';
import type { EvictionDetail, Incident } from '../../core/incident.js';
import { buildIncident } from './build-incident.js';
import { listTerminations } from './container-terminations.js';
import { resolveOccurredAt, type DetectContext } from './context.js';
import { podIncidentId } from './incident-id.js';
import { disruptionTargetOf, KUBELET_DISRUPTION_REASON } from './pod-conditions.js';
import { asString, field } from './read-fields.js';
import { EVENT_MESSAGE_BYTES, trimText } from './trim-text.js';
import { toPodRef } from './to-pod-ref.js';

/**
 * A kubelet node-pressure (or local storage limit) eviction: phase Failed with reason Evicted, or the
 * kubelet's DisruptionTarget condition (TerminationByKubelet) carrying an eviction message before the
 * phase is written. One incident per pod. The time is the condition's, else the last container stop,
 * else now on a live event; an eviction of unknown time seen on a relist is not reported.
 */
export function detectEvicted(pod: V1Pod, ctx: DetectContext): Incident[] {
  const status = field(pod, 'status');
  const statusMessage = asString(field(status, 'message'));
  const target = disruptionTargetOf(pod);
  const byStatus = field(status, 'phase') === 'Failed' && field(status, 'reason') === 'Evicted';
  const byCondition = target?.reason === KUBELET_DISRUPTION_REASON && isEvictionMessage(target.message ?? statusMessage);
  if (!byStatus && !byCondition) return [];
  const ref = toPodRef(pod);
  if (ref.uid === '') return [];
  const occurredAt = resolveOccurredAt(target?.at ?? lastStop(pod), ctx);
  if (occurredAt === undefined) return [];

  const message = statusMessage?.trim() ? statusMessage : target?.message;
  const eviction = evictionDetail(parseEvictionMessage(message), message);
  if (target?.reason !== undefined) eviction.disruptionReason = target.reason;
  const id = podIncidentId('evicted', ctx.cluster, ref.uid);
  return [buildIncident('evicted', id, occurredAt, ctx, { pod: ref, eviction })];
}

/** True when the text reads as a kubelet eviction message (it names a resource). */
export function isEvictionMessage(message: string | undefined): boolean {
  return parseEvictionMessage(message).resource !== undefined;
}

/** The eviction record of a parsed message (`source` says whether the message could be read). */
export function evictionDetail(parsed: ParsedEviction, message: string | undefined): EvictionDetail {
  const eviction: EvictionDetail = {
    containers: parsed.containers,
    source: parsed.resource !== undefined || parsed.containers.length > 0 ? 'message' : 'none',
  };
  if (parsed.resource !== undefined) eviction.resource = parsed.resource;
  if (parsed.threshold !== undefined) eviction.threshold = parsed.threshold;
  if (parsed.available !== undefined) eviction.available = parsed.available;
  if (parsed.localLimit !== undefined) eviction.localLimit = parsed.localLimit;
  const kept = trimText(message, EVENT_MESSAGE_BYTES);
  if (kept !== undefined) eviction.message = kept;
  return eviction;
}

/** The latest `state.terminated.finishedAt` of the pod's containers: when the eviction stopped them. */
function lastStop(pod: V1Pod): string | undefined {
  let latest: string | undefined;
  for (const termination of listTerminations(pod)) {
    if (termination.from !== 'state' || termination.finishedAt === undefined) continue;
    if (latest === undefined || termination.finishedAt > latest) latest = termination.finishedAt;
  }
  return latest;
}
