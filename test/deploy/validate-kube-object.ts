/**
 * Checks Kubernetes objects against the API's schema as @kubernetes/client-node generates it: every
 * field must be a field of its type (`attributeTypeMap` of V1Deployment, V1PodSpec, ...), of the
 * right JSON type, with the required fields present (non-optional in the generated .d.ts, plus the few
 * the API server requires beyond the OpenAPI document). Then the cross-object checks a schema cannot
 * express: selectors match their pods, references point at objects that exist, quantities parse.
 * Returns the problems as "Kind/name: path: what" lines; empty means valid.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as k8s from '@kubernetes/client-node';
import { compareQuantities, tryParseQuantity } from '../../core/quantity.js';

type Json = Record<string, unknown>;

interface Attribute {
  name: string;
  baseName: string;
  type: string;
  format: string;
}

const MODELS_DIR = fileURLToPath(new URL('../../node_modules/@kubernetes/client-node/dist/gen/models/', import.meta.url));
const models = k8s as unknown as Record<string, { getAttributeTypeMap?: () => Attribute[] } | undefined>;

/** The kinds oombot's manifests may contain, with the apiVersion the API serves them under. */
export const KINDS: Record<string, { apiVersion: string; model: string; namespaced: boolean }> = {
  ServiceAccount: { apiVersion: 'v1', model: 'V1ServiceAccount', namespaced: true },
  Service: { apiVersion: 'v1', model: 'V1Service', namespaced: true },
  Secret: { apiVersion: 'v1', model: 'V1Secret', namespaced: true },
  ConfigMap: { apiVersion: 'v1', model: 'V1ConfigMap', namespaced: true },
  Deployment: { apiVersion: 'apps/v1', model: 'V1Deployment', namespaced: true },
  StatefulSet: { apiVersion: 'apps/v1', model: 'V1StatefulSet', namespaced: true },
  DaemonSet: { apiVersion: 'apps/v1', model: 'V1DaemonSet', namespaced: true },
  PodDisruptionBudget: { apiVersion: 'policy/v1', model: 'V1PodDisruptionBudget', namespaced: true },
  ClusterRole: { apiVersion: 'rbac.authorization.k8s.io/v1', model: 'V1ClusterRole', namespaced: false },
  ClusterRoleBinding: { apiVersion: 'rbac.authorization.k8s.io/v1', model: 'V1ClusterRoleBinding', namespaced: false },
  Role: { apiVersion: 'rbac.authorization.k8s.io/v1', model: 'V1Role', namespaced: true },
  RoleBinding: { apiVersion: 'rbac.authorization.k8s.io/v1', model: 'V1RoleBinding', namespaced: true },
  Ingress: { apiVersion: 'networking.k8s.io/v1', model: 'V1Ingress', namespaced: true },
  ValidatingAdmissionPolicy: { apiVersion: 'admissionregistration.k8s.io/v1', model: 'V1ValidatingAdmissionPolicy', namespaced: false },
  ValidatingAdmissionPolicyBinding: { apiVersion: 'admissionregistration.k8s.io/v1', model: 'V1ValidatingAdmissionPolicyBinding', namespaced: false },
  NetworkPolicy: { apiVersion: 'networking.k8s.io/v1', model: 'V1NetworkPolicy', namespaced: true },
};

/** Required by the API server although the OpenAPI document leaves them optional. */
const EXTRA_REQUIRED: Record<string, string[]> = {
  V1Container: ['image'],
  V1PolicyRule: ['resources'],
  V1RoleRef: ['apiGroup'],
};

const requiredCache = new Map<string, string[]>();

/** Fields the generated model declares without `?`. */
export function requiredFields(model: string): string[] {
  let out = requiredCache.get(model);
  if (!out) {
    const dts = readFileSync(`${MODELS_DIR}${model}.d.ts`, 'utf8');
    out = [...dts.matchAll(/^\s+'([A-Za-z0-9_$-]+)'(\?)?:/gm)].filter((m) => !m[2]).map((m) => m[1]!);
    out.push(...(EXTRA_REQUIRED[model] ?? []));
    requiredCache.set(model, out);
  }
  return out;
}

export function attributesOf(model: string): Attribute[] | undefined {
  return models[model]?.getAttributeTypeMap?.();
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a map';
  return `${typeof v} ${JSON.stringify(v)}`;
}

/** Checks `value` against the client-node type expression `type` (V1PodSpec, Array<V1Container>, ...). */
export function checkType(value: unknown, type: string, format: string, path: string, problems: string[]): void {
  const t = type.trim();
  if (value === null || value === undefined) {
    problems.push(`${path}: null (leave the field out instead)`);
    return;
  }
  const array = /^Array<(.+)>$/.exec(t);
  if (array) {
    if (!Array.isArray(value)) problems.push(`${path}: expected a list, got ${describe(value)}`);
    else value.forEach((v, i) => checkType(v, array[1]!, '', `${path}[${i}]`, problems));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(t);
  if (map) {
    if (!isObject(value)) problems.push(`${path}: expected a map, got ${describe(value)}`);
    else for (const [k, v] of Object.entries(value)) checkType(v, map[1]!, '', `${path}.${k}`, problems);
    return;
  }
  switch (t) {
    case 'string':
      if (typeof value !== 'string') problems.push(`${path}: expected a string, got ${describe(value)}`);
      return;
    case 'number':
      if (typeof value !== 'number') problems.push(`${path}: expected a number, got ${describe(value)}`);
      else if ((format === 'int32' || format === 'int64') && !Number.isInteger(value)) problems.push(`${path}: expected an integer, got ${value}`);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') problems.push(`${path}: expected true or false, got ${describe(value)}`);
      return;
    case 'Date':
      if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) problems.push(`${path}: expected an RFC 3339 time, got ${describe(value)}`);
      return;
    case 'IntOrString':
      if (!(typeof value === 'string' || (typeof value === 'number' && Number.isInteger(value))))
        problems.push(`${path}: expected an integer or a string, got ${describe(value)}`);
      return;
    case 'any':
      return;
    case 'object':
      if (!isObject(value)) problems.push(`${path}: expected a map, got ${describe(value)}`);
      return;
  }
  const attributes = attributesOf(t);
  if (!attributes) {
    problems.push(`${path}: unknown type ${t} (the validator cannot check it)`);
    return;
  }
  if (!isObject(value)) {
    problems.push(`${path}: expected a ${t} map, got ${describe(value)}`);
    return;
  }
  const byName = new Map<string, Attribute>(attributes.map((a) => [a.baseName, a]));
  for (const [k, v] of Object.entries(value)) {
    const a: Attribute | undefined = byName.get(k);
    if (!a) {
      problems.push(`${path}.${k}: unknown field of ${t} (known: ${[...byName.keys()].join(', ')})`);
      continue;
    }
    checkType(v, a.type, a.format, `${path}.${k}`, problems);
  }
  for (const r of requiredFields(t)) {
    const attribute: Attribute | undefined = attributes.find((x) => x.name === r);
    const key: string = attribute?.baseName ?? r;
    if (value[key] === undefined) problems.push(`${path}.${key}: required field of ${t} is missing`);
  }
}

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const LABEL_KEY = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

function checkLabels(labels: unknown, path: string, problems: string[]): void {
  if (!isObject(labels)) return;
  for (const [k, v] of Object.entries(labels)) {
    const name = k.includes('/') ? k.slice(k.indexOf('/') + 1) : k;
    if (!LABEL_KEY.test(k) || name.length > 63 || k.length > 316) problems.push(`${path}: "${k}" is not a valid label key`);
    if (typeof v === 'string' && (!LABEL_VALUE.test(v) || v.length > 63)) problems.push(`${path}.${k}: "${v}" is not a valid label value`);
  }
}

/** The schema check of one object: kind, apiVersion, metadata and every field below. */
export function validateObject(obj: unknown): string[] {
  const problems: string[] = [];
  if (!isObject(obj)) return ['document: not a map'];
  const kind = typeof obj.kind === 'string' ? obj.kind : undefined;
  const name = isObject(obj.metadata) && typeof obj.metadata.name === 'string' ? obj.metadata.name : undefined;
  const label = `${kind ?? '(no kind)'}/${name ?? '(no name)'}`;
  const def = kind ? KINDS[kind] : undefined;
  if (!kind) problems.push('kind: required');
  else if (!def) problems.push(`kind: ${kind} is not one of ${Object.keys(KINDS).join(', ')}`);
  if (typeof obj.apiVersion !== 'string') problems.push('apiVersion: required');
  else if (def && obj.apiVersion !== def.apiVersion) problems.push(`apiVersion: ${kind} is served as ${def.apiVersion}, not ${obj.apiVersion}`);
  if (!name) problems.push('metadata.name: required');
  else if (!DNS_SUBDOMAIN.test(name) || name.length > 253) problems.push(`metadata.name: "${name}" is not a DNS subdomain name`);
  if (name && kind === 'Service' && (!DNS_LABEL.test(name) || name.length > 63))
    problems.push(`metadata.name: a Service name must be a DNS label of at most 63 characters`);
  if (def && isObject(obj.metadata)) {
    const ns = obj.metadata.namespace;
    if (def.namespaced && typeof ns !== 'string')
      problems.push('metadata.namespace: set it, so that kubectl apply -f puts the object where its references expect it');
    if (!def.namespaced && ns !== undefined) problems.push(`metadata.namespace: ${kind} is not namespaced`);
  }
  if (def) checkType(obj, def.model, '', kind!, problems);
  if (isObject(obj.metadata)) checkLabels(obj.metadata.labels, 'metadata.labels', problems);
  return problems.map((p) => `${label}: ${p}`);
}

// ---------------------------------------------------------------- cross-object checks

interface PodTemplate {
  owner: string;
  namespace: string;
  labels: Record<string, string>;
  spec: Json;
  volumeClaimTemplates: string[];
}

function podTemplates(docs: Json[]): PodTemplate[] {
  const out: PodTemplate[] = [];
  for (const d of docs) {
    if (!['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'].includes(String(d.kind))) continue;
    const spec = (d.spec ?? {}) as Json;
    const template = (spec.template ?? {}) as { metadata?: { labels?: Record<string, string> }; spec?: Json };
    out.push({
      owner: `${String(d.kind)}/${String((d.metadata as Json).name)}`,
      namespace: String((d.metadata as Json).namespace),
      labels: template.metadata?.labels ?? {},
      spec: template.spec ?? {},
      volumeClaimTemplates: ((spec.volumeClaimTemplates ?? []) as { metadata?: { name?: string } }[]).map((v) => v.metadata?.name ?? ''),
    });
  }
  return out;
}

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** Whether `labels` match a LabelSelector (or a Service's plain map selector). */
export function selects(selector: LabelSelector | Record<string, string> | undefined, labels: Record<string, string>): boolean {
  if (!selector) return false;
  const sel: LabelSelector =
    'matchLabels' in selector || 'matchExpressions' in selector ? (selector as LabelSelector) : { matchLabels: selector as Record<string, string> };
  if (!sel.matchLabels && !sel.matchExpressions) return true;
  const okLabels = Object.entries(sel.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const okExpr = (sel.matchExpressions ?? []).every((e) => {
    const has = Object.hasOwn(labels, e.key);
    switch (e.operator) {
      case 'In':
        return has && (e.values ?? []).includes(labels[e.key]!);
      case 'NotIn':
        return !has || !(e.values ?? []).includes(labels[e.key]!);
      case 'Exists':
        return has;
      case 'DoesNotExist':
        return !has;
      default:
        return false;
    }
  });
  return okLabels && okExpr;
}

interface ContainerLike {
  name?: string;
  ports?: { name?: string; containerPort?: number }[];
  env?: { name?: string; value?: unknown; valueFrom?: { secretKeyRef?: { name?: string; key?: string } } }[];
  volumeMounts?: { name?: string }[];
  livenessProbe?: { httpGet?: { port?: unknown } };
  readinessProbe?: { httpGet?: { port?: unknown } };
  startupProbe?: { httpGet?: { port?: unknown } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}

function containersOf(spec: Json): ContainerLike[] {
  return [...((spec.initContainers ?? []) as ContainerLike[]), ...((spec.containers ?? []) as ContainerLike[])];
}

/** Checks that a set of objects fit together: selectors, references, names, quantities. */
export function validateTogether(docs: Json[]): string[] {
  const problems: string[] = [];
  const pods = podTemplates(docs);
  const byKind = (kind: string) => docs.filter((d) => d.kind === kind);
  const nameOf = (d: Json) => String((d.metadata as Json | undefined)?.name);
  const nsOf = (d: Json) => String((d.metadata as Json | undefined)?.namespace);
  const exists = (kind: string, name: string, ns?: string) => byKind(kind).some((d) => nameOf(d) === name && (ns === undefined || nsOf(d) === ns));
  const keys = new Set<string>();
  for (const d of docs) {
    const key = `${String(d.kind)}/${nsOf(d)}/${nameOf(d)}`;
    if (keys.has(key)) problems.push(`${key}: defined twice`);
    keys.add(key);
  }

  for (const d of docs) {
    const label = `${String(d.kind)}/${nameOf(d)}`;
    const spec = (d.spec ?? {}) as Json;
    if (['Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'].includes(String(d.kind))) {
      const pod = pods.find((p) => p.owner === label)!;
      if (!selects(spec.selector as LabelSelector, pod.labels)) problems.push(`${label}: spec.selector does not match the pod template's labels`);
      if (Object.keys(pod.labels).length === 0) problems.push(`${label}: the pod template has no labels`);
      const sa = pod.spec.serviceAccountName;
      if (typeof sa === 'string' && sa !== 'default' && !exists('ServiceAccount', sa, pod.namespace))
        problems.push(`${label}: serviceAccountName ${sa} is not defined`);
      for (const c of (pod.spec.topologySpreadConstraints ?? []) as { labelSelector?: LabelSelector }[]) {
        if (!selects(c.labelSelector, pod.labels)) problems.push(`${label}: a topologySpreadConstraint's labelSelector does not match its own pods`);
      }
      const volumes = new Set([...((pod.spec.volumes ?? []) as { name: string }[]).map((v) => v.name), ...pod.volumeClaimTemplates]);
      for (const c of containersOf(pod.spec)) {
        const ports = new Set((c.ports ?? []).map((p) => p.name).filter(Boolean));
        for (const probe of [c.livenessProbe, c.readinessProbe, c.startupProbe]) {
          const port = probe?.httpGet?.port;
          if (typeof port === 'string' && !ports.has(port)) problems.push(`${label}: container ${c.name}: probe port "${port}" is not a named port`);
        }
        for (const m of c.volumeMounts ?? [])
          if (!volumes.has(m.name ?? '')) problems.push(`${label}: container ${c.name}: volumeMount ${m.name} has no volume`);
        const envNames = (c.env ?? []).map((e) => e.name);
        for (const n of new Set(envNames))
          if (envNames.filter((x) => x === n).length > 1) problems.push(`${label}: container ${c.name}: env ${n} is set twice`);
        for (const e of c.env ?? []) {
          if (e.value !== undefined && e.valueFrom !== undefined) problems.push(`${label}: container ${c.name}: env ${e.name} has both value and valueFrom`);
        }
        for (const [kindOf, list] of [
          ['requests', c.resources?.requests],
          ['limits', c.resources?.limits],
        ] as const) {
          for (const [res, q] of Object.entries(list ?? {})) {
            if (!tryParseQuantity(q)) problems.push(`${label}: container ${c.name}: resources.${kindOf}.${res} "${q}" is not a quantity`);
          }
        }
        for (const [res, limit] of Object.entries(c.resources?.limits ?? {})) {
          const req = c.resources?.requests?.[res];
          const ql = tryParseQuantity(limit);
          const qr = tryParseQuantity(req);
          if (ql && qr && compareQuantities(qr, ql) > 0) problems.push(`${label}: container ${c.name}: the ${res} request is above its limit`);
        }
      }
      if (d.kind === 'StatefulSet') {
        const svc = byKind('Service').find((s) => nameOf(s) === spec.serviceName && nsOf(s) === nsOf(d));
        if (!svc) problems.push(`${label}: serviceName ${String(spec.serviceName)} is not a Service`);
        else if ((svc.spec as Json).clusterIP !== 'None') problems.push(`${label}: its governing Service ${nameOf(svc)} is not headless`);
      }
    }
    if (d.kind === 'Service') {
      const matching = pods.filter((p) => p.namespace === nsOf(d) && selects(spec.selector as Record<string, string>, p.labels));
      if (matching.length === 0) problems.push(`${label}: the selector matches no pod template`);
      for (const port of (spec.ports ?? []) as { targetPort?: unknown }[]) {
        if (
          typeof port.targetPort === 'string' &&
          !matching.every((p) => containersOf(p.spec).some((c) => (c.ports ?? []).some((cp) => cp.name === port.targetPort)))
        ) {
          problems.push(`${label}: targetPort "${port.targetPort}" is not a named port of its pods`);
        }
      }
    }
    if (d.kind === 'PodDisruptionBudget' || d.kind === 'NetworkPolicy') {
      const sel = (d.kind === 'PodDisruptionBudget' ? spec.selector : spec.podSelector) as LabelSelector;
      if (!pods.some((p) => p.namespace === nsOf(d) && selects(sel, p.labels))) problems.push(`${label}: the selector matches no pod template`);
    }
    if (d.kind === 'NetworkPolicy') {
      for (const rule of (spec.ingress ?? []) as { from?: { podSelector?: LabelSelector }[] }[]) {
        for (const from of rule.from ?? []) {
          if (from.podSelector && !pods.some((p) => p.namespace === nsOf(d) && selects(from.podSelector, p.labels)))
            problems.push(`${label}: an ingress podSelector matches no pod template`);
        }
      }
    }
    if (d.kind === 'ClusterRoleBinding' || d.kind === 'RoleBinding') {
      const ref = d.roleRef as { kind?: string; name?: string };
      if (ref.kind === 'ClusterRole' && !exists('ClusterRole', String(ref.name))) problems.push(`${label}: roleRef ClusterRole ${ref.name} is not defined`);
      // A RoleBinding can refer only to a Role of its own namespace; a ClusterRoleBinding to no Role.
      if (ref.kind === 'Role' && (d.kind !== 'RoleBinding' || !exists('Role', String(ref.name), nsOf(d))))
        problems.push(`${label}: roleRef Role ${ref.name} is not defined in its namespace`);
      for (const s of (d.subjects ?? []) as { kind?: string; name?: string; namespace?: string }[]) {
        if (s.kind === 'ServiceAccount' && !exists('ServiceAccount', String(s.name), s.namespace))
          problems.push(`${label}: subject ServiceAccount ${s.namespace}/${s.name} is not defined`);
      }
    }
    if (d.kind === 'ValidatingAdmissionPolicyBinding') {
      const policy = String(spec.policyName);
      if (!exists('ValidatingAdmissionPolicy', policy)) problems.push(`${label}: policyName ${policy} is not defined`);
    }
    if (d.kind === 'Ingress') {
      for (const rule of (spec.rules ?? []) as {
        http?: { paths?: { backend?: { service?: { name?: string; port?: { name?: string; number?: number } } } }[] };
      }[]) {
        for (const p of rule.http?.paths ?? []) {
          const svcRef = p.backend?.service;
          const svc = byKind('Service').find((s) => nameOf(s) === svcRef?.name && nsOf(s) === nsOf(d));
          if (!svc) problems.push(`${label}: backend Service ${svcRef?.name} is not defined`);
          else if (svcRef?.port?.name && !((svc.spec as Json).ports as { name?: string }[]).some((sp) => sp.name === svcRef.port!.name))
            problems.push(`${label}: backend port ${svcRef.port.name} is not a port of ${nameOf(svc)}`);
        }
      }
    }
  }
  return problems;
}
