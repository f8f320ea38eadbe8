/** meta.k8s.io/v1 Table responses, which `kubectl get` asks for to print its columns. */
import type { Json, KubeObject } from './types.js';
import type { ResourceDef } from './resources.js';
import { humanDuration } from './clock.js';

function column(name: string, type: string, description: string, priority = 0, format = ''): Json {
  return { name, type, format, description, priority };
}

const POD_COLUMNS = [
  column('Name', 'string', 'Name must be unique within a namespace.', 0, 'name'),
  column('Ready', 'string', 'The aggregate readiness state of this pod for accepting traffic.'),
  column('Status', 'string', 'The aggregate status of the containers in this pod.'),
  column('Restarts', 'string', 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.'),
  column('Age', 'string', 'CreationTimestamp is a timestamp representing the server time when this object was created.'),
  column('IP', 'string', 'IP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.', 1),
  column('Node', 'string', 'NodeName indicates in which node this pod is scheduled.', 1),
  column('Nominated Node', 'string', 'nominatedNodeName is set only when this pod preempts other pods on the node.', 1),
  column('Readiness Gates', 'string', 'If specified, all readiness gates will be evaluated for pod readiness.', 1),
];

const GENERIC_COLUMNS = [
  column('Name', 'string', 'Name must be unique within a namespace.', 0, 'name'),
  column('Age', 'string', 'CreationTimestamp is a timestamp representing the server time when this object was created.'),
];

/** kubectl's pod STATUS column (printPod in pkg/printers/internalversion). */
export function podStatusText(pod: KubeObject): string {
  let reason: string = pod.status?.reason || pod.status?.phase || 'Unknown';
  const inits: Json[] = pod.status?.initContainerStatuses ?? [];
  let initializing = false;
  inits.forEach((s, i) => {
    if (initializing) return;
    if (s.state?.terminated && s.state.terminated.exitCode === 0) return;
    if (s.state?.running && s.started && pod.spec?.initContainers?.[i]?.restartPolicy === 'Always') return;
    initializing = true;
    if (s.state?.terminated) reason = s.state.terminated.reason ? `Init:${s.state.terminated.reason}` : `Init:ExitCode:${s.state.terminated.exitCode}`;
    else if (s.state?.waiting?.reason && s.state.waiting.reason !== 'PodInitializing') reason = `Init:${s.state.waiting.reason}`;
    else reason = `Init:${i}/${inits.length}`;
  });
  if (!initializing) {
    let hasRunning = false;
    const statuses: Json[] = pod.status?.containerStatuses ?? [];
    for (let i = statuses.length - 1; i >= 0; i--) {
      const s = statuses[i];
      if (s.state?.waiting?.reason) reason = s.state.waiting.reason;
      else if (s.state?.terminated?.reason) reason = s.state.terminated.reason;
      else if (s.state?.terminated) reason = s.state.terminated.signal ? `Signal:${s.state.terminated.signal}` : `ExitCode:${s.state.terminated.exitCode}`;
      else if (s.ready && s.state?.running) hasRunning = true;
    }
    if (reason === 'Completed' && hasRunning) reason = 'Running';
  }
  if (pod.status?.reason === 'Evicted') reason = 'Evicted';
  if (pod.metadata.deletionTimestamp) reason = 'Terminating';
  return reason;
}

function podRow(pod: KubeObject, now: number): Json[] {
  const statuses: Json[] = pod.status?.containerStatuses ?? [];
  const ready = statuses.filter((s) => s.ready).length;
  let restarts = 0;
  let last = 0;
  for (const s of [...(pod.status?.initContainerStatuses ?? []), ...statuses]) {
    restarts += s.restartCount ?? 0;
    const f = s.lastState?.terminated?.finishedAt;
    if (f) last = Math.max(last, Date.parse(f));
  }
  const restartText = last ? `${restarts} (${humanDuration(now - last)} ago)` : String(restarts);
  return [
    pod.metadata.name,
    `${ready}/${(pod.spec?.containers ?? []).length}`,
    podStatusText(pod),
    restartText,
    humanDuration(now - Date.parse(pod.metadata.creationTimestamp ?? new Date(now).toISOString())),
    pod.status?.podIP ?? '<none>',
    pod.spec?.nodeName ?? '<none>',
    pod.status?.nominatedNodeName ?? '<none>',
    '<none>',
  ];
}

const EVENT_COLUMNS = [
  column('Last Seen', 'string', 'The last time the event was seen.'),
  column('Type', 'string', 'Type of this event (Normal, Warning).'),
  column('Reason', 'string', "Short, machine understandable string that gives the reason for the transition into the object's current status."),
  column('Object', 'string', 'The object that this event is about.'),
  column('Subobject', 'string', 'The subobject (field path) this event is about.', 1),
  column('Source', 'string', 'The component reporting this event.', 1),
  column('Message', 'string', 'A human-readable description of the status of this operation.'),
  column('First Seen', 'string', 'The time at which the event was first recorded.', 1),
  column('Count', 'string', 'The number of times this event has occurred.', 1),
  column('Name', 'string', 'Name must be unique within a namespace.', 1, 'name'),
];

const NODE_COLUMNS = [
  column('Name', 'string', 'Name must be unique within a namespace.', 0, 'name'),
  column('Status', 'string', 'The status of the node'),
  column('Roles', 'string', 'The roles of the node'),
  column('Age', 'string', 'CreationTimestamp is a timestamp representing the server time when this object was created.'),
  column('Version', 'string', 'Kubelet Version reported by the node.'),
  column('Internal-IP', 'string', 'List of addresses reachable to the node.', 1),
  column('External-IP', 'string', 'List of addresses reachable to the node.', 1),
  column('OS-Image', 'string', 'OS Image reported by the node from /etc/os-release.', 1),
  column('Kernel-Version', 'string', "Kernel Version reported by the node from 'uname -r'.", 1),
  column('Container-Runtime', 'string', 'Container runtime version reported by the node.', 1),
];

const DEPLOYMENT_COLUMNS = [
  column('Name', 'string', 'Name must be unique within a namespace.', 0, 'name'),
  column('Ready', 'string', 'Number of the pod with ready state'),
  column('Up-to-date', 'integer', 'Total number of non-terminated pods targeted by this deployment that have the desired template spec.'),
  column('Available', 'integer', 'Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.'),
  column('Age', 'string', 'CreationTimestamp is a timestamp representing the server time when this object was created.'),
  column('Containers', 'string', 'Names of each container in the template.', 1),
  column('Images', 'string', 'Images referenced by each container in the template.', 1),
  column('Selector', 'string', 'Label selector for pods.', 1),
];

function age(now: number, ts: string | null | undefined): string {
  return ts ? humanDuration(now - Date.parse(ts)) : '<unknown>';
}

/** printEvent: "5m (x3 over 12m)" when the event repeated. */
function eventRow(ev: KubeObject, now: number): Json[] {
  const first = age(now, ev.firstTimestamp ?? ev.eventTime);
  const last = ev.lastTimestamp ? age(now, ev.lastTimestamp) : first;
  const count = ev.count ?? 1;
  const inv = ev.involvedObject ?? {};
  const source = ev.source?.component ? (ev.source.host ? `${ev.source.component}, ${ev.source.host}` : ev.source.component) : (ev.reportingComponent ?? '');
  return [
    count > 1 ? `${last} (x${count} over ${first})` : last,
    ev.type ?? '',
    ev.reason ?? '',
    `${String(inv.kind ?? '').toLowerCase()}/${inv.name ?? ''}`,
    inv.fieldPath ?? '',
    source,
    String(ev.message ?? '').trim(),
    first,
    count,
    ev.metadata.name,
  ];
}

function nodeRow(n: KubeObject, now: number): Json[] {
  const ready = (n.status?.conditions ?? []).find((c: Json) => c.type === 'Ready');
  let status = ready?.status === 'True' ? 'Ready' : ready ? 'NotReady' : 'Unknown';
  if (n.spec?.unschedulable) status += ',SchedulingDisabled';
  const roles = Object.keys(n.metadata.labels ?? {})
    .filter((k) => k.startsWith('node-role.kubernetes.io/'))
    .map((k) => k.slice('node-role.kubernetes.io/'.length))
    .sort();
  const addr = (type: string): string => (n.status?.addresses ?? []).find((a: Json) => a.type === type)?.address ?? '<none>';
  const info = n.status?.nodeInfo ?? {};
  return [
    n.metadata.name,
    status,
    roles.length ? roles.join(',') : '<none>',
    age(now, n.metadata.creationTimestamp),
    info.kubeletVersion ?? '',
    addr('InternalIP'),
    addr('ExternalIP'),
    info.osImage ?? '<unknown>',
    info.kernelVersion ?? '<unknown>',
    info.containerRuntimeVersion ?? '<unknown>',
  ];
}

function deploymentRow(d: KubeObject, now: number): Json[] {
  const containers: Json[] = d.spec?.template?.spec?.containers ?? [];
  const selector = Object.entries<string>(d.spec?.selector?.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
  return [
    d.metadata.name,
    `${d.status?.readyReplicas ?? 0}/${d.spec?.replicas ?? 1}`,
    d.status?.updatedReplicas ?? 0,
    d.status?.availableReplicas ?? 0,
    age(now, d.metadata.creationTimestamp),
    containers.map((c) => c.name).join(','),
    containers.map((c) => c.image).join(','),
    selector || '<none>',
  ];
}

function layout(def: ResourceDef): { columns: Json[]; row: (o: KubeObject, now: number) => Json[] } {
  const key = `${def.group}/${def.plural}`;
  switch (key) {
    case '/pods':
      return { columns: POD_COLUMNS, row: podRow };
    case '/events':
      return { columns: EVENT_COLUMNS, row: eventRow };
    case '/nodes':
      return { columns: NODE_COLUMNS, row: nodeRow };
    case 'apps/deployments':
      return { columns: DEPLOYMENT_COLUMNS, row: deploymentRow };
    default:
      return { columns: GENERIC_COLUMNS, row: (o, now) => [o.metadata.name, age(now, o.metadata.creationTimestamp)] };
  }
}

export function toTable(def: ResourceDef, items: KubeObject[], resourceVersion: string, now: number, continueToken?: string): Json {
  const metadata: Json = { resourceVersion };
  if (continueToken) metadata.continue = continueToken;
  const { columns, row } = layout(def);
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata,
    columnDefinitions: columns,
    rows: items.map((o) => ({
      cells: row(o, now),
      object: { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata },
    })),
  };
}

export function wantsTable(accept: string | undefined): boolean {
  return !!accept && /as=Table/.test(accept);
}
