/** `/oom top [namespace]`: the containers closest to their memory limit, from metrics.k8s.io. */
import type { V1Pod } from '@kubernetes/client-node';
import { OombotError } from '../core/errors.js';
import { formatMemoryApprox, parseMemoryBytes } from '../core/quantity.js';
import type { PodMetricsItem } from '../investigate/gather.js';
import type { BotDeps } from './bot-deps.js';
import { code, codeBlock, textReply, type Reply } from './reply.js';

const ROWS = 15;

interface PodMetrics extends PodMetricsItem {
  metadata?: { name?: string; namespace?: string };
}

export interface TopRow {
  pod: string;
  container: string;
  usageBytes: number;
  limitBytes?: number;
}

/** Rows with a limit, highest share of the limit first; then the largest users without a limit. Pure. */
export function rankTop(metrics: PodMetrics[], pods: V1Pod[]): { limited: TopRow[]; unlimited: TopRow[] } {
  const limits = new Map<string, number | undefined>();
  for (const p of pods) {
    for (const c of p.spec?.containers ?? []) limits.set(`${p.metadata?.namespace}/${p.metadata?.name}/${c.name}`, parseMemoryBytes(c.resources?.limits?.memory));
  }
  const limited: TopRow[] = [];
  const unlimited: TopRow[] = [];
  for (const m of metrics) {
    const pod = `${m.metadata?.namespace}/${m.metadata?.name}`;
    for (const c of m.containers ?? []) {
      const usageBytes = parseMemoryBytes(c.usage?.memory);
      if (usageBytes === undefined) continue;
      const limitBytes = limits.get(`${pod}/${c.name}`);
      if (limitBytes) limited.push({ pod, container: c.name, usageBytes, limitBytes });
      else unlimited.push({ pod, container: c.name, usageBytes });
    }
  }
  limited.sort((a, b) => b.usageBytes / b.limitBytes! - a.usageBytes / a.limitBytes! || a.pod.localeCompare(b.pod));
  unlimited.sort((a, b) => b.usageBytes - a.usageBytes);
  return { limited, unlimited };
}

export async function answerTop(deps: BotDeps, namespace: string | undefined): Promise<Reply> {
  const ns = namespace ? `/namespaces/${encodeURIComponent(namespace)}` : '';
  let metrics: PodMetrics[];
  try {
    metrics = (await deps.kube.getJson<{ items?: PodMetrics[] }>(`/apis/metrics.k8s.io/v1beta1${ns}/pods`)).items ?? [];
  } catch (err) {
    if (err instanceof OombotError && (err.code === 'KUBE_NOT_FOUND' || err.code === 'KUBE_FORBIDDEN' || err.status === 503)) {
      return textReply('`/oom top` needs metrics-server (the metrics.k8s.io API), which this cluster does not serve or oombot may not read. Install metrics-server (`kubectl apply -f https://github.com/kubernetes-sigs/metrics-server/releases/latest/download/components.yaml`) or grant oombot `get`/`list` on `pods.metrics.k8s.io`.');
    }
    throw err;
  }
  const pods = (await deps.kube.getJson<{ items?: V1Pod[] }>(`/api/v1${ns}/pods`, { limit: 5000 })).items ?? [];
  const { limited, unlimited } = rankTop(metrics, pods);
  const where = namespace ? `namespace ${code(namespace, 63)}` : 'the cluster';
  if (limited.length === 0 && unlimited.length === 0) return textReply(`No container usage reported in ${where} yet.`);
  const rows = limited.slice(0, ROWS).map((r) => `${String(Math.round((100 * r.usageBytes) / r.limitBytes!)).padStart(3)}%  ${formatMemoryApprox(r.usageBytes).padStart(8)} / ${formatMemoryApprox(r.limitBytes!).padEnd(7)}  ${r.pod}/${r.container}`);
  const parts = [`*Containers closest to their memory limit* in ${where} (working set / limit):`, codeBlock(rows.length > 0 ? rows : ['(no container with a memory limit)'])];
  if (unlimited.length > 0) {
    parts.push(`${unlimited.length} container${unlimited.length === 1 ? ' has' : 's have'} no memory limit; the largest: ${unlimited.slice(0, 3).map((r) => `${code(`${r.pod}/${r.container}`)} ${formatMemoryApprox(r.usageBytes)}`).join(', ')}`);
  }
  return textReply(parts.join('\n'));
}
