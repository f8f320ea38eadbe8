/**
 * The kinds whose pod template oombot patches: where each lives in the API and where its pod template is.
 * The bot builds its patches from this table, and a cluster's agent checks the patches it is sent by it.
 */
/** The content type of every patch oombot sends. */
export const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';

export interface WorkloadKind {
  /** API group: '' for the core group. */
  group: string;
  resource: string;
  apiVersion: string;
  /** The object's API path; namespace and name as given (encode them first when they come from outside). */
  path: (namespace: string, name: string) => string;
  /** Keys from the object down to its pod template. */
  template: readonly string[];
}

// Each path is spelled out whole: the RBAC tests read the API paths oombot calls from the sources.
export const WORKLOAD_KINDS: Readonly<Record<string, WorkloadKind>> = {
  Deployment: {
    group: 'apps',
    resource: 'deployments',
    apiVersion: 'apps/v1',
    path: (ns, n) => `/apis/apps/v1/namespaces/${ns}/deployments/${n}`,
    template: ['spec', 'template'],
  },
  StatefulSet: {
    group: 'apps',
    resource: 'statefulsets',
    apiVersion: 'apps/v1',
    path: (ns, n) => `/apis/apps/v1/namespaces/${ns}/statefulsets/${n}`,
    template: ['spec', 'template'],
  },
  DaemonSet: {
    group: 'apps',
    resource: 'daemonsets',
    apiVersion: 'apps/v1',
    path: (ns, n) => `/apis/apps/v1/namespaces/${ns}/daemonsets/${n}`,
    template: ['spec', 'template'],
  },
  ReplicaSet: {
    group: 'apps',
    resource: 'replicasets',
    apiVersion: 'apps/v1',
    path: (ns, n) => `/apis/apps/v1/namespaces/${ns}/replicasets/${n}`,
    template: ['spec', 'template'],
  },
  ReplicationController: {
    group: '',
    resource: 'replicationcontrollers',
    apiVersion: 'v1',
    path: (ns, n) => `/api/v1/namespaces/${ns}/replicationcontrollers/${n}`,
    template: ['spec', 'template'],
  },
  CronJob: {
    group: 'batch',
    resource: 'cronjobs',
    apiVersion: 'batch/v1',
    path: (ns, n) => `/apis/batch/v1/namespaces/${ns}/cronjobs/${n}`,
    template: ['spec', 'jobTemplate', 'spec', 'template'],
  },
};
