import ms from 'ms';
import { redactUrl } from './redact.js';
import { clusterQueueName, parseRedisUrl, RedisUrlError, type RedisTarget } from './redis-url.js';

export type Role = 'watcher' | 'worker' | 'bot' | 'sampler' | 'node-agent' | 'agent';
export const ALL_ROLES: readonly Role[] = ['watcher', 'worker', 'bot', 'sampler', 'node-agent', 'agent'];
/** What `oombot start` runs without `--roles`: the node agent runs only where asked (a DaemonSet). */
export const DEFAULT_ROLES: readonly Role[] = ['watcher', 'worker', 'bot', 'sampler'];

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export interface Config {
  /** Path of the kubeconfig; undefined means in-cluster config when in a pod, else ~/.kube/config. */
  kubeconfig?: string;
  /** Name used in alerts and incident ids; undefined means the kube context's name. */
  clusterName?: string;
  /** Namespaces to watch; empty means all. */
  watchNamespaces: string[];
  redisUrl: string;
  /** BullMQ queue name and Redis key prefix part: OOMBOT_QUEUE, as `{OOMBOT_QUEUE}` on a Redis Cluster. */
  queueName: string;
  slack: {
    botToken?: string;
    signingSecret?: string;
    appToken?: string;
    apiUrl?: string;
    channel?: string;
    /** namespace -> channel */
    routes: Record<string, string>;
  };
  port: number;
  logLevel: LogLevel;
  /** Slack user ids allowed to apply fixes; empty means nobody. */
  approvers: string[];
  /** HMAC key of stored proposals (OOMBOT_PROPOSAL_KEY), shared by the worker and the bot. */
  proposalKey?: string;
  /** Slack user ids allowed to snooze and unsnooze alerts (OOMBOT_SNOOZERS; the approvers when unset). */
  snoozers: string[];
  /** On a first start, kills older than this are not replayed as alerts (ms). */
  lookbackMs: number;
  /** How long an incident id is remembered to drop duplicates (ms). */
  dedupeTtlMs: number;
  /** A watch that delivers nothing (not even a bookmark) for this long is restarted (ms). */
  watchSilenceMs: number;
  /** Repeats of a workload within this window thread under one message (ms). */
  groupWindowMs: number;
  /**
   * How long a job, or a flush of repeats, stays with a worker that stopped answering (crashed,
   * killed, cut off from Redis) before another worker takes it over (ms).
   */
  jobLockMs: number;
  /** After a raise has rolled out, how long without a kill at the new limit before it is called held (ms). */
  verifyWindowMs: number;
  /** Highest memory limit a proposal may offer, in bytes; undefined means only the node caps it. */
  maxMemoryLimitBytes?: number;
  /** How often the sampler reads metrics.k8s.io (ms, at least 1 s). */
  sampleIntervalMs: number;
  /** Share of the memory limit (0..1) at or above which a rising working set is warned about. */
  warnAt: number;
  /** Prometheus with cAdvisor's container_memory_working_set_bytes: the memory curve's source when set. */
  prometheusUrl?: string;
  /** The node agent's node (NODE_NAME, from the downward API). */
  nodeName?: string;
  /** The kernel log the node agent follows (OOMBOT_KMSG): /dev/kmsg, or a file or FIFO in its format. */
  kmsgPath: string;
  /** The node's boot id (OOMBOT_BOOT_ID); undefined: read /proc/sys/kernel/random/boot_id. */
  bootId?: string;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

type Env = Record<string, string | undefined>;

function str(env: Env, name: string): string | undefined {
  const v = env[name]?.trim();
  return v === undefined || v === '' ? undefined : v;
}

function list(value: string | undefined): string[] {
  if (!value) return [];
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SLACK_USER_ID = /^[UW][A-Z0-9]{2,}$/;
const SLACK_CHANNEL = /^(#[a-z0-9_\-.]{1,80}|[CGD][A-Z0-9]{2,})$/;

/**
 * Parses, coerces, applies defaults and validates the whole configuration at start-up.
 * Every problem names the variable and what to set; all problems are reported at once.
 */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];

  const duration = (name: string, fallback: string): number => {
    const raw = str(env, name) ?? fallback;
    const value = /^\d+$/.test(raw) ? Number(raw) * 1000 : ms(raw as ms.StringValue);
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      problems.push(`${name}="${raw}" is not a duration: set it like 30s, 15m, 2h or 7d`);
      return ms(fallback as ms.StringValue);
    }
    return value;
  };

  const watchNamespaces = list(str(env, 'WATCH_NAMESPACES'));
  for (const ns of watchNamespaces) {
    if (!DNS_LABEL.test(ns) || ns.length > 63) {
      problems.push(`WATCH_NAMESPACES contains "${ns}", which is not a namespace name: use a comma list like "shop,payments"`);
    }
  }

  const redisUrl = str(env, 'REDIS_URL') ?? 'redis://127.0.0.1:6379';
  let redisMode: RedisTarget['mode'] = 'standalone';
  try {
    redisMode = parseRedisUrl(redisUrl).mode;
  } catch (err) {
    const why = err instanceof RedisUrlError ? err.message : 'it is not a Redis URL';
    problems.push(`REDIS_URL="${redactUrl(redisUrl)}" cannot be used: ${why}`);
  }

  const botToken = str(env, 'SLACK_BOT_TOKEN');
  if (botToken && !botToken.startsWith('xoxb-')) {
    problems.push('SLACK_BOT_TOKEN does not start with "xoxb-": use the Bot User OAuth Token from your Slack app\'s "OAuth & Permissions" page');
  }
  const appToken = str(env, 'SLACK_APP_TOKEN');
  if (appToken && !appToken.startsWith('xapp-')) {
    problems.push('SLACK_APP_TOKEN does not start with "xapp-": create an app-level token with the connections:write scope under "Basic Information"');
  }
  if (appToken && !botToken) {
    problems.push('SLACK_APP_TOKEN is set but SLACK_BOT_TOKEN is not: Socket Mode needs both');
  }
  const signingSecret = str(env, 'SLACK_SIGNING_SECRET');
  const apiUrl = str(env, 'SLACK_API_URL');
  if (apiUrl) {
    try {
      const u = new URL(apiUrl);
      if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('protocol');
    } catch {
      problems.push(`SLACK_API_URL="${apiUrl}" is not a URL: set it like https://slack.com/api/`);
    }
  }
  const channel = str(env, 'SLACK_CHANNEL');
  if (channel && !SLACK_CHANNEL.test(channel)) {
    problems.push(`SLACK_CHANNEL="${channel}" is not a channel: use a channel id like C0123456789 or a name like #alerts`);
  }
  if (botToken && !channel) {
    problems.push('SLACK_BOT_TOKEN is set but SLACK_CHANNEL is not: set the channel alerts go to, e.g. SLACK_CHANNEL=#oom-alerts');
  }

  const routes: Record<string, string> = {};
  for (const pair of list(str(env, 'OOMBOT_ROUTES'))) {
    const [ns, ch, ...rest] = pair.split('=').map((s) => s.trim());
    if (!ns || !ch || rest.length > 0 || !DNS_LABEL.test(ns) || !SLACK_CHANNEL.test(ch)) {
      problems.push(`OOMBOT_ROUTES entry "${pair}" is not namespace=channel: use e.g. OOMBOT_ROUTES="payments=#payments-oncall,shop=C0123456789"`);
      continue;
    }
    routes[ns] = ch;
  }

  const portRaw = str(env, 'PORT') ?? '3000';
  const port = Number(portRaw);
  if (!/^\d+$/.test(portRaw) || port < 0 || port > 65535) {
    problems.push(`PORT="${portRaw}" is not a TCP port: set a number from 1 to 65535 (0 picks a free one)`);
  }

  const levelRaw = (str(env, 'LOG_LEVEL') ?? 'info').toLowerCase();
  const logLevel = LOG_LEVELS.includes(levelRaw as LogLevel) ? (levelRaw as LogLevel) : 'info';
  if (logLevel !== levelRaw) {
    problems.push(`LOG_LEVEL="${levelRaw}" is not a level: use one of ${LOG_LEVELS.join(', ')}`);
  }

  const approvers = list(str(env, 'OOMBOT_APPROVERS'));
  for (const id of approvers) {
    if (!SLACK_USER_ID.test(id)) {
      problems.push(`OOMBOT_APPROVERS contains "${id}", which is not a Slack user id: use ids like U0123ABCD (profile > ... > Copy member ID)`);
    }
  }

  const snoozersRaw = str(env, 'OOMBOT_SNOOZERS');
  const snoozers = snoozersRaw === undefined ? approvers : list(snoozersRaw);
  for (const id of snoozersRaw === undefined ? [] : snoozers) {
    if (!SLACK_USER_ID.test(id)) {
      problems.push(`OOMBOT_SNOOZERS contains "${id}", which is not a Slack user id: use ids like U0123ABCD (profile > ... > Copy member ID)`);
    }
  }

  const proposalKey = str(env, 'OOMBOT_PROPOSAL_KEY');
  if (proposalKey !== undefined && proposalKey.length < 32) {
    problems.push('OOMBOT_PROPOSAL_KEY is shorter than 32 characters: use a random value, e.g. `openssl rand -base64 48`');
  }

  const queueName = str(env, 'OOMBOT_QUEUE') ?? 'oombot-incidents';
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(queueName)) {
    problems.push(`OOMBOT_QUEUE="${queueName}" may hold only letters, digits, "-" and "_" (at most 64)`);
  }

  let maxMemoryLimitBytes: number | undefined;
  const maxRaw = str(env, 'OOMBOT_MAX_MEMORY_LIMIT');
  if (maxRaw) {
    const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti)$/.exec(maxRaw);
    if (!m) {
      problems.push(`OOMBOT_MAX_MEMORY_LIMIT="${maxRaw}" is not a memory quantity: use e.g. 8Gi or 512Mi`);
    } else {
      const pow = { Ki: 1, Mi: 2, Gi: 3, Ti: 4 }[m[2] as 'Ki' | 'Mi' | 'Gi' | 'Ti'];
      maxMemoryLimitBytes = Math.round(Number(m[1]) * 1024 ** pow);
    }
  }

  const sampleIntervalMs = duration('OOMBOT_SAMPLE_INTERVAL', '30s');
  if (sampleIntervalMs < 1_000) problems.push(`OOMBOT_SAMPLE_INTERVAL="${str(env, 'OOMBOT_SAMPLE_INTERVAL')}" is shorter than 1s: set 1s or more`);

  const warnRaw = str(env, 'OOMBOT_WARN_AT') ?? '90%';
  const warnMatch = /^(\d+(?:\.\d+)?)(%?)$/.exec(warnRaw);
  const warnValue = warnMatch ? Number(warnMatch[1]) / (warnMatch[2] || Number(warnMatch[1]) > 1 ? 100 : 1) : Number.NaN;
  if (!(warnValue >= 0.5 && warnValue < 1)) {
    problems.push(`OOMBOT_WARN_AT="${warnRaw}" is not a share of the limit from 50% to 99%: set it like 90% or 0.9`);
  }

  const prometheusUrl = str(env, 'PROMETHEUS_URL');
  if (prometheusUrl) {
    try {
      const u = new URL(prometheusUrl);
      if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('protocol');
    } catch {
      problems.push(`PROMETHEUS_URL="${redactUrl(prometheusUrl)}" is not a URL: set it like http://prometheus-server.monitoring:9090/`);
    }
  }
  const nodeName = str(env, 'NODE_NAME');
  if (nodeName !== undefined && (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(nodeName) || nodeName.length > 253)) {
    problems.push(`NODE_NAME="${nodeName}" is not a node name: set it from the downward API (fieldRef spec.nodeName)`);
  }
  const bootId = str(env, 'OOMBOT_BOOT_ID');
  if (bootId !== undefined && !/^[A-Za-z0-9-]{1,64}$/.test(bootId)) {
    problems.push(`OOMBOT_BOOT_ID="${bootId}" is not a boot id: leave it unset (it is read from /proc/sys/kernel/random/boot_id)`);
  }

  const config: Config = {
    kubeconfig: str(env, 'KUBECONFIG'),
    clusterName: str(env, 'CLUSTER_NAME'),
    watchNamespaces,
    redisUrl,
    // On a Redis Cluster every key of the queue carries its name as a hash tag (one slot: BullMQ's and
    // oombot's scripts and MULTI touch several keys at once). Plain Redis and Sentinel keep the names
    // oombot always used, so an upgrade keeps the data.
    queueName: redisMode === 'cluster' ? clusterQueueName(queueName) : queueName,
    slack: { botToken, signingSecret, appToken, apiUrl, channel, routes },
    port,
    logLevel,
    approvers,
    snoozers,
    proposalKey,
    lookbackMs: duration('OOMBOT_LOOKBACK', '15m'),
    dedupeTtlMs: duration('OOMBOT_DEDUPE_TTL', '7d'),
    watchSilenceMs: duration('OOMBOT_WATCH_SILENCE', '5m'),
    groupWindowMs: duration('OOMBOT_GROUP_WINDOW', '30m'),
    jobLockMs: duration('OOMBOT_JOB_LOCK', '60s'),
    verifyWindowMs: duration('OOMBOT_VERIFY_WINDOW', '24h'),
    maxMemoryLimitBytes,
    sampleIntervalMs,
    warnAt: warnValue >= 0.5 && warnValue < 1 ? warnValue : 0.9,
    prometheusUrl,
    nodeName,
    kmsgPath: str(env, 'OOMBOT_KMSG') ?? '/dev/kmsg',
    bootId,
  };
  if (config.dedupeTtlMs < config.lookbackMs) {
    problems.push('OOMBOT_DEDUPE_TTL must be at least OOMBOT_LOOKBACK, or a replayed kill could be alerted twice');
  }
  if (cluster(config.clusterName) === false) {
    problems.push(`CLUSTER_NAME="${config.clusterName}" may hold only letters, digits, ".", "-" and "_" (at most 63)`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

function cluster(name: string | undefined): boolean | undefined {
  if (name === undefined) return undefined;
  return /^[A-Za-z0-9._-]{1,63}$/.test(name);
}

/**
 * Roles from a `--roles` value: "watcher,worker". `agent` (a cluster's agent, serving its API to a hub)
 * brings the watcher along: the agent is what a member cluster runs, and its kills must be seen.
 */
export function parseRoles(value: string): Role[] {
  const roles = list(value);
  const bad = roles.filter((r) => !ALL_ROLES.includes(r as Role));
  if (roles.length === 0 || bad.length > 0) {
    throw new ConfigError([`--roles "${value}" is not a list of roles: use any of ${ALL_ROLES.join(', ')} separated by commas`]);
  }
  const unique = [...new Set(roles as Role[])];
  if (unique.includes('agent') && !unique.includes('watcher')) unique.splice(unique.indexOf('agent'), 0, 'watcher');
  return unique;
}

/** The channel a namespace's alerts go to: its route, else SLACK_CHANNEL, else the console. */
export function channelFor(config: Pick<Config, 'slack'>, namespace: string | undefined): string {
  return (namespace && config.slack.routes[namespace]) || config.slack.channel || 'console';
}
