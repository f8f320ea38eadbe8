/**
 * The bot role running for real behind oombot's HTTP server, with a simulated cluster, a Slack-compatible
 * server and real Redis; requests go in signed exactly as Slack signs them.
 */
import { expect } from 'vitest';
import { loadConfig, parseRoles } from '../../core/config.js';
import { KubeHttp, loadKubeTarget } from '../../core/kube.js';
import { unknownCluster, type ClusterDirectory, type ClusterInfo } from '../../core/clusters.js';
import { OombotError } from '../../core/errors.js';
import type { KubeApi } from '../../core/kube-api.js';
import { ROLE_STARTERS, startOombot, type Oombot } from '../../bin/start.js';
import type { Role } from '../../core/config.js';
import type { RoleContext } from '../../core/role.js';
import { ProposalStore, type StoredProposal } from '../../stores/proposal-store.js';
import type { LimitProposal } from '../../diagnosis/propose-limit.js';
import { renderSlack } from '../../alert/render-slack.js';
import type { MessageModel } from '../../alert/message.js';
import { ACTION_EXPLAIN, ACTION_RAISE_LIMIT, ACTION_SHOW_LOGS, ACTION_SNOOZE } from '../../alert/action-ids.js';
import { sendBlockAction, sendSlashCommand, startSlackServer, type SignOptions, type SignedResponse, type SlackServer } from '../../sim/slack/index.js';
import type { SimApiServer, SimClock, SimCluster } from '../../sim/kube/index.js';
import { startBotRole, type BotRole, type BotRoleOptions } from '../../bot/start-bot.js';
import { startWorkerRole, type WorkerRoleOptions } from '../../handlers/start-worker.js';
import { sampleProposal } from '../helpers/proposals.js';
import { removeQueueData, REDIS_URL, uniqueQueueName } from '../helpers/redis.js';
import { captureLogger, type CapturedLogger } from '../helpers/silent-logger.js';
import { startSimCluster } from '../helpers/watcher-harness.js';

export const SECRET = 'sim-signing-secret-0123456789abcdef';

type Sim = { cluster: SimCluster; server: SimApiServer; kubeconfig: string };

/**
 * What a hub sees of its clusters, without agents: each simulated cluster by name, reached with a plain
 * KubeHttp. Counts the calls the hub makes to each cluster, and can mark a cluster's agent away (its calls
 * then fail as a RemoteKube's do) or drop a cluster (never seen).
 */
export class SimClusters implements ClusterDirectory {
  readonly local = undefined;
  /** API calls the worker and bot made, by cluster. */
  readonly calls: Record<string, number> = {};
  /** Every write, with the proposal and claim it carried. */
  readonly writes: { cluster: string; method: string; path: string; proposal?: { id: string; claim: string } }[] = [];
  private readonly awaySince = new Map<string, number>();
  private readonly kubes = new Map<string, KubeApi>();

  constructor(sims: Record<string, Sim>) {
    for (const [name, sim] of Object.entries(sims)) {
      const http = new KubeHttp(loadKubeTarget({ kubeconfig: sim.kubeconfig, clusterName: name }));
      this.calls[name] = 0;
      this.kubes.set(
        name,
        new Proxy(http, {
          get: (target, prop, receiver) => {
            const v = Reflect.get(target, prop, receiver);
            if (typeof v !== 'function') return v;
            return (...args: unknown[]) => {
              this.calls[name] = (this.calls[name] ?? 0) + 1;
              if (prop === 'send') {
                const proposal = (args[3] as { proposal?: { id: string; claim: string } } | undefined)?.proposal;
                this.writes.push({ cluster: name, method: String(args[0]), path: String(args[1]), ...(proposal ? { proposal } : {}) });
              }
              const away = this.awaySince.get(name);
              if (away !== undefined) throw this.awayError(name, away);
              return (v as (...a: unknown[]) => unknown).apply(target, args);
            };
          },
        }),
      );
    }
  }

  private awayError(name: string, since: number): OombotError {
    const min = Math.max(1, Math.round((Date.now() - since) / 60_000));
    return new OombotError('AGENT_AWAY', `cluster ${name}'s agent was last seen ${min} min ago`, { retryable: true });
  }

  /** The cluster's agent stops its heartbeat, as if last seen `agoMs` ago. */
  setAway(name: string, agoMs = 3 * 60_000): void {
    this.awaySince.set(name, Date.now() - agoMs);
  }

  private readonly served = new Map<string, string[]>();

  /** The cluster's agent serves only these namespaces (its WATCH_NAMESPACES). */
  setNamespaces(name: string, namespaces: string[]): void {
    this.served.set(name, namespaces);
  }

  /** The hub no longer knows the cluster at all (its agent never connected, or its record expired). */
  forget(name: string): void {
    this.kubes.delete(name);
  }

  kube(cluster: string): KubeApi {
    const k = this.kubes.get(cluster);
    if (!k) throw unknownCluster(cluster, [...this.kubes.keys()]);
    return k;
  }

  async list(): Promise<ClusterInfo[]> {
    return [...this.kubes.keys()].sort().map((name) => {
      const away = this.awaySince.get(name);
      return {
        name,
        via: 'agent' as const,
        version: '1.0.0-test',
        kubernetesVersion: 'v1.35.0',
        lastSeen: away ?? Date.now() - 2_000,
        namespaces: this.served.get(name) ?? [],
        ...(away !== undefined ? { away: true } : {}),
      };
    });
  }

  async close(): Promise<void> {}
}

export const APPROVER = 'U0APPROVER';
export const OTHER = 'U0ALICE';

export interface BotHarness {
  app: Oombot;
  bot: BotRole;
  cluster: SimCluster;
  kube: SimApiServer;
  slack: SlackServer;
  logs: CapturedLogger;
  queueName: string;
  url: string;
  proposals: ProposalStore;
  /** The simulated cluster, its server and kubeconfig (to start another oombot against them). */
  sim: Sim;
  /** With `clusters`: each simulated cluster by name, the hub's directory, and each cluster's watcher process. */
  hub?: { sims: Record<string, Sim>; directory: SimClusters; watchers: Oombot[] };
  /**
   * With `clusters` and `agents`: each cluster's agent process (`--roles agent`, its watcher included) by
   * name, and a way to stop one (as a crash would: its jobs in hand are not finished) and start it again.
   */
  agents?: { sims: Record<string, Sim>; apps: Record<string, Oombot>; stop(name: string): Promise<void>; start(name: string): Promise<Oombot> };
  close(): Promise<void>;
  /** `/oom <text>` from `user`, with a response_url the Slack-compatible server serves. */
  command(text: string, user?: string, opts?: SignOptions): Promise<SignedResponse>;
  /** The ephemeral answer of a command or click: the ack body when it carried one, else the response_url post. */
  answer(res: SignedResponse, user?: string): Promise<string>;
  /**
   * Clicks `actionId` as `user`: on the alert at `messageTs` (a stored Slack message), else on an ephemeral
   * answer (where the bot's own buttons are).
   */
  click(actionId: string, value: string, opts?: { user?: string; messageTs?: string; sign?: SignOptions }): Promise<SignedResponse>;
  /** Posts an alert carrying the given proposal (the way the worker renders it), returns its ts. */
  postAlert(stored: StoredProposal, incidentId?: string): Promise<string>;
  createProposal(overrides?: Partial<LimitProposal>, incidentId?: string): Promise<StoredProposal>;
  patches(filter?: { dryRun?: boolean }): { path: string; contentType?: string; dryRun: boolean; body?: string }[];
  ephemeralsFor(user: string): string[];
}

export interface BotHarnessOptions {
  env?: Record<string, string>;
  roles?: Role[];
  replicas?: number;
  /** Socket Mode (SLACK_APP_TOKEN, no signing secret) instead of HTTP mode. */
  socketMode?: boolean;
  /** The bot role's timing options (the role registry's starter is swapped for this start only). */
  bot?: BotRoleOptions;
  /** The worker role's options, the same way (e.g. how often a followed fix is checked). */
  worker?: Pick<WorkerRoleOptions, 'followIntervalMs'>;
  /** The simulated cluster to use instead of a fresh one (a restarted oombot against the same cluster). */
  sim?: { cluster: SimCluster; server: SimApiServer; kubeconfig: string };
  /** Redis queue name to reuse (a restarted oombot keeps its state). */
  queueName?: string;
  /** The Slack-compatible server to reuse. */
  slack?: SlackServer;
  /** The simulated cluster's clock (the system clock by default). */
  clock?: SimClock;
  /** Runs on the simulated cluster before oombot starts: what the cluster already shows at its first look. */
  prepare?: (cluster: SimCluster) => void;
  /**
   * A hub over these simulated clusters (each with the same Deployment shop/api): `roles` run without any
   * kubeconfig against a SimClusters directory, and each cluster gets a watcher process of its own (its
   * agent's watcher) on the same queue. `sim`/`cluster`/`kube` are the first cluster's.
   */
  clusters?: string[];
  /**
   * With `clusters`: real agents instead of a test directory. Each cluster runs `oombot start --roles
   * agent` (the watcher and the agent server) with its own kubeconfig; the hub (`roles`) runs with no
   * cluster of its own and reaches each through its agent over Redis, all sharing OOMBOT_PROPOSAL_KEY.
   */
  agents?: boolean;
  /** More configuration of one cluster's watcher or agent, by cluster (e.g. its WATCH_NAMESPACES). */
  clusterEnv?: Record<string, Record<string, string>>;
}

/** The proposal key a hub and its agents share in the harness. */
const HUB_KEY = 'harness-proposal-key-0123456789abcdefghijklmnop';

export async function startBotHarness(opts: BotHarnessOptions = {}): Promise<BotHarness> {
  const simOpts = { replicas: opts.replicas ?? 2, ...(opts.clock ? { clock: opts.clock } : {}) };
  const sims: Record<string, Sim> = {};
  for (const name of opts.clusters ?? []) {
    sims[name] = await startSimCluster(simOpts);
    opts.prepare?.(sims[name].cluster);
  }
  const hubMode = opts.clusters !== undefined && opts.clusters.length > 0;
  const sim = hubMode ? sims[opts.clusters![0]!]! : (opts.sim ?? (await startSimCluster(simOpts)));
  if (!opts.sim && !hubMode) opts.prepare?.(sim.cluster);
  const withAgents = hubMode && opts.agents === true;
  const directory = hubMode && !withAgents ? new SimClusters(sims) : undefined;
  const slack =
    opts.slack ??
    (await startSlackServer({
      users: [
        { id: OTHER, name: 'alice' },
        { id: APPROVER, name: 'olga' },
      ],
    }));
  const queueName = opts.queueName ?? uniqueQueueName('bot');
  const config = loadConfig({
    REDIS_URL,
    OOMBOT_QUEUE: queueName,
    SLACK_BOT_TOKEN: 'xoxb-test-token',
    SLACK_API_URL: slack.apiUrl,
    SLACK_CHANNEL: '#alerts',
    ...(opts.socketMode ? { SLACK_APP_TOKEN: slack.appToken } : { SLACK_SIGNING_SECRET: SECRET }),
    OOMBOT_APPROVERS: APPROVER,
    PORT: '0',
    ...(withAgents ? { OOMBOT_PROPOSAL_KEY: HUB_KEY } : {}),
    ...opts.env,
  });
  const logs = captureLogger('debug');
  const registered = ROLE_STARTERS.bot;
  const registeredWorker = ROLE_STARTERS.worker;
  // A hub holds no kubeconfig: anything that asks for one fails the start.
  const hubCtx = <C extends RoleContext>(ctx: C): C =>
    directory
      ? {
          ...ctx,
          kube: () => {
            throw new Error('a hub has no kubeconfig: the worker and the bot reach clusters through the directory');
          },
          clusters: () => directory,
        }
      : ctx;
  if (opts.bot || directory) ROLE_STARTERS.bot = (ctx) => startBotRole(hubCtx(ctx), opts.bot);
  if (opts.worker || directory) ROLE_STARTERS.worker = (ctx) => startWorkerRole({ ...hubCtx(ctx), clusters: hubCtx(ctx).clusters(), ...opts.worker });
  let app: Oombot;
  const watchers: Oombot[] = [];
  const agentApps: Record<string, Oombot> = {};
  const startAgent = async (name: string): Promise<Oombot> => {
    agentApps[name] = await startOombot({
      config: loadConfig({ REDIS_URL, OOMBOT_QUEUE: queueName, PORT: '0', CLUSTER_NAME: name, OOMBOT_PROPOSAL_KEY: HUB_KEY, ...opts.clusterEnv?.[name] }),
      roles: parseRoles('agent'),
      log: logs.log.child({ agent: name }),
      kubeTarget: loadKubeTarget({ kubeconfig: sims[name]!.kubeconfig, clusterName: name }),
      host: '127.0.0.1',
    });
    return agentApps[name];
  };
  try {
    for (const [name, s] of directory ? Object.entries(sims) : []) {
      const watcherConfig = loadConfig({ REDIS_URL, OOMBOT_QUEUE: queueName, PORT: '0', ...opts.clusterEnv?.[name] });
      watchers.push(
        await startOombot({
          config: watcherConfig,
          roles: ['watcher'],
          log: logs.log.child({ cluster: name }),
          kubeTarget: loadKubeTarget({ kubeconfig: s.kubeconfig, clusterName: name }),
          host: '127.0.0.1',
        }),
      );
    }
    for (const name of withAgents ? Object.keys(sims) : []) await startAgent(name);
    app = await startOombot({
      config,
      roles: opts.roles ?? ['bot'],
      log: logs.log,
      ...(directory ? {} : withAgents ? { kubeTarget: null } : { kubeTarget: loadKubeTarget({ kubeconfig: sim.kubeconfig, clusterName: 'sim' }) }),
      host: '127.0.0.1',
    });
  } finally {
    ROLE_STARTERS.bot = registered;
    ROLE_STARTERS.worker = registeredWorker;
  }
  const bot = app.roles.bot as BotRole;
  const url = `http://127.0.0.1:${app.port}/slack/events`;
  const proposals = new ProposalStore(app.redis, queueName);
  const channel = 'C0ALERTS';

  const h: BotHarness = {
    app,
    bot,
    cluster: sim.cluster,
    kube: sim.server,
    slack,
    logs,
    queueName,
    url,
    proposals,
    sim,
    ...(directory ? { hub: { sims, directory, watchers } } : {}),
    ...(withAgents
      ? {
          agents: {
            sims,
            apps: agentApps,
            async stop(name: string) {
              await agentApps[name]?.stop();
              delete agentApps[name];
            },
            start: startAgent,
          },
        }
      : {}),
    async close() {
      await app.stop();
      await Promise.all(watchers.map((w) => w.stop()));
      await Promise.all(Object.values(agentApps).map((a) => a.stop()));
      for (const s of Object.values(sims)) if (s !== sim) await s.server.close();
      await sim.server.close();
      await slack.close();
      await removeQueueData(queueName);
    },
    command(text, user = APPROVER, sign) {
      const { response_url, trigger_id } = slack.interaction({ channel, user });
      return sendSlashCommand(url, SECRET, { text, user_id: user, channel_id: channel, response_url, trigger_id }, sign);
    },
    async answer(res, user = APPROVER) {
      expect(res.status).toBe(200);
      const acked = res.json as { text?: string; blocks?: unknown[] } | undefined;
      if (acked?.text && !acked.text.includes('Looking into it')) return `${acked.text}\n${JSON.stringify(acked.blocks ?? [])}`;
      const url = res.request.body.includes('payload=')
        ? (JSON.parse(new URLSearchParams(res.request.body).get('payload')!) as { response_url: string }).response_url
        : new URLSearchParams(res.request.body).get('response_url')!;
      const record = await slack.waitFor(() => slack.responseUrls.find((r) => r.url === url && r.uses.some((u) => u.status === 200)), 15_000);
      const body = record.uses.find((u) => u.status === 200)!.body as { text?: string; blocks?: unknown };
      expect(record.user).toBe(user);
      return `${body.text ?? ''}\n${typeof body.blocks === 'string' ? body.blocks : JSON.stringify(body.blocks ?? [])}`;
    },
    async click(actionId, value, o = {}) {
      const user = o.user ?? APPROVER;
      const ts = o.messageTs;
      const message = ts ? slack.message(channel, ts) : undefined;
      const { response_url, trigger_id } = slack.interaction({ channel, user, ...(ts ? { messageTs: ts } : {}) });
      return sendBlockAction(
        url,
        SECRET,
        {
          action_id: actionId,
          value,
          user: { id: user, username: user === APPROVER ? 'olga' : 'alice' },
          channel: { id: channel, name: 'alerts' },
          message_ts: ts ?? '1700000000.000100',
          ...(message ? { message: slack.asSlackMessage(message) } : { is_ephemeral: true }),
          response_url,
          trigger_id,
        },
        o.sign,
      );
    },
    async postAlert(stored, incidentId = 'inc-test-1') {
      const p = stored.proposal as LimitProposal;
      const model: MessageModel = {
        incidentId,
        kind: 'container-oom',
        title: `OOMKilled: ${p.owner.namespace}/api-pod (api)`,
        severity: 'critical',
        headline: 'Container api was killed at its memory limit under load.',
        cause: 'limit-too-low',
        causeLabel: 'limit too low for the load',
        confidence: 'high',
        facts: [{ label: 'Memory limit', value: p.fromLimit }],
        evidence: [],
        advice: [],
        warnings: [],
        events: [],
        actions: [
          { id: ACTION_RAISE_LIMIT, label: `Raise limit to ${p.toLimit}`, value: stored.id, style: 'primary' },
          { id: ACTION_SHOW_LOGS, label: 'Show logs', value: incidentId },
          { id: ACTION_SNOOZE, label: 'Snooze 24h', value: incidentId },
          { id: ACTION_EXPLAIN, label: 'Explain', value: incidentId },
        ],
        footer: `incident ${incidentId}`,
      };
      const msg = renderSlack(model);
      const res = await fetch(`${slack.apiUrl}chat.postMessage`, {
        method: 'POST',
        headers: { authorization: 'Bearer xoxb-test-token', 'content-type': 'application/json; charset=utf-8' },
        body: JSON.stringify({ channel, text: msg.text, blocks: msg.blocks }),
      });
      const json = (await res.json()) as { ok: boolean; ts: string; error?: string };
      expect(json.ok, json.error).toBe(true);
      slack.calls.length = 0;
      return json.ts;
    },
    createProposal(overrides = {}, incidentId = 'inc-test-1') {
      const proposal = sampleProposal({
        fromRequest: '256Mi',
        fromRequestBytes: 256 * 2 ** 20,
        reason: 'VPA rule after an OOM kill: used = 512Mi; max(used + 100Mi, used × 1.2) = 614.4Mi; rounded up to 640Mi.',
        ...overrides,
      });
      return proposals.create({ incidentId, cluster: directory ? opts.clusters![0]! : 'sim', proposal });
    },
    patches(filter = {}) {
      return sim.server
        .requests({ method: 'PATCH' })
        .map((r) => ({ path: r.path, contentType: r.contentType, dryRun: r.query.dryRun === 'All', body: r.body }))
        .filter((r) => filter.dryRun === undefined || r.dryRun === filter.dryRun);
    },
    ephemeralsFor(user) {
      return slack.ephemerals.filter((e) => e.user === user).map((e) => `${e.text ?? ''}\n${JSON.stringify(e.blocks ?? [])}`);
    },
  };
  return h;
}
