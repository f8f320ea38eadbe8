import { createHash } from 'node:crypto';
import type { RedisClient } from '../core/queue.js';
import type { Queue } from 'bullmq';
import type { KubeHttp } from '../core/kube.js';
import type { Logger } from '../core/logger.js';
import { KEY_PREFIX } from '../core/queue.js';
import { OombotError, errorMessage } from '../core/errors.js';
import { parseMemoryBytes } from '../core/quantity.js';
import { NEAR_LIMIT_JOB, NEAR_LIMIT_VERSION, type NearLimitJob } from '../core/near-limit.js';
import { assessNearLimit, type NearLimitVerdict } from '../diagnosis/assess-near-limit.js';
import { MemoryHistory, type MemorySample } from '../stores/memory-history.js';
import { PodLimitsCache } from './pod-limits.js';

interface PodMetricsItem {
  metadata?: { name?: string; namespace?: string };
  timestamp?: string;
  containers?: { name?: string; usage?: { memory?: string } }[];
}

export interface SamplerOptions {
  kube: KubeHttp;
  redis: RedisClient;
  queue: Queue<NearLimitJob>;
  log: Logger;
  cluster: string;
  queueName: string;
  namespaces: string[];
  intervalMs: number;
  warnAt: number;
  /** How often an active warning's message is brought up to date (default: every minute, at least every round). */
  updateEveryMs?: number;
  podListMaxAgeMs?: number;
  now?: () => number;
}

export interface RoundResult {
  /** False when another replica had the round. */
  ran: boolean;
  apiCalls: number;
  containers: number;
  queued: number;
}

/** An active warning, kept per workload in one Redis hash per cluster. */
interface Active {
  since: number;
  queuedAt: number;
  pod: string;
  container: string;
}

/**
 * Reads metrics.k8s.io every interval for the containers that have a memory limit, records their working
 * set (stores/memory-history.ts) and queues a near-limit warning when one climbs past OOMBOT_WARN_AT.
 *
 * Each round is taken by one replica only: a Redis key per round number (`SET NX`), so two samplers
 * share the work instead of doubling it. Their ticks are aligned to the interval, so both try the same
 * round at nearly the same time and the loser waits for the next one. API calls per round: the metrics
 * list (paged by 500 when the server pages; metrics-server answers in one), plus the Running pods list
 * (paged by 500) every 5 minutes or when metrics name a pod that list did not have, at most every 30 s.
 */
export class Sampler {
  readonly history: MemoryHistory;
  readonly limits: PodLimitsCache;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  private stopped = false;
  private metricsMissing = false;
  rounds = 0;
  lastRound: RoundResult | undefined;

  constructor(private readonly opts: SamplerOptions) {
    this.history = new MemoryHistory(opts.redis, opts.queueName, opts.cluster);
    this.limits = new PodLimitsCache(opts.kube, opts.namespaces, opts.podListMaxAgeMs, Math.min(30_000, opts.intervalMs * 10));
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }

  private key(part: string): string {
    return `${KEY_PREFIX}:${this.opts.queueName}:${part}`;
  }

  start(): void {
    const schedule = () => {
      if (this.stopped) return;
      const i = this.opts.intervalMs;
      const wait = i - (Date.now() % i) + 5;
      this.timer = setTimeout(() => {
        this.running = this.round()
          .catch((err: unknown) => this.opts.log.warn({ err: errorMessage(err) }, 'memory sampling round failed: trying again next round'))
          .finally(() => {
            this.running = undefined;
            schedule();
          });
      }, wait);
      this.timer.unref();
    };
    schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }

  /** One round, if this replica wins it. */
  async round(): Promise<RoundResult> {
    const now = this.now();
    const roundNo = Math.floor(now / this.opts.intervalMs);
    const won = await this.opts.redis.set(this.key(`sampler:round:${this.opts.cluster}`), String(roundNo), 'PX', this.opts.intervalMs * 10, 'GET');
    // SET ... GET answers the previous value: this replica has the round unless it already was this one.
    if (won !== null && Number(won) >= roundNo) {
      if (Number(won) > roundNo) await this.opts.redis.set(this.key(`sampler:round:${this.opts.cluster}`), won, 'PX', this.opts.intervalMs * 10);
      return { ran: false, apiCalls: 0, containers: 0, queued: 0 };
    }
    const callsBefore = this.limits.calls;
    let apiCalls = 0;
    await this.limits.refresh(now);
    const items: PodMetricsItem[] = [];
    try {
      const paths = this.opts.namespaces.length
        ? this.opts.namespaces.map((ns) => `/apis/metrics.k8s.io/v1beta1/namespaces/${encodeURIComponent(ns)}/pods`)
        : ['/apis/metrics.k8s.io/v1beta1/pods'];
      for (const path of paths) {
        for await (const page of this.opts.kube.listPages<PodMetricsItem>(path, {}, 500)) {
          apiCalls++;
          items.push(...page);
        }
      }
      if (this.metricsMissing) this.opts.log.info('metrics.k8s.io answers again: sampling memory');
      this.metricsMissing = false;
    } catch (err) {
      apiCalls++;
      const status = err instanceof OombotError ? err.status : undefined;
      if (status === 404 || status === 403 || status === 503) {
        if (!this.metricsMissing) {
          this.opts.log.warn(
            { status, err: errorMessage(err) },
            status === 403
              ? 'cannot list metrics.k8s.io pods (forbidden): no near-limit warnings or memory curves; grant list on metrics.k8s.io pods to the sampler'
              : 'metrics.k8s.io is not served (metrics-server is not installed or not ready): no near-limit warnings or memory curves until it is; alerts work as before',
          );
        }
        this.metricsMissing = true;
        return this.done({ ran: true, apiCalls: apiCalls + this.limits.calls - callsBefore, containers: 0, queued: 0 });
      }
      throw err;
    }
    const unknown = items.filter((m) => m.metadata?.namespace && m.metadata.name && !this.limits.knows(m.metadata.namespace, m.metadata.name)).length;
    if (unknown > 0) await this.limits.refresh(now, unknown);

    const samples: MemorySample[] = [];
    const meta = new Map<string, { namespace: string; pod: string; container: string; workload: string; limit: number }>();
    for (const m of items) {
      const ns = m.metadata?.namespace;
      const name = m.metadata?.name;
      if (!ns || !name) continue;
      const pod = this.limits.get(ns, name);
      if (!pod) continue;
      const at = Math.floor((Date.parse(m.timestamp ?? '') || now) / 1000);
      for (const c of m.containers ?? []) {
        const limit = c.name ? pod.limits.get(c.name) : undefined;
        const bytes = parseMemoryBytes(c.usage?.memory);
        if (!c.name || !limit || bytes === undefined) continue;
        const container = `${ns}/${name}/${c.name}`;
        samples.push({ container, at, bytes });
        meta.set(container, { namespace: ns, pod: name, container: c.name, workload: pod.workload, limit });
      }
    }
    const recent = await this.history.record(samples);

    // The worst container of each workload speaks for it.
    const worst = new Map<string, { verdict: NearLimitVerdict; m: NonNullable<ReturnType<typeof meta.get>>; at: number }>();
    for (const [container, points] of recent) {
      const m = meta.get(container)!;
      const verdict = assessNearLimit(points, m.limit, this.opts.warnAt);
      const wk = `${m.namespace}/${m.workload}`;
      const prev = worst.get(wk);
      const rank = (v: NearLimitVerdict) => (v.state === 'rising' ? 2 : v.state === 'high' ? 1 : 0);
      if (!prev || rank(verdict) > rank(prev.verdict) || (rank(verdict) === rank(prev.verdict) && verdict.share > prev.verdict.share)) {
        worst.set(wk, { verdict, m, at: points[points.length - 1]?.at ?? now / 1000 });
      }
    }
    const queued = await this.decide(worst, now);
    return this.done({ ran: true, apiCalls: apiCalls + this.limits.calls - callsBefore, containers: samples.length, queued });
  }

  private done(r: RoundResult): RoundResult {
    this.rounds++;
    this.lastRound = r;
    this.opts.log.debug({ ...r }, 'memory sampling round');
    return r;
  }

  /** Queues a warning for workloads that start rising, an update now and then while they do, and a resolution when they fall. */
  private async decide(
    worst: Map<string, { verdict: NearLimitVerdict; m: { namespace: string; pod: string; container: string; workload: string; limit: number }; at: number }>,
    now: number,
  ): Promise<number> {
    const activeKey = this.key(`nearlimit:active:${this.opts.cluster}`);
    const raw = await this.opts.redis.hgetall(activeKey);
    const active = new Map<string, Active>();
    for (const [wk, v] of Object.entries(raw)) {
      try {
        active.set(wk, JSON.parse(v) as Active);
      } catch {
        await this.opts.redis.hdel(activeKey, wk);
      }
    }
    const updateEvery = this.opts.updateEveryMs ?? Math.max(60_000, this.opts.intervalMs);
    const jobs: NearLimitJob[] = [];
    const sets: Record<string, string> = {};
    for (const [wk, { verdict, m, at }] of worst) {
      const a = active.get(wk);
      const job = (state: NearLimitJob['state']): NearLimitJob => ({
        v: NEAR_LIMIT_VERSION,
        cluster: this.opts.cluster,
        namespace: m.namespace,
        pod: m.pod,
        container: m.container,
        workload: m.workload,
        state,
        at: new Date(at * 1000).toISOString(),
        workingSetBytes: verdict.bytes,
        limitBytes: m.limit,
        ...(verdict.etaSeconds !== undefined ? { etaSeconds: Math.round(verdict.etaSeconds) } : {}),
      });
      if (verdict.state === 'rising' && (!a || now - a.queuedAt >= updateEvery)) {
        jobs.push(job('rising'));
        sets[wk] = JSON.stringify({ since: a?.since ?? now, queuedAt: now, pod: m.pod, container: m.container } satisfies Active);
      } else if (verdict.state === 'below' && a) {
        jobs.push(job('resolved'));
        await this.opts.redis.hdel(activeKey, wk);
      }
    }
    // A workload that warned and has no running container with a limit any more (deleted, scaled to 0).
    for (const [wk, a] of active) {
      if (worst.has(wk)) continue;
      if (now - a.queuedAt < 5 * 60_000) continue;
      await this.opts.redis.hdel(activeKey, wk);
    }
    if (Object.keys(sets).length > 0) {
      await this.opts.redis
        .multi()
        .hset(activeKey, sets)
        .pexpire(activeKey, 24 * 3600_000)
        .exec();
    }
    for (const j of jobs) {
      const id = `nl-${createHash('sha256').update(`${j.cluster}/${j.namespace}/${j.workload}/${j.state}/${j.at}`).digest('hex').slice(0, 32)}`;
      await this.opts.queue.add(NEAR_LIMIT_JOB, j, { jobId: id });
      this.opts.log.info(
        { workload: `${j.namespace}/${j.workload}`, state: j.state, share: Math.round((j.workingSetBytes / j.limitBytes) * 100) },
        'near-limit warning queued',
      );
    }
    return jobs.length;
  }
}
