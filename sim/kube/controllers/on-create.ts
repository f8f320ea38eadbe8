/** Create-time defaulting per resource, as the API server and (for pods) the scheduler and kubelet fill it in. */
import type { Json, KubeObject } from '../types.js';
import type { SimCluster } from '../cluster.js';
import type { ResourceDef } from '../resources.js';
import { defaultPodSpec, DEFAULT_TOLERATIONS } from '../defaults.js';
import { applyLimitRangeDefaults, defaultRequestsFromLimits, dropDisabledPodFields } from '../admission.js';
import { podStatus } from './pods.js';
import { injectSidecars } from '../sidecar-injector.js';

export function prepareCreate(cluster: SimCluster, def: ResourceDef, obj: KubeObject): void {
  defaultByKind(cluster, def, obj);
  dropDisabledPodFields(cluster, def.plural === 'pods' ? obj.spec : templateSpecOf(def.plural, obj));
}

/** The pod template's spec inside a workload. */
export function templateSpecOf(plural: string, obj: KubeObject): Json | undefined {
  if (plural === 'cronjobs') return obj.spec?.jobTemplate?.spec?.template?.spec;
  if (['deployments', 'replicasets', 'statefulsets', 'daemonsets', 'jobs', 'replicationcontrollers'].includes(plural)) return obj.spec?.template?.spec;
  return undefined;
}

function defaultByKind(cluster: SimCluster, def: ResourceDef, obj: KubeObject): void {
  const at = cluster.nowIso();
  switch (def.plural) {
    case 'pods': {
      if (obj.status?.phase) return; // built by a controller, or a fixture with its own status
      dropDisabledPodFields(cluster, obj.spec);
      obj.spec = defaultPodSpec(obj.spec ?? {}, obj.spec?.restartPolicy ?? 'Always');
      const ns = obj.metadata.namespace!;
      if (cluster.count('limitranges', ns) > 0) obj.spec = applyLimitRangeDefaults(cluster, ns, obj.spec);
      obj.spec = defaultRequestsFromLimits(obj.spec);
      obj.spec = injectSidecars(cluster, ns, obj.metadata, obj.spec);
      obj.spec.tolerations = [...(obj.spec.tolerations ?? []), ...DEFAULT_TOLERATIONS];
      const placed = obj.spec.nodeName ? { node: cluster.peek('nodes', undefined, obj.spec.nodeName) } : cluster.scheduleFor(obj.spec);
      const node = placed.node;
      if (node) obj.spec.nodeName = node.metadata.name;
      obj.status = podStatus(cluster, obj.spec, node, at, placed.reason);
      return;
    }
    case 'nodes': {
      for (const c of obj.status?.conditions ?? []) {
        c.lastHeartbeatTime ??= at;
        c.lastTransitionTime ??= at;
      }
      const info = obj.status?.nodeInfo;
      if (info) {
        info.machineID ||= cluster.rand.hex(32);
        info.systemUUID ||= cluster.rand.uuid();
        info.bootID ||= cluster.rand.uuid();
      }
      return;
    }
    case 'namespaces':
      obj.metadata.labels = { 'kubernetes.io/metadata.name': obj.metadata.name, ...(obj.metadata.labels ?? {}) };
      obj.spec ??= { finalizers: ['kubernetes'] };
      obj.status ??= { phase: 'Active' };
      return;
    case 'resourcequotas':
      obj.status = { hard: { ...(obj.spec?.hard ?? {}) }, used: Object.fromEntries(Object.keys(obj.spec?.hard ?? {}).map((k) => [k, '0'])) };
      return;
    case 'deployments':
      obj.spec = {
        replicas: 1,
        revisionHistoryLimit: 10,
        progressDeadlineSeconds: 600,
        strategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: '25%', maxSurge: '25%' } },
        ...obj.spec,
        template: defaultTemplate(obj.spec?.template),
      };
      obj.status ??= {};
      return;
    case 'replicasets':
      obj.spec = { replicas: 1, ...obj.spec, template: defaultTemplate(obj.spec?.template) };
      obj.status ??= { replicas: 0 };
      return;
    case 'statefulsets':
      obj.spec = {
        replicas: 1,
        podManagementPolicy: 'OrderedReady',
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { partition: 0 } },
        revisionHistoryLimit: 10,
        persistentVolumeClaimRetentionPolicy: { whenDeleted: 'Retain', whenScaled: 'Retain' },
        ...obj.spec,
        template: defaultTemplate(obj.spec?.template),
      };
      obj.status ??= { replicas: 0, availableReplicas: 0 };
      return;
    case 'daemonsets':
      obj.spec = {
        updateStrategy: { type: 'RollingUpdate', rollingUpdate: { maxUnavailable: 1, maxSurge: 0 } },
        revisionHistoryLimit: 10,
        ...obj.spec,
        template: defaultTemplate(obj.spec?.template),
      };
      obj.status ??= { currentNumberScheduled: 0, desiredNumberScheduled: 0, numberMisscheduled: 0, numberReady: 0 };
      return;
    case 'jobs': {
      const uid = obj.metadata.uid!;
      const jobLabels = {
        'batch.kubernetes.io/controller-uid': uid,
        'batch.kubernetes.io/job-name': obj.metadata.name,
        'controller-uid': uid,
        'job-name': obj.metadata.name,
      };
      const template = defaultTemplate(obj.spec?.template, 'Never');
      template.metadata = { ...template.metadata, labels: { ...(template.metadata?.labels ?? {}), ...jobLabels } };
      obj.spec = {
        parallelism: 1,
        completions: 1,
        backoffLimit: 6,
        completionMode: 'NonIndexed',
        suspend: false,
        podReplacementPolicy: 'TerminatingOrFailed',
        manualSelector: false,
        ...obj.spec,
        selector: obj.spec?.selector ?? { matchLabels: { 'batch.kubernetes.io/controller-uid': uid } },
        template,
      };
      obj.metadata.labels = { ...jobLabels, ...(obj.metadata.labels ?? {}) };
      obj.status ??= {};
      return;
    }
    case 'cronjobs':
      obj.spec = {
        concurrencyPolicy: 'Allow',
        suspend: false,
        successfulJobsHistoryLimit: 3,
        failedJobsHistoryLimit: 1,
        ...obj.spec,
        jobTemplate: {
          metadata: {},
          ...obj.spec?.jobTemplate,
          spec: { ...obj.spec?.jobTemplate?.spec, template: defaultTemplate(obj.spec?.jobTemplate?.spec?.template, 'Never') },
        },
      };
      obj.status ??= {};
      return;
    default:
      return;
  }
}

export function defaultTemplate(template: Json, restartPolicy = 'Always'): Json {
  const t = template ?? {};
  return { metadata: { ...(t.metadata ?? {}) }, spec: defaultPodSpec(t.spec ?? { containers: [] }, t.spec?.restartPolicy ?? restartPolicy) };
}
