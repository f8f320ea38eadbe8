/** `/oom clusters`: every cluster oombot reaches, how, and whether its agent is there. */
import { ago, NO_CLUSTER } from './pick-cluster.js';
import type { BotBase } from './bot-deps.js';
import { code, safe, textReply, type Reply } from './reply.js';

const MAX_CLUSTERS = 50;

export async function answerClusters(base: BotBase): Promise<Reply> {
  const clusters = await base.clusters.list();
  if (clusters.length === 0) return NO_CLUSTER;
  const now = Date.now();
  const lines = clusters.slice(0, MAX_CLUSTERS).map((c) => {
    const parts: string[] = [];
    if (c.via === 'local') parts.push('this process (its kubeconfig)');
    else parts.push(`agent${c.version ? ` ${safe(c.version, 40)}` : ''}`);
    if (c.kubernetesVersion) parts.push(`Kubernetes ${safe(c.kubernetesVersion, 40)}`);
    if (c.via === 'agent') parts.push(`last heartbeat ${ago(c.lastSeen, now)}`);
    if (c.namespaces !== undefined || c.via === 'agent') {
      const ns = c.namespaces ?? [];
      parts.push(
        ns.length === 0
          ? 'all namespaces'
          : `namespaces ${ns
              .slice(0, 10)
              .map((n) => code(n, 63))
              .join(', ')}${ns.length > 10 ? ` and ${ns.length - 10} more` : ''}`,
      );
    }
    const away = c.away ? ':warning: *away*: its reads and fixes fail until it is back · ' : '';
    return `• ${code(c.name, 63)}: ${away}${parts.join(' · ')}`;
  });
  const more = clusters.length > MAX_CLUSTERS ? [`…and ${clusters.length - MAX_CLUSTERS} more`] : [];
  return textReply([`*Clusters* (${clusters.length})`, ...lines, ...more].join('\n'));
}
