/**
 * metrics.k8s.io/v1beta1 objects as metrics-server serves them: working-set memory in Ki, cpu in
 * nanocores. Containers without a usage set report a steady default (60% of the memory request, or
 * 32Mi), so that a cluster looks alive without scripting every pod.
 */
import type { Json, KubeObject } from './types.js';
import type { SimCluster } from './cluster.js';
import { bytesOf, formatKi, quantityValue } from './units.js';

const WINDOW = '20.043s';

function cpu(cores: number): string {
  return `${Math.round(cores * 1e9)}n`;
}

function defaultMemory(container: Json): number {
  const req = bytesOf(container.resources?.requests?.memory);
  return req ? Math.round(req * 0.6) : 32 * 2 ** 20;
}

export function podMetricsOf(cluster: SimCluster, pod: KubeObject): KubeObject | undefined {
  if (pod.status?.phase !== 'Running') return undefined;
  const ts = cluster.nowIso();
  const metadata: Json = { name: pod.metadata.name, namespace: pod.metadata.namespace, creationTimestamp: ts };
  if (pod.metadata.labels) metadata.labels = pod.metadata.labels;
  return {
    kind: 'PodMetrics',
    apiVersion: 'metrics.k8s.io/v1beta1',
    metadata,
    timestamp: ts,
    window: WINDOW,
    containers: (pod.spec.containers ?? []).map((c: Json) => {
      const u = cluster.usageNow(pod.metadata.namespace ?? '', pod.metadata.name, c.name);
      return { name: c.name, usage: { cpu: cpu(u?.cpu ?? 0.002), memory: formatKi(u?.memory ?? defaultMemory(c)) } };
    }),
  };
}

export function buildPodMetrics(cluster: SimCluster, namespace?: string): KubeObject[] {
  const out: KubeObject[] = [];
  for (const p of cluster.list('pods', namespace)) {
    const m = podMetricsOf(cluster, p);
    if (m) out.push(m);
  }
  return out;
}

export function nodeMetricsOf(cluster: SimCluster, node: KubeObject, podsByNode?: Map<string, KubeObject[]>): KubeObject {
  const ts = cluster.nowIso();
  const set = cluster.nodeUsage.get(node.metadata.name);
  let memory = set?.memory;
  let cores = set?.cpu;
  if (memory === undefined || cores === undefined) {
    let m = 600 * 2 ** 20; // system daemons and the kubelet itself
    let c = 0.08;
    const pods = podsByNode?.get(node.metadata.name) ?? cluster.list('pods').filter((p) => p.spec?.nodeName === node.metadata.name);
    for (const p of pods) {
      const pm = podMetricsOf(cluster, p);
      for (const ct of pm?.containers ?? []) {
        m += bytesOf(ct.usage.memory) ?? 0;
        c += quantityValue(ct.usage.cpu) ?? 0;
      }
    }
    memory ??= m;
    cores ??= c;
  }
  return {
    kind: 'NodeMetrics',
    apiVersion: 'metrics.k8s.io/v1beta1',
    metadata: { name: node.metadata.name, creationTimestamp: ts, labels: node.metadata.labels ?? {} },
    timestamp: ts,
    window: WINDOW,
    usage: { cpu: cpu(cores), memory: formatKi(memory) },
  };
}

export function buildNodeMetrics(cluster: SimCluster): KubeObject[] {
  const byNode = new Map<string, KubeObject[]>();
  for (const p of cluster.list('pods')) {
    const n = p.spec?.nodeName;
    if (!n) continue;
    let arr = byNode.get(n);
    if (!arr) byNode.set(n, (arr = []));
    arr.push(p);
  }
  return cluster.list('nodes').map((n) => nodeMetricsOf(cluster, n, byNode));
}
