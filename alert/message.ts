/**
 * The platform-free alert: what the message says, before any Slack or console rendering.
 * Built from the enriched incident and its diagnosis. Strings here are raw (unescaped, possibly
 * untrusted); renderers clean, escape and clip them.
 */
import type { IncidentKind } from '../core/incident.js';
import { formatMemoryApprox } from '../core/quantity.js';
import { ACTION_EXPLAIN, ACTION_RAISE_LIMIT, ACTION_SHOW_LOGS, ACTION_SNOOZE, ACTION_UNDO, type ActionId } from './action-ids.js';
import { CAUSE_LABELS, type Cause, type Confidence, type Diagnosis, type Evidence } from '../diagnosis/diagnosis.js';
import { isPodPresent, type EnrichedIncident, type EventSummary } from '../diagnosis/enriched.js';
import { describeExitCode, formatTime, oneLine, timeMs } from '../core/format.js';
import { describeManagedBy, type Proposal } from '../diagnosis/propose-limit.js';

export type Severity = 'critical' | 'warning';

export interface MessageFact {
  label: string;
  value: string;
}

export interface MessageConfirm {
  title: string;
  text: string;
  confirm: string;
  deny: string;
}

export interface MessageAction {
  id: ActionId | string;
  label: string;
  /** Sent back by Slack on a click: an id to look things up by, never the change itself. */
  value: string;
  style?: 'primary' | 'danger';
  confirm?: MessageConfirm;
}

export interface MessageEvent {
  type: string;
  reason: string;
  count: number;
  at?: string;
  object?: string;
  message: string;
}

export interface MessageLogs {
  container?: string;
  /** Last lines of the previous container's log, oldest first, cleaned and trimmed. */
  lines: string[];
  /** True when lines (or parts of lines) were left out. */
  truncated: boolean;
}

export interface MessageProposal {
  /** "Raise the memory limit of api in Deployment shop/api from 512Mi to 640Mi". */
  summary: string;
  reason: string;
  notes: string[];
}

export interface MessageModel {
  incidentId: string;
  kind: IncidentKind;
  title: string;
  severity: Severity;
  headline: string;
  cause: Cause;
  causeLabel: string;
  confidence: Confidence;
  facts: MessageFact[];
  evidence: Evidence[];
  advice: string[];
  /** Why raising the limit is the wrong fix, or why it cannot be offered. */
  warnings: string[];
  proposal?: MessageProposal;
  events: MessageEvent[];
  logs?: MessageLogs;
  actions: MessageAction[];
  footer: string;
}

export interface BuildMessageOptions {
  /** Id of the stored proposal; the "Raise" button is offered only with one (and a proposal). */
  proposalId?: string;
  /** False when OOMBOT_APPROVERS is empty: the Raise button's dialog says how to allow changes. */
  approvers?: boolean;
  maxLogLines?: number;
  maxEvents?: number;
}

const KIND_LABELS: Record<IncidentKind, string> = {
  'container-oom': 'OOM kill',
  'child-oom': 'OOMKilled by an earlier process kill',
  sigkill: 'SIGKILL (not an OOM)',
  evicted: 'Eviction',
  disruption: 'Eviction (disruption)',
  'node-oom': 'Node out of memory',
  'process-oom': 'Process OOM kill (container kept running)',
};

const RELEVANT_EVENTS = new Set([
  'OOMKilling',
  'SystemOOM',
  'Evicted',
  'Killing',
  'Unhealthy',
  'BackOff',
  'Preempted',
  'TaintManagerEviction',
  'EvictionThresholdMet',
  'NodeHasInsufficientMemory',
  'FailedScheduling',
]);

function title(e: EnrichedIncident, d: Diagnosis): string {
  const i = e.incident;
  const where = i.pod ? `${i.pod.namespace}/${i.pod.name}` : '';
  const containerName = i.termination?.container ?? i.processOom?.container;
  const c = containerName ? ` (${containerName})` : '';
  switch (i.kind) {
    case 'container-oom':
      return d.cause === 'node-pressure' ? `OOM kill by node pressure: ${where}${c}` : `OOMKilled: ${where}${c}`;
    case 'child-oom':
      return `Process OOM-killed inside ${where}${c}`;
    case 'sigkill':
      return `Killed by SIGKILL, not OOM: ${where}${c}`;
    case 'evicted':
      return `Evicted${i.eviction?.resource ? ` (${i.eviction.resource})` : ''}: ${where}`;
    case 'disruption':
      return `Evicted (${i.disruption?.reason ?? 'disruption'}): ${where}`;
    case 'node-oom':
      return `Node out of memory: ${i.nodeOom?.node ?? e.node?.name ?? 'unknown node'}`;
    case 'process-oom':
      return `Process ${i.processOom?.process ?? '?'} OOM-killed, container kept running: ${where}${c}`;
    default:
      return `Incident: ${where}`;
  }
}

function severity(kind: IncidentKind, d: Diagnosis): Severity {
  if (kind === 'container-oom' || kind === 'node-oom') return 'critical';
  if (kind === 'evicted' && d.cause === 'eviction-memory') return 'critical';
  return 'warning';
}

function facts(e: EnrichedIncident): MessageFact[] {
  const i = e.incident;
  const out: MessageFact[] = [];
  const add = (label: string, value: string | number | undefined) => {
    if (value !== undefined && value !== '') out.push({ label, value: String(value) });
  };
  add('Kind', KIND_LABELS[i.kind] ?? i.kind);
  add('Cluster', i.cluster);
  add('Namespace', i.pod?.namespace);
  const top = e.owner?.chain[e.owner.chain.length - 1];
  const managedBy = e.owner?.managedBy ?? i.pod?.managedBy;
  if (top) add('Workload', `${top.kind} ${top.name}${managedBy ? ` (managed by ${describeManagedBy(managedBy)})` : ''}`);
  else if (e.owner) add('Workload', 'none (bare pod)');
  else if (i.pod?.owner) add('Workload', `${i.pod.owner.kind} ${i.pod.owner.name}`);
  add('Pod', i.pod ? `${i.pod.name}${e.pod?.gone ? ' (gone)' : ''}` : undefined);
  const name = i.termination?.container ?? i.processOom?.container;
  add('Container', name);
  const killed = i.processOom ?? e.processKills?.at(-1);
  if (killed) add('Killed process', `${killed.process} (pid ${killed.pid})`);
  if (killed?.anonRssKb !== undefined) {
    add('Process memory', `${formatMemoryApprox((killed.anonRssKb + (killed.fileRssKb ?? 0) + (killed.shmemRssKb ?? 0)) * 1024)} resident (kernel log)`);
  }
  const pod = isPodPresent(e.pod) ? e.pod : undefined;
  const c = name ? [...(pod?.containers ?? []), ...(pod?.initContainers ?? [])].find((x) => x.name === name) : undefined;
  if (name) {
    // Under a pod-level limit (KEP-2837) a container without its own is still bounded: not "none".
    const podLimit = pod?.podLimits?.memory?.text;
    add('Memory limit', c?.limits.memory?.text ?? i.termination?.resources?.limits?.memory ?? (podLimit ? 'none of its own' : 'none'));
    add('Memory request', c?.requests.memory?.text ?? i.termination?.resources?.requests?.memory ?? 'none');
    add('Pod memory limit', podLimit);
  }
  if (e.vpa) add('VPA', `${e.vpa.name} (${e.vpa.mode}${e.vpa.maxAllowed ? `, maxAllowed ${e.vpa.maxAllowed.text}` : ''})`);
  if (e.usage && e.usage.container === name) {
    const sampled = timeMs(e.usage.sampledAt);
    const killed = timeMs(i.occurredAt);
    const atKill = sampled !== undefined && killed !== undefined && sampled <= killed && killed - sampled <= 120_000;
    add(atKill ? 'Usage at kill' : 'Usage now', formatMemoryApprox(e.usage.containerWorkingSetBytes));
  }
  add('QoS', pod?.qosClass ?? i.pod?.qosClass);
  if (i.termination) {
    add('Restarts', i.termination.restartCount);
    add('Exit code', describeExitCode(i.termination.exitCode));
  }
  add('Node', i.pod?.nodeName ?? pod?.nodeName ?? e.node?.name ?? i.nodeOom?.node ?? i.processOom?.node);
  return out;
}

function events(e: EnrichedIncident, max: number): MessageEvent[] {
  const relevant = e.events.filter((ev) => ev.type === 'Warning' || RELEVANT_EVENTS.has(ev.reason));
  const ordered = relevant
    .map((ev, index) => ({ ev, index, t: timeMs(ev.lastTimestamp) ?? -Infinity }))
    .sort((a, b) => b.t - a.t || b.index - a.index)
    .slice(0, max)
    .map(({ ev }) => ev);
  return ordered.map((ev: EventSummary) => {
    const m: MessageEvent = { type: String(ev.type), reason: String(ev.reason), count: ev.count, message: oneLine(String(ev.message ?? ''), 300) };
    if (ev.lastTimestamp) m.at = formatTime(ev.lastTimestamp);
    if (ev.involvedKind) m.object = `${ev.involvedKind}${ev.involvedName ? ` ${ev.involvedName}` : ''}`;
    return m;
  });
}

/** Only this much of the end of a log is ever read. */
const LOG_WINDOW = 64 * 1024;
const MAX_LINE = 300;

/** The last `maxLines` lines of a (possibly huge, untrusted) log, each at most 300 code points. */
export function tailLog(text: string, maxLines: number): { lines: string[]; truncated: boolean } {
  let window = text;
  let truncated = false;
  if (window.length > LOG_WINDOW) {
    window = window.slice(-LOG_WINDOW).replace(/^[\uDC00-\uDFFF]/, '');
    truncated = true;
    const nl = window.indexOf('\n');
    if (nl >= 0) window = window.slice(nl + 1); // the first line is partial
  }
  const all = window.split(/\r?\n/);
  while (all.length > 0 && (all[all.length - 1] ?? '').trim() === '') all.pop();
  if (all.length > maxLines) truncated = true;
  const lines = all.slice(-maxLines).map((line) => {
    const cps = Array.from(line.length > MAX_LINE * 2 + 8 ? line.slice(0, MAX_LINE * 2 + 8) : line);
    if (cps.length <= MAX_LINE && line.length <= MAX_LINE * 2 + 8) return line;
    truncated = true;
    return `${cps.slice(0, MAX_LINE - 1).join('')}…`;
  });
  return { lines, truncated };
}

function describeProposal(p: Proposal): MessageProposal {
  const owner = `${p.owner.kind} ${p.owner.namespace}/${p.owner.name}`;
  const request = p.toRequest ? ` (request ${p.fromRequest ?? 'none'} → ${p.toRequest})` : '';
  const summary =
    p.target === 'limit'
      ? p.scope === 'pod'
        ? `Raise the pod-level memory limit (spec.resources) of ${owner} from ${p.fromLimit} to ${p.toLimit}${request}`
        : `Raise the memory limit of ${p.container} in ${owner} from ${p.fromLimit} to ${p.toLimit}${request}`
      : `Raise the memory request of ${p.container} in ${owner} from ${p.fromRequest ?? 'none'} to ${p.toRequest}`;
  const notes = [p.requestNote, p.revertWarning].filter((n): n is string => typeof n === 'string' && n !== '');
  return { summary, reason: p.reason, notes };
}

/**
 * "Deployment shop/api, container api: memory limit 512Mi → 640Mi, request 256Mi → 640Mi", or for the
 * pod-level limit "pod-level memory limit of Deployment shop/api: 1Gi → 1280Mi, request 1Gi → 1280Mi".
 */
export function describeChange(p: Proposal): string {
  const owner = `${p.owner.kind} ${p.owner.namespace}/${p.owner.name}`;
  const request = p.toRequest !== undefined ? `request ${p.fromRequest ?? 'none'} → ${p.toRequest}` : undefined;
  if (p.target === 'limit' && p.scope === 'pod')
    return `pod-level memory limit of ${owner}: ${[`${p.fromLimit} → ${p.toLimit}`, request].filter(Boolean).join(', ')}`;
  const parts: string[] = [];
  if (p.target === 'limit') parts.push(`memory limit ${p.fromLimit} → ${p.toLimit}`);
  if (request) parts.push(`${p.target === 'limit' ? '' : 'memory '}${request}`);
  return `${owner}, container ${p.container}: ${parts.join(', ')}`;
}

/** Where the change goes in the object: the pod template's container (by name) or its pod-level resources. */
export function patchedPath(p: Proposal): string {
  const template = p.owner.kind === 'CronJob' ? 'spec.jobTemplate.spec.template.spec' : 'spec.template.spec';
  return p.target === 'limit' && p.scope === 'pod' ? `${template}.resources` : `${template}.containers[${p.container}].resources`;
}

export type ChangeDirection = 'raise' | 'undo';

export interface ProposalActionOptions {
  /** Button text instead of "Raise limit to …" / "Undo (back to …)". */
  label?: string;
  /** False when nobody may apply changes (OOMBOT_APPROVERS empty): the dialog says how to allow it. */
  approvers?: boolean;
}

/** Slack's limit on a confirm dialog's text. */
export const CONFIRM_TEXT_MAX = 300;

const CAP_WORDS: Record<NonNullable<Proposal['cappedBy']>, string> = {
  policy: 'OOMBOT_MAX_MEMORY_LIMIT',
  node: "the largest node's allocatable memory",
  'limit-range': 'the LimitRange maximum',
};

/**
 * The dialog Slack shows before a change is sent, stating the rules it is applied by: exactly what is
 * patched (object, path, old → new limit and request), that a server-side dry run runs first, that the
 * patch is refused when the object changed since it was read (resourceVersion), the cap, and who may
 * approve. Within Slack's 300 characters: what is patched comes first and is always there; the rules
 * follow in order while they fit (the reason is in the alert itself). The alert's button and the bot's
 * own buttons (fresh proposal, Try again, Undo) all use this one.
 */
export function proposalConfirm(p: Proposal, direction: ChangeDirection = 'raise', opts: ProposalActionOptions = {}): MessageConfirm {
  const what = p.target === 'limit' ? (p.scope === 'pod' ? 'pod-level memory limit' : 'memory limit') : 'memory request';
  const to = p.target === 'limit' ? p.toLimit : p.toRequest;
  const values: string[] = [];
  if (p.target === 'limit') values.push(`limit ${p.fromLimit} → ${p.toLimit}`);
  if (p.toRequest !== undefined) values.push(`request ${p.fromRequest ?? 'none'} → ${p.toRequest}`);
  else if (p.fromRequest !== undefined) values.push(`request ${p.fromRequest} kept`);
  const head = `${p.owner.kind} ${p.owner.namespace}/${p.owner.name}, ${patchedPath(p)}: memory ${values.join(', ')}.`;
  const cap = direction === 'undo' ? undefined : p.cappedBy ? `Capped at ${to} by ${CAP_WORDS[p.cappedBy]}.` : 'Cap: OOMBOT_MAX_MEMORY_LIMIT, largest node.';
  const rules = [
    p.managedBy ? `${describeManagedBy(p.managedBy)} reverts it unless committed to its source.` : undefined,
    opts.approvers === false ? 'Nobody may apply changes yet: set OOMBOT_APPROVERS.' : undefined,
    'Dry run first; refused if changed since read (resourceVersion).',
    opts.approvers === false ? undefined : 'Approvers only (OOMBOT_APPROVERS).',
    cap,
  ];
  // Very long names: the path gives way to the change itself (Slack would cut the text at 300).
  let text = head.length <= CONFIRM_TEXT_MAX ? head : `${describeChange(p)}.`;
  for (const rule of rules) if (rule && text.length + 1 + rule.length <= CONFIRM_TEXT_MAX) text += ` ${rule}`;
  return {
    title: direction === 'undo' ? `Restore the ${what}?` : `Raise the ${what}?`,
    text,
    confirm: direction === 'undo' ? `Restore ${to}` : `Raise to ${to}`,
    deny: 'Cancel',
  };
}

/** The button that applies a stored proposal: it carries only the proposal's id. */
export function proposalAction(p: Proposal, proposalId: string, direction: ChangeDirection = 'raise', opts: ProposalActionOptions = {}): MessageAction {
  const what = p.target === 'limit' ? (p.scope === 'pod' ? 'pod limit' : 'limit') : 'request';
  const to = p.target === 'limit' ? p.toLimit : p.toRequest;
  return {
    id: direction === 'undo' ? ACTION_UNDO : ACTION_RAISE_LIMIT,
    label: opts.label ?? (direction === 'undo' ? `Undo (back to ${to})` : `Raise ${what} to ${to}`),
    value: proposalId,
    style: direction === 'undo' ? 'danger' : 'primary',
    confirm: proposalConfirm(p, direction, opts),
  };
}

function actions(e: EnrichedIncident, d: Diagnosis, options: BuildMessageOptions): MessageAction[] {
  const id = e.incident.id;
  const out: MessageAction[] = [];
  if (d.proposal && options.proposalId)
    out.push(proposalAction(d.proposal, options.proposalId, 'raise', options.approvers === false ? { approvers: false } : {}));
  if (isPodPresent(e.pod) && e.incident.termination?.container) out.push({ id: ACTION_SHOW_LOGS, label: 'Show logs', value: id });
  if (e.incident.pod) out.push({ id: ACTION_SNOOZE, label: 'Snooze 24h', value: id });
  out.push({ id: ACTION_EXPLAIN, label: 'Explain', value: id });
  return out;
}

/** The alert for one incident. */
export function buildMessage(enriched: EnrichedIncident, diagnosis: Diagnosis, options: BuildMessageOptions = {}): MessageModel {
  const i = enriched.incident;
  const warnings: string[] = [];
  if (diagnosis.raisingIsWrongFix) warnings.push(diagnosis.raisingIsWrongFix);
  if (diagnosis.noProposalReason) warnings.push(diagnosis.noProposalReason);
  const model: MessageModel = {
    incidentId: i.id,
    kind: i.kind,
    title: title(enriched, diagnosis),
    severity: severity(i.kind, diagnosis),
    headline: diagnosis.headline,
    cause: diagnosis.cause,
    causeLabel: CAUSE_LABELS[diagnosis.cause] ?? diagnosis.cause,
    confidence: diagnosis.confidence,
    facts: facts(enriched),
    evidence: diagnosis.evidence,
    advice: diagnosis.advice,
    warnings,
    events: events(enriched, options.maxEvents ?? 5),
    actions: actions(enriched, diagnosis, options),
    footer: `Cluster ${i.cluster} · occurred ${formatTime(i.occurredAt)} · incident ${i.id}`,
  };
  if (diagnosis.proposal) model.proposal = describeProposal(diagnosis.proposal);
  if (typeof enriched.previousLogs === 'string' && enriched.previousLogs.trim() !== '') {
    const { lines, truncated } = tailLog(enriched.previousLogs, options.maxLogLines ?? 20);
    model.logs = { lines, truncated };
    if (i.termination?.container) model.logs.container = i.termination.container;
  }
  return model;
}
