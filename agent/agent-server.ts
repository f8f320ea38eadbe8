/**
 * The agent in a cluster: takes the hub's API calls from its cluster's request queue (core/agent-link.ts)
 * and answers them with its own credentials, after checking each one (authorize.ts): reads of what
 * oombot reads, in the namespaces it watches; writes only for a sealed fix proposal of this cluster whose
 * claim the hub holds at that moment. A heartbeat in the registry tells the hub it is there. It only
 * connects out, to Redis and to its API server.
 */
import { readFileSync } from 'node:fs';
import { Worker, type Job } from 'bullmq';
import {
  AGENT_HEARTBEAT_MS,
  AGENT_MAX_PAGE,
  AGENT_OPS,
  AGENT_PROTOCOL_VERSION,
  agentQueueName,
  errorAnswer,
  requestSigned,
  writeAgentRecord,
  type AgentAnswer,
  type AgentRecord,
  type AgentRequest,
} from '../core/agent-link.js';
import { OombotError, errorMessage } from '../core/errors.js';
import type { KubeApi } from '../core/kube-api.js';
import type { Logger } from '../core/logger.js';
import type { Metrics } from '../core/metrics.js';
import { KEY_PREFIX, type RedisClient } from '../core/queue.js';
import type { ProposalStore } from '../stores/proposal-store.js';
import { authorizeRead, keepItem, podOfWorkload, refused, writeMismatch, writeTarget } from './authorize.js';

/** How often the API server's version is read again for the registry. */
const VERSION_REFRESH_MS = 10 * 60_000;

export interface AgentServerOptions {
  redis: RedisClient;
  queueName: string;
  /** This cluster's name, as incidents and proposals carry it. */
  cluster: string;
  kube: KubeApi;
  /** WATCH_NAMESPACES; empty: all. */
  namespaces: readonly string[];
  /** Proposals opened with the shared OOMBOT_PROPOSAL_KEY; none: every write is refused. */
  proposals: ProposalStore | undefined;
  /** OOMBOT_PROPOSAL_KEY: when set, only requests the hub signed with it are served. */
  key?: string | Buffer;
  log: Logger;
  metrics?: Metrics;
  /** Calls served at once (default 8). */
  concurrency?: number;
  heartbeatMs?: number;
  /** The agent's version in the registry (default: package.json's). */
  version?: string;
}

/** Counts of what the agent did, for its metrics and tests. */
export interface AgentStats {
  served: number;
  /** The API server answered with an error (or did not answer in time). */
  error: number;
  refused: number;
  late: number;
}

export class AgentServer {
  readonly stats: AgentStats = { served: 0, error: 0, refused: 0, late: 0 };
  private worker?: Worker<AgentRequest, AgentAnswer>;
  private heartbeat?: NodeJS.Timeout;
  private readonly startedAt = Date.now();
  private kubernetesVersion?: string;
  private versionReadAt = 0;
  private beating = false;

  constructor(private readonly o: AgentServerOptions) {}

  async start(): Promise<void> {
    const { o } = this;
    if (!o.proposals) {
      o.log.warn(
        { cluster: o.cluster },
        'OOMBOT_PROPOSAL_KEY is not set: this agent refuses every write (fixes from Slack). Set the same OOMBOT_PROPOSAL_KEY as the hub',
      );
    }
    this.worker = new Worker<AgentRequest, AgentAnswer>(agentQueueName(o.queueName, o.cluster), (job) => this.serve(job), {
      connection: o.redis,
      prefix: KEY_PREFIX,
      concurrency: o.concurrency ?? 8,
      // A request whose agent died is not taken up again by the next one: the hub has stopped waiting.
      maxStalledCount: 0,
    });
    this.worker.on('error', (err) => o.log.warn({ err: errorMessage(err) }, 'agent queue connection error'));
    // The first heartbeat before serving, but a Redis out of reach does not hold the start: it is retried.
    await Promise.race([this.beat(), new Promise((r) => setTimeout(r, 2_000).unref())]);
    this.heartbeat = setInterval(() => void this.beat(), o.heartbeatMs ?? AGENT_HEARTBEAT_MS);
    this.heartbeat.unref();
    o.log.info(
      { cluster: o.cluster, namespaces: o.namespaces.length ? o.namespaces : 'all', writes: Boolean(o.proposals) },
      'agent serving its cluster to the hub',
    );
  }

  /** Writes the registry entry (and reads the API server's version now and then); one at a time. */
  private async beat(): Promise<void> {
    if (this.beating) return;
    this.beating = true;
    try {
      await this.beatOnce();
    } finally {
      this.beating = false;
    }
  }

  private async beatOnce(): Promise<void> {
    const { o } = this;
    const now = Date.now();
    if (!this.kubernetesVersion || now - this.versionReadAt > VERSION_REFRESH_MS) {
      try {
        const v = await o.kube.getJson<{ gitVersion?: string }>('/version', undefined, AbortSignal.timeout(5_000));
        if (typeof v?.gitVersion === 'string') this.kubernetesVersion = v.gitVersion.slice(0, 64);
        this.versionReadAt = now;
      } catch (err) {
        o.log.debug({ err: errorMessage(err) }, 'cannot read the API server version for the heartbeat');
      }
    }
    const record: AgentRecord = {
      version: o.version ?? packageVersion(),
      startedAt: this.startedAt,
      lastSeen: Date.now(),
      namespaces: [...o.namespaces],
      ...(this.kubernetesVersion ? { kubernetesVersion: this.kubernetesVersion } : {}),
    };
    try {
      await writeAgentRecord(o.redis, o.queueName, o.cluster, record);
    } catch (err) {
      o.log.warn({ err: errorMessage(err) }, 'cannot write the agent heartbeat to Redis: the hub will call this cluster away');
    }
  }

  /** Ready when the API server answers (Redis is checked by the process's own readiness). */
  async readiness(): Promise<{ ok: boolean; detail?: string }> {
    try {
      await this.o.kube.getJson('/version', undefined, AbortSignal.timeout(2_000));
      return { ok: true };
    } catch (err) {
      return { ok: false, detail: `API server: ${errorMessage(err)}` };
    }
  }

  async stop(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    await this.worker?.close();
    this.worker = undefined;
  }

  /** One request: refused, or executed and answered. Never throws: every outcome is an answer. */
  private async serve(job: Job<AgentRequest, AgentAnswer>): Promise<AgentAnswer> {
    const { answer, outcome } = await this.answer(job);
    this.stats[outcome]++;
    this.o.metrics?.agentRequests.inc({ op: AGENT_OPS.includes(job.data?.op) ? job.data.op : 'unknown', outcome });
    return answer;
  }

  private async answer(job: Job<AgentRequest, AgentAnswer>): Promise<{ answer: AgentAnswer; outcome: keyof AgentStats }> {
    const { o } = this;
    const req = job.data;
    try {
      checkShape(o.cluster, req);
      if (o.key && !requestSigned(o.key, o.cluster, req)) {
        throw refused(
          o.cluster,
          req,
          'it is not signed with the OOMBOT_PROPOSAL_KEY this agent shares with the hub',
          'set the same OOMBOT_PROPOSAL_KEY on the hub as on the agent',
        );
      }
      const left = req.deadline - Date.now();
      if (left <= 0) {
        // The hub has stopped waiting: a write it was told failed must not happen after all.
        o.log.warn({ op: req.op, method: req.method, path: req.path, lateMs: -left }, 'request not executed: its deadline passed before the agent took it');
        const late = new OombotError('KUBE_UNREACHABLE', `cluster ${o.cluster}'s agent took ${what(req)} after its deadline: not executed`, {
          retryable: true,
        });
        return { answer: errorAnswer(late), outcome: 'late' };
      }
      const signal = AbortSignal.timeout(left);
      try {
        return { answer: req.op === 'send' ? await this.write(req, signal) : await this.read(req, signal), outcome: 'served' };
      } catch (err) {
        if (!signal.aborted) throw err;
        // The hub's time ran out while the API server was still at it: said as the local client says it.
        const budget = Math.round((req.deadline - job.timestamp) / 100) / 10;
        throw new OombotError('KUBE_UNREACHABLE', `cluster ${o.cluster}'s API server did not answer ${what(req)} within ${budget} s (through its agent)`, {
          retryable: true,
          cause: err,
          hint: 'the API server is slow or overloaded; oombot retries',
        });
      }
    } catch (err) {
      if (err instanceof OombotError && err.code === 'AGENT_REFUSED') {
        o.log.warn(
          { op: req?.op, method: req?.method, path: String(req?.path).slice(0, 300), proposal: req?.proposal?.id, err: err.message },
          'request refused',
        );
        return { answer: errorAnswer(err), outcome: 'refused' };
      }
      return { answer: errorAnswer(err), outcome: 'error' };
    }
  }

  private async read(req: AgentRequest, signal: AbortSignal): Promise<AgentAnswer> {
    const { o } = this;
    const { filterItems } = authorizeRead(o.cluster, req, o.namespaces);
    switch (req.op) {
      case 'getText':
        return { ok: true, value: await o.kube.getText(req.path, req.query) };
      case 'getMetadata':
        return { ok: true, value: await o.kube.getMetadata(req.path, signal) };
      case 'listPage': {
        const items: unknown[] = [];
        const pageSize = Math.max(1, Math.min(AGENT_MAX_PAGE, Math.floor(Number(req.pageSize) || AGENT_MAX_PAGE)));
        const { continue: cont } = await o.kube.listPage(
          req.path,
          req.query ?? {},
          (item) => {
            if (!filterItems || keepItem(item, o.namespaces)) items.push(item);
          },
          pageSize,
          signal,
        );
        return cont ? { ok: true, items, continue: cont } : { ok: true, items };
      }
      default: {
        const value = await o.kube.getJson<unknown>(req.path, req.query, signal);
        const list = value as { items?: unknown } | null;
        if (filterItems && list && Array.isArray(list.items)) list.items = list.items.filter((item) => keepItem(item, o.namespaces));
        return { ok: true, value };
      }
    }
  }

  private async write(req: AgentRequest, signal: AbortSignal): Promise<AgentAnswer> {
    const { o } = this;
    const no = (why: string, hint?: string) => refused(o.cluster, req, why, hint);
    const target = writeTarget(o.cluster, req);
    if (!req.proposal || typeof req.proposal.id !== 'string' || typeof req.proposal.claim !== 'string') {
      throw no('a write must carry the fix proposal it carries out');
    }
    if (!o.proposals)
      throw no('OOMBOT_PROPOSAL_KEY is not set on this agent, so it opens no proposal', 'set the same OOMBOT_PROPOSAL_KEY on the agent as on the hub');
    const stored = await o.proposals.get(req.proposal.id);
    if (!stored) {
      throw no(
        'its proposal is unknown, expired, or not sealed with the key this agent shares with the hub',
        'check that the agent and the hub have the same OOMBOT_PROPOSAL_KEY',
      );
    }
    if (stored.cluster !== o.cluster) throw no(`its proposal is for cluster ${stored.cluster}`);
    if (!(await o.proposals.holds({ id: stored.id, token: req.proposal.claim })))
      throw no('its proposal is not claimed by this request (applied, released, or claimed by another click)');
    const owner = stored.proposal.owner;
    if (o.namespaces.length > 0 && !o.namespaces.includes(owner.namespace)) throw no(`namespace ${owner.namespace} is not one this agent watches`);
    const mismatch = writeMismatch(target, req.body, stored.proposal);
    if (mismatch) throw no(mismatch);
    if (target.kind === 'resize') {
      const pod = await o.kube.getJson<unknown>(
        `/api/v1/namespaces/${encodeURIComponent(target.path.namespace)}/pods/${encodeURIComponent(target.path.name)}`,
        undefined,
        signal,
      );
      if (!podOfWorkload(pod, owner))
        throw no(`pod ${target.path.namespace}/${target.path.name} is not one of ${owner.kind} ${owner.namespace}/${owner.name}'s`);
    }
    const opts: { contentType?: string; query?: AgentRequest['query']; signal: AbortSignal } = { signal };
    if (req.contentType) opts.contentType = req.contentType;
    if (req.query) opts.query = req.query;
    const value = await o.kube.send<unknown>(req.method!, req.path, req.body, opts);
    o.log.info({ method: req.method, path: req.path, proposal: stored.id, dryRun: req.query?.dryRun === 'All' }, 'write carried out for an approved proposal');
    return { ok: true, value };
  }
}

function what(req: AgentRequest): string {
  return `${req.op === 'send' ? req.method : 'GET'} ${String(req.path).slice(0, 300)}`;
}

/** A request of another protocol version, or not a request at all, is refused with a message that says so. */
function checkShape(cluster: string, req: AgentRequest): void {
  const r = req as Partial<AgentRequest> | null;
  const shown = { op: String(r?.op ?? '?') as AgentRequest['op'], path: typeof r?.path === 'string' ? r.path : '?' };
  if (r?.v !== AGENT_PROTOCOL_VERSION) {
    throw refused(
      cluster,
      shown,
      `it speaks protocol v${String(r?.v).slice(0, 8)}, this agent v${AGENT_PROTOCOL_VERSION}`,
      'run the same oombot version on the hub and the agents',
    );
  }
  if (!AGENT_OPS.includes(r.op as AgentRequest['op']) || typeof r.path !== 'string' || typeof r.deadline !== 'number')
    throw refused(cluster, shown, 'not a request');
  if (r.query !== undefined && (typeof r.query !== 'object' || r.query === null || Array.isArray(r.query)))
    throw refused(cluster, shown, 'its query is not an object');
}

let version: string | undefined;

/** oombot's version from its package.json (next to the build, or the checkout). */
export function packageVersion(): string {
  version ??= readPackageVersion();
  return version;
}

function readPackageVersion(): string {
  for (const up of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(up, import.meta.url), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'oombot' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // Not there: the next place.
    }
  }
  return process.env.npm_package_version ?? 'unknown';
}
