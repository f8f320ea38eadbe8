/**
 * The API server's view of a request, as RBAC sees it (k8s.io/apiserver RequestInfoFactory): verb, API
 * group, resource, subresource, namespace, name; RBAC's rule matching; and what a set of manifests'
 * Roles, ClusterRoles and their bindings grant a ServiceAccount.
 */
export interface KubeRequest {
  method: string;
  path: string;
  query: Record<string, string>;
}

export type RequestInfo =
  | { isResource: true; verb: string; apiGroup: string; resource: string; subresource?: string; namespace?: string; name?: string }
  | { isResource: false; verb: string; path: string };

export function requestInfo(r: KubeRequest): RequestInfo {
  const parts = r.path.split('/').filter((p) => p !== '');
  const httpVerb = r.method.toLowerCase();
  const nonResource = (): RequestInfo => ({ isResource: false, verb: httpVerb, path: r.path });
  let rest: string[];
  let apiGroup: string;
  if (parts[0] === 'api' && parts.length >= 2) {
    apiGroup = '';
    rest = parts.slice(2);
  } else if (parts[0] === 'apis' && parts.length >= 3) {
    apiGroup = parts[1]!;
    rest = parts.slice(3);
  } else {
    return nonResource();
  }
  // /api/v1 and /apis/group/version are discovery documents.
  if (rest.length === 0) return nonResource();
  let watchPrefix = false;
  if (rest[0] === 'watch') {
    watchPrefix = true;
    rest = rest.slice(1);
  }
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = decodeURIComponent(rest[1]!);
    rest = rest.slice(2);
  } else if (rest[0] === 'namespaces' && rest.length === 2) {
    // /api/v1/namespaces/{name} is the Namespace itself.
    namespace = decodeURIComponent(rest[1]!);
  }
  const [resource, name, subresource] = rest.map(decodeURIComponent);
  let verb: string;
  switch (r.method) {
    case 'GET':
    case 'HEAD':
      verb = watchPrefix || r.query.watch === 'true' || r.query.watch === '1' ? 'watch' : name ? 'get' : 'list';
      break;
    case 'POST':
      verb = 'create';
      break;
    case 'PUT':
      verb = 'update';
      break;
    case 'PATCH':
      verb = 'patch';
      break;
    case 'DELETE':
      verb = name ? 'delete' : 'deletecollection';
      break;
    default:
      verb = httpVerb;
  }
  return {
    isResource: true,
    verb,
    apiGroup,
    resource: resource!,
    ...(subresource ? { subresource } : {}),
    ...(namespace ? { namespace } : {}),
    ...(name ? { name } : {}),
  };
}

export interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  verbs: string[];
  nonResourceURLs?: string[];
}

/** The resource as a rule names it: "pods" or "pods/log". */
export function ruleResource(info: Extract<RequestInfo, { isResource: true }>): string {
  return info.subresource ? `${info.resource}/${info.subresource}` : info.resource;
}

/** RBAC's matching of one rule, as k8s.io/kubernetes/pkg/apis/rbac/v1 does it. */
export function ruleAllows(rule: PolicyRule, info: RequestInfo): boolean {
  const verbOk = rule.verbs.includes('*') || rule.verbs.includes(info.verb);
  if (!verbOk) return false;
  if (!info.isResource) {
    return (rule.nonResourceURLs ?? []).some((u) => u === '*' || u === info.path || (u.endsWith('*') && info.path.startsWith(u.slice(0, -1))));
  }
  const groupOk = (rule.apiGroups ?? []).some((g) => g === '*' || g === info.apiGroup);
  const res = ruleResource(info);
  const resourceOk = (rule.resources ?? []).some((r) => r === '*' || r === res || (info.subresource !== undefined && r === `*/${info.subresource}`));
  const nameOk = !rule.resourceNames || rule.resourceNames.length === 0 || (info.name !== undefined && rule.resourceNames.includes(info.name));
  return groupOk && resourceOk && nameOk;
}

/**
 * Discovery paths every authenticated user may read through the API server's default
 * system:discovery ClusterRole, so oombot's ClusterRoles need not grant them.
 */
export const DEFAULT_DISCOVERY_URLS = ['/api', '/api/*', '/apis', '/apis/*', '/healthz', '/livez', '/readyz', '/version', '/version/'];

export function discoveryAllows(info: RequestInfo): boolean {
  if (info.isResource || info.verb !== 'get') return false;
  return ruleAllows({ verbs: ['get'], nonResourceURLs: DEFAULT_DISCOVERY_URLS }, info);
}

type Json = Record<string, unknown>;

/** Rules that apply in one namespace (a RoleBinding's) or, without a namespace, everywhere (a ClusterRoleBinding's). */
export interface Grant {
  namespace?: string;
  rules: PolicyRule[];
  /** The binding and role it comes from, for messages. */
  from: string;
}

interface BindingJson {
  kind: string;
  metadata: { name: string; namespace?: string };
  roleRef: { kind: string; name: string };
  subjects?: { kind: string; name: string; namespace?: string }[];
}

/**
 * What the bindings among `docs` grant a ServiceAccount: a ClusterRoleBinding grants its ClusterRole's
 * rules in every namespace and on cluster-scoped resources; a RoleBinding grants its Role's (or
 * ClusterRole's) rules in the binding's namespace only.
 */
export function grantsTo(docs: Json[], serviceAccount: { namespace: string; name: string }): Grant[] {
  const role = (kind: string, name: string, namespace?: string) =>
    docs.find((d) => d.kind === kind && (d.metadata as Json).name === name && (kind === 'ClusterRole' || (d.metadata as Json).namespace === namespace)) as
      | { rules?: PolicyRule[] }
      | undefined;
  const out: Grant[] = [];
  for (const b of docs.filter((d) => d.kind === 'ClusterRoleBinding' || d.kind === 'RoleBinding') as unknown as BindingJson[]) {
    const bound = (b.subjects ?? []).some((s) => s.kind === 'ServiceAccount' && s.name === serviceAccount.name && s.namespace === serviceAccount.namespace);
    if (!bound) continue;
    const namespace = b.kind === 'RoleBinding' ? b.metadata.namespace : undefined;
    const rules = role(b.roleRef.kind, b.roleRef.name, namespace)?.rules;
    if (!rules) throw new Error(`${b.kind} ${b.metadata.name} refers to ${b.roleRef.kind} ${b.roleRef.name}, which the manifests do not define`);
    out.push({ ...(namespace ? { namespace } : {}), rules, from: `${b.kind} ${namespace ? `${namespace}/` : ''}${b.metadata.name}` });
  }
  return out;
}

/** RBAC's decision on a request: some rule of a grant matches, and a namespaced grant only within its namespace. */
export function authorizes(grants: Grant[], info: RequestInfo): boolean {
  return grants.some(
    (g) => (g.namespace === undefined || (info.isResource && info.namespace === g.namespace)) && g.rules.some((rule) => ruleAllows(rule, info)),
  );
}
