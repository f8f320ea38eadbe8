import type { CoreV1Event } from '@kubernetes/client-node';
import { parseEvictionMessage } from '../../core/eviction-message.js';
import type { EvictionContainerUsage, EvictionDetail, Incident } from '../../core/incident.js';
import { buildIncident } from './build-incident.js';
import { resolveOccurredAt, type DetectContext } from './context.js';
import { eventPodRef, eventTime, isAbout } from './event-fields.js';
import { podIncidentId } from './incident-id.js';
import { evictionDetail } from './pod-evicted.js';
import { asString, field, lookup, stringMap } from './read-fields.js';

/** Annotation keys the kubelet puts on its Evicted event (pkg/kubelet/eviction: OffendingContainersKey, OffendingContainersUsageKey, StarvedResourceKey). */
export const OFFENDING_CONTAINERS_KEY = 'offending_containers';
export const OFFENDING_CONTAINERS_USAGE_KEY = 'offending_containers_usage';
export const STARVED_RESOURCE_KEY = 'starved_resource';

const MAX_CONTAINERS = 64;
const MAX_ANNOTATION_CHARS = 16_384;

/**
 * The kubelet's Warning event `Evicted` about a pod. The structured annotations (starved resource,
 * offending containers and their usage) are preferred; the message is the fallback and adds the
 * threshold and the requests. Shares its id with the pod-status path of the same eviction.
 */
export function detectEventEvicted(event: CoreV1Event, ctx: DetectContext): Incident[] {
  if (field(event, 'reason') !== 'Evicted' || !isAbout(event, 'Pod')) return [];
  const pod = eventPodRef(event);
  if (pod === undefined) return [];
  const occurredAt = resolveOccurredAt(eventTime(event), ctx);
  if (occurredAt === undefined) return [];

  const message = asString(field(event, 'message'));
  const parsed = parseEvictionMessage(message);
  const eviction = evictionDetail(parsed, message);
  applyAnnotations(eviction, stringMap(field(field(event, 'metadata'), 'annotations')));
  const id = podIncidentId('evicted', ctx.cluster, pod.uid);
  return [buildIncident('evicted', id, occurredAt, ctx, { pod, eviction })];
}

function applyAnnotations(eviction: EvictionDetail, annotations: Readonly<Record<string, string>>): void {
  const starved = lookup(annotations, STARVED_RESOURCE_KEY)?.trim().slice(0, 64);
  if (starved === undefined) return;
  eviction.source = 'event-annotations';
  if (starved !== '') eviction.resource = starved;
  const names = splitList(lookup(annotations, OFFENDING_CONTAINERS_KEY));
  const usages = splitList(lookup(annotations, OFFENDING_CONTAINERS_USAGE_KEY));
  if (names.length === 0) return;
  const fromMessage = new Map(eviction.containers.map((container) => [container.name, container]));
  eviction.containers = names.map((name, index): EvictionContainerUsage => {
    const container: EvictionContainerUsage = { name };
    const usage = usages[index] ?? fromMessage.get(name)?.usage;
    if (usage !== undefined) container.usage = usage;
    const request = fromMessage.get(name)?.request;
    if (request !== undefined) container.request = request;
    return container;
  });
}

/** "a,b" -> ["a", "b"]; an empty annotation is an empty list. */
function splitList(value: string | undefined): string[] {
  if (value === undefined) return [];
  return value
    .slice(0, MAX_ANNOTATION_CHARS)
    .split(',')
    .map((entry) => entry.trim().slice(0, 253))
    .filter((entry) => entry !== '')
    .slice(0, MAX_CONTAINERS);
}
