import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import type { ContainerTermination, Incident, ProbeKill } from '../../core/incident.js';
import { buildIncident } from './build-incident.js';
import { listTerminations } from './container-terminations.js';
import { resolveOccurredAt, type DetectContext } from './context.js';
import { eventTime, firstEventTime } from './event-fields.js';
import { terminationIncidentId } from './incident-id.js';
import { disruptionTargetOf } from './pod-conditions.js';
import { SIGKILL_EXIT_CODE } from './pod-oom-killed.js';
import { asString, field, fieldAt } from './read-fields.js';
import { EVENT_MESSAGE_BYTES, trimText } from './trim-text.js';
import { toPodRef } from './to-pod-ref.js';

/**
 * Reasons that come with exit 137 but are no kill by a signal: OOMKilled has its own detector, and
 * ContainerStatusUnknown is a status the kubelet makes up (137) when a container vanished (node loss,
 * eviction).
 */
const NOT_A_SIGKILL = new Set(['OOMKilled', 'ContainerStatusUnknown']);

/** How far a Killing event may sit outside the run it ended (clock skew, grace period). */
const PROBE_EVENT_SLACK_MS = 10_000;

/**
 * Exit 137 without OOMKilled: the container was killed by SIGKILL (a failed liveness or startup probe,
 * a stop that outlived the grace period, an external kill). Never an OOM. Exit 143 (SIGTERM) is a
 * graceful stop and not reported. Evicted or otherwise disrupted pods are left to their own detectors.
 */
export function detectSigkilled(pod: V1Pod, ctx: DetectContext): Incident[] {
  const terminations = listTerminations(pod).filter((termination) => termination.exitCode === SIGKILL_EXIT_CODE && !NOT_A_SIGKILL.has(termination.reason));
  if (terminations.length === 0) return [];
  if (fieldAt(pod, 'status', 'reason') === 'Evicted' || disruptionTargetOf(pod) !== undefined) return [];
  const ref = toPodRef(pod);
  if (ref.uid === '') return [];
  const podEvents = recentEvents(ctx, ref.uid);
  const incidents: Incident[] = [];
  for (const termination of terminations) {
    const occurredAt = resolveOccurredAt(termination.finishedAt, ctx);
    if (occurredAt === undefined) continue;
    const id = terminationIncidentId('sigkill', ctx.cluster, ref.uid, termination);
    const incident = buildIncident('sigkill', id, occurredAt, ctx, { pod: ref, termination });
    const probeKill = findProbeKill(podEvents, termination);
    if (probeKill !== undefined) incident.probeKill = probeKill;
    incidents.push(incident);
  }
  return incidents;
}

function recentEvents(ctx: DetectContext, podUid: string): readonly CoreV1Event[] {
  if (ctx.recentPodEvents === undefined) return [];
  try {
    const events = ctx.recentPodEvents(podUid);
    return Array.isArray(events) ? events : [];
  } catch {
    return [];
  }
}

const PROBE_FAILED = /failed (liveness|startup) probe/i;

/**
 * The kubelet's `Killing` event saying it killed this container for a failed liveness or startup probe
 * ("Container api failed liveness probe, will be restarted"), if one falls within the run that ended.
 */
export function findProbeKill(events: readonly unknown[], termination: ContainerTermination): ProbeKill | undefined {
  let best: { kill: ProbeKill; last: number } | undefined;
  for (const event of events) {
    if (field(event, 'reason') !== 'Killing') continue;
    const message = asString(field(event, 'message'));
    if (message === undefined) continue;
    const probe = PROBE_FAILED.exec(message.slice(0, 1024));
    if (probe === null || !namesContainer(event, message, termination)) continue;
    const last = eventTime(event);
    const first = firstEventTime(event) ?? last;
    if (!overlapsRun(first, last, termination)) continue;
    const lastMs = last === undefined ? Number.NEGATIVE_INFINITY : Date.parse(last);
    if (best !== undefined && best.last >= lastMs) continue;
    const kill: ProbeKill = {
      reason: 'Killing',
      message: trimText(message, EVENT_MESSAGE_BYTES) ?? message.slice(0, EVENT_MESSAGE_BYTES),
      probe: probe[1]?.toLowerCase() === 'startup' ? 'startup' : 'liveness',
    };
    if (last !== undefined) kill.at = last;
    best = { kill, last: lastMs };
  }
  return best?.kill;
}

function namesContainer(event: unknown, message: string, termination: ContainerTermination): boolean {
  const fieldPath = asString(fieldAt(event, 'involvedObject', 'fieldPath'));
  if (fieldPath !== undefined && fieldPath !== '') {
    const list = termination.init ? 'initContainers' : termination.ephemeral === true ? 'ephemeralContainers' : 'containers';
    return fieldPath === `spec.${list}{${termination.container}}`;
  }
  return message.startsWith(`Container ${termination.container} `);
}

function overlapsRun(first: string | undefined, last: string | undefined, termination: ContainerTermination): boolean {
  const runStart = termination.startedAt === undefined ? Number.NEGATIVE_INFINITY : Date.parse(termination.startedAt) - PROBE_EVENT_SLACK_MS;
  const runEnd = termination.finishedAt === undefined ? Number.POSITIVE_INFINITY : Date.parse(termination.finishedAt) + PROBE_EVENT_SLACK_MS;
  const eventFirst = first === undefined ? Number.NEGATIVE_INFINITY : Date.parse(first);
  const eventLast = last === undefined ? Number.POSITIVE_INFINITY : Date.parse(last);
  return eventFirst <= runEnd && eventLast >= runStart;
}
