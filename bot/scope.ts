/**
 * What `/oom` may read and change: the namespaces oombot watches (WATCH_NAMESPACES; all when unset).
 * Answers (why, top, history, logs) and fixes stay inside them, so the command cannot show a pod's log,
 * or patch a workload, in a namespace the team did not give oombot.
 */
import type { Config } from '../core/config.js';
import type { Query } from '../core/kube.js';
import type { KubeApi } from '../core/kube-api.js';
import type { BotBase } from './bot-deps.js';
import { code, textReply, type Reply } from './reply.js';

export function inScope(config: Pick<Config, 'watchNamespaces'>, namespace: string | undefined): boolean {
  if (config.watchNamespaces.length === 0) return true;
  return namespace !== undefined && config.watchNamespaces.includes(namespace);
}

/** The answer for a namespace outside the scope: says which ones are in it, reads nothing. */
export function outOfScopeReply(deps: BotBase, namespace: string): Reply {
  deps.log.info({ namespace }, '/oom refused: namespace not watched');
  const watched = deps.config.watchNamespaces
    .slice(0, 20)
    .map((n) => code(n, 63))
    .join(', ');
  return textReply(`oombot watches only ${watched} (WATCH_NAMESPACES); ${code(namespace, 63)} is not one of them, so it answers nothing about it.`);
}

/**
 * The collection paths to read for `plural` under `base` (`/api/v1`, `/apis/apps/v1`): the namespace's
 * when one is named, else one per watched namespace, else the cluster-wide one.
 */
export function collectionPaths(config: Pick<Config, 'watchNamespaces'>, base: string, plural: string, namespace?: string): string[] {
  const ns = namespace ? [namespace] : config.watchNamespaces;
  if (ns.length === 0) return [`${base}/${plural}`];
  return ns.map((n) => `${base}/namespaces/${encodeURIComponent(n)}/${plural}`);
}

/** Every item of the collections, page by page, to `each` (which keeps only what it needs). */
export async function eachItem<T>(kube: KubeApi, paths: string[], each: (item: T) => void, query: Query = {}): Promise<void> {
  for (const path of paths) {
    for await (const page of kube.listPages<T>(path, query)) for (const item of page) each(item);
  }
}
