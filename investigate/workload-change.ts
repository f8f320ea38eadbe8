/**
 * The change that started it: the revision the pod runs against the one before, when and by whom.
 * A Deployment's revisions are its ReplicaSets (annotation `deployment.kubernetes.io/revision`), a
 * StatefulSet's or DaemonSet's its ControllerRevisions (field `revision`); the previous one is found with
 * one list by the workload's selector. Who made it is the workload's managedFields entry that owns
 * `spec.template` and was written then. The result is cached per workload revision, so only the first
 * incident of a revision pays the read.
 */
import type { KubeApi } from '../core/kube-api.js';
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

/** One revision of a workload, as its ReplicaSet or ControllerRevision shows it. */
interface Revision {
  name: string;
  revision: number;
  at?: string;
  template?: TemplateLike;
}

/** Where a workload keeps its revisions, and which one the pod runs. */
interface History {
  workload: { kind: string; name: string; object: WorkloadLike };
  sourceKind: 'ReplicaSet' | 'ControllerRevision';
  path: string;
  /** The revision the pod runs, by name (its ReplicaSet, or its ControllerRevision). */
  current: string;
  /** The revision number when known without a read (a ReplicaSet's annotation). */
  currentRevision?: number;
  toRevision(item: RevisionObject): Revision | undefined;
}

interface RevisionObject extends WorkloadLike {
  revision?: number;
  data?: { spec?: { template?: TemplateLike } };
}

/** The change that made the pod's revision; undefined when it is the first revision or unknown. */
export async function readWorkloadChange(kube: KubeApi, incident: Incident, owners: readonly OwnerObject[], cache?: ChangeCache): Promise<ChangeRead> {
  const ns = incident.pod?.namespace;
  const history = ns ? historyOf(ns, incident, owners) : undefined;
  if (!ns || !history) return { apiCalls: 0 };
  const { workload } = history;
  const selector = workload.object.spec?.selector?.matchLabels;
  if (!selector || Object.keys(selector).length === 0) return { apiCalls: 0 };
  // A first revision has nothing before it: no read.
  if (history.currentRevision !== undefined && history.currentRevision <= 1) return { apiCalls: 0 };
  const key = ChangeCache.key(incident.cluster, ns, `${workload.kind}/${workload.name}`, history.current);
  const hit = await cache?.get(key).catch(() => undefined);
  if (hit !== undefined) return hit === null ? { apiCalls: 0 } : { change: hit, apiCalls: 0 };
  let list: { items?: RevisionObject[] };
  try {
    const labelSelector = Object.entries(selector)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    list = await kube.getJson<{ items?: RevisionObject[] }>(history.path, { labelSelector });
  } catch (err) {
    if (err instanceof OombotError && err.code === 'KUBE_UNREACHABLE') throw err;
    return { apiCalls: 1, gap: `${history.sourceKind}s of ${workload.kind} ${workload.name}: ${errorMessage(err)}` };
  }
  const uid = workload.object.metadata?.uid;
  const revisions = (Array.isArray(list.items) ? list.items : [])
    .filter((r) => r?.metadata?.ownerReferences?.some((o) => o.controller && (uid ? o.uid === uid : o.name === workload.name)))
    .map((r) => history.toRevision(r))
    .filter((r): r is Revision => r !== undefined);
  const current = revisions.find((r) => r.name === history.current);
  const previous = current ? revisions.filter((r) => r.revision < current.revision).sort((a, b) => b.revision - a.revision)[0] : undefined;
  const change: WorkloadChange | null =
    current && previous && current.at
      ? {
          sourceKind: history.sourceKind,
          sourceName: current.name,
          revision: current.revision,
          previousRevision: previous.revision,
          at: current.at,
          ...writerOf(workload.object.metadata?.managedFields, current.at),
          changes: diffTemplates(previous.template, current.template),
        }
      : null;
  await cache?.set(key, change).catch(() => undefined);
  return change ? { change, apiCalls: 1 } : { apiCalls: 1 };
}

/**
 * A Deployment's revisions are its ReplicaSets; a StatefulSet's and a DaemonSet's are ControllerRevisions,
 * the pod's named by its `controller-revision-hash` label (the whole name for a StatefulSet, the hash after
 * `<daemonset>-` for a DaemonSet).
 */
function historyOf(ns: string, incident: Incident, owners: readonly OwnerObject[]): History | undefined {
  const [first, second] = owners;
  const base = `/apis/apps/v1/namespaces/${encodeURIComponent(ns)}`;
  if (first?.kind === 'ReplicaSet' && second?.kind === 'Deployment') {
    const rs = first as unknown as WorkloadLike;
    const rsRevision = Number(rs.metadata?.annotations?.[REVISION]);
    // A ReplicaSet known only by its name (inferred from the pod's template hash, not read) has no
    // annotations: the list tells its revision. The Deployment's own revision is its newest, so a
    // Deployment at revision 1 has nothing before it.
    const deploymentRevision = Number((second as unknown as WorkloadLike).metadata?.annotations?.[REVISION]);
    const revision = Number.isInteger(rsRevision) ? rsRevision : Number.isInteger(deploymentRevision) && deploymentRevision <= 1 ? 1 : undefined;
    return {
      workload: { kind: 'Deployment', name: second.name, object: second as unknown as WorkloadLike },
      sourceKind: 'ReplicaSet',
      path: `${base}/replicasets`,
      current: first.name,
      currentRevision: revision,
      toRevision: (r) => {
        const n = Number(r.metadata?.annotations?.[REVISION]);
        return typeof r.metadata?.name === 'string' && Number.isInteger(n)
          ? { name: r.metadata.name, revision: n, at: iso(r.metadata.creationTimestamp), template: r.spec?.template }
          : undefined;
      },
    };
  }
  if (first?.kind === 'StatefulSet' || first?.kind === 'DaemonSet') {
    const hash = incident.pod?.labels?.['controller-revision-hash'];
    if (!hash) return undefined;
    return {
      workload: { kind: first.kind, name: first.name, object: first as unknown as WorkloadLike },
      sourceKind: 'ControllerRevision',
      path: `${base}/controllerrevisions`,
      current: first.kind === 'StatefulSet' ? hash : `${first.name}-${hash}`,
      toRevision: (r) => {
        const n = Number(r.revision);
        return typeof r.metadata?.name === 'string' && Number.isInteger(n)
          ? { name: r.metadata.name, revision: n, at: iso(r.metadata.creationTimestamp), template: r.data?.spec?.template }
          : undefined;
      },
    };
  }
  return undefined;
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
