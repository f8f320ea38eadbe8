/**
 * The chart's three installs (values.yaml `mode`): the whole of oombot in one cluster (`all`, the
 * default, checked in chart.test.ts), a member cluster's agent (`agent`), and the hub that serves every
 * cluster's agents with no cluster credentials of its own (`hub`).
 */
import { describe, expect, it } from 'vitest';
import { find, podSpecOf, renderPlainObjects, type Json } from './deploy-files.js';
import { validateObject, validateTogether } from './validate-kube-object.js';

const AGENT = {
  mode: 'agent',
  config: { clusterName: 'beta' },
  redis: { enabled: false },
  externalRedis: { url: 'rediss://hub-redis.example.internal:6380/0' },
  proposalKey: { existingSecret: 'hub-proposal-key' },
};

const names = (docs: Json[], kind: string) =>
  docs
    .filter((d) => d.kind === kind)
    .map((d) => String((d.metadata as Json).name))
    .sort();
const argsOf = (docs: Json[], name: string) => podSpecOf(find(docs, 'Deployment', name)).containers[0]!.args;
const envNames = (docs: Json[], name: string) => (podSpecOf(find(docs, 'Deployment', name)).containers[0]!.env ?? []).map((e) => e.name);
const grants = (role: Json) =>
  (role.rules as { apiGroups: string[]; resources: string[]; verbs: string[] }[]).flatMap((r) =>
    r.apiGroups.flatMap((g) => r.resources.flatMap((res) => r.verbs.map((v) => `${v} ${res}${g ? `.${g}` : ''}`))),
  );
const problems = (docs: Json[]) => [...docs.flatMap(validateObject), ...validateTogether(docs)];

describe('Helm chart modes', () => {
  it('mode=agent: the agent and the sampler, with the calls of the watcher, the worker and the bot, and no Slack secret', () => {
    const docs = renderPlainObjects(AGENT);
    expect(problems(docs)).toEqual([]);
    expect(names(docs, 'Deployment')).toEqual(['oombot-agent', 'oombot-sampler']);
    expect(argsOf(docs, 'oombot-agent')).toEqual(['start', '--roles', 'agent']);
    expect(names(docs, 'StatefulSet')).toEqual([]);
    expect(names(docs, 'Service')).toEqual([]);
    const env = envNames(docs, 'oombot-agent');
    expect(env).toContain('OOMBOT_PROPOSAL_KEY');
    expect(env).not.toContain('SLACK_BOT_TOKEN');
    expect(env).not.toContain('SLACK_SIGNING_SECRET');
    const container = podSpecOf(find(docs, 'Deployment', 'oombot-agent')).containers[0]!;
    expect(container.env!.find((e) => e.name === 'CLUSTER_NAME')?.value).toBe('beta');
    expect(container.env!.find((e) => e.name === 'REDIS_URL')?.value).toBe(AGENT.externalRedis.url);
    expect(container.env!.find((e) => e.name === 'OOMBOT_PROPOSAL_KEY')?.valueFrom?.secretKeyRef).toEqual({ name: 'hub-proposal-key', key: 'proposal-key' });

    // The agent's ClusterRole is the union of what the watcher, the worker and the bot are granted in one cluster.
    const all = renderPlainObjects({});
    const union = new Set(['watcher', 'worker', 'bot'].flatMap((role) => grants(find(all, 'ClusterRole', `oombot-${role}`))));
    expect(new Set(grants(find(docs, 'ClusterRole', 'oombot-agent')))).toEqual(union);
    expect(names(docs, 'ClusterRole')).toEqual(['oombot-agent', 'oombot-sampler']);
    // The admission policy holds the agent, which patches for the hub's bot.
    const policy = find(docs, 'ValidatingAdmissionPolicy', 'oombot-bot-memory-only');
    expect(JSON.stringify(policy)).toContain("system:serviceaccount:oombot:oombot-agent'");
    expect(JSON.stringify(policy)).not.toContain("oombot-bot'");
  });

  it('mode=agent with watched namespaces: the agent reads and changes only those, and the node events of "default"', () => {
    const docs = renderPlainObjects({ ...AGENT, config: { clusterName: 'beta', watchNamespaces: 'shop,pay' } });
    expect(problems(docs)).toEqual([]);
    const roles = docs.filter((d) => d.kind === 'Role' && (d.metadata as Json).name === 'oombot-agent').map((d) => (d.metadata as Json).namespace);
    expect(roles.sort()).toEqual(['default', 'pay', 'shop']);
    expect(grants(find(docs, 'ClusterRole', 'oombot-agent')).every((g) => g.includes(' nodes'))).toBe(true);
  });

  it("mode=agent refuses to render without a cluster name, with the bundled Redis, or without the hub's proposal key", () => {
    expect(() => renderPlainObjects({ ...AGENT, config: { clusterName: '' } })).toThrow(/mode=agent needs config.clusterName/);
    expect(() => renderPlainObjects({ ...AGENT, redis: { enabled: true } })).toThrow(/connects to the hub's Redis/);
    expect(() => renderPlainObjects({ ...AGENT, proposalKey: { existingSecret: '' } })).toThrow(/proposalKey.existingSecret/);
    expect(() => renderPlainObjects({ mode: 'both' })).toThrow(/mode must be all, agent or hub/);
  });

  it('mode=hub: the worker and the bot, with no RBAC, no admission policy and no ServiceAccount token', () => {
    const docs = renderPlainObjects({ mode: 'hub', redis: { networkPolicy: { allowFrom: [{ ipBlock: { cidr: '10.20.0.0/16' } }] } } });
    expect(problems(docs)).toEqual([]);
    expect(names(docs, 'Deployment')).toEqual(['oombot-bot', 'oombot-worker']);
    for (const kind of ['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding', 'ValidatingAdmissionPolicy']) expect(names(docs, kind), kind).toEqual([]);
    for (const sa of docs.filter((d) => d.kind === 'ServiceAccount' && (d.metadata as Json).name !== 'oombot-redis')) {
      expect(sa.automountServiceAccountToken, String((sa.metadata as Json).name)).toBe(false);
    }
    // The bundled Redis lets in the hub's pods and the agents' addresses given.
    const from = ((find(docs, 'NetworkPolicy', 'oombot-redis').spec as Json).ingress as { from: Json[] }[])[0]!.from;
    expect(JSON.stringify(from)).toContain('["worker","bot"]');
    expect(from).toContainEqual({ ipBlock: { cidr: '10.20.0.0/16' } });
  });
});
