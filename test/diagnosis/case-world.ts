/**
 * The cases as the cluster shows them: pods and events from the factories (built with the
 * simulator's kubelet builders, so status fields, reasons and messages are the kubelet's own), owners as
 * the API server returns them. Each case runs the real path: detect -> gather's record -> enrich -> diagnose.
 */
import type { CoreV1Event, V1Node, V1Pod } from '@kubernetes/client-node';
import type { Incident } from '../../core/incident.js';
import type { WorkloadChange } from '../../diagnosis/enriched.js';
import type { Gathered, OwnerObject, PodMetricsItem } from '../../investigate/gather.js';
import type { HistoryRecord } from '../../stores/incident-history.js';
import { detectPodIncidents } from '../../watchers/detect/index.js';
import { createDetectContext } from '../helpers/pods.js';

export const CASE_NOW = new Date('2025-11-20T09:42:00Z');

export interface CaseWorld {
  pod: V1Pod;
  events?: CoreV1Event[];
  /** Top-level owner's pod template containers (without injected sidecars); default: the pod's. */
  templateContainers?: unknown[];
  owner?: 'Deployment' | 'Job' | 'StatefulSet' | 'none';
  node?: V1Node;
  nodeMemory?: string;
  metrics?: PodMetricsItem;
  logs?: string;
  history?: HistoryRecord[];
  change?: WorkloadChange;
  /** The namespace's VerticalPodAutoscalers, as listed. */
  vpas?: unknown[];
  /** Events of the workload and its HPAs the watcher keeps (ScalingReplicaSet, SuccessfulRescale). */
  scaleEvents?: CoreV1Event[];
  /** The Deployment's managedFields (who wrote spec.replicas). */
  deploymentManagedFields?: unknown[];
  /** Which incident of the pod to diagnose (default: the first detected). */
  kind?: Incident['kind'];
}

export function node(name = 'worker-3', memory = '16Gi', memoryPressure = false): V1Node {
  const pressure = memoryPressure
    ? { type: 'MemoryPressure', status: 'True', reason: 'KubeletHasInsufficientMemory', message: 'kubelet has insufficient memory available' }
    : { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available' };
  return {
    metadata: { name, uid: `node-${name}`, labels: { 'kubernetes.io/hostname': name } },
    spec: {},
    status: {
      capacity: { memory, cpu: '4', pods: '110' },
      allocatable: { memory, cpu: '3920m', pods: '110' },
      conditions: [pressure, { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' }],
    },
  } as unknown as V1Node;
}

function ownersOf(world: CaseWorld): OwnerObject[] {
  const pod = world.pod;
  const ns = pod.metadata?.namespace ?? 'shop';
  const template = { spec: { containers: world.templateContainers ?? pod.spec?.containers ?? [] } };
  const kind = world.owner ?? 'Deployment';
  if (kind === 'none') return [];
  const direct = pod.metadata?.ownerReferences?.find((o) => o.controller);
  if (kind === 'Deployment' && direct?.kind === 'ReplicaSet') {
    const deployment = direct.name.replace(/-[a-z0-9]+$/, '');
    return [
      {
        kind: 'ReplicaSet',
        name: direct.name,
        namespace: ns,
        metadata: {
          uid: direct.uid,
          annotations: { 'deployment.kubernetes.io/revision': '1' },
          ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: deployment, uid: 'd-uid', controller: true }],
        },
        spec: { template },
      } as OwnerObject,
      {
        kind: 'Deployment',
        name: deployment,
        namespace: ns,
        metadata: { uid: 'd-uid', ...(world.deploymentManagedFields ? { managedFields: world.deploymentManagedFields } : {}) },
        spec: { template },
      } as OwnerObject,
    ];
  }
  if (!direct) return [];
  return [{ kind: direct.kind, name: direct.name, namespace: ns, metadata: { uid: direct.uid }, spec: { template } } as OwnerObject];
}

/** What gather would have read for this world, with the incident the watcher detected in the pod. */
export function gatherCase(world: CaseWorld): Gathered {
  const incidents = detectPodIncidents(world.pod, createDetectContext({ cluster: 'prod', now: CASE_NOW, cutoff: new Date(CASE_NOW.getTime() - 3600_000) }));
  const incident = world.kind ? incidents.find((i) => i.kind === world.kind) : incidents[0];
  if (!incident) throw new Error(`no ${world.kind ?? ''} incident detected in the case's pod`);
  const n = world.node ?? node('worker-3', world.nodeMemory ?? '16Gi');
  const g: Gathered = {
    incident,
    pod: world.pod,
    events: world.events ?? [],
    owners: ownersOf(world),
    node: n,
    nodePods: [world.pod],
    nodes: [n],
    metricsAvailable: world.metrics !== undefined,
    limitRanges: [],
    apiCalls: 0,
    gaps: [],
  };
  if (world.metrics) g.podMetrics = world.metrics;
  if (world.logs) g.previousLogs = world.logs;
  if (world.vpas) g.vpas = world.vpas;
  return g;
}
