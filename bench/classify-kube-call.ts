/**
 * Names the Kubernetes API calls oombot makes, from the request log of the simulated API server, so the
 * report can say what the calls per incident are. Order is the order of the report's table.
 */
export const KUBE_CALL_KINDS = {
  pod: 'the pod itself (spec, status, owner)',
  'pod-events': 'Events of the pod (by involvedObject.uid)',
  replicaset: 'owner chain: the ReplicaSet (its metadata, when not known from the pod)',
  deployment: 'owner chain: the Deployment',
  'other-owner': 'owner chain: another controller',
  'node-pods': 'pods on the same node (node overcommit)',
  'pod-metrics': 'pod usage from metrics.k8s.io',
  'pod-logs': "tail of the previous container's log",
  nodes: 'all nodes (largest allocatable; kept by the watcher, else read once a minute)',
  limitranges: "LimitRanges: the cluster's, by namespace (kept by the watcher, else read once a minute)",
  'metrics-discovery': 'whether metrics.k8s.io exists (only when a usage read fails; cached 60 s)',
  'vpa-discovery': 'whether the VPA API exists (cached 60 s)',
  vpas: "VerticalPodAutoscalers: the cluster's, by namespace (kept by the watcher, else read once a minute)",
  'node-events': 'Events of a node (node OOM)',
  other: 'anything else',
  'watcher-list': 'watcher: paged lists (start-up, relists)',
  'watcher-watch': 'watcher: watch streams (pods, events, nodes)',
} as const;

export type KubeCallKind = keyof typeof KUBE_CALL_KINDS;

/** Kinds made by the worker for an incident, as opposed to the watcher's lists and watches. */
export function isIncidentCall(kind: KubeCallKind): boolean {
  return kind !== 'watcher-list' && kind !== 'watcher-watch';
}

const PATTERNS: [RegExp, KubeCallKind][] = [
  [/^\/api\/v1\/namespaces\/[^/]+\/pods\/[^/]+\/log$/, 'pod-logs'],
  [/^\/api\/v1\/namespaces\/[^/]+\/pods\/[^/]+$/, 'pod'],
  [/^\/api\/v1\/namespaces\/[^/]+\/events$/, 'pod-events'],
  [/^\/api\/v1\/events$/, 'node-events'],
  [/^\/apis\/apps\/v1\/namespaces\/[^/]+\/replicasets\/[^/]+$/, 'replicaset'],
  [/^\/apis\/apps\/v1\/namespaces\/[^/]+\/deployments\/[^/]+$/, 'deployment'],
  [/^\/apis\/(apps|batch)\/v1\/namespaces\/[^/]+\/[a-z]+\/[^/]+$/, 'other-owner'],
  [/^\/api\/v1\/pods$/, 'node-pods'],
  [/^\/apis\/metrics\.k8s\.io\/v1beta1\/namespaces\/[^/]+\/pods\/[^/]+$/, 'pod-metrics'],
  [/^\/apis\/metrics\.k8s\.io\/v1beta1\/?$/, 'metrics-discovery'],
  [/^\/api\/v1\/nodes$/, 'nodes'],
  [/^\/api\/v1\/(namespaces\/[^/]+\/)?limitranges$/, 'limitranges'],
  [/^\/apis\/autoscaling\.k8s\.io\/v1\/?$/, 'vpa-discovery'],
  [/^\/apis\/autoscaling\.k8s\.io\/v1\/(namespaces\/[^/]+\/)?verticalpodautoscalers$/, 'vpas'],
];

export function classifyKubeCall(r: { method: string; path: string; query: Record<string, string> }): KubeCallKind {
  if (r.query.watch === 'true' || r.query.watch === '1') return 'watcher-watch';
  if (r.method !== 'GET') return 'other';
  const kind = PATTERNS.find(([re]) => re.test(r.path))?.[1];
  // The worker lists LimitRanges and VPAs in pages too (when no watcher keeps them): a paged list of them
  // counts as the worker's, a watcher's relist of them included; any other paged list is the watcher's.
  if (kind === 'limitranges' || kind === 'vpas') return kind;
  if (r.query.limit !== undefined) return 'watcher-list';
  return kind ?? 'other';
}
