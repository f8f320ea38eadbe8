import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import type { Incident } from '../../core/incident.js';
import type { DetectContext } from './context.js';
import { detectEventDisruption } from './event-disruption.js';
import { detectEventEvicted } from './event-evicted.js';
import { detectNodeSystemOom } from './node-system-oom.js';
import { detectDisrupted } from './pod-disrupted.js';
import { detectEvicted } from './pod-evicted.js';
import { detectOomKilled } from './pod-oom-killed.js';
import { detectSigkilled } from './pod-sigkilled.js';

export type { DetectContext } from './context.js';
export { toPodRef } from './to-pod-ref.js';
export { parseEvictionMessage, type ParsedEviction } from '../../core/eviction-message.js';
export { incidentId, nodeOomIncidentId, podIncidentId, terminationIncidentId } from './incident-id.js';
export { detectOomKilled, detectSigkilled, detectEvicted, detectDisrupted, detectEventEvicted, detectEventDisruption, detectNodeSystemOom };

type Detector<T> = (object: T, ctx: DetectContext) => Incident[];

const POD_DETECTORS: readonly Detector<V1Pod>[] = [detectOomKilled, detectSigkilled, detectEvicted, detectDisrupted];
const EVENT_DETECTORS: readonly Detector<CoreV1Event>[] = [detectEventEvicted, detectEventDisruption, detectNodeSystemOom];

/** Every incident a pod (from a watch event or a list) shows. */
export function detectPodIncidents(pod: V1Pod, ctx: DetectContext): Incident[] {
  return runAll(POD_DETECTORS, pod, ctx);
}

/** Every incident a core/v1 Event shows. */
export function detectEventIncidents(event: CoreV1Event, ctx: DetectContext): Incident[] {
  return runAll(EVENT_DETECTORS, event, ctx);
}

/**
 * Detectors are total by construction; this guard only keeps one unforeseen object from stopping the
 * watch that delivered it (the other detectors still run).
 */
function runAll<T>(detectors: readonly Detector<T>[], object: T, ctx: DetectContext): Incident[] {
  const incidents: Incident[] = [];
  for (const detect of detectors) {
    try {
      incidents.push(...detect(object, ctx));
    } catch {
      // A detector bug must not stop the watch; the property tests keep this branch unused.
    }
  }
  return incidents;
}
