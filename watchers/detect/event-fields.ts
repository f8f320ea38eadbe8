import type { PodRef } from '../../core/incident.js';
import { asText, field, fieldAt, toIso } from './read-fields.js';

/**
 * When an event last happened: `series.lastObservedTime` ?? `lastTimestamp` ?? `eventTime`
 * ?? `firstTimestamp` ?? `metadata.creationTimestamp` (ISO 8601).
 */
export function eventTime(event: unknown): string | undefined {
  return (
    toIso(fieldAt(event, 'series', 'lastObservedTime')) ??
    toIso(field(event, 'lastTimestamp')) ??
    toIso(field(event, 'eventTime')) ??
    toIso(field(event, 'firstTimestamp')) ??
    toIso(fieldAt(event, 'metadata', 'creationTimestamp'))
  );
}

/** When an (aggregated) event first happened. */
export function firstEventTime(event: unknown): string | undefined {
  return toIso(field(event, 'firstTimestamp')) ?? toIso(field(event, 'eventTime')) ?? toIso(fieldAt(event, 'metadata', 'creationTimestamp'));
}

/** True when the event is about an object of this kind (`involvedObject.kind`). */
export function isAbout(event: unknown, kind: 'Pod' | 'Node'): boolean {
  return fieldAt(event, 'involvedObject', 'kind') === kind;
}

/**
 * The pod an event is about, from `involvedObject` (the pod itself may be gone). Undefined without a uid:
 * the uid is what ties the event to the pod's own status and gives both the same incident id.
 */
export function eventPodRef(event: unknown): PodRef | undefined {
  const involved = field(event, 'involvedObject');
  const uid = asText(field(involved, 'uid'));
  const name = asText(field(involved, 'name'));
  if (uid === undefined || name === undefined) return undefined;
  const ref: PodRef = {
    namespace: (asText(field(involved, 'namespace')) ?? '').slice(0, 253),
    name: name.slice(0, 253),
    uid: uid.slice(0, 253),
  };
  // The kubelet reports from the pod's node.
  const host = asText(fieldAt(event, 'source', 'host')) ?? asText(field(event, 'reportingInstance'));
  if (host !== undefined && fieldAt(event, 'source', 'component') === 'kubelet') ref.nodeName = host.slice(0, 253);
  return ref;
}
