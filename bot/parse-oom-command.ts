/**
 * `/oom` text → a command. Pure: no I/O. Refuses what is not a Kubernetes name before anything is looked
 * up, so nothing odd (mentions, links, 5 kB of text) travels further than the answer that says what to type.
 */
import { closestNames } from './closest-names.js';

export interface PodQuery {
  /** The cluster named (`cluster/namespace/pod` or `--cluster`); absent: every cluster is searched. */
  cluster?: string;
  namespace?: string;
  name: string;
}

export interface WorkloadQuery {
  cluster?: string;
  namespace?: string;
  /** Canonical kind (Deployment, StatefulSet, ...) when the user named one. */
  kind?: string;
  name: string;
}

export type OomCommand =
  | { name: 'help' }
  | { name: 'why'; pod: PodQuery }
  | { name: 'top'; namespace?: string; cluster?: string }
  | { name: 'clusters' }
  | { name: 'history'; workload: WorkloadQuery }
  | { name: 'snooze'; workload: WorkloadQuery; durationMs: number; durationText: string }
  | { name: 'unsnooze'; workload: WorkloadQuery }
  | { name: 'invalid'; problem: string; usage?: string };

export const SUBCOMMANDS = ['why', 'top', 'history', 'snooze', 'unsnooze', 'clusters', 'help'] as const;

export const USAGE: Record<(typeof SUBCOMMANDS)[number], string> = {
  why: '/oom why <pod> (also namespace/pod, cluster/namespace/pod, pod -n namespace --cluster name, a pod-name prefix or a workload name)',
  top: '/oom top [namespace] [--cluster name]',
  history: '/oom history <workload> (name, namespace/name, namespace/Kind/name, cluster/namespace/name or cluster/namespace/Kind/name; or --cluster name)',
  snooze: '/oom snooze <workload> <duration> (e.g. 30m, 2h, 1d; at most 30d; --cluster name)',
  unsnooze: '/oom unsnooze <workload> [--cluster name]',
  clusters: '/oom clusters (the clusters oombot reaches, their agents and last heartbeat)',
  help: '/oom help',
};

/** Longest `/oom` text looked at; Slack allows far more, nobody types it. */
export const MAX_TEXT = 300;
export const MAX_SNOOZE_MS = 30 * 24 * 3600 * 1000;
export const MIN_SNOOZE_MS = 60 * 1000;

const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** A cluster's name as CLUSTER_NAME allows it: letters, digits, ".", "-" and "_", at most 63. */
export const CLUSTER = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
/** A name, or the start of one (a prefix may end in "-"). */
const NAME = /^[a-z0-9][-a-z0-9.]{0,252}$/;

/** Kinds a workload can be named by, lower-case (and short names) → canonical. */
export const KIND_NAMES: Record<string, string> = {
  deployment: 'Deployment',
  deploy: 'Deployment',
  statefulset: 'StatefulSet',
  sts: 'StatefulSet',
  daemonset: 'DaemonSet',
  ds: 'DaemonSet',
  cronjob: 'CronJob',
  cj: 'CronJob',
  job: 'Job',
  replicaset: 'ReplicaSet',
  rs: 'ReplicaSet',
  replicationcontroller: 'ReplicationController',
  rc: 'ReplicationController',
  pod: 'Pod',
  po: 'Pod',
};

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `90s`, `30m`, `2h`, `1d`, `1w`, `1h30m`; undefined when not a duration. */
export function parseDuration(text: string): number | undefined {
  const t = text.trim().toLowerCase();
  if (t.length === 0 || t.length > 20 || !/^(\d{1,6}[smhdw])+$/.test(t)) return undefined;
  let total = 0;
  for (const m of t.matchAll(/(\d{1,6})([smhdw])/g)) total += Number(m[1]) * (UNITS[m[2]!] ?? 0);
  return total > 0 ? total : undefined;
}

/** Splits `-n ns`, `--namespace ns`, `--namespace=ns`, `-nns` out of the arguments. */
function takeNamespaceFlag(args: string[]): { rest: string[]; namespace?: string; problem?: string } {
  const rest: string[] = [];
  let namespace: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    let value: string | undefined;
    if (a === '-n' || a === '--namespace') {
      value = args[++i];
      if (value === undefined) return { rest, problem: `${a} needs a namespace after it` };
    } else if (a.startsWith('--namespace=')) value = a.slice('--namespace='.length);
    else if (a.startsWith('-n') && a.length > 2 && !a.startsWith('--')) value = a.slice(2);
    else {
      rest.push(a);
      continue;
    }
    namespace = value;
  }
  return namespace === undefined ? { rest } : { rest, namespace };
}

/** Splits `--cluster name` and `--cluster=name` out of the arguments. */
function takeClusterFlag(args: string[]): { rest: string[]; cluster?: string; problem?: string } {
  const rest: string[] = [];
  let cluster: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    let value: string | undefined;
    if (a === '--cluster') {
      value = args[++i];
      if (value === undefined) return { rest, problem: '--cluster needs a cluster name after it' };
    } else if (a.startsWith('--cluster=')) value = a.slice('--cluster='.length);
    else {
      rest.push(a);
      continue;
    }
    if (cluster !== undefined && cluster !== value) return { rest, problem: 'two different clusters given' };
    cluster = value;
  }
  if (cluster !== undefined && !CLUSTER.test(cluster)) return { rest, problem: 'a cluster name is letters, digits, ".", "-" and "_" (at most 63)' };
  return cluster === undefined ? { rest } : { rest, cluster };
}

/** The cluster named both in the path and by `--cluster` must be the same one. */
function sameCluster(flag: string | undefined, path: string | undefined): { cluster?: string; problem?: string } {
  if (path !== undefined && !CLUSTER.test(path)) return { problem: 'a cluster name is letters, digits, ".", "-" and "_" (at most 63)' };
  if (flag !== undefined && path !== undefined && flag !== path) return { problem: `two different clusters given (${path} and ${flag})` };
  const cluster = flag ?? path;
  return cluster === undefined ? {} : { cluster };
}

function badNamespace(ns: string): string | undefined {
  return NAMESPACE.test(ns) ? undefined : 'a namespace is lower-case letters, digits and "-" (at most 63)';
}

function badName(name: string): string | undefined {
  return NAME.test(name) ? undefined : 'a name is lower-case letters, digits, "-" and "." (at most 253)';
}

export function parsePodQuery(args: string[]): PodQuery | { problem: string } {
  const byCluster = takeClusterFlag(args);
  if (byCluster.problem) return { problem: byCluster.problem };
  const flag = takeNamespaceFlag(byCluster.rest);
  if (flag.problem) return { problem: flag.problem };
  if (flag.rest.length !== 1) return { problem: flag.rest.length === 0 ? 'name a pod' : 'name one pod' };
  const arg = flag.rest[0]!;
  const parts = arg.split('/');
  let namespace = flag.namespace;
  let inPath: string | undefined;
  let name: string;
  if (parts.length === 1) name = arg;
  else if (parts.length === 2 || parts.length === 3) {
    if (parts.length === 3) inPath = parts[0]!;
    const ns = parts[parts.length - 2]!;
    if (namespace !== undefined && namespace !== ns) return { problem: `two different namespaces given (${ns} and ${namespace})` };
    namespace = ns;
    name = parts[parts.length - 1]!;
  } else return { problem: 'write the pod as name, namespace/name or cluster/namespace/name' };
  const where = sameCluster(byCluster.cluster, inPath);
  if (where.problem) return { problem: where.problem };
  const problem = (namespace !== undefined ? badNamespace(namespace) : undefined) ?? badName(name);
  if (problem) return { problem };
  return { ...(where.cluster !== undefined ? { cluster: where.cluster } : {}), ...(namespace !== undefined ? { namespace } : {}), name };
}

/**
 * A workload: `name`, `namespace/name`, `Kind/name`, `namespace/Kind/name`, `cluster/namespace/name` or
 * `cluster/namespace/Kind/name`. Three parts whose middle one is a kind (`shop/deploy/api`) are
 * namespace/Kind/name, as before clusters were named: a namespace called like a kind is written with four
 * parts or `--cluster`.
 */
export function parseWorkloadQuery(args: string[]): WorkloadQuery | { problem: string } {
  const byCluster = takeClusterFlag(args);
  if (byCluster.problem) return { problem: byCluster.problem };
  const flag = takeNamespaceFlag(byCluster.rest);
  if (flag.problem) return { problem: flag.problem };
  if (flag.rest.length !== 1) return { problem: flag.rest.length === 0 ? 'name a workload' : 'name one workload' };
  const parts = flag.rest[0]!.split('/');
  let namespace = flag.namespace;
  let kind: string | undefined;
  let inPath: string | undefined;
  let name: string;
  const kindOf = (k: string) => KIND_NAMES[k.toLowerCase()];
  const notAKind = (k: string) => ({ problem: `"${k}" is not a workload kind: use Deployment, StatefulSet, DaemonSet, CronJob, ...` });
  if (parts.length === 1) name = parts[0]!;
  else if (parts.length === 2) {
    const k = kindOf(parts[0]!);
    if (k) kind = k;
    else namespace = parts[0]!;
    name = parts[1]!;
  } else if (parts.length === 3) {
    kind = kindOf(parts[1]!);
    if (kind) namespace = parts[0]!;
    else {
      inPath = parts[0]!;
      namespace = parts[1]!;
    }
    name = parts[2]!;
  } else if (parts.length === 4) {
    inPath = parts[0]!;
    namespace = parts[1]!;
    kind = kindOf(parts[2]!);
    if (!kind) return notAKind(parts[2]!);
    name = parts[3]!;
  } else return { problem: 'write the workload as name, namespace/name, namespace/Kind/name or cluster/namespace/Kind/name' };
  if (flag.namespace !== undefined && namespace !== flag.namespace) return { problem: 'two different namespaces given' };
  const where = sameCluster(byCluster.cluster, inPath);
  if (where.problem) return { problem: where.problem };
  const problem = (namespace !== undefined ? badNamespace(namespace) : undefined) ?? badName(name);
  if (problem) return { problem };
  const q: WorkloadQuery = { name };
  if (where.cluster !== undefined) q.cluster = where.cluster;
  if (namespace !== undefined) q.namespace = namespace;
  if (kind !== undefined) q.kind = kind;
  return q;
}

function invalid(problem: string, sub?: (typeof SUBCOMMANDS)[number]): OomCommand {
  return sub ? { name: 'invalid', problem, usage: USAGE[sub] } : { name: 'invalid', problem };
}

export function parseOomCommand(raw: string): OomCommand {
  const text = String(raw ?? '');
  if (text.length > MAX_TEXT) return invalid(`that is ${text.length} characters; /oom takes a subcommand and a name or two`);
  const words = text
    .trim()
    .split(/\s+/)
    .filter((w) => w !== '');
  if (words.length === 0) return { name: 'help' };
  const sub = words[0]!.toLowerCase();
  const args = words.slice(1);
  switch (sub) {
    case 'help':
    case '-h':
    case '--help':
      return { name: 'help' };
    case 'why': {
      const q = parsePodQuery(args);
      return 'problem' in q ? invalid(q.problem, 'why') : { name: 'why', pod: q };
    }
    case 'top': {
      const byCluster = takeClusterFlag(args);
      if (byCluster.problem) return invalid(byCluster.problem, 'top');
      const where = byCluster.cluster !== undefined ? { cluster: byCluster.cluster } : {};
      const flag = takeNamespaceFlag(byCluster.rest);
      if (flag.problem) return invalid(flag.problem, 'top');
      const ns = flag.namespace ?? flag.rest[0];
      if (flag.rest.length > (flag.namespace === undefined ? 1 : 0)) return invalid('name at most one namespace', 'top');
      if (ns === undefined) return { name: 'top', ...where };
      const problem = badNamespace(ns);
      return problem ? invalid(problem, 'top') : { name: 'top', namespace: ns, ...where };
    }
    case 'clusters':
      return args.length === 0 ? { name: 'clusters' } : invalid('`clusters` takes nothing after it', 'clusters');
    case 'history':
    case 'unsnooze': {
      const q = parseWorkloadQuery(args);
      if ('problem' in q) return invalid(q.problem, sub);
      return sub === 'history' ? { name: 'history', workload: q } : { name: 'unsnooze', workload: q };
    }
    case 'snooze': {
      // The duration is the last word that is not the cluster flag's.
      const byCluster = takeClusterFlag(args);
      if (byCluster.problem) return invalid(byCluster.problem, 'snooze');
      const rest = byCluster.rest;
      const last = rest[rest.length - 1];
      const durationMs = last === undefined ? undefined : parseDuration(last);
      if (durationMs === undefined) return invalid(last === undefined ? 'name a workload and a duration' : 'end with a duration like 30m, 2h or 1d', 'snooze');
      if (durationMs < MIN_SNOOZE_MS || durationMs > MAX_SNOOZE_MS) return invalid('a snooze lasts from 1m to 30d', 'snooze');
      const q = parseWorkloadQuery([...rest.slice(0, -1), ...(byCluster.cluster !== undefined ? [`--cluster=${byCluster.cluster}`] : [])]);
      if ('problem' in q) return invalid(q.problem, 'snooze');
      return { name: 'snooze', workload: q, durationMs, durationText: last!.toLowerCase() };
    }
    default: {
      const close = closestNames(sub, SUBCOMMANDS, 1)[0];
      return invalid(`"${sub.slice(0, 40)}" is not a subcommand${close ? `: did you mean \`${close}\`?` : ''}`);
    }
  }
}
