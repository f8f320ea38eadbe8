/** `/oom why <pod>`: the alert's diagnosis for a running, crash-looping, evicted or gone pod. */
import type { V1Pod } from '@kubernetes/client-node';
import type { KnownBlock } from '@slack/types';
import type { Incident } from '../core/incident.js';
import { detectPodIncidents } from '../watchers/detect/index.js';
import { renderSlack } from '../alert/render-slack.js';
import { inCluster, type BotBase, type BotDeps } from './bot-deps.js';
import { chooseCluster, searchClusters, withNotes, type ClusterSearch } from './pick-cluster.js';
import { diagnoseIncident } from './diagnose-incident.js';
import { findIncident } from './find-incident.js';
import type { PodQuery } from './parse-oom-command.js';
import { resolvePod, type PodResolution } from './resolve-pod.js';
import { code, safe, textReply, type Reply } from './reply.js';

const MAX_CANDIDATES = 15;

function liveIncidents(deps: BotDeps, pod: V1Pod): Incident[] {
  const now = deps.now();
  return detectPodIncidents(pod, { cluster: deps.cluster, now, cutoff: new Date(0), live: true }).sort(
    (a, b) => Date.parse(b.occurredAt) - Date.parse(a.occurredAt),
  );
}

function runningReply(deps: BotDeps, pod: V1Pod): Reply {
  const name = `${pod.metadata?.namespace}/${pod.metadata?.name}`;
  const statuses = pod.status?.containerStatuses ?? [];
  const restarts = statuses.reduce((n, s) => n + (s.restartCount ?? 0), 0);
  const lines = [
    `Pod ${code(name)}${inCluster(deps)} is ${safe(pod.status?.phase ?? 'in an unknown phase', 40)} (${restarts} restart${restarts === 1 ? '' : 's'}). No OOM kill, eviction or SIGKILL is recorded for it.`,
  ];
  for (const c of pod.spec?.containers ?? []) {
    const lim = c.resources?.limits?.memory;
    const req = c.resources?.requests?.memory;
    lines.push(`• ${code(c.name, 63)}: memory limit ${lim ? code(String(lim), 40) : 'none'}, request ${req ? code(String(req), 40) : 'none'}`);
  }
  lines.push('Use `/oom top` to see which containers are closest to their limit.');
  return textReply(lines.join('\n'));
}

export function candidatesReply(r: Extract<PodResolution, { kind: 'ambiguous' }>, hint: string): Reply {
  const shown = r.candidates.slice(0, MAX_CANDIDATES).map((c) => `• ${code(c)}`);
  const more = r.candidates.length > MAX_CANDIDATES ? [`…and ${r.candidates.length - MAX_CANDIDATES} more`] : [];
  return textReply([`Several ${safe(r.what, 300)}; ${hint}:`, ...shown, ...more].join('\n'));
}

export function notFoundReply(what: string, suggestions: string[]): Reply {
  const tail =
    suggestions.length > 0
      ? ` Did you mean ${suggestions.map((s) => code(s)).join(', ')}?`
      : ' Check the name and namespace (pods with incidents are remembered for the history retention).';
  return textReply(`No ${safe(what, 300)} found.${tail}`);
}

/**
 * `/oom why` in the cluster named, or the only one; with several clusters and none named, the pod is looked
 * for in each: one match is answered naming its cluster, several are listed as `cluster/namespace/pod`.
 */
export async function answerWhy(base: BotBase, q: PodQuery): Promise<Reply> {
  const choice = await chooseCluster(base, q.cluster, q.namespace);
  if (choice.kind === 'reply') return choice.reply;
  if (choice.kind === 'one') return whyReply(choice.deps, q, await resolvePod(choice.deps, q));
  const s = await searchClusters(base, choice.clusters, (deps) => resolvePod(deps, q), { ...(q.namespace ? { namespace: q.namespace } : {}) });
  const pods = s.found.filter((f) => f.result.kind === 'pod');
  const several = s.found.filter((f) => f.result.kind === 'ambiguous');
  // One pod in one cluster: answered as if that cluster had been named.
  if (pods.length === 1 && several.length === 0) return withNotes(await whyReply(pods[0]!.deps, q, pods[0]!.result), s.notes);
  const listed = s.found.flatMap(({ deps, result }) =>
    (result.kind === 'pod' ? [`${result.namespace}/${result.name}`] : result.kind === 'ambiguous' ? result.candidates : []).map((c) => `${deps.cluster}/${c}`),
  );
  const target = code(q.namespace ? `${q.namespace}/${q.name}` : q.name);
  return acrossClustersReply(s, listed, {
    what: `matches of ${target}`,
    hint: 'ask again with one of them, e.g. `/oom why cluster/namespace/pod`',
    notFound: `pod or workload ${target} in any cluster`,
  });
}

/**
 * The answer of a search of every cluster that found no single match: the matches as `cluster/…` to pick
 * from, else what was not found with the closest names of each cluster.
 */
export function acrossClustersReply<R extends { kind: string; suggestions?: string[] }>(
  s: ClusterSearch<R>,
  listed: string[],
  o: { what: string; hint: string; notFound: string },
): Reply {
  if (listed.length > 0) {
    const clusters = new Set(listed.map((c) => c.split('/')[0])).size;
    const candidates = [...listed].sort();
    return withNotes(candidatesReply({ kind: 'ambiguous', what: `${o.what} in ${clusters} cluster${clusters === 1 ? '' : 's'}`, candidates }, o.hint), s.notes);
  }
  const suggestions = s.found
    .flatMap(({ deps, result }) => (result.kind === 'none' ? (result.suggestions ?? []).map((x) => `${deps.cluster}/${x}`) : []))
    .slice(0, 3);
  return withNotes(notFoundReply(o.notFound, suggestions), s.notes);
}

/** The answer for one resolved pod query in one cluster. */
export async function whyReply(deps: BotDeps, q: PodQuery, r: PodResolution): Promise<Reply> {
  if (r.kind === 'ambiguous') return candidatesReply(r, 'ask again with one of them, e.g. `/oom why namespace/pod`');
  if (r.kind === 'none') return notFoundReply(`pod or workload ${code(q.namespace ? `${q.namespace}/${q.name}` : q.name)}`, r.suggestions);

  const live = r.live ? liveIncidents(deps, r.live)[0] : undefined;
  const latestId = r.history?.ids[0];
  let incident: Incident | undefined;
  if (latestId && (!live || live.id === latestId || (r.history?.latest ?? 0) >= Date.parse(live.occurredAt))) incident = await findIncident(deps, latestId);
  incident ??= live;
  if (!incident) {
    if (r.live) return runningReply(deps, r.live);
    return textReply(`Pod ${code(`${r.namespace}/${r.name}`)}${inCluster(deps)} has no incident on record any more (history is kept for a limited time).`);
  }
  const d = await diagnoseIncident(deps, incident);
  const msg = renderSlack(d.model);
  const how =
    r.via === 'workload' ? ` (latest incident of ${safe(r.workload ?? '', 300)})` : r.via === 'prefix' ? ` (the only pod starting with ${code(q.name)})` : '';
  const gone = r.live ? '' : ' The pod is gone; this is from the incident history.';
  const intro: KnownBlock = {
    type: 'context',
    elements: [{ type: 'mrkdwn', text: `Pod ${code(`${r.namespace}/${r.name}`)}${inCluster(deps)}${how}.${gone}` }],
  };
  return { text: msg.text, blocks: [intro, ...msg.blocks].slice(0, 50) };
}
