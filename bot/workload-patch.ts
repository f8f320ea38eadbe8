/**
 * Where a memory change goes in each controller, and the strategic merge patch that makes it. Pure.
 * The patch names the container by name (containers merge by name), so other containers and fields stay.
 */
import type { Proposal, ProposalOwner } from '../diagnosis/propose-limit.js';
import { WORKLOAD_KINDS } from '../core/workload-kinds.js';

export { STRATEGIC_MERGE_PATCH } from '../core/workload-kinds.js';

export function isPatchableKind(kind: string): boolean {
  return Object.hasOwn(WORKLOAD_KINDS, kind);
}

export function workloadPath(owner: ProposalOwner): string {
  const k = WORKLOAD_KINDS[owner.kind];
  if (!k) throw new Error(`${owner.kind} is not patched by oombot`);
  return k.path(encodeURIComponent(owner.namespace), encodeURIComponent(owner.name));
}

export function workloadApiVersion(kind: string): string {
  return WORKLOAD_KINDS[kind]?.apiVersion ?? 'v1';
}

interface ContainerLike {
  name?: string;
  resources?: { limits?: Record<string, string>; requests?: Record<string, string> };
}

export interface LiveContainer {
  /** Where the values are in the pod template: a container list, or the pod-level `spec.resources`. */
  list: 'containers' | 'initContainers' | 'pod';
  limit?: string;
  request?: string;
}

type TemplateSpec = { containers?: ContainerLike[]; initContainers?: ContainerLike[]; resources?: ContainerLike['resources'] };

function templateSpec(kind: string, obj: unknown): TemplateSpec | undefined {
  const k = WORKLOAD_KINDS[kind];
  if (!k) return undefined;
  let node: unknown = obj;
  for (const key of k.template) node = (node as Record<string, unknown> | undefined)?.[key];
  return (node as { spec?: TemplateSpec } | undefined)?.spec;
}

function valuesOf(list: LiveContainer['list'], resources: ContainerLike['resources']): LiveContainer {
  const out: LiveContainer = { list };
  const limit = resources?.limits?.memory;
  const request = resources?.requests?.memory;
  if (limit !== undefined) out.limit = String(limit);
  if (request !== undefined) out.request = String(request);
  return out;
}

/**
 * What a proposal changes in a live workload object's pod template: the named container's memory limit
 * and request, or for a pod-level proposal the template's `spec.resources` (undefined when the template
 * has no pod-level memory limit: one set at admission is not the template's to change).
 */
export function liveTarget(kind: string, obj: unknown, p: Pick<Proposal, 'container'> & { scope?: 'pod' }): LiveContainer | undefined {
  if (p.scope !== 'pod') return liveContainer(kind, obj, p.container);
  const spec = templateSpec(kind, obj);
  if (spec?.resources?.limits?.memory === undefined) return undefined;
  return valuesOf('pod', spec.resources);
}

/** The named container in a live workload object's pod template, with its memory limit and request. */
export function liveContainer(kind: string, obj: unknown, container: string): LiveContainer | undefined {
  const spec = templateSpec(kind, obj);
  for (const list of ['containers', 'initContainers'] as const) {
    const c = spec?.[list]?.find((x) => x?.name === container);
    if (c) return valuesOf(list, c.resources);
  }
  return undefined;
}

/** The memory values a proposal sets: `null` removes a value (an undo back to "none"). */
export function memoryChange(p: Proposal): { limits?: { memory: string | null }; requests?: { memory: string | null } } {
  const out: { limits?: { memory: string | null }; requests?: { memory: string | null } } = {};
  if (p.target === 'limit') out.limits = { memory: p.toLimit };
  if (p.toRequest !== undefined) out.requests = { memory: p.toRequest === 'none' ? null : p.toRequest };
  return out;
}

/**
 * `{spec:{template:{spec:{containers:[{name, resources}]}}}}` (or the CronJob's jobTemplate path); for the
 * pod-level limit `{spec:{template:{spec:{resources}}}}`.
 */
export function memoryPatch(kind: string, list: LiveContainer['list'], p: Proposal): Record<string, unknown> {
  const k = WORKLOAD_KINDS[kind];
  if (!k) throw new Error(`${kind} is not patched by oombot`);
  let body: Record<string, unknown> =
    list === 'pod' ? { spec: { resources: memoryChange(p) } } : { spec: { [list]: [{ name: p.container, resources: memoryChange(p) }] } };
  for (const key of [...k.template].reverse()) body = { [key]: body };
  return body;
}

/** The YAML a person commits to the workload's source when GitOps or Helm would revert a live patch. */
export function yamlSnippet(kind: string, list: LiveContainer['list'], p: Proposal): string {
  const k = WORKLOAD_KINDS[kind];
  const path = k ? [...k.template, 'spec'] : ['spec', 'template', 'spec'];
  const lines: string[] = [];
  for (const [i, key] of path.entries()) lines.push(`${'  '.repeat(i)}${key}:`);
  let d = '  '.repeat(path.length);
  if (list === 'pod') lines.push(`${d}resources:`);
  else {
    lines.push(`${d}${list}:`, `${d}  - name: ${p.container}`, `${d}    resources:`);
    d += '    ';
  }
  const change = memoryChange(p);
  if (change.limits) lines.push(`${d}  limits:`, `${d}    memory: ${change.limits.memory ?? 'null'}`);
  if (change.requests) lines.push(`${d}  requests:`, `${d}    memory: ${change.requests.memory ?? 'null'}`);
  return lines.join('\n');
}
