import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** Every metric oombot exports on GET /metrics, in one registry per process. */
export class Metrics {
  readonly registry = new Registry();
  readonly eventsSeen = new Counter({
    name: 'oombot_watch_events_total',
    help: 'Objects seen by the watchers, by resource (list items and watch events)',
    labelNames: ['cluster', 'resource'] as const,
    registers: [this.registry],
  });
  readonly kernelOomKills = new Counter({
    name: 'oombot_kernel_oom_kills_total',
    help: 'OOM kills the node agent read in the kernel log, by constraint (memcg, global) and what became of them',
    labelNames: ['constraint', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly incidentsEnqueued = new Counter({
    name: 'oombot_incidents_enqueued_total',
    help: 'Incidents put on the queue, by kind',
    labelNames: ['cluster', 'kind'] as const,
    registers: [this.registry],
  });
  readonly duplicatesDropped = new Counter({
    name: 'oombot_incidents_duplicate_total',
    help: 'Incidents detected again (relist, reconnect, another replica) and not queued twice',
    labelNames: ['cluster', 'kind'] as const,
    registers: [this.registry],
  });
  readonly enqueueFailures = new Counter({
    name: 'oombot_enqueue_failures_total',
    help: 'Attempts to queue an incident that failed (Redis unreachable); each is retried',
    labelNames: ['cluster'] as const,
    registers: [this.registry],
  });
  readonly watchRestarts = new Counter({
    name: 'oombot_watch_restarts_total',
    help: 'Watch restarts, by resource and reason (closed, silent, gone, error)',
    labelNames: ['cluster', 'resource', 'reason'] as const,
    registers: [this.registry],
  });
  readonly watchFailures = new Counter({
    name: 'oombot_watch_failures_total',
    help: 'Failed list or watch attempts, by resource (request errors, watch ERROR events, watches that closed at once); each is followed by a backoff',
    labelNames: ['cluster', 'resource'] as const,
    registers: [this.registry],
  });
  readonly watchSynced = new Gauge({
    name: 'oombot_watch_synced',
    help: '1 when the watch of a resource has listed and is watching',
    labelNames: ['cluster', 'resource'] as const,
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'oombot_queue_depth',
    help: 'Jobs in the incident queue, by state',
    labelNames: ['state'] as const,
    registers: [this.registry],
  });
  readonly podsTracked = new Gauge({
    name: 'oombot_pods_tracked',
    help: 'Pods the watcher knows of',
    labelNames: ['cluster'] as const,
    registers: [this.registry],
  });

  readonly jobsProcessed = new Counter({
    name: 'oombot_jobs_processed_total',
    help: 'Incident jobs handled by workers, by outcome (posted, repeat, snoozed, done, failed, retry)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly fixOutcomes = new Counter({
    name: 'oombot_fix_outcomes_total',
    help: 'Fixes applied from Slack, by what became of them (applied, rolled-out, stuck, held, killed-again, reverted, undone)',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });
  readonly agentRequests = new Counter({
    name: 'oombot_agent_requests_total',
    help: "A cluster's agent: the hub's API calls by operation and outcome (served, error: the API server said no, refused, late: past the deadline)",
    labelNames: ['op', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly apiCallsPerIncident = new Histogram({
    name: 'oombot_kube_api_calls_per_incident',
    help: 'Kubernetes API calls a worker made to enrich one incident',
    buckets: [1, 2, 4, 6, 8, 10, 15, 20],
    registers: [this.registry],
  });
  readonly alertLatency = new Histogram({
    name: 'oombot_alert_latency_seconds',
    help: 'From detection by the watcher to the first Slack message of its group',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
    registers: [this.registry],
  });

  constructor(opts: { defaultMetrics?: boolean } = {}) {
    if (opts.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'oombot_' });
  }

  /** Hooks run just before each scrape (e.g. reading the queue depth from Redis). */
  private readonly collectors: (() => Promise<void>)[] = [];
  onCollect(fn: () => Promise<void>): void {
    this.collectors.push(fn);
  }

  async render(): Promise<string> {
    await Promise.allSettled(this.collectors.map((fn) => fn()));
    return this.registry.metrics();
  }
}
