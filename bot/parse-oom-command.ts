/**
 * `/oom` text → a command. Pure: no I/O. Refuses what is not a Kubernetes name before anything is looked
 * up, so nothing odd (mentions, links, 5 kB of text) travels further than the answer that says what to type.
 */
import { closestNames } from './closest-names.js';

export interface PodQuery {
  namespace?: string;
  name: string;
}

export interface WorkloadQuery {
  namespace?: string;
  /** Canonical kind (Deployment, StatefulSet, ...) when the user named one. */
  kind?: string;
  name: string;
}

export type OomCommand =
  | { name: 'help' }
  | { name: 'why'; pod: PodQuery }
  | { name: 'top'; namespace?: string }
  | { name: 'history'; workload: WorkloadQuery }
  | { name: 'snooze'; workload: WorkloadQuery; durationMs: number; durationText: string }
  | { name: 'unsnooze'; workload: WorkloadQuery }
  | { name: 'invalid'; problem: string; usage?: string };

export const SUBCOMMANDS = ['why', 'top', 'history', 'snooze', 'unsnooze', 'help'] as const;

export const USAGE: Record<(typeof SUBCOMMANDS)[number], string> = {
  why: '/oom why <pod> (also namespace/pod, pod -n namespace, a pod-name prefix or a workload name)',
  top: '/oom top [namespace]',
  history: '/oom history <workload> (name, namespace/name or namespace/Kind/name)',
  snooze: '/oom snooze <workload> <duration> (e.g. 30m, 2h, 1d; at most 30d)',
  unsnooze: '/oom unsnooze <workload>',
  help: '/oom help',
};

/** Longest `/oom` text looked at; Slack allows far more, nobody types it. */
export const MAX_TEXT = 300;
export const MAX_SNOOZE_MS = 30 * 24 * 3600 * 1000;
export const MIN_SNOOZE_MS = 60 * 1000;

const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
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

function badNamespace(ns: string): string | undefined {
  return NAMESPACE.test(ns) ? undefined : 'a namespace is lower-case letters, digits and "-" (at most 63)';
}

function badName(name: string): string | undefined {
  return NAME.test(name) ? undefined : 'a name is lower-case letters, digits, "-" and "." (at most 253)';
}

export function parsePodQuery(args: string[]): PodQuery | { problem: string } {
  const flag = takeNamespaceFlag(args);
  if (flag.problem) return { problem: flag.problem };
  if (flag.rest.length !== 1) return { problem: flag.rest.length === 0 ? 'name a pod' : 'name one pod' };
  const arg = flag.rest[0]!;
  const parts = arg.split('/');
  let namespace = flag.namespace;
  let name: string;
  if (parts.length === 1) name = arg;
  else if (parts.length === 2) {
    if (namespace !== undefined && namespace !== parts[0]) return { problem: `two different namespaces given (${parts[0]} and ${namespace})` };
    namespace = parts[0]!;
    name = parts[1]!;
  } else return { problem: 'write the pod as name or namespace/name' };
  const problem = (namespace !== undefined ? badNamespace(namespace) : undefined) ?? badName(name);
  if (problem) return { problem };
  return namespace === undefined ? { name } : { namespace, name };
}

export function parseWorkloadQuery(args: string[]): WorkloadQuery | { problem: string } {
  const flag = takeNamespaceFlag(args);
  if (flag.problem) return { problem: flag.problem };
  if (flag.rest.length !== 1) return { problem: flag.rest.length === 0 ? 'name a workload' : 'name one workload' };
  const parts = flag.rest[0]!.split('/');
  let namespace = flag.namespace;
  let kind: string | undefined;
  let name: string;
  const kindOf = (k: string) => KIND_NAMES[k.toLowerCase()];
  if (parts.length === 1) name = parts[0]!;
  else if (parts.length === 2) {
    const k = kindOf(parts[0]!);
    if (k) kind = k;
    else namespace = parts[0]!;
    name = parts[1]!;
  } else if (parts.length === 3) {
    namespace = parts[0]!;
    kind = kindOf(parts[1]!);
    if (!kind) return { problem: `"${parts[1]}" is not a workload kind: use Deployment, StatefulSet, DaemonSet, CronJob, ...` };
    name = parts[2]!;
  } else return { problem: 'write the workload as name, namespace/name or namespace/Kind/name' };
  if (flag.namespace !== undefined && namespace !== flag.namespace) return { problem: 'two different namespaces given' };
  const problem = (namespace !== undefined ? badNamespace(namespace) : undefined) ?? badName(name);
  if (problem) return { problem };
  const q: WorkloadQuery = { name };
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
      const flag = takeNamespaceFlag(args);
      if (flag.problem) return invalid(flag.problem, 'top');
      const ns = flag.namespace ?? flag.rest[0];
      if (flag.rest.length > (flag.namespace === undefined ? 1 : 0)) return invalid('name at most one namespace', 'top');
      if (ns === undefined) return { name: 'top' };
      const problem = badNamespace(ns);
      return problem ? invalid(problem, 'top') : { name: 'top', namespace: ns };
    }
    case 'history':
    case 'unsnooze': {
      const q = parseWorkloadQuery(args);
      if ('problem' in q) return invalid(q.problem, sub);
      return sub === 'history' ? { name: 'history', workload: q } : { name: 'unsnooze', workload: q };
    }
    case 'snooze': {
      const last = args[args.length - 1];
      const durationMs = last === undefined ? undefined : parseDuration(last);
      if (durationMs === undefined) return invalid(last === undefined ? 'name a workload and a duration' : 'end with a duration like 30m, 2h or 1d', 'snooze');
      if (durationMs < MIN_SNOOZE_MS || durationMs > MAX_SNOOZE_MS) return invalid('a snooze lasts from 1m to 30d', 'snooze');
      const q = parseWorkloadQuery(args.slice(0, -1));
      if ('problem' in q) return invalid(q.problem, 'snooze');
      return { name: 'snooze', workload: q, durationMs, durationText: last!.toLowerCase() };
    }
    default: {
      const close = closestNames(sub, SUBCOMMANDS, 1)[0];
      return invalid(`"${sub.slice(0, 40)}" is not a subcommand${close ? `: did you mean \`${close}\`?` : ''}`);
    }
  }
}
