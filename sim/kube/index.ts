/** Simulated Kubernetes cluster and API server for tests, the demo and benchmarks. */
export { SimCluster, type SimClusterOptions, type ContainerLogs, type WriteOptions } from './cluster.js';
export { withKind, controllerOf } from './object-meta.js';
export {
  startSimApiServer,
  type SimApiServer,
  type SimApiServerOptions,
  type FailOptions,
  type RequestFilter,
  type Interceptor,
  type InterceptAction,
} from './server.js';
export { ManualClock, systemClock, rfc3339, type SimClock } from './clock.js';
export { SimApiError, makeStatus, type StatusObject } from './status.js';
export { RESOURCES, resourceDef, type ResourceDef, type ResourceName } from './resources.js';
export { kubeconfigText, writeKubeconfigFile, type KubeconfigOptions } from './kubeconfig.js';
export { PATCH_CONTENT_TYPES, type PatchOptions } from './patch-object.js';
export { applyJsonPatch, applyMergePatch, applyStrategicMergePatch } from './patch.js';
export {
  evictionMessage,
  type TerminationOptions,
  type ChildOomOptions,
  type LivenessOptions,
  type EvictOptions,
  type EvictionContainer,
  type SystemOomOptions,
  type DisruptOptions,
} from './incidents.js';
export { podRef, nodeRef, type InvolvedObject, type RecordEventInput } from './events.js';
export { qosClass } from './defaults.js';
export { canonicalQuantity, formatBytes } from './units.js';
export * from './factories.js';
export type { KubeObject, ObjectMeta, OwnerReference, Change, ChangeType, ChangeListener, RecordedRequest, Json } from './types.js';
