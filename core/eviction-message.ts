import type { EvictionContainerUsage, LocalStorageLimitExceeded } from './incident.js';

/** What a kubelet eviction message says, as far as it could be read. */
export interface ParsedEviction {
  /** memory, ephemeral-storage, pids, inodes, nodefs, imagefs, ...; undefined when the text is unknown. */
  resource?: string;
  threshold?: string;
  available?: string;
  containers: EvictionContainerUsage[];
  localLimit?: LocalStorageLimitExceeded;
}

/** Longer input is cut before parsing; a real message naming a dozen containers is under 2 kB. */
const MAX_PARSED_CHARS = 16_384;
const MAX_CONTAINERS = 64;

// Wording from the kubelet's eviction manager (pkg/kubelet/eviction). Every token is bounded, so no
// pattern can backtrack badly on long text.
const NODE_LOW = /The node was low on resource: (\[[^\]]{1,128}\]|\S{1,64}?)\.(?=\s|$)/;
const NODE_CONDITION = /The node had condition: \[([^\]]{1,256})\]/;
const THRESHOLD = /Threshold quantity: (\S{1,64}?), available: (\S{1,64}?)\.(?=\s|$)/;
/** 1.17+: "Container worker was using 912340Ki, request is 200Mi, has larger consumption of memory. " */
const CONTAINER_OVER_REQUEST = /Container (\S{1,253}) was using (\S{1,64}?), request is (\S{1,64}?), has larger consumption of \S{1,64}?\.(?=\s|$)/g;
/** Before 1.17: "Container x was using 20Ki, which exceeds its request of 0. " */
const CONTAINER_OVER_REQUEST_OLD = /Container (\S{1,253}) was using (\S{1,64}?), which exceeds its request of (\S{1,64}?)\.(?=\s|$)/g;
const CONTAINER_STORAGE_LIMIT = /Container (\S{1,253}) exceeded its local ephemeral storage limit "([^"]{0,64})"\./g;
const POD_STORAGE_LIMIT = /Pod ephemeral local storage usage exceeds the total limit of containers (\S{1,64}?)\.(?=\s|$)/;
const EMPTY_DIR_LIMIT = /Usage of EmptyDir volume "([^"]{0,253})" exceeds the limit "([^"]{0,64})"\./;

/** Node conditions (very old kubelets, and admission rejections) to the resource they are about. */
const CONDITION_RESOURCE: Readonly<Record<string, string>> = {
  MemoryPressure: 'memory',
  DiskPressure: 'ephemeral-storage',
  PIDPressure: 'pids',
};

/**
 * Reads a pod's eviction `status.message` or the kubelet's `Evicted` event message. Handles the current
 * and the pre-1.17 wording, local ephemeral-storage limits (pod, container, emptyDir) and node
 * conditions. Never throws; unknown text gives `resource` undefined and no containers.
 */
export function parseEvictionMessage(message: unknown): ParsedEviction {
  const parsed: ParsedEviction = { containers: [] };
  if (typeof message !== 'string' || message === '') return parsed;
  const text = message.slice(0, MAX_PARSED_CHARS);

  const nodeLow = NODE_LOW.exec(text);
  if (nodeLow?.[1] !== undefined) parsed.resource = resourceName(nodeLow[1]);
  const threshold = THRESHOLD.exec(text);
  if (threshold?.[1] !== undefined && threshold[2] !== undefined) {
    parsed.threshold = threshold[1];
    parsed.available = threshold[2];
  }
  collectContainers(text, parsed);

  if (parsed.resource === undefined) {
    const condition = NODE_CONDITION.exec(text);
    if (condition?.[1] !== undefined) parsed.resource = resourceName(`[${condition[1]}]`);
  }
  if (parsed.resource === undefined) readLocalStorageLimit(text, parsed);
  return parsed;
}

function collectContainers(text: string, parsed: ParsedEviction): void {
  const found: { at: number; usage: EvictionContainerUsage }[] = [];
  for (const pattern of [CONTAINER_OVER_REQUEST, CONTAINER_OVER_REQUEST_OLD]) {
    for (const match of text.matchAll(pattern)) {
      const [, name, usage, request] = match;
      if (name === undefined || usage === undefined || request === undefined) continue;
      found.push({ at: match.index, usage: { name, usage, request } });
      if (found.length >= MAX_CONTAINERS * 2) break;
    }
  }
  found.sort((a, b) => a.at - b.at);
  parsed.containers = found.slice(0, MAX_CONTAINERS).map((entry) => entry.usage);
}

function readLocalStorageLimit(text: string, parsed: ParsedEviction): void {
  const containers: EvictionContainerUsage[] = [];
  for (const match of text.matchAll(CONTAINER_STORAGE_LIMIT)) {
    const [, name, limit] = match;
    if (name === undefined || limit === undefined) continue;
    containers.push(limit === '' ? { name } : { name, limit });
    if (containers.length >= MAX_CONTAINERS) break;
  }
  const first = containers[0];
  if (first !== undefined) {
    parsed.resource = 'ephemeral-storage';
    parsed.containers = containers;
    parsed.localLimit = withLimit({ scope: 'container', name: first.name }, first.limit);
    return;
  }
  const pod = POD_STORAGE_LIMIT.exec(text);
  if (pod?.[1] !== undefined) {
    parsed.resource = 'ephemeral-storage';
    parsed.localLimit = withLimit({ scope: 'pod' }, pod[1]);
    return;
  }
  const emptyDir = EMPTY_DIR_LIMIT.exec(text);
  if (emptyDir?.[1] !== undefined) {
    parsed.resource = 'ephemeral-storage';
    const scope: LocalStorageLimitExceeded = { scope: 'emptyDir' };
    if (emptyDir[1] !== '') scope.name = emptyDir[1];
    parsed.localLimit = withLimit(scope, emptyDir[2]);
  }
}

function withLimit(scope: LocalStorageLimitExceeded, limit: string | undefined): LocalStorageLimitExceeded {
  if (limit !== undefined && limit !== '') scope.limit = limit;
  return scope;
}

/** "memory" stays; "[MemoryPressure]" (a node condition list) becomes "memory". */
function resourceName(raw: string): string | undefined {
  if (!raw.startsWith('[')) return raw;
  const conditions = raw
    .slice(1, -1)
    .split(/[\s,]+/)
    .filter((condition) => condition !== '');
  for (const condition of conditions) {
    const resource = Object.hasOwn(CONDITION_RESOURCE, condition) ? CONDITION_RESOURCE[condition] : undefined;
    if (resource !== undefined) return resource;
  }
  return conditions[0];
}
