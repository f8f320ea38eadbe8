import type { CoreV1Event } from '@kubernetes/client-node';
import type { Incident } from '../../core/incident.js';
import { buildIncident } from './build-incident.js';
import { resolveOccurredAt, type DetectContext } from './context.js';
import { eventPodRef, eventTime, isAbout } from './event-fields.js';
import { podIncidentId } from './incident-id.js';
import { asString, field } from './read-fields.js';
import { EVENT_MESSAGE_BYTES, trimText } from './trim-text.js';

/**
 * Events that say a pod is being taken away: `Preempted` (the scheduler made room for a higher-priority
 * pod) and `TaintManagerEviction` "Marking for deletion Pod ns/name" (a NoExecute taint). The same
 * reason's "Cancelling deletion" is not an incident. Shares its id with the pod's DisruptionTarget path.
 */
export function detectEventDisruption(event: CoreV1Event, ctx: DetectContext): Incident[] {
  const reason = field(event, 'reason');
  if (reason !== 'Preempted' && reason !== 'TaintManagerEviction') return [];
  if (!isAbout(event, 'Pod')) return [];
  const rawMessage = asString(field(event, 'message'));
  if (reason === 'TaintManagerEviction' && !rawMessage?.trimStart().startsWith('Marking for deletion')) return [];
  const pod = eventPodRef(event);
  if (pod === undefined) return [];
  const occurredAt = resolveOccurredAt(eventTime(event), ctx);
  if (occurredAt === undefined) return [];
  const message = trimText(rawMessage, EVENT_MESSAGE_BYTES);
  const disruption = message === undefined ? { reason } : { reason, message };
  const id = podIncidentId('disruption', ctx.cluster, pod.uid);
  return [buildIncident('disruption', id, occurredAt, ctx, { pod, disruption })];
}
