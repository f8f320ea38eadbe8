/**
 * The scale-down before a kill, from the scale events the watcher kept in Redis: no read of the cluster.
 * The deployment controller writes `Scaled down replica set <rs> from <old> to <new>` (Kubernetes 1.27 and
 * later), `... to <new> from <old>` (some earlier releases) or `... to <new>` (older ones). Only a
 * scale-down of the pod's own ReplicaSet counts: a rollout scales down the old ReplicaSet, and that is the
 * rollout's story. An HPA's `SuccessfulRescale` (`New size: <n>; reason: <why>`) to the same size shortly
 * before names the HPA; the Deployment's managedFields entry owning `spec.replicas`, written then, names
 * the manager.
 */
import type { Incident } from '../core/incident.js';
import type { ScaleEvent, ScaleEvents } from '../core/scale-events.js';
import type { ScaleDown } from '../diagnosis/enriched.js';
import type { OwnerObject } from './gather.js';

/** The HPA writes the scale, then the deployment controller scales the ReplicaSet: seconds apart. */
const HPA_WINDOW_MS = 60_000;
const WRITER_WINDOW_MS = 120_000;

const SCALED_DOWN = /^Scaled down replica set (\S+) (?:from (\d+) to (\d+)|to (\d+)(?: from (\d+))?)$/;
const RESCALE = /^New size: (\d+); reason: (.{1,200})$/;

interface ManagedField {
  manager?: string;
  operation?: string;
  time?: string | Date;
  subresource?: string;
  fieldsV1?: Record<string, unknown>;
}

/** The scale-down the kept events show for the incident's Deployment, or undefined (also on any error). */
export async function readScaleDown(
  store: Pick<ScaleEvents, 'forWorkload'>,
  incident: Incident,
  owners: readonly OwnerObject[],
): Promise<ScaleDown | undefined> {
  const [rs, deployment] = owners;
  const ns = incident.pod?.namespace;
  if (!ns || rs?.kind !== 'ReplicaSet' || deployment?.kind !== 'Deployment') return undefined;
  const kept = await store.forWorkload(incident.cluster, ns, 'Deployment', deployment.name);
  const managed = (deployment as unknown as { metadata?: { managedFields?: ManagedField[] } }).metadata?.managedFields;
  return scaleDownBefore(kept.workload, kept.hpa, { replicaSet: rs.name, deployment: deployment.name, managedFields: managed }, incident.occurredAt);
}

/** The latest scale-down of the pod's ReplicaSet before `before`, with the HPA and the writer when they match. */
export function scaleDownBefore(
  workload: readonly ScaleEvent[],
  hpa: readonly ScaleEvent[],
  of: { replicaSet: string; deployment: string; managedFields?: ManagedField[] | undefined },
  before: string,
): ScaleDown | undefined {
  const until = Date.parse(before);
  if (!Number.isFinite(until)) return undefined;
  let found: { at: number; to: number; from?: number } | undefined;
  for (const e of workload) {
    if (e.reason !== 'ScalingReplicaSet' || e.kind !== 'Deployment' || e.name !== of.deployment) continue;
    const m = SCALED_DOWN.exec(e.message);
    if (!m || m[1] !== of.replicaSet) continue;
    const at = Date.parse(e.at);
    if (!Number.isFinite(at) || at >= until || (found && found.at >= at)) continue;
    const to = Number(m[3] ?? m[4]);
    const fromText = m[2] ?? m[5];
    found = { at, to, ...(fromText !== undefined ? { from: Number(fromText) } : {}) };
  }
  if (!found) return undefined;
  const at = found.at;
  const to = found.to;
  const out: ScaleDown = {
    workloadKind: 'Deployment',
    workloadName: of.deployment,
    replicaSet: of.replicaSet,
    to,
    at: new Date(at).toISOString(),
    ...(found.from !== undefined ? { from: found.from } : {}),
  };
  let best: { name: string; reason: string; off: number } | undefined;
  for (const e of hpa) {
    const m = e.reason === 'SuccessfulRescale' ? RESCALE.exec(e.message) : null;
    if (!m || Number(m[1]) !== to) continue;
    const off = at - Date.parse(e.at);
    if (!(off >= -5_000 && off <= HPA_WINDOW_MS) || (best && best.off <= Math.abs(off))) continue;
    best = { name: e.name, reason: m[2]!, off: Math.abs(off) };
  }
  if (best) out.hpa = { name: best.name, reason: best.reason };
  const writer = replicasWriter(of.managedFields, at);
  if (writer) out.by = writer;
  return out;
}

/** The managedFields entry that owns `spec.replicas` and was written close to `at` (the scale subresource counts). */
function replicasWriter(entries: ManagedField[] | undefined, at: number): ScaleDown['by'] | undefined {
  let best: { manager: string; operation: string; off: number } | undefined;
  for (const e of Array.isArray(entries) ? entries : []) {
    if (!e || typeof e.manager !== 'string' || typeof e.operation !== 'string') continue;
    const spec = e.fieldsV1?.['f:spec'] as Record<string, unknown> | undefined;
    if (!spec || typeof spec !== 'object' || !('f:replicas' in spec)) continue;
    const t = e.time instanceof Date ? e.time.getTime() : Date.parse(String(e.time ?? ''));
    const off = Math.abs(t - at);
    if (!(off <= WRITER_WINDOW_MS) || (best && best.off <= off)) continue;
    best = { manager: e.manager.slice(0, 128), operation: e.operation.slice(0, 20), off };
  }
  return best ? { manager: best.manager, operation: best.operation } : undefined;
}
