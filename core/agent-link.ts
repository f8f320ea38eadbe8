/**
 * The link between a hub (worker and bot without cluster credentials) and the agent in each cluster,
 * over the Redis both already use. The hub puts one BullMQ job per API call on the cluster's request
 * queue; the agent (agent/) executes it against its own API server and answers with the job's return
 * value. Agents announce themselves in a registry hash with a heartbeat, so the hub can tell "no such
 * cluster" from "its agent is away" before it waits on a queue nobody reads.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Queue, QueueEvents, type Job, type JobsOptions } from 'bullmq';
import { type ClusterDirectory, type ClusterInfo, unknownCluster } from './clusters.js';
import { OombotError, errorMessage, type ErrorCode } from './errors.js';
import type { KubeApi, SendOptions } from './kube-api.js';
import type { Query } from './kube.js';
import type { Logger } from './logger.js';
import { KEY_PREFIX, type RedisClient } from './queue.js';

/** How often an agent writes its registry entry. */
export const AGENT_HEARTBEAT_MS = 10_000;
/** An agent whose last heartbeat is older than this is away: its cluster's calls fail at once. */
export const AGENT_AWAY_MS = 30_000;
/** Agents not seen for this long are left out of the directory (their entry stays for inspection). */
export const AGENT_RETENTION_MS = 7 * 24 * 3600 * 1000;
/** Largest page an agent returns for one listPage request: one job's answer stays a few MB at most. */
export const AGENT_MAX_PAGE = 500;
/** How long the hub trusts its copy of the registry before reading it again. */
const REGISTRY_CACHE_MS = 2_000;
/** Time for an answer to travel back once the agent gave up at the deadline. */
const ANSWER_GRACE_MS = 1_000;

export const AGENT_PROTOCOL_VERSION = 1;

export type AgentOp = 'getJson' | 'getMetadata' | 'listPage' | 'getText' | 'send';
export const AGENT_OPS: readonly AgentOp[] = ['getJson', 'getMetadata', 'listPage', 'getText', 'send'];

/** One API call, as a job's data. */
export interface AgentRequest {
  v: typeof AGENT_PROTOCOL_VERSION;
  op: AgentOp;
  path: string;
  query?: Query;
  /** For `send`. */
  method?: 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  body?: unknown;
  contentType?: string;
  /** For `listPage`: at most AGENT_MAX_PAGE. */
  pageSize?: number;
  /** For `send`: the stored fix proposal the write carries out, and the claim that holds it. */
  proposal?: { id: string; claim: string };
  /** Epoch ms after which the hub no longer waits: the agent never starts the call later than this. */
  deadline: number;
  /**
   * The hub's HMAC of the request and its cluster with OOMBOT_PROPOSAL_KEY (`requestMac`): an agent with
   * the key runs nothing else, so someone able to write to Redis cannot read the cluster through it.
   */
  mac?: string;
}

export interface AgentErrorData {
  code: ErrorCode;
  message: string;
  status?: number;
  retryable?: boolean;
  hint?: string;
}

/** A job's return value. */
export type AgentAnswer = { ok: true; value: unknown } | { ok: true; items: unknown[]; continue?: string } | { ok: false; error: AgentErrorData };

/** What an agent writes in the registry (`agentsKey`), field = its cluster's name. */
export interface AgentRecord {
  /** The agent's oombot version. */
  version: string;
  /** The API server's gitVersion, as the agent last read it. */
  kubernetesVersion?: string;
  startedAt: number;
  lastSeen: number;
  /** Namespaces it watches and serves; empty: all. */
  namespaces: string[];
}

/** The request queue of one cluster's agent. The queue name stays the prefix, so a Redis Cluster hash tag in it is kept. */
export function agentQueueName(queueName: string, cluster: string): string {
  return `${queueName}-agent-${cluster}`;
}

/** The registry hash of every agent. */
export function agentsKey(queueName: string): string {
  return `${KEY_PREFIX}:${queueName}:agents`;
}

/** JSON with its keys sorted: two values are the same data when these are equal. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** The signature of a request for one cluster (the request without its `mac`). */
export function requestMac(key: string | Buffer, cluster: string, req: AgentRequest): string {
  const { mac: _mac, ...rest } = req;
  return createHmac('sha256', key).update(`oombot-agent-request.v1.${cluster}.`).update(canonicalJson(rest)).digest('base64url');
}

/** Whether a request carries the right signature for this cluster. */
export function requestSigned(key: string | Buffer, cluster: string, req: AgentRequest): boolean {
  if (typeof req.mac !== 'string') return false;
  const given = Buffer.from(req.mac, 'base64url');
  const expected = Buffer.from(requestMac(key, cluster, req), 'base64url');
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** A request's job: tried once (a retry is the caller's decision), gone from Redis shortly after. */
export const AGENT_JOB_OPTIONS: JobsOptions = {
  attempts: 1,
  removeOnComplete: { age: 60, count: 1_000 },
  removeOnFail: { age: 300, count: 1_000 },
};

/**
 * The events stream of a request queue carries each answer once more: kept short, since the hub reads
 * it as it comes (an answer can be a page of 500 pods).
 */
const AGENT_QUEUE_EVENTS_MAX = 500;

/** A request queue, with its events stream kept short. */
export function agentQueue(connection: RedisClient, queueName: string, cluster: string): Queue<AgentRequest, AgentAnswer> {
  return new Queue<AgentRequest, AgentAnswer>(agentQueueName(queueName, cluster), {
    connection,
    prefix: KEY_PREFIX,
    defaultJobOptions: AGENT_JOB_OPTIONS,
    streams: { events: { maxLen: AGENT_QUEUE_EVENTS_MAX } },
  });
}

/** An error as an answer: the code, status and flags the hub needs to rebuild the same OombotError. */
export function errorAnswer(err: unknown): AgentAnswer {
  if (err instanceof OombotError) {
    const error: AgentErrorData = { code: err.code, message: err.message };
    if (err.status !== undefined) error.status = err.status;
    if (err.options.retryable !== undefined) error.retryable = err.options.retryable;
    if (err.hint !== undefined) error.hint = err.hint;
    return { ok: false, error };
  }
  return { ok: false, error: { code: 'UNKNOWN', message: errorMessage(err), retryable: true } };
}

/** The OombotError an answer stands for, as the agent's KubeHttp threw it. */
export function answerError(e: AgentErrorData): OombotError {
  const options: { hint?: string; retryable?: boolean; status?: number } = {};
  if (e.hint !== undefined) options.hint = e.hint;
  if (e.retryable !== undefined) options.retryable = e.retryable;
  if (e.status !== undefined) options.status = e.status;
  return new OombotError(e.code, e.message, options);
}

/** "12 s ago", "3 min ago", "2 h ago", "4 d ago". */
export function agoText(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 90) return `${s} s ago`;
  const min = Math.round(s / 60);
  if (min < 90) return `${min} min ago`;
  const h = Math.round(min / 60);
  if (h < 36) return `${h} h ago`;
  return `${Math.round(h / 24)} d ago`;
}

/** The error for a cluster whose agent's heartbeat is too old. */
export function agentAway(cluster: string, lastSeen: number, now = Date.now()): OombotError {
  return new OombotError('AGENT_AWAY', `cluster ${cluster}'s agent was last seen ${agoText(now - lastSeen)}`, {
    retryable: true,
    hint: `check the oombot agent in cluster ${cluster} (its pod, its logs, and that it reaches this Redis)`,
  });
}

/** Writes one agent's registry entry (its heartbeat). */
export async function writeAgentRecord(redis: RedisClient, queueName: string, cluster: string, record: AgentRecord): Promise<void> {
  await redis.hset(agentsKey(queueName), cluster, JSON.stringify(record));
}

/** Every agent's entry; entries that do not parse are left out. */
export async function readAgentRecords(redis: RedisClient, queueName: string): Promise<Map<string, AgentRecord>> {
  const raw = await redis.hgetall(agentsKey(queueName));
  const out = new Map<string, AgentRecord>();
  for (const [cluster, json] of Object.entries(raw)) {
    try {
      const r = JSON.parse(json) as Partial<AgentRecord>;
      if (typeof r.lastSeen !== 'number' || typeof r.version !== 'string') continue;
      out.set(cluster, {
        version: r.version,
        ...(typeof r.kubernetesVersion === 'string' ? { kubernetesVersion: r.kubernetesVersion } : {}),
        startedAt: typeof r.startedAt === 'number' ? r.startedAt : r.lastSeen,
        lastSeen: r.lastSeen,
        namespaces: Array.isArray(r.namespaces) ? r.namespaces.filter((n): n is string => typeof n === 'string') : [],
      });
    } catch {
      // Not an agent's entry: ignored.
    }
  }
  return out;
}

/** A cluster's request queue and the events that carry its answers. */
interface Channel {
  queue: Queue<AgentRequest, AgentAnswer>;
  events: QueueEvents;
}

/**
 * The hub's side of the link: the registry (read at most every few seconds), and each cluster's request
 * queue and its events, opened on first use.
 */
export class AgentLink {
  private registry?: { at: number; agents: Promise<Map<string, AgentRecord>> };
  private readonly channels = new Map<string, Promise<Channel>>();

  readonly log: Logger | undefined;
  /** OOMBOT_PROPOSAL_KEY: every request is signed with it, so an agent runs only what its hub sent. */
  readonly key: string | Buffer | undefined;
  private readonly now: () => number;

  constructor(
    readonly redis: RedisClient,
    readonly queueName: string,
    opts: { log?: Logger; key?: string | Buffer; now?: () => number } = {},
  ) {
    this.log = opts.log;
    this.key = opts.key;
    this.now = opts.now ?? Date.now;
  }

  /** The registry, from a copy at most a few seconds old (`fresh`: read it now). */
  agents(fresh = false): Promise<Map<string, AgentRecord>> {
    const t = this.now();
    if (fresh || !this.registry || t - this.registry.at > REGISTRY_CACHE_MS) {
      const agents = readAgentRecords(this.redis, this.queueName);
      this.registry = { at: t, agents };
      // A failed read is not kept: the next call reads again.
      agents.catch(() => {
        if (this.registry?.agents === agents) this.registry = undefined;
      });
    }
    return this.registry.agents;
  }

  channel(cluster: string): Promise<Channel> {
    let c = this.channels.get(cluster);
    if (!c) {
      c = this.open(cluster);
      this.channels.set(cluster, c);
      c.catch(() => this.channels.delete(cluster));
    }
    return c;
  }

  private async open(cluster: string): Promise<Channel> {
    const name = agentQueueName(this.queueName, cluster);
    // QueueEvents starts reading its stream at "$" only when its first read is under way, after it says it
    // is ready: an answer landing in between would be missed. It reads from the stream's last entry now.
    const last = await this.redis.xrevrange(`${KEY_PREFIX}:${name}:events`, '+', '-', 'COUNT', 1);
    const queue = agentQueue(this.redis, this.queueName, cluster);
    queue.on('error', (err) => this.log?.debug({ cluster, err: errorMessage(err) }, 'agent queue error'));
    // QueueEvents blocks on a connection of its own, which BullMQ makes from this one and closes.
    const events = new QueueEvents(name, { connection: this.redis, prefix: KEY_PREFIX, lastEventId: last[0]?.[0] ?? '0-0' });
    events.on('error', (err) => this.log?.debug({ cluster, err: errorMessage(err) }, 'agent queue events error'));
    return { queue, events };
  }

  async close(): Promise<void> {
    const all = (await Promise.allSettled([...this.channels.values()])).flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    this.channels.clear();
    await Promise.allSettled(all.flatMap((c) => [c.events.close(), c.queue.close()]));
  }
}

/**
 * One cluster's API, answered by its agent. Every call checks the registry first (no agent: UNKNOWN_CLUSTER;
 * an old heartbeat: AGENT_AWAY, both without waiting), then puts a request on the cluster's queue and
 * waits for its answer at most `timeoutMs`. Errors come back as the agent's KubeHttp threw them, so every
 * caller's handling of a 404, a 409 or a rejected dry run is the same as with a local kubeconfig.
 */
export class RemoteKube implements KubeApi {
  readonly timeoutMs: number;

  constructor(
    private readonly link: AgentLink,
    readonly cluster: string,
    opts: { timeoutMs?: number } = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 15_000;
  }

  private async call(req: Omit<AgentRequest, 'v' | 'deadline'>, signal?: AbortSignal): Promise<AgentAnswer & { ok: true }> {
    const what = `${req.op === 'send' ? req.method : 'GET'} ${req.path}`;
    if (signal?.aborted) throw abortError(signal);
    const started = Date.now();
    // One limit for all of it (the registry, adding the job, the agent's call, the answer's way back),
    // joined with the caller's: a Redis that does not answer does not hold the caller either.
    const limit = AbortSignal.timeout(this.timeoutMs + ANSWER_GRACE_MS);
    const stop = signal ? AbortSignal.any([signal, limit]) : limit;
    let stopped: () => void = () => undefined;
    const aborted = new Promise<never>((_, reject) => {
      stopped = () => reject(new Error('stopped'));
      stop.addEventListener('abort', stopped, { once: true });
    });
    aborted.catch(() => undefined);
    let job: Job<AgentRequest, AgentAnswer> | undefined;
    let sent = false;
    try {
      const agents = await Promise.race([this.link.agents(), aborted]);
      const record = agents.get(this.cluster);
      const now = Date.now();
      if (!record || now - record.lastSeen > AGENT_RETENTION_MS) {
        throw unknownCluster(
          this.cluster,
          [...agents].filter(([, r]) => now - r.lastSeen <= AGENT_RETENTION_MS).map(([name]) => name),
        );
      }
      if (now - record.lastSeen > AGENT_AWAY_MS) throw agentAway(this.cluster, record.lastSeen, now);
      sent = true;
      const data: AgentRequest = { v: AGENT_PROTOCOL_VERSION, ...req, deadline: started + this.timeoutMs };
      if (this.link.key) data.mac = requestMac(this.link.key, this.cluster, data);
      const { queue, events } = await Promise.race([this.link.channel(this.cluster), aborted]);
      job = await Promise.race([queue.add(req.op, data), aborted]);
      const answer = (await Promise.race([job.waitUntilFinished(events, this.timeoutMs + ANSWER_GRACE_MS), aborted])) as AgentAnswer | undefined;
      if (!answer || typeof answer !== 'object') throw new Error('the agent gave no answer');
      if (!answer.ok) throw answerError(answer.error);
      return answer;
    } catch (err) {
      if (err instanceof OombotError) throw err;
      // A request still waiting is taken back, so no agent starts it late (it would refuse by its deadline anyway).
      if (job) void job.remove().catch(() => undefined);
      if (signal?.aborted) throw abortError(signal);
      if (!sent) {
        throw new OombotError('REDIS_UNREACHABLE', `cannot read the agents' registry in Redis to reach cluster ${this.cluster}: ${errorMessage(err)}`, {
          retryable: true,
          cause: err,
          hint: 'check that Redis is up and REDIS_URL points at it',
        });
      }
      const seen = (await Promise.race([this.link.agents(true), sleep(1_000)]).catch(() => undefined))?.get(this.cluster);
      if (seen && Date.now() - seen.lastSeen > AGENT_AWAY_MS) throw agentAway(this.cluster, seen.lastSeen);
      const ago = seen ? ` (last seen ${agoText(Date.now() - seen.lastSeen)})` : '';
      const message = limit.aborted
        ? `cluster ${this.cluster}'s agent${ago} did not answer ${what} within ${Math.round(this.timeoutMs / 100) / 10} s`
        : `cluster ${this.cluster}'s agent${ago} failed ${what}: ${errorMessage(err)}`;
      throw new OombotError('KUBE_UNREACHABLE', message, {
        retryable: true,
        cause: err,
        hint: `the agent in cluster ${this.cluster} or its API server is slow or restarting; oombot retries`,
      });
    } finally {
      stop.removeEventListener('abort', stopped);
    }
  }

  async getJson<T>(path: string, query?: Query, signal?: AbortSignal): Promise<T> {
    const a = await this.call({ op: 'getJson', path, ...(query ? { query } : {}) }, signal);
    return ('value' in a ? a.value : undefined) as T;
  }

  async getMetadata<T>(path: string, signal?: AbortSignal): Promise<T> {
    const a = await this.call({ op: 'getMetadata', path }, signal);
    return ('value' in a ? a.value : undefined) as T;
  }

  async getText(path: string, query?: Query): Promise<string> {
    const a = await this.call({ op: 'getText', path, ...(query ? { query } : {}) });
    return String('value' in a ? a.value : '');
  }

  async send<T>(method: 'POST' | 'PATCH' | 'PUT' | 'DELETE', path: string, body: unknown, opts: SendOptions = {}): Promise<T> {
    const req: Omit<AgentRequest, 'v' | 'deadline'> = { op: 'send', method, path, body };
    if (opts.query) req.query = opts.query;
    if (opts.contentType) req.contentType = opts.contentType;
    if (opts.proposal) req.proposal = { id: opts.proposal.id, claim: opts.proposal.claim };
    const a = await this.call(req, opts.signal);
    return ('value' in a ? a.value : undefined) as T;
  }

  async listPage<T>(path: string, query: Query, each: (item: T) => void, pageSize = AGENT_MAX_PAGE, signal?: AbortSignal): Promise<{ continue?: string }> {
    const a = await this.call({ op: 'listPage', path, query, pageSize: Math.min(pageSize, AGENT_MAX_PAGE) }, signal);
    const items = 'items' in a && Array.isArray(a.items) ? a.items : [];
    for (const item of items) each(item as T);
    return 'items' in a && a.continue ? { continue: a.continue } : {};
  }

  async eachListItem<T>(path: string, query: Query, each: (item: T) => void, pageSize = AGENT_MAX_PAGE, signal?: AbortSignal): Promise<void> {
    let cont: string | undefined;
    do cont = (await this.listPage(path, { ...query, continue: cont }, each, pageSize, signal)).continue;
    while (cont);
  }

  async *listPages<T>(path: string, query: Query = {}, pageSize = AGENT_MAX_PAGE, signal?: AbortSignal): AsyncGenerator<T[]> {
    let cont: string | undefined;
    do {
      const page: T[] = [];
      cont = (await this.listPage<T>(path, { ...query, continue: cont }, (item) => page.push(item), pageSize, signal)).continue;
      yield page;
    } while (cont);
  }
}

function sleep(ms: number): Promise<undefined> {
  return new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), ms).unref());
}

function abortError(signal: AbortSignal): unknown {
  return signal.reason instanceof Error ? signal.reason : new DOMException('This operation was aborted', 'AbortError');
}

/**
 * The directory of a process that may hold one cluster's credentials (a single process, or an agent that
 * also runs the worker) and reaches every other cluster through its agent. A hub has no local cluster.
 */
export class AgentClusters implements ClusterDirectory {
  private readonly remotes = new Map<string, RemoteKube>();

  constructor(
    private readonly link: AgentLink,
    private readonly localCluster?: () => { name: string; kube: KubeApi },
    private readonly opts: { timeoutMs?: number } = {},
  ) {}

  get local(): string | undefined {
    return this.localCluster?.().name;
  }

  kube(cluster: string): KubeApi {
    const local = this.localCluster?.();
    if (local && local.name === cluster) return local.kube;
    if (!/^[A-Za-z0-9._-]{1,63}$/.test(cluster)) throw unknownCluster(cluster, local ? [local.name] : []);
    let remote = this.remotes.get(cluster);
    if (!remote) {
      remote = new RemoteKube(this.link, cluster, this.opts);
      this.remotes.set(cluster, remote);
    }
    return remote;
  }

  async list(): Promise<ClusterInfo[]> {
    const local = this.localCluster?.();
    const out: ClusterInfo[] = local ? [{ name: local.name, via: 'local' }] : [];
    const now = Date.now();
    for (const [name, r] of await this.link.agents(true)) {
      if (name === local?.name || now - r.lastSeen > AGENT_RETENTION_MS) continue;
      const info: ClusterInfo = {
        name,
        via: 'agent',
        version: r.version,
        lastSeen: r.lastSeen,
        namespaces: r.namespaces,
        away: now - r.lastSeen > AGENT_AWAY_MS,
      };
      if (r.kubernetesVersion) info.kubernetesVersion = r.kubernetesVersion;
      out.push(info);
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }

  async close(): Promise<void> {
    this.remotes.clear();
    await this.link.close();
  }
}
