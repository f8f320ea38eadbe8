/**
 * `/oom why` target → one pod: exact pod name (running or gone), else a workload name (its latest
 * incident), else a pod-name prefix. Several matches → candidates; none → the closest names.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { OombotError } from '../core/errors.js';
import { ClosestNames } from './closest-names.js';
import type { HistoryPod } from '../stores/incident-history.js';
import type { PodQuery } from './parse-oom-command.js';
import type { BotDeps } from './bot-deps.js';
import { collectionPaths, eachItem, inScope } from './scope.js';

export type PodResolution =
  | { kind: 'pod'; namespace: string; name: string; live?: V1Pod; history?: HistoryPod; via: 'name' | 'workload' | 'prefix'; workload?: string }
  | { kind: 'ambiguous'; candidates: string[]; what: string }
  | { kind: 'none'; suggestions: string[] };

const enc = encodeURIComponent;

async function livePod(deps: BotDeps, namespace: string, name: string): Promise<V1Pod | undefined> {
  try {
    return await deps.kube.getJson<V1Pod>(`/api/v1/namespaces/${enc(namespace)}/pods/${enc(name)}`);
  } catch (err) {
    if (err instanceof OombotError && err.code === 'KUBE_NOT_FOUND') return undefined;
    throw err;
  }
}

async function livePodsNamed(deps: BotDeps, q: PodQuery): Promise<V1Pod[]> {
  if (q.namespace) {
    const pod = await livePod(deps, q.namespace, q.name);
    return pod ? [pod] : [];
  }
  const found: V1Pod[] = [];
  await eachItem<V1Pod>(deps.kube, collectionPaths(deps.config, '/api/v1', 'pods'), (p) => found.push(p), { fieldSelector: `metadata.name=${q.name}` });
  return found;
}

/**
 * The live pods in scope whose name starts with `prefix` ("namespace/name"), read page by page, and the
 * closest of the others' names: only the matches and a few names are kept, whatever the cluster's size.
 */
async function livePodsPrefixed(deps: BotDeps, namespace: string | undefined, prefix: string, closest: ClosestNames): Promise<string[]> {
  const keys: string[] = [];
  const each = (p: V1Pod) => {
    const key = podKey(p);
    if ((p.metadata?.name ?? '').startsWith(prefix)) keys.push(key);
    closest.offer(key);
  };
  try {
    await eachItem<V1Pod>(deps.kube, collectionPaths(deps.config, '/api/v1', 'pods', namespace), each);
  } catch (err) {
    if (err instanceof OombotError && err.code === 'KUBE_NOT_FOUND') return keys;
    throw err;
  }
  return keys;
}

const podKey = (p: V1Pod) => `${p.metadata?.namespace ?? ''}/${p.metadata?.name ?? ''}`;

export async function resolvePod(deps: BotDeps, q: PodQuery): Promise<PodResolution> {
  const [exactLive, historyPods, workloads] = await Promise.all([
    livePodsNamed(deps, q),
    deps.history.pods(deps.cluster),
    deps.history.workloads(deps.cluster),
  ]);
  const inNs = <T extends { namespace: string }>(xs: T[]) => xs.filter((x) => (q.namespace ? x.namespace === q.namespace : inScope(deps.config, x.namespace)));
  const hp = inNs(historyPods);
  const historyByKey = new Map(hp.map((h) => [`${h.namespace}/${h.pod}`, h]));

  // 1. The pod's exact name, running or gone.
  const exact = new Map<string, { live?: V1Pod; history?: HistoryPod }>();
  for (const p of exactLive) if (inScope(deps.config, p.metadata?.namespace)) exact.set(podKey(p), { live: p });
  for (const h of hp) if (h.pod === q.name) exact.set(`${h.namespace}/${h.pod}`, { ...exact.get(`${h.namespace}/${h.pod}`), history: h });
  if (exact.size === 1) {
    const [key, v] = [...exact][0]!;
    const [namespace, name] = key.split('/') as [string, string];
    return { kind: 'pod', namespace, name, via: 'name', ...v, ...(v.history ? {} : { history: historyByKey.get(key) }) };
  }
  if (exact.size > 1) return { kind: 'ambiguous', what: `pods named ${q.name}`, candidates: [...exact.keys()].sort() };

  // 2. A workload's name: its most recent incident.
  const named = inNs(workloads).filter((w) => w.name === q.name);
  if (named.length > 0) {
    const latest = await Promise.all(
      named.map(async (w) => ({ w, records: await deps.history.forWorkload(deps.cluster, w.namespace, `${w.kind}/${w.name}`, 1) })),
    );
    const withRecords = latest.filter((l) => l.records[0]?.pod);
    if (withRecords.length > 1)
      return { kind: 'ambiguous', what: `workloads named ${q.name}`, candidates: withRecords.map((l) => `${l.w.namespace}/${l.w.kind}/${l.w.name}`).sort() };
    const only = withRecords[0];
    if (only) {
      const r = only.records[0]!;
      const key = `${r.namespace}/${r.pod}`;
      const found = await livePod(deps, r.namespace!, r.pod!);
      const live = found?.metadata?.uid === r.podUid ? found : undefined;
      const history = historyByKey.get(key) ?? { namespace: r.namespace!, pod: r.pod!, ids: [r.id], latest: Date.parse(r.occurredAt) };
      return {
        kind: 'pod',
        namespace: r.namespace!,
        name: r.pod!,
        via: 'workload',
        workload: `${only.w.kind} ${only.w.namespace}/${only.w.name}`,
        history,
        ...(live ? { live } : {}),
      };
    }
  }

  // 3. A pod-name prefix.
  const closest = new ClosestNames(q.name, 3);
  const prefixed = new Map<string, { live?: boolean; history?: HistoryPod }>();
  for (const key of await livePodsPrefixed(deps, q.namespace, q.name, closest)) prefixed.set(key, { live: true });
  for (const h of hp) if (h.pod.startsWith(q.name)) prefixed.set(`${h.namespace}/${h.pod}`, { ...prefixed.get(`${h.namespace}/${h.pod}`), history: h });
  if (prefixed.size === 1) {
    const [key, v] = [...prefixed][0]!;
    const [namespace, name] = key.split('/') as [string, string];
    const live = v.live ? await livePod(deps, namespace, name) : undefined;
    return { kind: 'pod', namespace, name, via: 'prefix', ...(live ? { live } : {}), ...(v.history ? { history: v.history } : {}) };
  }
  if (prefixed.size > 1) return { kind: 'ambiguous', what: `pods starting with ${q.name}`, candidates: [...prefixed.keys()].sort() };

  for (const h of hp) closest.offer(`${h.namespace}/${h.pod}`);
  for (const w of inNs(workloads)) closest.offer(`${w.namespace}/${w.name}`);
  return { kind: 'none', suggestions: closest.names() };
}
