import type { V1Pod } from '@kubernetes/client-node';
import type { ContainerResources, ContainerTermination } from '../../core/incident.js';
import { terminationKey } from './incident-id.js';
import { asArray, asInt, asRecord, asString, asText, field, fieldAt, toIso } from './read-fields.js';
import { TERMINATION_MESSAGE_BYTES, trimText } from './trim-text.js';

type Group = { statuses: string; specs: string; init: boolean; ephemeral: boolean };

const GROUPS: readonly Group[] = [
  { statuses: 'initContainerStatuses', specs: 'initContainers', init: true, ephemeral: false },
  { statuses: 'containerStatuses', specs: 'containers', init: false, ephemeral: false },
  { statuses: 'ephemeralContainerStatuses', specs: 'ephemeralContainers', init: false, ephemeral: true },
];

const RESOURCE_NAMES = ['memory', 'cpu', 'ephemeral-storage'] as const;

/**
 * Every distinct termination the pod's status shows, for init, regular and ephemeral containers:
 * `lastState.terminated` then `state.terminated`. The same termination seen in both is listed once.
 */
export function listTerminations(pod: V1Pod): ContainerTermination[] {
  const out: ContainerTermination[] = [];
  const status = field(pod, 'status');
  const spec = field(pod, 'spec');
  for (const group of GROUPS) {
    for (const containerStatus of asArray(field(status, group.statuses))) {
      const name = asText(field(containerStatus, 'name'));
      if (name === undefined) continue;
      const seen = new Set<string>();
      for (const from of ['lastState', 'state'] as const) {
        const terminated = asRecord(fieldAt(containerStatus, from, 'terminated'));
        if (terminated === undefined) continue;
        const termination = toTermination(name, group, from, containerStatus, terminated, spec);
        if (termination === undefined) continue;
        const key = terminationKey(termination);
        if (seen.has(key)) continue;
        seen.add(key);
        out.push(termination);
      }
    }
  }
  return out;
}

function toTermination(
  name: string,
  group: Group,
  from: 'lastState' | 'state',
  containerStatus: unknown,
  terminated: Readonly<Record<string, unknown>>,
  podSpec: unknown,
): ContainerTermination | undefined {
  const exitCode = asInt(terminated.exitCode);
  if (exitCode === undefined) return undefined;
  const termination: ContainerTermination = {
    container: name,
    init: group.init,
    restartCount: Math.max(0, asInt(field(containerStatus, 'restartCount')) ?? 0),
    exitCode,
    reason: asString(terminated.reason) ?? '',
    from,
  };
  if (group.ephemeral) termination.ephemeral = true;
  const signal = asInt(terminated.signal);
  if (signal !== undefined) termination.signal = signal;
  const startedAt = toIso(terminated.startedAt);
  if (startedAt !== undefined) termination.startedAt = startedAt;
  const finishedAt = toIso(terminated.finishedAt);
  if (finishedAt !== undefined) termination.finishedAt = finishedAt;
  const containerID = asText(terminated.containerID);
  if (containerID !== undefined) termination.containerID = containerID.slice(0, 256);
  const message = trimText(asString(terminated.message), TERMINATION_MESSAGE_BYTES);
  if (message !== undefined) termination.message = message;

  const containerSpec = asArray(field(podSpec, group.specs)).find((candidate) => field(candidate, 'name') === name);
  const resources = resourcesOf(field(containerSpec, 'resources'));
  if (resources !== undefined) termination.resources = resources;
  const image = asText(field(containerSpec, 'image')) ?? asText(field(containerStatus, 'image'));
  if (image !== undefined) termination.image = image.slice(0, 512);
  return termination;
}

/** Memory, CPU and ephemeral-storage limits and requests, as written in the spec. */
export function resourcesOf(resources: unknown): ContainerResources | undefined {
  const out: ContainerResources = {};
  for (const side of ['limits', 'requests'] as const) {
    const quantities = field(resources, side);
    const picked: NonNullable<ContainerResources['limits']> = {};
    let any = false;
    for (const resource of RESOURCE_NAMES) {
      const quantity = quantityString(field(quantities, resource));
      if (quantity === undefined) continue;
      picked[resource] = quantity;
      any = true;
    }
    if (any) out[side] = picked;
  }
  return out.limits !== undefined || out.requests !== undefined ? out : undefined;
}

function quantityString(value: unknown): string | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value === 'string' && value.trim() !== '') return value.trim().slice(0, 64);
  return undefined;
}
