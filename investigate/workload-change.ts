/**
 * The change that started it: the revision the pod runs against the one before, when and by whom.
 * A Deployment's revisions are its ReplicaSets (annotation `deployment.kubernetes.io/revision`); the
 * previous one is found with one list of the namespace's ReplicaSets by the Deployment's selector. Who
 * made it is the Deployment's managedFields entry that owns `spec.template` and was written then. The
 * result is cached per workload revision, so only the first incident of a revision pays the read.
 */
import type { KubeHttp } from '../core/kube.js';
import type { Incident } from '../core/incident.js';
import { parseMemoryBytes } from '../core/quantity.js';
import { OombotError, errorMessage } from '../core/errors.js';
import type { TemplateChange, WorkloadChange } from '../diagnosis/enriched.js';
import { ChangeCache } from '../stores/change-cache.js';
import type { OwnerObject } from './gather.js';

const REVISION = 'deployment.kubernetes.io/revision';
/** A managedFields entry written this close to the new revision's creation is the one that made it. */
const WRITER_WINDOW_MS = 120_000;
/** Image references are short; anything longer is cut. */
const IMAGE_MAX = 300;

interface Meta {
  name?: string;
  uid?: string;
  creationTimestamp?: string | Date;
  annotations?: Record<string, string>;
  ownerReferences?: { uid?: string; controller?: boolean; kind?: string; name?: string }[];
  managedFields?: { manager?: string; operation?: string; time?: string | Date; subresource?: string; fieldsV1?: Record<string, unknown> }[];
}

interface TemplateLike {
  spec?: { containers?: ContainerLike[]; initContainers?: ContainerLike[] };
}

interface ContainerLike {
  name?: string;
  image?: string;
  command?: string[];
  args?: string[];
  env?: { name?: string }[];
  resources?: { limits?: Record<string, string>; requests?: Record<string, string> };
}

interface WorkloadLike {
  metadata?: Meta;
  spec?: { selector?: { matchLabels?: Record<string, string> }; template?: TemplateLike };
}

export interface ChangeRead {
  change?: WorkloadChange;
  apiCalls: number;
  gap?: string;
}

/** The change that made the pod's revision; undefined when it is the first revision or unknown. */
export async function readWorkloadChange(kube: KubeHttp, incident: Incident, owners: readonly OwnerObject[], cache?: ChangeCache): Promise<ChangeRead> {
  const [rsOwner, deployOwner] = owners;
  const ns = incident.pod?.namespace;
  if (!ns || rsOwner?.kind !== 'ReplicaSet' || deployOwner?.kind !== 'Deployment') return { apiCalls: 0 };
  const rs = rsOwner as unknown as WorkloadLike;
  const deployment = deployOwner as unknown as WorkloadLike;
  const revision = Number(rs.metadata?.annotations?.[REVISION]);
  const selector = deployment.spec?.selector?.matchLabels;
  if (!Number.isInteger(revision) || revision <= 1 || !selector || Object.keys(selector).length === 0) return { apiCalls: 0 };
  const key = ChangeCache.key(incident.cluster, ns, `Deployment/${deployOwner.name}`, revision);
  const hit = await cache?.get(key).catch(() => undefined);
  if (hit !== undefined) return hit === null ? { apiCalls: 0 } : { change: hit, apiCalls: 0 };
  let list: { items?: WorkloadLike[] };
  try {
    const labelSelector = Object.entries(selector)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    list = await kube.getJson<{ items?: WorkloadLike[] }>(`/apis/apps/v1/namespaces/${encodeURIComponent(ns)}/replicasets`, { labelSelector });
  } catch (err) {
    if (err instanceof OombotError && err.code === 'KUBE_UNREACHABLE') throw err;
    return { apiCalls: 1, gap: `ReplicaSets of Deployment ${deployOwner.name}: ${errorMessage(err)}` };
  }
  const deploymentUid = deployment.metadata?.uid;
  const previous = (Array.isArray(list.items) ? list.items : [])
    .filter((r) => r?.metadata?.ownerReferences?.some((o) => o.controller && (deploymentUid ? o.uid === deploymentUid : o.name === deployOwner.name)))
    .map((r) => ({ r, revision: Number(r.metadata?.annotations?.[REVISION]) }))
    .filter((x) => Number.isInteger(x.revision) && x.revision < revision)
    .sort((a, b) => b.revision - a.revision)[0];
  const at = iso(rs.metadata?.creationTimestamp);
  const change: WorkloadChange | null =
    previous && at
      ? {
          sourceKind: 'ReplicaSet',
          sourceName: rsOwner.name,
          revision,
          previousRevision: previous.revision,
          at,
          ...writerOf(deployment.metadata?.managedFields, at),
          changes: diffTemplates(previous.r.spec?.template, rs.spec?.template),
        }
      : null;
  await cache?.set(key, change).catch(() => undefined);
  return change ? { change, apiCalls: 1 } : { apiCalls: 1 };
}

/** The managedFields entry that owns the pod template and was written when the revision was made. */
export function writerOf(entries: Meta['managedFields'], at: string): { by?: WorkloadChange['by'] } {
  const when = Date.parse(at);
  let best: { manager: string; operation: string; off: number } | undefined;
  for (const e of Array.isArray(entries) ? entries : []) {
    if (!e || e.subresource || typeof e.manager !== 'string' || typeof e.operation !== 'string') continue;
    const spec = e.fieldsV1?.['f:spec'] as Record<string, unknown> | undefined;
    if (!spec || typeof spec !== 'object' || !('f:template' in spec)) continue;
    const off = Math.abs(Date.parse(iso(e.time) ?? '') - when);
    if (!(off <= WRITER_WINDOW_MS) || (best && best.off <= off)) continue;
    best = { manager: e.manager.slice(0, 128), operation: e.operation.slice(0, 20), off };
  }
  return best ? { by: { manager: best.manager, operation: best.operation } } : {};
}

/**
 * What differs between two pod templates, container by container: image, memory limit and request, the
 * names of env vars added or removed (never a value), and whether command or args changed (never their
 * text: they may carry secrets).
 */
export function diffTemplates(before: TemplateLike | undefined, after: TemplateLike | undefined): TemplateChange[] {
  const out: TemplateChange[] = [];
  const was = containersOf(before);
  const now = containersOf(after);
  for (const [name, c] of now) {
    const old = was.get(name);
    if (!old) {
      out.push({ container: name, field: 'added' });
      continue;
    }
    if (old.image !== c.image) out.push({ container: name, field: 'image', from: short(old.image), to: short(c.image) });
    for (const [side, field] of [
      ['limits', 'memory limit'],
      ['requests', 'memory request'],
    ] as const) {
      const from = old.resources?.[side]?.memory;
      const to = c.resources?.[side]?.memory;
      if (String(from ?? '') === String(to ?? '')) continue;
      const change: TemplateChange = { container: name, field, from: from === undefined ? 'none' : String(from), to: to === undefined ? 'none' : String(to) };
      const fromBytes = parseMemoryBytes(from === undefined ? undefined : String(from));
      const toBytes = parseMemoryBytes(to === undefined ? undefined : String(to));
      if (fromBytes !== undefined) change.fromBytes = fromBytes;
      if (toBytes !== undefined) change.toBytes = toBytes;
      out.push(change);
    }
    const oldEnv = envNames(old);
    const newEnv = envNames(c);
    const added = [...newEnv].filter((n) => !oldEnv.has(n));
    const removed = [...oldEnv].filter((n) => !newEnv.has(n));
    if (added.length > 0 || removed.length > 0) {
      out.push({ container: name, field: 'env', ...(removed.length ? { from: removed.join(', ') } : {}), ...(added.length ? { to: added.join(', ') } : {}) });
    }
    if (JSON.stringify(old.command ?? []) !== JSON.stringify(c.command ?? [])) out.push({ container: name, field: 'command' });
    if (JSON.stringify(old.args ?? []) !== JSON.stringify(c.args ?? [])) out.push({ container: name, field: 'args' });
  }
  for (const name of was.keys()) if (!now.has(name)) out.push({ container: name, field: 'removed' });
  return out.slice(0, 50);
}

function containersOf(t: TemplateLike | undefined): Map<string, ContainerLike> {
  const out = new Map<string, ContainerLike>();
  for (const c of [
    ...(Array.isArray(t?.spec?.containers) ? t.spec.containers : []),
    ...(Array.isArray(t?.spec?.initContainers) ? t.spec.initContainers : []),
  ]) {
    if (c && typeof c.name === 'string') out.set(c.name, c);
  }
  return out;
}

/** Env var names only, at most 20 of them (a value is never read). */
function envNames(c: ContainerLike): Set<string> {
  const names = (Array.isArray(c.env) ? c.env : [])
    .map((e) => e?.name)
    .filter((n): n is string => typeof n === 'string' && /^[-._a-zA-Z][-._a-zA-Z0-9]*$/.test(n));
  return new Set(names.slice(0, 200));
}

function short(image: string | undefined): string | undefined {
  return image === undefined ? undefined : String(image).slice(0, IMAGE_MAX);
}

function iso(t: string | Date | undefined): string | undefined {
  if (t === undefined) return undefined;
  const ms = t instanceof Date ? t.getTime() : Date.parse(t);
  return Number.isFinite(ms) ? new Date(ms).toISOString() : undefined;
}
