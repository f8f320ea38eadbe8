/** Discovery documents (/version, /api, /apis, APIResourceLists), in the shapes kubectl expects. */
import type { Json } from './types.js';
import { METRICS_RESOURCES, RESOURCES, VPA_GROUP, type ResourceDef } from './resources.js';

/** Which optional API groups the server serves: metrics.k8s.io (metrics-server) and the VPA CRD. */
export interface OptionalApis {
  metrics: boolean;
  vpa: boolean;
  /** pods/resize (in-place pod resize, Kubernetes 1.33+). */
  podResize: boolean;
}

/** The /version document of a server of Kubernetes 1.`minor` (the patch releases are real ones). */
export function simVersion(minor: number): Record<string, string> {
  const patch: Record<number, string> = { 31: '9', 32: '4', 33: '5', 34: '2', 35: '0' };
  return {
    major: '1',
    minor: String(minor),
    emulationMajor: '1',
    emulationMinor: String(minor),
    minCompatibilityMajor: '1',
    minCompatibilityMinor: String(minor - 1),
    gitVersion: `v1.${minor}.${patch[minor] ?? '0'}`,
    gitCommit: '59526cd4867447956156ae3a602fcbac10a2c335',
    gitTreeState: 'clean',
    buildDate: '2025-12-17T16:02:27Z',
    goVersion: minor >= 35 ? 'go1.25.5' : minor >= 33 ? 'go1.24.4' : 'go1.23.6',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

const SUBRESOURCES: Record<string, Array<{ name: string; kind: string; verbs: string[]; group?: string; version?: string }>> = {
  pods: [
    { name: 'pods/eviction', kind: 'Eviction', verbs: ['create'], group: 'policy', version: 'v1' },
    { name: 'pods/log', kind: 'Pod', verbs: ['get'] },
    { name: 'pods/resize', kind: 'Pod', verbs: ['get', 'patch', 'update'] },
    { name: 'pods/status', kind: 'Pod', verbs: ['get', 'patch', 'update'] },
  ],
  nodes: [{ name: 'nodes/status', kind: 'Node', verbs: ['get', 'patch', 'update'] }],
  deployments: [
    { name: 'deployments/scale', kind: 'Scale', verbs: ['get', 'patch', 'update'], group: 'autoscaling', version: 'v1' },
    { name: 'deployments/status', kind: 'Deployment', verbs: ['get', 'patch', 'update'] },
  ],
  statefulsets: [{ name: 'statefulsets/status', kind: 'StatefulSet', verbs: ['get', 'patch', 'update'] }],
  replicasets: [{ name: 'replicasets/status', kind: 'ReplicaSet', verbs: ['get', 'patch', 'update'] }],
  daemonsets: [{ name: 'daemonsets/status', kind: 'DaemonSet', verbs: ['get', 'patch', 'update'] }],
  jobs: [{ name: 'jobs/status', kind: 'Job', verbs: ['get', 'patch', 'update'] }],
  cronjobs: [{ name: 'cronjobs/status', kind: 'CronJob', verbs: ['get', 'patch', 'update'] }],
};

function resourceEntry(def: ResourceDef): Json {
  const e: Json = { name: def.plural, singularName: def.singular, namespaced: def.namespaced, kind: def.kind, verbs: def.verbs };
  if (def.shortNames) e.shortNames = def.shortNames;
  if (def.categories) e.categories = def.categories;
  return e;
}

export function apiResourceList(group: string, version: string, apis: OptionalApis): Json | undefined {
  if (group === VPA_GROUP && !apis.vpa) return undefined;
  const groupVersion = group ? `${group}/${version}` : version;
  if (group === 'metrics.k8s.io') {
    if (!apis.metrics || version !== 'v1beta1') return undefined;
    return {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion,
      resources: METRICS_RESOURCES.map((d) => ({ name: d.plural, singularName: '', namespaced: d.namespaced, kind: d.kind, verbs: d.verbs })),
    };
  }
  const defs = RESOURCES.filter((d) => d.group === group && d.version === version);
  if (!defs.length) return undefined;
  const resources: Json[] = [];
  for (const d of defs) {
    resources.push(resourceEntry(d));
    for (const s of SUBRESOURCES[d.plural] ?? []) {
      if (s.name === 'pods/resize' && !apis.podResize) continue;
      const e: Json = { name: s.name, singularName: '', namespaced: d.namespaced, kind: s.kind, verbs: s.verbs };
      if (s.group) e.group = s.group;
      if (s.version) e.version = s.version;
      resources.push(e);
    }
  }
  return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion, resources };
}

export function apiVersions(address: string): Json {
  return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: address }] };
}

export function apiGroupList(apis: OptionalApis): Json {
  const names = apis.vpa ? ['apps', 'batch', VPA_GROUP] : ['apps', 'batch'];
  const groups = names.map((name) => ({
    name,
    versions: [{ groupVersion: `${name}/v1`, version: 'v1' }],
    preferredVersion: { groupVersion: `${name}/v1`, version: 'v1' },
  }));
  if (apis.metrics)
    groups.push({
      name: 'metrics.k8s.io',
      versions: [{ groupVersion: 'metrics.k8s.io/v1beta1', version: 'v1beta1' }],
      preferredVersion: { groupVersion: 'metrics.k8s.io/v1beta1', version: 'v1beta1' },
    });
  return { kind: 'APIGroupList', apiVersion: 'v1', groups };
}

export function apiGroup(name: string, apis: OptionalApis): Json | undefined {
  return apiGroupList(apis).groups.find((g: Json) => g.name === name);
}
