/**
 * RBAC coverage: each role runs as its own process (as in the chart's three Deployments) against the
 * simulated cluster, behind a proxy that records its requests, through the flows that make Kubernetes
 * calls: kills of every owner kind and a node OOM (watcher and worker), and the bot's buttons and
 * commands, including a patch of each workload kind it changes. Every recorded request must be allowed by
 * the role's ClusterRole in deploy/manifests/oombot.yaml (or be discovery, which every user may read), and
 * every permission a ClusterRole grants must have been used. The Slack Web API methods called on the way
 * must be among those the Slack manifest test read from the sources.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Role } from '../../core/config.js';
import { ProposalStore } from '../../stores/proposal-store.js';
import { startOombot, type Oombot } from '../../bin/start.js';
import { ACTION_EXPLAIN, ACTION_RAISE_LIMIT, ACTION_SHOW_LOGS } from '../../alert/action-ids.js';
import type { LimitProposal, ProposalOwner } from '../../diagnosis/propose-limit.js';
import { makeLimitRange, type SimCluster } from '../../sim/kube/index.js';
import { sendBlockAction, sendSlashCommand, startSlackServer, type SignedResponse, type SlackServer } from '../../sim/slack/index.js';
import { REDIS_URL, removeQueueData, uniqueQueueName } from '../helpers/redis.js';
import { captureLogger } from '../helpers/silent-logger.js';
import { startSimCluster } from '../helpers/watcher-harness.js';
import { discoveryAllows, requestInfo, ruleAllows, ruleResource, type PolicyRule, type RequestInfo } from './authorize-request.js';
import { REPO_ROOT, find, readPlainManifests } from './deploy-files.js';
import { findKubeResources } from './find-kube-paths.js';
import { findSlackUsage } from './find-slack-calls.js';
import { startRecordingProxy, type RecordingProxy } from './recording-proxy.js';

const SECRET = 'api-calls-signing-secret-0123456789';
const APPROVER = 'U0APPROVER';
const CHANNEL = 'C0ALERTS';
const MiB = 2 ** 20;

interface Running {
  cluster: SimCluster;
  slack: SlackServer;
  proxies: Record<Role, RecordingProxy>;
  apps: Record<Role, Oombot>;
  queueName: string;
  botUrl: string;
  close(): Promise<void>;
}

const LEGACY_RC = {
  apiVersion: 'v1',
  kind: 'ReplicationController',
  metadata: { name: 'legacy', namespace: 'shop', uid: '7d0c6a3e-0000-4000-8000-00000000c0de' },
  spec: {
    replicas: 1,
    selector: { app: 'legacy' },
    template: {
      metadata: { labels: { app: 'legacy' } },
      spec: { containers: [{ name: 'legacy', image: 'legacy:1', resources: { limits: { memory: '512Mi' } } }] },
    },
  },
};

async function start(): Promise<Running> {
  const sim = await startSimCluster({ replicas: 2 });
  const { cluster } = sim;
  cluster.createStatefulSet({ name: 'db', namespace: 'shop', replicas: 1, memoryRequest: '256Mi', memoryLimit: '512Mi' });
  cluster.createDaemonSet({ name: 'logship', namespace: 'shop', memoryRequest: '64Mi', memoryLimit: '512Mi' });
  cluster.createCronJob({ name: 'report', namespace: 'shop', memoryRequest: '128Mi', memoryLimit: '512Mi', restartPolicy: 'OnFailure' });
  cluster.triggerCronJob('shop', 'report');
  cluster.create('limitranges', makeLimitRange({ namespace: 'shop', max: { memory: '8Gi' } }));
  // A ReplicaSet of its own (no Deployment above it): oombot patches those; one a Deployment controls, never.
  cluster.create('replicasets', {
    apiVersion: 'apps/v1',
    kind: 'ReplicaSet',
    metadata: { name: 'bare', namespace: 'shop' },
    spec: {
      replicas: 1,
      selector: { matchLabels: { app: 'bare' } },
      template: { metadata: { labels: { app: 'bare' } }, spec: { containers: [{ name: 'api', image: 'bare:1', resources: { limits: { memory: '512Mi' } } }] } },
    },
  });
  const slack = await startSlackServer({ users: [{ id: APPROVER, name: 'olga' }] });
  const queueName = uniqueQueueName('rbac');
  const proxies = {
    watcher: await startRecordingProxy(sim.server.url),
    worker: await startRecordingProxy(sim.server.url),
    bot: await startRecordingProxy(sim.server.url, { replicationControllers: [structuredClone(LEGACY_RC)] }),
  };
  const base = { REDIS_URL, OOMBOT_QUEUE: queueName, PORT: '0', SLACK_CHANNEL: '#alerts', SLACK_API_URL: slack.apiUrl };
  const env: Record<Role, Record<string, string>> = {
    watcher: base,
    worker: { ...base, SLACK_BOT_TOKEN: 'xoxb-test-token' },
    bot: { ...base, SLACK_BOT_TOKEN: 'xoxb-test-token', SLACK_SIGNING_SECRET: SECRET, OOMBOT_APPROVERS: APPROVER },
  };
  const apps = {} as Record<Role, Oombot>;
  for (const role of ['watcher', 'worker', 'bot'] as const) {
    apps[role] = await startOombot({
      config: loadConfig(env[role]),
      roles: [role],
      log: captureLogger('info').log,
      kubeTarget: proxies[role].target,
      host: '127.0.0.1',
    });
  }
  return {
    cluster,
    slack,
    proxies,
    apps,
    queueName,
    botUrl: `http://127.0.0.1:${apps.bot.port}/slack/events`,
    async close() {
      for (const role of ['watcher', 'bot', 'worker'] as const) await apps[role]?.stop();
      for (const p of Object.values(proxies)) await p.close();
      await sim.server.close();
      await slack.close();
      await removeQueueData(queueName);
    },
  };
}

/** The ephemeral answer to a command or click: the ack body when it has one, else the response_url post. */
async function answer(r: Running, res: SignedResponse): Promise<string> {
  expect(res.status).toBe(200);
  const acked = res.json as { text?: string; blocks?: unknown[] } | undefined;
  if (acked?.text && !acked.text.includes('Looking into it')) return `${acked.text}\n${JSON.stringify(acked.blocks ?? [])}`;
  const form = new URLSearchParams(res.request.body);
  const url = form.has('payload') ? (JSON.parse(form.get('payload')!) as { response_url: string }).response_url : form.get('response_url')!;
  const record = await r.slack.waitFor(() => r.slack.responseUrls.find((u) => u.url === url && u.uses.some((x) => x.status === 200)), 20_000);
  const body = record.uses.find((u) => u.status === 200)!.body as { text?: string; blocks?: unknown };
  return `${body.text ?? ''}\n${JSON.stringify(body.blocks ?? [])}`;
}

function command(r: Running, text: string): Promise<SignedResponse> {
  const { response_url, trigger_id } = r.slack.interaction({ channel: CHANNEL, user: APPROVER });
  return sendSlashCommand(r.botUrl, SECRET, { text, user_id: APPROVER, channel_id: CHANNEL, response_url, trigger_id });
}

function click(r: Running, actionId: string, value: string, messageTs?: string): Promise<SignedResponse> {
  const message = messageTs ? r.slack.message(CHANNEL, messageTs) : undefined;
  const { response_url, trigger_id } = r.slack.interaction({ channel: CHANNEL, user: APPROVER, ...(messageTs ? { messageTs } : {}) });
  return sendBlockAction(r.botUrl, SECRET, {
    action_id: actionId,
    value,
    user: { id: APPROVER, username: 'olga' },
    channel: { id: CHANNEL, name: 'alerts' },
    message_ts: messageTs ?? '1700000000.000100',
    ...(message ? { message: r.slack.asSlackMessage(message) } : {}),
    response_url,
    trigger_id,
  });
}

/** Polls `check` until it holds (flows run in beforeAll, where expect.poll is not available). */
async function until(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((res) => setTimeout(res, 50));
  }
}

const podOf = (cluster: SimCluster, ownerKind: string) =>
  cluster.list('pods', 'shop').find((p) => (p.metadata.ownerReferences as { kind: string }[] | undefined)?.[0]?.kind === ownerKind)!.metadata.name as string;

function proposalFor(owner: ProposalOwner, container: string): LimitProposal {
  return {
    target: 'limit',
    container,
    owner,
    fromLimit: '512Mi',
    toLimit: '640Mi',
    fromLimitBytes: 512 * MiB,
    toLimitBytes: 640 * MiB,
    reason: 'VPA rule after an OOM kill: used = 512Mi; max(used + 100Mi, used × 1.2) = 614.4Mi; rounded up to 640Mi.',
  };
}

/** Drives the flows that make Kubernetes calls; returns what the bot answered, for sanity checks. */
async function runFlows(r: Running): Promise<Record<string, string>> {
  const { cluster, slack, apps } = r;
  await until(async () => (await apps.watcher.http.readiness()).ok, 'the watcher to sync');

  // Watcher and worker: a kill under each owner kind, and a node OOM.
  const apiPod = podOf(cluster, 'ReplicaSet');
  cluster.setUsage('shop', apiPod, 'api', 510 * MiB);
  cluster.setLogs('shop', apiPod, 'api', { previous: 'boot\nheap exhausted\n' });
  const startedAt = new Date(Date.now() - 3600_000).toISOString();
  cluster.oomKill('shop', apiPod, 'api', { startedAt });
  cluster.oomKill('shop', podOf(cluster, 'StatefulSet'), 'db', { startedAt });
  cluster.oomKill('shop', podOf(cluster, 'DaemonSet'), 'logship', { startedAt });
  const jobPod = podOf(cluster, 'Job');
  cluster.oomKill('shop', jobPod, 'report', { startedAt });
  cluster.systemOom('node-b', { process: 'java', pid: 4242 });
  await until(async () => ((await apps.worker.queue.getJobCounts('completed')).completed ?? 0) >= 5, 'five incidents handled');
  await until(async () => {
    const c = await apps.worker.queue.getJobCounts('waiting', 'active', 'delayed');
    return (c.waiting ?? 0) + (c.active ?? 0) + (c.delayed ?? 0) === 0;
  }, 'the queue to drain');

  // Bot: the alert's buttons.
  const alert = await slack.waitFor(
    () => slack.messagesIn('#alerts').find((m) => JSON.stringify(m.blocks).includes(apiPod) && JSON.stringify(m.blocks).includes(ACTION_RAISE_LIMIT)),
    20_000,
  );
  const buttons = (alert.blocks as { elements?: { action_id?: string; value?: string }[] }[]).flatMap((b) => b.elements ?? []);
  const valueOf = (id: string) => buttons.find((b) => b.action_id === id)!.value!;
  const answers: Record<string, string> = {};
  answers.logs = await answer(r, await click(r, ACTION_SHOW_LOGS, valueOf(ACTION_SHOW_LOGS), alert.ts));
  answers.explain = await answer(r, await click(r, ACTION_EXPLAIN, valueOf(ACTION_EXPLAIN), alert.ts));
  answers.raiseDeployment = await answer(r, await click(r, ACTION_RAISE_LIMIT, valueOf(ACTION_RAISE_LIMIT), alert.ts));

  // Bot: a patch of every other kind it changes.
  const proposals = new ProposalStore(apps.bot.redis, r.queueName);
  const replicaSet = 'bare';
  const targets: [string, ProposalOwner, string][] = [
    ['StatefulSet', { kind: 'StatefulSet', namespace: 'shop', name: 'db' }, 'db'],
    ['DaemonSet', { kind: 'DaemonSet', namespace: 'shop', name: 'logship' }, 'logship'],
    ['CronJob', { kind: 'CronJob', namespace: 'shop', name: 'report' }, 'report'],
    ['ReplicaSet', { kind: 'ReplicaSet', namespace: 'shop', name: replicaSet }, 'api'],
    ['ReplicationController', { kind: 'ReplicationController', namespace: 'shop', name: 'legacy' }, 'legacy'],
  ];
  for (const [kind, owner, container] of targets) {
    const stored = await proposals.create({ incidentId: `inc-${kind}`, cluster: 'sim', proposal: proposalFor(owner, container) });
    answers[`raise${kind}`] = await answer(r, await click(r, ACTION_RAISE_LIMIT, stored.id));
  }

  // Bot: /oom, on a live pod of each owner chain, by name and prefix, cluster-wide and in a namespace.
  for (const text of [`why ${apiPod}`, `why shop/${jobPod}`, 'why api-', 'top', 'top shop', 'history nosuch', 'history shop/nosuch', 'help']) {
    answers[text] = await answer(r, await command(r, text));
  }
  return answers;
}

interface ClusterRoleJson {
  rules: PolicyRule[];
}

/** Every (apiGroup, resource, verb) a ClusterRole grants. */
function grants(role: ClusterRoleJson): string[] {
  return role.rules.flatMap((rule) =>
    (rule.apiGroups ?? []).flatMap((g) => (rule.resources ?? []).flatMap((res) => rule.verbs.map((v) => `${v} ${res}${g ? `.${g}` : ''}`))),
  );
}

function describeInfo(info: RequestInfo): string {
  return info.isResource ? `${info.verb} ${ruleResource(info)}${info.apiGroup ? `.${info.apiGroup}` : ''}` : `${info.verb} ${info.path}`;
}

describe('Kubernetes API calls and RBAC', () => {
  let r: Running;
  let answers: Record<string, string>;
  beforeAll(async () => {
    r = await start();
    answers = await runFlows(r);
  }, 180_000);
  afterAll(async () => {
    await r?.close();
  });

  it('ran the flows to the end', () => {
    expect(answers.logs).toContain('heap exhausted');
    for (const kind of ['Deployment', 'StatefulSet', 'DaemonSet', 'CronJob', 'ReplicaSet', 'ReplicationController']) {
      expect(answers[`raise${kind}`], kind).toContain('Done');
    }
    expect(answers.top).toMatch(/closest to their memory limit/);
    const patches = r.proxies.bot.requests.filter((q) => q.method === 'PATCH');
    expect(patches).toHaveLength(12);
  });

  const roles = ['watcher', 'worker', 'bot'] as const;

  it.each(roles)('every call of the %s is allowed by its ClusterRole', (role) => {
    const clusterRole = find(readPlainManifests(), 'ClusterRole', `oombot-${role}`) as unknown as ClusterRoleJson;
    const denied = r.proxies[role].requests
      .map(requestInfo)
      .filter((info) => !discoveryAllows(info) && !clusterRole.rules.some((rule) => ruleAllows(rule, info)))
      .map(describeInfo);
    expect([...new Set(denied)]).toEqual([]);
  });

  it.each(roles)('every permission the %s ClusterRole grants is used', (role) => {
    const clusterRole = find(readPlainManifests(), 'ClusterRole', `oombot-${role}`) as unknown as ClusterRoleJson;
    const used = new Set(
      r.proxies[role].requests
        .map(requestInfo)
        .filter((i) => i.isResource)
        .map(describeInfo),
    );
    expect(grants(clusterRole).filter((g) => !used.has(g))).toEqual([]);
  });

  it('called every resource whose API path the sources spell out', () => {
    const inSources = findKubeResources(REPO_ROOT);
    expect(inSources.size).toBeGreaterThanOrEqual(10);
    const called = new Set(
      roles.flatMap((role) =>
        r.proxies[role].requests.map(requestInfo).flatMap((i) => (i.isResource ? [`${ruleResource(i)}${i.apiGroup ? `.${i.apiGroup}` : ''}`] : [])),
      ),
    );
    const missed = [...inSources].filter(([res]) => !called.has(res)).map(([res, files]) => `${res} (${[...new Set(files)].join(', ')})`);
    expect(missed, 'add a flow that makes these calls, so that the ClusterRoles are checked against them').toEqual([]);
  });

  it('the Slack methods called are among those read from the sources', () => {
    const known = findSlackUsage(REPO_ROOT).methods;
    const called = [...new Set(r.slack.calls.map((c) => c.method))];
    expect(called).toContain('chat.postMessage');
    expect(called.filter((m) => !known.has(m))).toEqual([]);
  });
});
