/**
 * Which cluster a `/oom` command is about. Named (`beta/shop/pod`, `--cluster beta`): that one. One cluster
 * known: that one, and the answer reads exactly as in a single-cluster install. Several: the command
 * searches each of them at once, each bounded in time; an away agent is named in the answer, not waited on.
 */
import type { KnownBlock } from '@slack/types';
import type { ClusterInfo } from '../core/clusters.js';
import { errorMessage } from '../core/errors.js';
import { formatDuration } from '../core/format.js';
import { isClusterOutOfReach, outOfReachText, scopedTo } from '../investigate/reach-cluster.js';
import { inScope, outOfScopeReply } from './scope.js';
import { forCluster, type BotBase, type BotDeps } from './bot-deps.js';
import { code, safe, textReply, type Reply } from './reply.js';

/** How long one cluster's search may take before the answer goes out without it. */
export const SEARCH_MS = 10_000;

/** A hub whose agents have not connected yet. */
export const NO_CLUSTER: Reply = textReply(
  'No cluster is connected yet: run an oombot agent in each cluster (`oombot start --roles agent`) against the same Redis. `/oom clusters` lists the connected ones.',
);

export type ClusterChoice = { kind: 'one'; deps: BotDeps } | { kind: 'several'; clusters: ClusterInfo[] } | { kind: 'reply'; reply: Reply };

/** "12s", "3m 10s": how long ago `at` was. */
export function ago(at: number | undefined, now: number): string {
  return at === undefined ? 'never' : `${formatDuration((now - at) / 1000)} ago`;
}

/** `namespace`: the one the command names, if any; a cluster whose scope leaves it out answers nothing about it. */
export async function chooseCluster(base: BotBase, named: string | undefined, namespace?: string): Promise<ClusterChoice> {
  const known = await base.clusters.list();
  const one = (deps: BotDeps): ClusterChoice =>
    namespace !== undefined && !inScope(deps.config, namespace) ? { kind: 'reply', reply: outOfScopeReply(deps, namespace) } : { kind: 'one', deps };
  if (named !== undefined) {
    const info = known.find((c) => c.name === named);
    if (!info) {
      const list = known
        .slice(0, 20)
        .map((c) => code(c.name, 63))
        .join(', ');
      return {
        kind: 'reply',
        reply: textReply(`No cluster named ${code(named, 63)} is connected${list ? ` (known: ${list})` : ''}. \`/oom clusters\` lists them.`),
      };
    }
    return one(forCluster(base, named, { named: known.length > 1, info }));
  }
  if (known.length === 0 && base.clusters.local === undefined) return { kind: 'reply', reply: NO_CLUSTER };
  if (known.length <= 1) return one(forCluster(base, known[0]?.name ?? base.clusters.local ?? '', known[0] ? { info: known[0] } : {}));
  return { kind: 'several', clusters: known };
}

export interface ClusterSearch<T> {
  /** Each cluster searched in time, with its answer. */
  found: { deps: BotDeps; result: T }[];
  /** The clusters not searched, and why (mrkdwn, escaped). */
  notes: string[];
}

/**
 * Runs `search` in every cluster at once, each bounded by `ms`; away agents are not asked, nor clusters
 * whose scope leaves out the `namespace` the command names.
 */
export async function searchClusters<T>(
  base: BotBase,
  clusters: ClusterInfo[],
  search: (deps: BotDeps) => Promise<T>,
  opts: { namespace?: string; ms?: number } = {},
): Promise<ClusterSearch<T>> {
  const ms = opts.ms ?? SEARCH_MS;
  const now = Date.now();
  const notes: string[] = [];
  const asked = clusters.filter((c) => {
    if (opts.namespace !== undefined && !inScope(scopedTo(base.config, c), opts.namespace)) return false;
    if (!c.away) return true;
    notes.push(`cluster ${code(c.name, 63)}'s agent was last seen ${ago(c.lastSeen, now)}, not searched`);
    return false;
  });
  const results = await Promise.all(
    asked.map(async (c) => {
      const deps = forCluster(base, c.name, { named: true, info: c });
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), ms);
        timer.unref();
      });
      try {
        const result = await Promise.race([search(deps), late]);
        if (result === 'late') {
          notes.push(`cluster ${code(c.name, 63)} did not answer within ${formatDuration(ms / 1000)}, not searched`);
          return undefined;
        }
        return { deps, result };
      } catch (err) {
        if (isClusterOutOfReach(err)) notes.push(`${safe(outOfReachText(err), 200)}, not searched`);
        else {
          base.log.warn({ cluster: c.name, err: errorMessage(err) }, '/oom could not search a cluster');
          notes.push(`cluster ${code(c.name, 63)} could not be searched: ${safe(errorMessage(err), 200)}`);
        }
        return undefined;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return { found: results.filter((r): r is { deps: BotDeps; result: Awaited<T> } => r !== undefined), notes: notes.sort() };
}

/** The reply with the clusters that were not searched said at its end. */
export function withNotes(reply: Reply, notes: string[]): Reply {
  if (notes.length === 0) return reply;
  const text = notes.map((n) => `:warning: ${n}`).join('\n');
  const context: KnownBlock = { type: 'context', elements: [{ type: 'mrkdwn', text }] };
  return {
    ...reply,
    text: `${reply.text}\n${text}`,
    blocks: [...(reply.blocks ?? []), context].slice(0, 50),
  };
}
