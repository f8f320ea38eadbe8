/**
 * What a cluster's agent lets the hub do with its credentials. Reads: what oombot's worker and bot read
 * (pods, their logs and events, workloads and their revisions, LimitRanges, VPAs, nodes, metrics and
 * discovery), in the namespaces the agent watches. Writes: only the ones a fix proposal makes (its
 * workload's memory, its pods' in-place resize, an Event beside it), and only while the hub holds the
 * proposal's claim; the proposal checks themselves are in agent-server.ts. Pure: decides from the request.
 */
import { OombotError } from '../core/errors.js';
import { canonicalJson, type AgentRequest } from '../core/agent-link.js';
import type { StoredProposal } from '../stores/proposal-store.js';
import { STRATEGIC_MERGE_PATCH, WORKLOAD_KINDS } from '../core/workload-kinds.js';

/** An API path taken apart. `group` '' is the core group. */
export interface ApiPath {
  group: string;
  version: string;
  namespace?: string;
  resource?: string;
  name?: string;
  sub?: string;
  /** /version, /api, /apis, and group/version documents. */
  discovery: boolean;
}

const SEGMENT = /^[A-Za-z0-9]([-A-Za-z0-9._]*[A-Za-z0-9])?$/;

/**
 * The path's parts, or undefined for anything that is not a plain resource path: a query or fragment in it,
 * an empty, "." or ".." segment, an encoded "/", or a segment written in another encoding than
 * encodeURIComponent's (the API server would read it differently than this check).
 */
export function parseApiPath(path: string): ApiPath | undefined {
  if (!path.startsWith('/') || path.length > 1024 || /[?#\\]/.test(path)) return undefined;
  const raw = path.slice(1).split('/');
  const parts: string[] = [];
  for (const r of raw) {
    let d: string;
    try {
      d = decodeURIComponent(r);
    } catch {
      return undefined;
    }
    if (!SEGMENT.test(d) || encodeURIComponent(d) !== r) return undefined;
    parts.push(d);
  }
  const [root, ...rest] = parts;
  if (root === 'version' && rest.length === 0) return { group: '', version: '', discovery: true };
  let group: string;
  let version: string | undefined;
  let tail: string[];
  if (root === 'api') {
    group = '';
    [version, ...tail] = rest;
  } else if (root === 'apis') {
    if (rest.length <= 1) return { group: rest[0] ?? '', version: '', discovery: true };
    [group, version, ...tail] = rest as [string, string, ...string[]];
  } else {
    return undefined;
  }
  if (version === undefined) return { group, version: '', discovery: true };
  if (tail.length === 0) return { group, version, discovery: true };
  if (tail[0] === 'namespaces' && tail.length >= 3) {
    const [, namespace, resource, name, sub, ...more] = tail;
    if (more.length > 0) return undefined;
    return { group, version, namespace, resource, ...(name ? { name } : {}), ...(sub ? { sub } : {}), discovery: false };
  }
  const [resource, name, sub, ...more] = tail;
  if (more.length > 0) return undefined;
  return { group, version, resource, ...(name ? { name } : {}), ...(sub ? { sub } : {}), discovery: false };
}

/** The namespaced resources oombot reads, by API group (from investigate/, handlers/ and bot/). */
const NAMESPACED_READS: Record<string, readonly string[]> = {
  '': ['pods', 'events', 'limitranges', 'replicationcontrollers'],
  apps: ['deployments', 'statefulsets', 'daemonsets', 'replicasets', 'controllerrevisions'],
  batch: ['jobs', 'cronjobs'],
  'autoscaling.k8s.io': ['verticalpodautoscalers'],
  'metrics.k8s.io': ['pods'],
};

/** The cluster-scoped resources oombot reads. */
const CLUSTER_READS: Record<string, readonly string[]> = {
  '': ['nodes'],
  'metrics.k8s.io': ['nodes'],
};

/** Query parameters of the reads oombot makes; anything else (a watch, above all) is refused. */
const READ_QUERY = new Set([
  'labelSelector',
  'fieldSelector',
  'limit',
  'continue',
  'resourceVersion',
  'resourceVersionMatch',
  'container',
  'previous',
  'tailLines',
  'limitBytes',
  'sinceSeconds',
  'timestamps',
]);

const WRITE_QUERY = new Set(['dryRun', 'fieldManager']);

export function refused(cluster: string, req: Pick<AgentRequest, 'op' | 'method' | 'path'>, why: string, hint?: string): OombotError {
  const what = `${req.op === 'send' ? (req.method ?? 'a write to') : 'GET'} ${req.path.slice(0, 300)}`;
  return new OombotError('AGENT_REFUSED', `cluster ${cluster}'s agent refused ${what}: ${why}`, {
    hint: hint ?? 'the agent serves only what oombot itself reads and the fixes approved in Slack',
  });
}

function watched(namespaces: readonly string[], ns: string): boolean {
  return namespaces.length === 0 || namespaces.includes(ns);
}

function isIn(table: Record<string, readonly string[]>, group: string, resource: string | undefined): boolean {
  return resource !== undefined && (table[group]?.includes(resource) ?? false);
}

/**
 * Checks a read. Returns whether the answer is a cluster-wide list of a namespaced resource, whose items
 * the agent then keeps to its namespaces (see `keepItem`); throws AGENT_REFUSED otherwise refused.
 */
export function authorizeRead(cluster: string, req: AgentRequest, namespaces: readonly string[]): { filterItems: boolean } {
  const no = (why: string, hint?: string) => refused(cluster, req, why, hint);
  for (const key of Object.keys(req.query ?? {})) {
    if (!READ_QUERY.has(key)) throw no(`the query parameter "${key.slice(0, 40)}" is not one oombot reads with`);
  }
  const p = parseApiPath(req.path);
  if (!p) throw no('not a plain API path');
  if (p.discovery) {
    if (req.op === 'getText' || req.op === 'listPage') throw no('a discovery document is read whole');
    return { filterItems: false };
  }
  if (p.namespace !== undefined) {
    if (!watched(namespaces, p.namespace)) {
      throw no(
        `namespace ${p.namespace} is not one this agent watches (WATCH_NAMESPACES: ${namespaces.join(', ')})`,
        "add the namespace to the agent's WATCH_NAMESPACES",
      );
    }
    if (!isIn(NAMESPACED_READS, p.group, p.resource)) throw no(`oombot does not read ${p.group ? `${p.resource} of ${p.group}` : p.resource}`);
    if (req.op === 'getText') {
      if (!(p.group === '' && p.resource === 'pods' && p.name && p.sub === 'log')) throw no('only pod logs are read as text');
      return { filterItems: false };
    }
    if (p.sub !== undefined) throw no(`oombot does not read the ${p.sub} subresource`);
    if (req.op === 'listPage' && p.name) throw no('a single object is not a list');
    return { filterItems: false };
  }
  if (req.op === 'getText') throw no('only pod logs are read as text');
  if (p.sub !== undefined) throw no(`oombot does not read the ${p.sub} subresource`);
  if (isIn(CLUSTER_READS, p.group, p.resource)) return { filterItems: false };
  // A namespaced resource across the cluster: a list only, its items kept to the watched namespaces.
  if (isIn(NAMESPACED_READS, p.group, p.resource) && !p.name) return { filterItems: namespaces.length > 0 };
  throw no(`oombot does not read ${p.group ? `${p.resource} of ${p.group}` : p.resource}`);
}

/** Whether a cluster-wide list's item is the agent's to show: in a watched namespace, or an event about a node. */
export function keepItem(item: unknown, namespaces: readonly string[]): boolean {
  if (namespaces.length === 0) return true;
  const o = item as { metadata?: { namespace?: unknown }; involvedObject?: { kind?: unknown } } | null;
  if (o?.involvedObject?.kind === 'Node') return true;
  const ns = o?.metadata?.namespace;
  return typeof ns === 'string' && namespaces.includes(ns);
}

/** What a write is, once its shape passed: the proposal's checks then decide. */
export type WriteTarget =
  | { kind: 'workload'; path: ApiPath }
  | { kind: 'resize'; path: ApiPath & { namespace: string; name: string } }
  | { kind: 'event'; path: ApiPath & { namespace: string } };

/** The shape of a write, before its proposal is looked at: method, path, query and content type. */
export function writeTarget(cluster: string, req: AgentRequest): WriteTarget {
  const no = (why: string) => refused(cluster, req, why);
  if (req.method !== 'PATCH' && req.method !== 'POST') throw no(`oombot never sends ${String(req.method).slice(0, 10)}`);
  for (const [key, value] of Object.entries(req.query ?? {})) {
    if (!WRITE_QUERY.has(key)) throw no(`the query parameter "${key.slice(0, 40)}" is not one oombot writes with`);
    if (key === 'dryRun' && value !== 'All') throw no('dryRun is All or absent');
  }
  const p = parseApiPath(req.path);
  if (!p || p.discovery || p.namespace === undefined) throw no('oombot writes only objects in a namespace');
  if (req.method === 'POST') {
    if (p.group === '' && p.resource === 'events' && !p.name && (req.contentType ?? 'application/json') === 'application/json') {
      return { kind: 'event', path: p as ApiPath & { namespace: string } };
    }
    throw no('oombot creates only Events');
  }
  if (req.contentType !== STRATEGIC_MERGE_PATCH) throw no('oombot patches with a strategic merge patch');
  if (p.group === '' && p.resource === 'pods' && p.name && p.sub === 'resize')
    return { kind: 'resize', path: p as ApiPath & { namespace: string; name: string } };
  if (!p.sub && p.name && Object.values(WORKLOAD_KINDS).some((w) => w.group === p.group && w.resource === p.resource)) return { kind: 'workload', path: p };
  throw no('oombot patches only workloads and the resize of their pods');
}

type Proposal = StoredProposal['proposal'];

/** The memory values a proposal sets (`null` removes one), as bot/workload-patch.ts memoryChange. */
function memoryChange(p: Proposal): { limits?: { memory: string | null }; requests?: { memory: string | null } } {
  const out: { limits?: { memory: string | null }; requests?: { memory: string | null } } = {};
  if (p.target === 'limit') out.limits = { memory: p.toLimit };
  if (p.toRequest !== undefined) out.requests = { memory: p.toRequest === 'none' ? null : p.toRequest };
  return out;
}

/**
 * The write's own object must be the proposal's, and its body must change nothing but what the proposal
 * sets: the container's memory limit and request (or the pod-level ones), with at most a resourceVersion
 * precondition; the resize of a pod sets the same values in place; an Event is about the proposal's
 * workload. Returns why not, or undefined when it is.
 */
export function writeMismatch(target: WriteTarget, body: unknown, p: Proposal): string | undefined {
  const owner = p.owner;
  if (target.path.namespace !== owner.namespace) return `the proposal is for namespace ${owner.namespace}, not ${target.path.namespace}`;
  const change = memoryChange(p);
  if (target.kind === 'event') {
    const e = body as { kind?: unknown; metadata?: { namespace?: unknown }; involvedObject?: { kind?: unknown; name?: unknown; namespace?: unknown } } | null;
    if (e?.kind !== 'Event' || (e.metadata?.namespace !== undefined && e.metadata.namespace !== owner.namespace))
      return 'the body is not an Event of that namespace';
    const o = e.involvedObject;
    if (o?.kind !== owner.kind || o?.name !== owner.name || o?.namespace !== owner.namespace)
      return `the Event is not about ${owner.kind} ${owner.namespace}/${owner.name}`;
    return undefined;
  }
  if (target.kind === 'resize') {
    const resources = {
      ...(change.limits?.memory ? { limits: { memory: change.limits.memory } } : {}),
      ...(change.requests?.memory ? { requests: { memory: change.requests.memory } } : {}),
    };
    const expected = { spec: { containers: [{ name: p.container, resources }] } };
    return canonicalJson(body) === canonicalJson(expected)
      ? undefined
      : `the resize changes more than container ${p.container}'s memory to the proposal's values`;
  }
  const w = WORKLOAD_KINDS[owner.kind];
  if (!w || target.path.group !== w.group || target.path.resource !== w.resource || target.path.name !== owner.name) {
    return `the proposal is for ${owner.kind} ${owner.namespace}/${owner.name}, not this object`;
  }
  if (!body || typeof body !== 'object' || Array.isArray(body)) return 'the body is not an object';
  const { metadata, ...rest } = body as Record<string, unknown>;
  if (metadata !== undefined) {
    const m = metadata as Record<string, unknown> | null;
    if (!m || typeof m !== 'object' || Object.keys(m).some((k) => k !== 'resourceVersion') || typeof m.resourceVersion !== 'string') {
      return 'the patch changes metadata (only a resourceVersion precondition is allowed)';
    }
  }
  const podLevel = p.target === 'limit' && p.scope === 'pod';
  const lists = podLevel ? (['pod'] as const) : (['containers', 'initContainers'] as const);
  for (const list of lists) {
    let expected: Record<string, unknown> = list === 'pod' ? { spec: { resources: change } } : { spec: { [list]: [{ name: p.container, resources: change }] } };
    for (const key of [...w.template].reverse()) expected = { [key]: expected };
    if (canonicalJson(rest) === canonicalJson(expected)) return undefined;
  }
  return `the patch changes more than ${podLevel ? 'the pod-level' : `container ${p.container}'s`} memory limit and request to the proposal's values`;
}

/** Whether a pod is the workload's own (a Deployment's through its ReplicaSets), as bot/resize-pods.ts picks them. */
export function podOfWorkload(pod: unknown, owner: { kind: string; name: string }): boolean {
  const refs = (pod as { metadata?: { ownerReferences?: { kind?: string; name?: string; controller?: boolean }[] } } | null)?.metadata?.ownerReferences;
  const c = refs?.find((o) => o.controller);
  if (!c?.name) return false;
  if (owner.kind === 'Deployment') return c.kind === 'ReplicaSet' && c.name.startsWith(`${owner.name}-`);
  return c.kind === owner.kind && c.name === owner.name;
}
