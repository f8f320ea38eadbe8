/**
 * `/oom top [namespace]`: the containers closest to their memory limit, from metrics.k8s.io. Pods are
 * read a page at a time and usage a namespace at a time; only the leading rows are kept, so memory
 * stays bounded at any cluster size.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { OombotError } from '../core/errors.js';
import { formatMemoryApprox, parseMemoryBytes } from '../core/quantity.js';
import type { PodMetricsItem } from '../investigate/gather.js';
import type { BotDeps } from './bot-deps.js';
import { code, codeBlock, textReply, type Reply } from './reply.js';
import { collectionPaths, inScope, outOfScopeReply } from './scope.js';

const ROWS = 15;
const UNLIMITED_SHOWN = 3;

interface PodMetrics extends PodMetricsItem {
  metadata?: { name?: string; namespace?: string };
}

export interface TopRow {
  pod: string;
  container: string;
  usageBytes: number;
  limitBytes?: number;
}

/** Keeps the `size` largest rows by `score` seen so far, and counts them all. */
class Leaders {
  readonly rows: TopRow[] = [];
  count = 0;
  constructor(
    private readonly size: number,
    private readonly score: (r: TopRow) => number,
  ) {}

  offer(row: TopRow): void {
    this.count++;
    const s = this.score(row);
    if (this.rows.length === this.size && s <= this.score(this.rows[this.rows.length - 1]!)) return;
    const at = this.rows.findIndex((r) => s > this.score(r) || (s === this.score(r) && row.pod < r.pod));
    this.rows.splice(at === -1 ? this.rows.length : at, 0, row);
    if (this.rows.length > this.size) this.rows.pop();
  }
}

/** Working set per "pod/container" of one namespace, from its metrics. */
function usageOf(metrics: PodMetrics, into: Map<string, number>): void {
  const pod = metrics.metadata?.name;
  for (const c of metrics.containers ?? []) {
    const bytes = parseMemoryBytes(c.usage?.memory);
    if (bytes !== undefined) into.set(`${pod}/${c.name}`, bytes);
  }
}

/** Ranks one pod's containers into the two lists, with its namespace's usage. */
function rankPod(pod: V1Pod, usage: Map<string, number>, limited: Leaders, unlimited: Leaders): void {
  const name = pod.metadata?.name;
  const key = `${pod.metadata?.namespace}/${name}`;
  for (const c of pod.spec?.containers ?? []) {
    const usageBytes = usage.get(`${name}/${c.name}`);
    if (usageBytes === undefined) continue;
    const limitBytes = parseMemoryBytes(c.resources?.limits?.memory);
    if (limitBytes) limited.offer({ pod: key, container: c.name, usageBytes, limitBytes });
    else unlimited.offer({ pod: key, container: c.name, usageBytes });
  }
}

/** Rows with a limit, highest share of the limit first; then the largest users without a limit. Pure. */
export function rankTop(metrics: PodMetrics[], pods: V1Pod[], rows = ROWS): { limited: TopRow[]; unlimited: TopRow[]; unlimitedCount: number } {
  const limited = new Leaders(rows, (r) => r.usageBytes / r.limitBytes!);
  const unlimited = new Leaders(UNLIMITED_SHOWN, (r) => r.usageBytes);
  const byNamespace = new Map<string, Map<string, number>>();
  for (const m of metrics) {
    const ns = m.metadata?.namespace ?? '';
    const usage = byNamespace.get(ns) ?? new Map<string, number>();
    usageOf(m, usage);
    byNamespace.set(ns, usage);
  }
  for (const p of pods) rankPod(p, byNamespace.get(p.metadata?.namespace ?? '') ?? new Map(), limited, unlimited);
  return { limited: limited.rows, unlimited: unlimited.rows, unlimitedCount: unlimited.count };
}

const NO_METRICS =
  '`/oom top` needs metrics-server (the metrics.k8s.io API), which this cluster does not serve or oombot may not read. Install metrics-server (`kubectl apply -f https://github.com/kubernetes-sigs/metrics-server/releases/latest/download/components.yaml`) or grant oombot `get`/`list` on `pods.metrics.k8s.io`.';

/** metrics.k8s.io is not served, or oombot may not read it. */
class NoMetrics extends Error {}

/**
 * Reads one namespace's usage at a time (metrics-server answers a list whole, ignoring `limit`; each
 * item is parsed as it arrives). The API server lists pods in namespace order, so each namespace's
 * metrics are read once, joined with its pods page by page, and dropped when the pods move on: memory
 * is a page of pods and one namespace's usage, whatever the cluster's size.
 */
class NamespaceUsage {
  private namespace: string | undefined;
  private usage = new Map<string, number>();
  read = false;

  constructor(private readonly deps: BotDeps) {}

  async of(namespace: string): Promise<Map<string, number>> {
    if (namespace === this.namespace) return this.usage;
    this.namespace = undefined;
    this.usage = new Map();
    await this.load(`/apis/metrics.k8s.io/v1beta1/namespaces/${encodeURIComponent(namespace)}/pods`, this.usage);
    this.namespace = namespace;
    return this.usage;
  }

  /** Reads a metrics collection (also just to learn whether metrics.k8s.io answers). */
  async load(path: string, into: Map<string, number>): Promise<void> {
    this.read = true;
    try {
      await this.deps.kube.eachListItem<PodMetrics>(path, {}, (m) => usageOf(m, into));
    } catch (err) {
      if (err instanceof OombotError && (err.code === 'KUBE_NOT_FOUND' || err.code === 'KUBE_FORBIDDEN' || err.status === 503)) throw new NoMetrics();
      throw err;
    }
  }
}

export async function answerTop(deps: BotDeps, namespace: string | undefined): Promise<Reply> {
  if (namespace && !inScope(deps.config, namespace)) return outOfScopeReply(deps, namespace);
  const limited = new Leaders(ROWS, (r) => r.usageBytes / r.limitBytes!);
  const unlimited = new Leaders(UNLIMITED_SHOWN, (r) => r.usageBytes);
  const usage = new NamespaceUsage(deps);
  try {
    for (const path of collectionPaths(deps.config, '/api/v1', 'pods', namespace)) {
      for await (const page of deps.kube.listPages<V1Pod>(path)) {
        for (const pod of page) rankPod(pod, await usage.of(pod.metadata?.namespace ?? ''), limited, unlimited);
      }
    }
    // No pod in scope: whether metrics-server answers at all still decides the reply.
    if (!usage.read) await usage.load(collectionPaths(deps.config, '/apis/metrics.k8s.io/v1beta1', 'pods', namespace)[0]!, new Map());
  } catch (err) {
    if (err instanceof NoMetrics) return textReply(NO_METRICS);
    throw err;
  }
  const where = namespace ? `namespace ${code(namespace, 63)}` : deps.config.watchNamespaces.length > 0 ? 'the watched namespaces' : 'the cluster';
  if (limited.count === 0 && unlimited.count === 0) return textReply(`No container usage reported in ${where} yet.`);
  const rows = limited.rows.map(
    (r) =>
      `${String(Math.round((100 * r.usageBytes) / r.limitBytes!)).padStart(3)}%  ${formatMemoryApprox(r.usageBytes).padStart(8)} / ${formatMemoryApprox(r.limitBytes!).padEnd(7)}  ${r.pod}/${r.container}`,
  );
  const parts = [
    `*Containers closest to their memory limit* in ${where} (working set / limit):`,
    codeBlock(rows.length > 0 ? rows : ['(no container with a memory limit)']),
  ];
  if (unlimited.count > 0) {
    parts.push(
      `${unlimited.count} container${unlimited.count === 1 ? ' has' : 's have'} no memory limit; the largest: ${unlimited.rows.map((r) => `${code(`${r.pod}/${r.container}`)} ${formatMemoryApprox(r.usageBytes)}`).join(', ')}`,
    );
  }
  return textReply(parts.join('\n'));
}
