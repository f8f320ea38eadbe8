/**
 * RBAC coverage: each role runs as its own process (as in the chart's three Deployments) against the
 * simulated cluster, behind a proxy that records its requests and refuses, with a 403 as the API server
 * would, those its RBAC does not allow, through the flows that make Kubernetes calls: kills of every
 * owner kind and a node OOM (watcher and worker), and the bot's buttons and commands, including a patch
 * of each workload kind it changes. Every recorded request must be allowed by what the role's bindings
 * grant its ServiceAccount (or be discovery, which every user may read), and every permission granted
 * must have been used. The Slack Web API methods called on the way must be among those the Slack
 * manifest test read from the sources.
 *
 * Twice: watching every namespace, with deploy/manifests/oombot.yaml's ClusterRoles; and watching two
 * namespaces, with the Roles the chart then renders in each, where calls in other namespaces are refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Role } from '../../core/config.js';
import { ProposalStore } from '../../stores/proposal-store.js';
import { startOombot, type Oombot } from '../../bin/start.js';
import { ACTION_EXPLAIN, ACTION_RAISE_LIMIT, ACTION_RESIZE, ACTION_SHOW_LOGS } from '../../alert/action-ids.js';
import type { LimitProposal, ProposalOwner } from '../../diagnosis/propose-limit.js';
import { makeLimitRange, type SimCluster } from '../../sim/kube/index.js';
import { sendBlockAction, sendSlashCommand, startSlackServer, type SignedResponse, type SlackServer } from '../../sim/slack/index.js';
import { REDIS_URL, removeQueueData, uniqueQueueName } from '../helpers/redis.js';
import { captureLogger } from '../helpers/silent-logger.js';
import { startSimCluster } from '../helpers/watcher-harness.js';
import { authorizes, discoveryAllows, grantsTo, requestInfo, ruleResource, type Grant, type RequestInfo } from './authorize-request.js';
import { REPO_ROOT, readPlainManifests, renderPlainObjects, type Json } from './deploy-files.js';
import { findKubeResources } from './find-kube-paths.js';
import { findSlackUsage } from './find-slack-calls.js';
import { startRecordingProxy, type ProxiedRequest, type RecordingProxy } from './recording-proxy.js';

const SECRET = 'api-calls-signing-secret-0123456789';
const APPROVER = 'U0APPROVER';
const CHANNEL = 'C0ALERTS';
const MiB = 2 ** 20;

interface Running {
  cluster: SimCluster;
  slack: SlackServer;
  proxies: Record<(typeof ROLES)[number], RecordingProxy>;
  apps: Record<(typeof ROLES)[number], Oombot>;
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

interface Mode {
  name: string;
  /** WATCH_NAMESPACES, and the chart's config.watchNamespaces. */
  watchNamespaces: string;
  manifests: () => Json[];
}

const WATCHED = 'shop,payments';

const MODES: Mode[] = [
  { name: 'every namespace', watchNamespaces: '', manifests: readPlainManifests },
  { name: WATCHED, watchNamespaces: WATCHED, manifests: () => renderPlainObjects({ config: { watchNamespaces: WATCHED } }) },
];

const ROLES = ['watcher', 'sampler', 'worker', 'bot'] as const;

/** What the role's ServiceAccount is granted by the mode's manifests. */
function grantsOf(mode: Mode, role: Role): Grant[] {
  return grantsTo(mode.manifests(), { namespace: 'oombot', name: `oombot-${role}` });
}

/** Whether the API server would serve the request to the role: discovery, or RBAC allows it. */
function allowed(grants: Grant[], info: RequestInfo): boolean {
  return discoveryAllows(info) || authorizes(grants, info);
}

/**
 * A ReplicaSet no Deployment owns: the bot changes only such a one (a Deployment would roll a change to
 * its ReplicaSet back). No replicas, so that no controller acts on it.
 */
const STANDALONE_RS = {
  apiVersion: 'apps/v1',
  kind: 'ReplicaSet',
  metadata: { name: 'batch', namespace: 'shop', uid: '7d0c6a3e-0000-4000-8000-0000000005e7', labels: { app: 'batch' } },
  spec: {
    replicas: 0,
    selector: { matchLabels: { app: 'batch' } },
    template: {
      metadata: { labels: { app: 'batch' } },
      spec: { containers: [{ name: 'batch', image: 'batch:1', resources: { limits: { memory: '512Mi' } } }] },
    },
  },
};

async function start(mode: Mode): Promise<Running> {
  const sim = await startSimCluster({ replicas: 2 });
  const { cluster } = sim;
  cluster.createStatefulSet({ name: 'db', namespace: 'shop', replicas: 1, memoryRequest: '256Mi', memoryLimit: '512Mi' });
  cluster.createDaemonSet({ name: 'logship', namespace: 'shop', memoryRequest: '64Mi', memoryLimit: '512Mi' });
  cluster.createCronJob({ name: 'report', namespace: 'shop', memoryRequest: '128Mi', memoryLimit: '512Mi', restartPolicy: 'OnFailure' });
  cluster.triggerCronJob('shop', 'report');
  cluster.create('limitranges', makeLimitRange({ namespace: 'shop', max: { memory: '8Gi' } }));
  cluster.create('replicasets', structuredClone(STANDALONE_RS));
  const slack = await startSlackServer({ users: [{ id: APPROVER, name: 'olga' }] });
  const queueName = uniqueQueueName('rbac');
  const rbac = (role: Role) => {
    const grants = grantsOf(mode, role);
    return (q: ProxiedRequest) => allowed(grants, requestInfo(q));
  };
  const proxies = {
    watcher: await startRecordingProxy(sim.server.url, { authorize: rbac('watcher') }),
    sampler: await startRecordingProxy(sim.server.url, { authorize: rbac('sampler') }),
    worker: await startRecordingProxy(sim.server.url, { authorize: rbac('worker') }),
    bot: await startRecordingProxy(sim.server.url, { replicationControllers: [structuredClone(LEGACY_RC)], authorize: rbac('bot') }),
  };
  const base = { REDIS_URL, OOMBOT_QUEUE: queueName, PORT: '0', SLACK_CHANNEL: '#alerts', SLACK_API_URL: slack.apiUrl, WATCH_NAMESPACES: mode.watchNamespaces };
  const env: Record<(typeof ROLES)[number], Record<string, string>> = {
    watcher: base,
    sampler: { ...base, OOMBOT_SAMPLE_INTERVAL: '1s' },
    worker: { ...base, SLACK_BOT_TOKEN: 'xoxb-test-token' },
    bot: { ...base, SLACK_BOT_TOKEN: 'xoxb-test-token', SLACK_SIGNING_SECRET: SECRET, OOMBOT_APPROVERS: APPROVER },
  };
  const apps = {} as Record<(typeof ROLES)[number], Oombot>;
  for (const role of ROLES) {
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
      for (const role of ['watcher', 'sampler', 'bot', 'worker'] as const) await apps[role]?.stop();
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
  // Sampler: a round that read the pods' limits and their usage.
  await until(
    async () => Boolean((apps.sampler.roles.sampler as { sampler?: { lastRound?: { containers: number } } }).sampler?.lastRound?.containers),
    'a sampling round',
  );

  // A rollout first (revision 2), so the worker reads the Deployment's ReplicaSets for the change before the kill.
  for (const plural of ['deployments', 'statefulsets']) {
    const name = plural === 'deployments' ? 'api' : cluster.list('statefulsets', 'shop')[0]!.metadata.name;
    cluster.update(plural, 'shop', name, (d) => {
      d.spec.template.metadata = { ...(d.spec.template.metadata ?? {}), annotations: { 'example.com/rollout': '2' } };
    });
  }
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

  // Worker: a pod of a ReplicaSet no Deployment owns (its metadata is read, then its template), and a job
  // queued by a watcher of the previous version, which carries no pod (the worker reads it).
  cluster.scale('replicasets', 'shop', 'batch', 1);
  const batchPod = () => cluster.list('pods', 'shop').find((p) => p.metadata.ownerReferences?.some((o: { name?: string }) => o.name === 'batch'));
  await until(async () => batchPod() !== undefined, 'a pod of the standalone ReplicaSet');
  cluster.oomKill('shop', batchPod()!.metadata.name as string, 'batch', { startedAt });
  const done = (await apps.worker.queue.getJobs(['completed'])).find((j) => j.data.pod?.name === apiPod)!;
  const { observed: _seen, ...older } = done.data;
  await apps.worker.queue.add(older.kind, { ...older, id: `${older.id}-older` }, { jobId: `${older.id}-older` });
  await until(async () => ((await apps.worker.queue.getJobCounts('completed')).completed ?? 0) >= 7, 'seven incidents handled');
  cluster.scale('replicasets', 'shop', 'batch', 0);
  // The bot reads for itself what the worker left in the shared cache, as when the cache has expired.
  const cached = await apps.bot.redis.keys(`oombot:${r.queueName}:cache:*`);
  if (cached.length > 0) await apps.bot.redis.del(...cached);

  // Bot: the alert's buttons.
  const alert = await slack.waitFor(
    () => slack.messagesIn('#alerts').find((m) => JSON.stringify(m.blocks).includes(apiPod) && JSON.stringify(m.blocks).includes(ACTION_RAISE_LIMIT)),
    20_000,
  );
  const buttons = (alert.blocks as { elements?: { action_id?: string; value?: string }[] }[]).flatMap((b) => b.elements ?? []);
  const buttonValue = (id: string) => buttons.find((b) => b.action_id === id)!.value!;
  const answers: Record<string, string> = {};
  answers.logs = await answer(r, await click(r, ACTION_SHOW_LOGS, buttonValue(ACTION_SHOW_LOGS), alert.ts));
  answers.explain = await answer(r, await click(r, ACTION_EXPLAIN, buttonValue(ACTION_EXPLAIN), alert.ts));
  // Paused, the Deployment keeps its running pods at the old value: the resize offered next has pods to resize.
  cluster.update('deployments', 'shop', 'api', (d) => {
    d.spec.paused = true;
  });
  answers.raiseDeployment = await answer(r, await click(r, ACTION_RAISE_LIMIT, buttonValue(ACTION_RAISE_LIMIT), alert.ts));
  const resize = (
    JSON.parse(answers.raiseDeployment.slice(answers.raiseDeployment.lastIndexOf('\n') + 1)) as { elements?: { action_id?: string; value?: string }[] }[]
  )
    .flatMap((b) => b.elements ?? [])
    .find((b) => b.action_id === ACTION_RESIZE);
  answers.resize = resize ? await answer(r, await click(r, ACTION_RESIZE, resize.value!)) : 'no resize button';

  // Bot: a patch of every other kind it changes.
  const proposals = new ProposalStore(apps.bot.redis, r.queueName);
  const targets: [string, ProposalOwner, string][] = [
    ['StatefulSet', { kind: 'StatefulSet', namespace: 'shop', name: 'db' }, 'db'],
    ['DaemonSet', { kind: 'DaemonSet', namespace: 'shop', name: 'logship' }, 'logship'],
    ['CronJob', { kind: 'CronJob', namespace: 'shop', name: 'report' }, 'report'],
    ['ReplicaSet', { kind: 'ReplicaSet', namespace: 'shop', name: 'batch' }, 'batch'],
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

/** Every (apiGroup, resource, verb) the grants give, whatever the namespace. */
function granted(grants: Grant[]): string[] {
  const all = grants.flatMap((g) => g.rules);
  return [
    ...new Set(
      all.flatMap((rule) =>
        (rule.apiGroups ?? []).flatMap((g) => (rule.resources ?? []).flatMap((res) => rule.verbs.map((v) => `${v} ${res}${g ? `.${g}` : ''}`))),
      ),
    ),
  ];
}

function describeInfo(info: RequestInfo): string {
  return info.isResource ? `${info.verb} ${ruleResource(info)}${info.apiGroup ? `.${info.apiGroup}` : ''}` : `${info.verb} ${info.path}`;
}

function describeWhere(info: RequestInfo): string {
  return `${describeInfo(info)}${info.isResource ? (info.namespace ? ` in ${info.namespace}` : ' (all namespaces)') : ''}`;
}

/**
 * Reads oombot makes across all namespaces even when it watches only some: the pods on the node of a
 * kill and a node's events. Per-namespace RBAC refuses them, and oombot reports each as a gap in its
 * diagnosis instead (the flows below still run to the end).
 */
const CLUSTER_WIDE_READS = ['list pods (all namespaces)', 'list events (all namespaces)'];
/** The worker's reads of what the watcher keeps for it when it watches every namespace (see below). */
const WORKER_FALLBACK_LISTS = ['list pods', 'list nodes', 'list limitranges', 'list verticalpodautoscalers.autoscaling.k8s.io'];
/** Nodes the watcher keeps whatever it watches: the worker lists them only when no watcher has yet. */
const WORKER_FALLBACK_NODES = ['list nodes'];

describe.each(MODES)('Kubernetes API calls and RBAC, watching $name', (mode) => {
  let r: Running;
  let answers: Record<string, string>;
  beforeAll(async () => {
    r = await start(mode);
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
    expect(answers.resize).toContain(': resized');
    const patches = r.proxies.bot.requests.filter((q) => q.method === 'PATCH');
    // 6 raises and 2 running pods resized, each a dry run and the real patch.
    expect(patches).toHaveLength(16);
  });

  it.each(ROLES)('every call of the %s is allowed by what its ServiceAccount is granted', (role) => {
    const refused = r.proxies[role].requests.filter((q) => q.forbidden).map((q) => describeWhere(requestInfo(q)));
    const expected = mode.watchNamespaces ? CLUSTER_WIDE_READS : [];
    expect([...new Set(refused)].filter((call) => !expected.includes(call))).toEqual([]);
  });

  it.each(ROLES)('every permission granted to the %s is used', (role) => {
    const used = new Set(
      r.proxies[role].requests
        .filter((q) => !q.forbidden)
        .map(requestInfo)
        .filter((i) => i.isResource)
        .map(describeInfo),
    );
    // Watching some namespaces, the Roles keep the grants of the cluster-wide reads above: within a
    // watched namespace they are no wider than the gets beside them, and serve those reads once oombot
    // makes them per namespace.
    // Watching every namespace, the watcher keeps nodes, LimitRanges, VPAs and each node's pod sums in
    // Redis, so the worker's lists of them are only its fallback for when no watcher keeps them fresh;
    // watching some, it still keeps nodes.
    const spare = mode.watchNamespaces
      ? [...CLUSTER_WIDE_READS.map((call) => call.replace(' (all namespaces)', '')), ...(role === 'worker' ? WORKER_FALLBACK_NODES : [])]
      : role === 'worker'
        ? WORKER_FALLBACK_LISTS
        : [];
    expect(granted(grantsOf(mode, role)).filter((g) => !used.has(g) && !spare.includes(g))).toEqual([]);
  });

  it.runIf(mode.watchNamespaces)('each call allowed in a watched namespace is refused in any other namespace, and across all namespaces', () => {
    for (const role of ROLES) {
      const grants = grantsOf(mode, role);
      const namespaced = r.proxies[role].requests
        .filter((q) => !q.forbidden)
        .map(requestInfo)
        .filter(
          (i): i is Extract<RequestInfo, { isResource: true }> =>
            i.isResource && i.namespace !== undefined && mode.watchNamespaces.split(',').includes(i.namespace),
        );
      expect(namespaced.length, role).toBeGreaterThan(0);
      for (const info of namespaced) {
        const { namespace: _watched, ...clusterWide } = info;
        expect(authorizes(grants, { ...info, namespace: 'elsewhere' }), `${role}: ${describeInfo(info)} in elsewhere`).toBe(false);
        expect(authorizes(grants, clusterWide), `${role}: ${describeInfo(info)} in all namespaces`).toBe(false);
      }
    }
  });

  it('called every resource whose API path the sources spell out', () => {
    const inSources = findKubeResources(REPO_ROOT);
    expect(inSources.size).toBeGreaterThanOrEqual(10);
    const called = new Set(
      ROLES.flatMap((role) =>
        r.proxies[role].requests.map(requestInfo).flatMap((i) => (i.isResource ? [`${ruleResource(i)}${i.apiGroup ? `.${i.apiGroup}` : ''}`] : [])),
      ),
    );
    const missed = [...inSources].filter(([res]) => !called.has(res)).map(([res, files]) => `${res} (${[...new Set(files)].join(', ')})`);
    expect(missed, 'add a flow that makes these calls, so that the RBAC rules are checked against them').toEqual([]);
  });

  it('the Slack methods called are among those read from the sources', () => {
    const known = findSlackUsage(REPO_ROOT).methods;
    const called = [...new Set(r.slack.calls.map((c) => c.method))];
    expect(called).toContain('chat.postMessage');
    expect(called.filter((m) => !known.has(m))).toEqual([]);
  });
});
