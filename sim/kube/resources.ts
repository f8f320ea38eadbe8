/** The resources the simulated API server serves, with their discovery data. */

export interface ResourceDef {
  /** Plural name, also the store key: pods, deployments, ... */
  plural: string;
  singular: string;
  kind: string;
  group: '' | 'apps' | 'batch' | 'metrics.k8s.io' | typeof VPA_GROUP;
  version: string;
  namespaced: boolean;
  shortNames?: string[];
  categories?: string[];
  verbs: string[];
  /** Workloads get metadata.generation bumped on spec changes. */
  hasGeneration?: boolean;
  /** Field selectors this resource accepts besides metadata.name and metadata.namespace. */
  fields?: string[];
}

/** The Vertical Pod Autoscaler's CRD group: served only while the CRD is installed (SimCluster.vpaEnabled). */
export const VPA_GROUP = 'autoscaling.k8s.io';

const RW = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

export const RESOURCES: readonly ResourceDef[] = [
  {
    plural: 'namespaces',
    singular: 'namespace',
    kind: 'Namespace',
    group: '',
    version: 'v1',
    namespaced: false,
    shortNames: ['ns'],
    verbs: ['create', 'delete', 'get', 'list', 'patch', 'update', 'watch'],
    fields: ['status.phase'],
  },
  {
    plural: 'nodes',
    singular: 'node',
    kind: 'Node',
    group: '',
    version: 'v1',
    namespaced: false,
    shortNames: ['no'],
    verbs: RW,
    fields: ['spec.unschedulable'],
  },
  {
    plural: 'pods',
    singular: 'pod',
    kind: 'Pod',
    group: '',
    version: 'v1',
    namespaced: true,
    shortNames: ['po'],
    categories: ['all'],
    verbs: RW,
    fields: [
      'spec.nodeName',
      'spec.restartPolicy',
      'spec.schedulerName',
      'spec.serviceAccountName',
      'spec.hostNetwork',
      'status.phase',
      'status.podIP',
      'status.nominatedNodeName',
    ],
  },
  {
    plural: 'events',
    singular: 'event',
    kind: 'Event',
    group: '',
    version: 'v1',
    namespaced: true,
    shortNames: ['ev'],
    verbs: RW,
    fields: [
      'involvedObject.kind',
      'involvedObject.namespace',
      'involvedObject.name',
      'involvedObject.uid',
      'involvedObject.apiVersion',
      'involvedObject.resourceVersion',
      'involvedObject.fieldPath',
      'reason',
      'reportingComponent',
      'source',
      'type',
    ],
  },
  { plural: 'limitranges', singular: 'limitrange', kind: 'LimitRange', group: '', version: 'v1', namespaced: true, shortNames: ['limits'], verbs: RW },
  { plural: 'resourcequotas', singular: 'resourcequota', kind: 'ResourceQuota', group: '', version: 'v1', namespaced: true, shortNames: ['quota'], verbs: RW },
  {
    plural: 'deployments',
    singular: 'deployment',
    kind: 'Deployment',
    group: 'apps',
    version: 'v1',
    namespaced: true,
    shortNames: ['deploy'],
    categories: ['all'],
    verbs: RW,
    hasGeneration: true,
  },
  {
    plural: 'replicasets',
    singular: 'replicaset',
    kind: 'ReplicaSet',
    group: 'apps',
    version: 'v1',
    namespaced: true,
    shortNames: ['rs'],
    categories: ['all'],
    verbs: RW,
    hasGeneration: true,
    fields: ['status.replicas'],
  },
  {
    plural: 'controllerrevisions',
    singular: 'controllerrevision',
    kind: 'ControllerRevision',
    group: 'apps',
    version: 'v1',
    namespaced: true,
    shortNames: [],
    categories: [],
    verbs: RW,
    hasGeneration: false,
  },
  {
    plural: 'statefulsets',
    singular: 'statefulset',
    kind: 'StatefulSet',
    group: 'apps',
    version: 'v1',
    namespaced: true,
    shortNames: ['sts'],
    categories: ['all'],
    verbs: RW,
    hasGeneration: true,
  },
  {
    plural: 'daemonsets',
    singular: 'daemonset',
    kind: 'DaemonSet',
    group: 'apps',
    version: 'v1',
    namespaced: true,
    shortNames: ['ds'],
    categories: ['all'],
    verbs: RW,
    hasGeneration: true,
  },
  {
    plural: 'jobs',
    singular: 'job',
    kind: 'Job',
    group: 'batch',
    version: 'v1',
    namespaced: true,
    categories: ['all'],
    verbs: RW,
    hasGeneration: true,
    fields: ['status.successful'],
  },
  {
    plural: 'cronjobs',
    singular: 'cronjob',
    kind: 'CronJob',
    group: 'batch',
    version: 'v1',
    namespaced: true,
    shortNames: ['cj'],
    categories: ['all'],
    verbs: RW,
    hasGeneration: true,
  },
  {
    plural: 'verticalpodautoscalers',
    singular: 'verticalpodautoscaler',
    kind: 'VerticalPodAutoscaler',
    group: VPA_GROUP,
    version: 'v1',
    namespaced: true,
    shortNames: ['vpa'],
    verbs: RW,
    hasGeneration: true,
  },
];

export const METRICS_RESOURCES: readonly ResourceDef[] = [
  { plural: 'nodes', singular: '', kind: 'NodeMetrics', group: 'metrics.k8s.io', version: 'v1beta1', namespaced: false, verbs: ['get', 'list'] },
  { plural: 'pods', singular: '', kind: 'PodMetrics', group: 'metrics.k8s.io', version: 'v1beta1', namespaced: true, verbs: ['get', 'list'] },
];

const BY_PLURAL = new Map(RESOURCES.map((r) => [r.plural, r]));
const BY_KIND = new Map(RESOURCES.map((r) => [r.kind, r]));

export type ResourceName =
  | 'namespaces'
  | 'nodes'
  | 'pods'
  | 'events'
  | 'limitranges'
  | 'resourcequotas'
  | 'deployments'
  | 'replicasets'
  | 'controllerrevisions'
  | 'statefulsets'
  | 'daemonsets'
  | 'jobs'
  | 'cronjobs'
  | 'verticalpodautoscalers';

export function resourceDef(plural: string): ResourceDef {
  const def = BY_PLURAL.get(plural);
  if (!def) throw new Error(`unknown resource ${plural}`);
  return def;
}

export function resourceByKind(kind: string): ResourceDef | undefined {
  return BY_KIND.get(kind);
}

export function findResource(group: string, version: string, plural: string): ResourceDef | undefined {
  const def = BY_PLURAL.get(plural);
  return def && def.group === group && def.version === version ? def : undefined;
}

export function apiVersionOf(def: ResourceDef): string {
  return def.group ? `${def.group}/${def.version}` : def.version;
}

/** "pods", "deployments.apps": how the API server names a resource in messages. */
export function qualifiedName(def: ResourceDef): string {
  return def.group ? `${def.plural}.${def.group}` : def.plural;
}

/** "Pod", "Deployment.apps": how validation messages name a kind. */
export function qualifiedKind(def: ResourceDef): string {
  return def.group ? `${def.kind}.${def.group}` : def.kind;
}
