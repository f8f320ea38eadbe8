/**
 * The full incident behind an id: from its queued job while the queue keeps it (a day), else rebuilt from
 * the history record (a week), which holds what the diagnosis needs of a pod that is gone.
 */
import { INCIDENT_VERSION, type Incident, type IncidentKind } from '../core/incident.js';
import { formatMemory } from '../core/quantity.js';
import type { HistoryRecord } from '../stores/incident-history.js';
import type { BotBase } from './bot-deps.js';

const REASONS: Partial<Record<IncidentKind, string>> = { 'container-oom': 'OOMKilled', 'child-oom': 'OOMKilled', sigkill: 'Error' };

export function incidentFromHistory(r: HistoryRecord): Incident {
  const incident: Incident = {
    v: INCIDENT_VERSION,
    id: r.id,
    kind: r.kind,
    cluster: r.cluster,
    occurredAt: r.occurredAt,
    detectedAt: r.occurredAt,
  };
  if (r.namespace && r.pod) {
    incident.pod = { namespace: r.namespace, name: r.pod, uid: r.podUid ?? '' };
    if (r.node) incident.pod.nodeName = r.node;
    const [kind, ...name] = (r.workload ?? '').split('/');
    if (kind && name.length > 0 && kind !== 'Pod') incident.pod.owner = { kind, name: name.join('/') };
  }
  if (r.kind === 'process-oom') {
    // The container kept running: no termination, the kernel's report instead.
    if (r.processOom) incident.processOom = r.processOom;
  } else if (r.container) {
    incident.termination = {
      container: r.container,
      init: false,
      restartCount: r.restartCount ?? 0,
      exitCode: r.exitCode ?? (r.kind === 'container-oom' || r.kind === 'sigkill' ? 137 : 0),
      reason: REASONS[r.kind] ?? '',
      from: 'lastState',
    };
    if (r.startedAt) incident.termination.startedAt = r.startedAt;
    if (r.finishedAt) incident.termination.finishedAt = r.finishedAt;
    if (r.limitBytes !== undefined) incident.termination.resources = { limits: { memory: formatMemory(r.limitBytes) } };
  }
  if (r.kind === 'evicted') incident.eviction = { containers: [], source: 'none' };
  if (r.kind === 'node-oom' && r.node) incident.nodeOom = { node: r.node, count: 1 };
  return incident;
}

export async function findIncident(deps: Pick<BotBase, 'queue' | 'history'>, id: string): Promise<Incident | undefined> {
  if (typeof id !== 'string' || id.length === 0 || id.length > 200) return undefined;
  try {
    const job = await deps.queue.getJob(id);
    if (job?.data && job.data.v === INCIDENT_VERSION && job.data.id === id) return job.data;
  } catch {
    // The queue is only a faster source; the history answers too.
  }
  const record = await deps.history.get(id);
  return record ? incidentFromHistory(record) : undefined;
}
