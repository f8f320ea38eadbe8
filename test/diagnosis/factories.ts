/** Realistic enriched incidents for unit tests: a Deployment's container OOM-killed at its limit. */
import type { Incident } from '../../core/incident.js';
import { GiB, MiB } from '../../core/quantity.js';
import type { ContainerSnapshot, EnrichedIncident, PodSnapshot } from '../../diagnosis/enriched.js';

export interface OomOptions {
  limit?: string | null;
  request?: string | null;
  uptimeSeconds?: number;
  exitCode?: number;
  reason?: string;
  kind?: Incident['kind'];
  container?: Partial<ContainerSnapshot>;
}

const BYTES: Record<string, number> = { Mi: MiB, Gi: GiB };

function q(text: string | null | undefined) {
  if (!text) return undefined;
  const m = /^(\d+)(Mi|Gi)$/.exec(text);
  return { text, bytes: m ? Number(m[1]) * (BYTES[m[2] as string] as number) : undefined };
}

export function createEnriched(options: OomOptions = {}, overrides: Partial<EnrichedIncident> = {}): EnrichedIncident {
  const limit = options.limit === undefined ? '512Mi' : options.limit;
  const request = options.request === undefined ? '256Mi' : options.request;
  const finishedAt = '2026-11-23T10:15:42Z';
  const startedAt = new Date(Date.parse(finishedAt) - (options.uptimeSeconds ?? 3 * 3600) * 1000).toISOString();
  const incident: Incident = {
    v: 1,
    id: 'prod-shop-api-x2x9k-api-4',
    kind: options.kind ?? 'container-oom',
    cluster: 'prod',
    occurredAt: finishedAt,
    detectedAt: '2026-11-23T10:15:44Z',
    pod: { namespace: 'shop', name: 'api-7f9c-x2x9k', uid: 'u1', nodeName: 'worker-3', owner: { kind: 'ReplicaSet', name: 'api-7f9c' }, qosClass: 'Burstable' },
    termination: {
      container: 'api',
      init: false,
      restartCount: 4,
      exitCode: options.exitCode ?? 137,
      reason: options.reason ?? 'OOMKilled',
      from: 'lastState',
      startedAt,
      finishedAt,
      resources: { limits: limit ? { memory: limit } : {}, requests: request ? { memory: request } : {} },
    },
  };
  const container: ContainerSnapshot = {
    name: 'api',
    image: 'registry.example.com/shop/api:1.0.0',
    limits: limit ? { memory: q(limit) } : {},
    requests: request ? { memory: q(request) } : {},
    restartCount: 4,
    lastState: { state: 'terminated', reason: incident.termination?.reason, exitCode: incident.termination?.exitCode, startedAt, finishedAt },
    runtimeMemorySettings: [],
    envNames: [],
    ...options.container,
  };
  const pod: PodSnapshot = {
    namespace: 'shop',
    name: 'api-7f9c-x2x9k',
    qosClass: 'Burstable',
    nodeName: 'worker-3',
    terminationGracePeriodSeconds: 30,
    containers: [container],
  };
  return {
    v: 1,
    incident,
    pod,
    events: [],
    owner: {
      chain: [
        { kind: 'ReplicaSet', name: 'api-7f9c' },
        { kind: 'Deployment', name: 'api' },
      ],
    },
    node: {
      name: 'worker-3',
      allocatableBytes: 15 * GiB,
      capacityBytes: 16 * GiB,
      memoryPressure: false,
      sumLimitsBytes: 10 * GiB,
      sumRequestsBytes: 8 * GiB,
      podCount: 30,
    },
    largestNodeAllocatableBytes: 15 * GiB,
    previousIncidents: [],
    ...overrides,
  };
}

/** An earlier OOM kill of container api after `uptimeSeconds`, ending `hoursAgo` before the fixture's kill. */
export function earlierKill(hoursAgo: number, uptimeSeconds: number) {
  const finished = Date.parse('2026-11-23T10:15:42Z') - hoursAgo * 3600_000;
  return {
    kind: 'container-oom' as const,
    container: 'api',
    occurredAt: new Date(finished).toISOString(),
    startedAt: new Date(finished - uptimeSeconds * 1000).toISOString(),
    finishedAt: new Date(finished).toISOString(),
    exitCode: 137,
  };
}
