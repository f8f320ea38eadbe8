/**
 * Evidence several rules cite: the node's state, SystemOOM events, the previous log, the container's
 * limit, uptime and usage, and whether the pod is gone.
 */
import { formatMemoryApprox } from '../../core/quantity.js';
import { formatDuration, formatTime, oneLine, percent, timeMs } from '../../core/format.js';
import type { Evidence } from '../diagnosis.js';
import { isPodPresent, type EventSummary, type KernelKill } from '../enriched.js';
import { SYSTEM_OOM_WINDOW_MS, type Ctx } from './context.js';

const OOM_LOG_PATTERNS: readonly [RegExp, string][] = [
  [/java\.lang\.OutOfMemoryError/, 'The previous log has java.lang.OutOfMemoryError: the Java heap filled up before the kill'],
  [/JavaScript heap out of memory/, 'The previous log has "JavaScript heap out of memory": the Node.js heap filled up'],
  [/fatal error: runtime: out of memory/, 'The previous log has the Go runtime\'s "out of memory" fatal error'],
  [/MemoryError/, 'The previous log has a Python MemoryError'],
  [/Allowed memory size of \d+ bytes exhausted/, 'The previous log has PHP "Allowed memory size exhausted"'],
];

export function nodeName(ctx: Ctx): string | undefined {
  return ctx.e.node?.name ?? ctx.incident.pod?.nodeName ?? ctx.incident.nodeOom?.node;
}

export interface NodeEvidence {
  evidence: Evidence[];
  overcommitted: boolean;
  pressure: boolean;
  /** The node's kernel log has a global (node-wide) OOM kill at the time (the node agent read it). */
  kernelOom: boolean;
}

export function nodeEvidence(ctx: Ctx): NodeEvidence {
  const n = ctx.e.node;
  const evidence: Evidence[] = [];
  let overcommitted = false;
  let pressure = false;
  if (n) {
    if (n.sumLimitsBytes !== undefined && n.allocatableBytes !== undefined && n.sumLimitsBytes > n.allocatableBytes) {
      overcommitted = true;
      evidence.push({
        text: `Node ${n.name} is overcommitted: memory limits of its ${n.podCount ?? ''}${n.podCount === undefined ? '' : ' '}pods add up to ${formatMemoryApprox(n.sumLimitsBytes)}, ${percent(n.sumLimitsBytes, n.allocatableBytes)} of its ${formatMemoryApprox(n.allocatableBytes)} allocatable`,
        source: 'node',
      });
    }
    if (n.memoryPressure) {
      pressure = true;
      evidence.push({ text: `Node ${n.name} reports MemoryPressure`, source: 'node' });
    }
  }
  const kernel = nodeKernelOoms(ctx);
  for (const k of kernel.slice(-2)) {
    evidence.push({
      text: `The kernel log of node ${k.node} has a global OOM kill (the whole node out of memory, CONSTRAINT_NONE) at ${formatTime(k.at)}: it killed ${describeKernelKill(k)}`,
      source: 'kernel log',
    });
  }
  return { evidence, overcommitted, pressure, kernelOom: kernel.length > 0 };
}

/** Global OOM kills on the incident's node within the SystemOOM window of it (not the incident's own kill). */
export function nodeKernelOoms(ctx: Ctx): KernelKill[] {
  const killed = timeMs(ctx.incident.occurredAt);
  const own = ctx.incident.processOom;
  return (ctx.e.nodeKernelOoms ?? []).filter((k) => {
    const at = timeMs(k.at);
    if (own && own.pid === k.pid && own.process === k.process && at !== undefined && killed !== undefined && Math.abs(at - killed) < 1_000) return false;
    return k.constraint === 'global' && (killed === undefined || at === undefined || Math.abs(at - killed) <= SYSTEM_OOM_WINDOW_MS);
  });
}

/** "process gunicorn (pid 4321, 255Mi resident)", from the kernel's own figures. */
export function describeKernelKill(k: Pick<KernelKill, 'process' | 'pid' | 'anonRssKb' | 'fileRssKb' | 'shmemRssKb'>): string {
  const rss = residentBytes(k);
  return `process ${oneLine(k.process, 64)} (pid ${k.pid}${rss === undefined ? '' : `, ${formatMemoryApprox(rss)} resident`})`;
}

/** anon-rss + file-rss + shmem-rss of a killed process, in bytes. */
export function residentBytes(k: Pick<KernelKill, 'anonRssKb' | 'fileRssKb' | 'shmemRssKb'>): number | undefined {
  if (k.anonRssKb === undefined) return undefined;
  return (k.anonRssKb + (k.fileRssKb ?? 0) + (k.shmemRssKb ?? 0)) * 1024;
}

/**
 * The processes the kernel killed in this container for this incident: for a kill of the main process, those
 * within seconds of it; for an OOMKilled left over from a child kill, those during the run that ended.
 */
export function containerKernelKills(ctx: Ctx): KernelKill[] {
  const t = ctx.incident.termination;
  const end = timeMs(t?.finishedAt ?? ctx.incident.occurredAt);
  const start = timeMs(t?.startedAt);
  return (ctx.e.processKills ?? []).filter((k) => {
    const at = timeMs(k.at);
    if (at === undefined || end === undefined) return true;
    if (ctx.incident.kind === 'container-oom') return Math.abs(at - end) <= SAME_OOM_MS;
    return at <= end + SAME_OOM_MS && (start === undefined || at >= start - SAME_OOM_MS);
  });
}

/** What the kernel log says of the processes it killed in the container. */
export function kernelKillEvidence(ctx: Ctx): Evidence[] {
  const kills = containerKernelKills(ctx);
  if (kills.length === 0) return [];
  const last = kills[kills.length - 1]!;
  const how = last.constraint === 'global' ? 'in a node-wide OOM' : "at its memory cgroup's limit";
  const more = kills.length > 1 ? ` (${kills.length} kills in all: ${kills.map((k) => oneLine(k.process, 32)).join(', ')})` : '';
  return [{ text: `The kernel log of node ${last.node} names the process it killed ${how}: ${describeKernelKill(last)}${more}`, source: 'kernel log' }];
}

export function systemOomEvents(ctx: Ctx): EventSummary[] {
  const killed = timeMs(ctx.incident.occurredAt);
  return ctx.e.events.filter((ev) => {
    if (ev.reason !== 'SystemOOM') return false;
    const at = timeMs(ev.lastTimestamp);
    return killed === undefined || at === undefined || Math.abs(at - killed) <= SYSTEM_OOM_WINDOW_MS;
  });
}

export function systemOomEvidence(ctx: Ctx, events: EventSummary[]): Evidence[] {
  return events.slice(-2).map((ev) => ({
    text: `SystemOOM on node ${ev.involvedName ?? nodeName(ctx) ?? ''}${ev.count > 1 ? ` (×${ev.count})` : ''}: ${oneLine(ev.message, 160)}`,
    source: 'events' as const,
  }));
}

export function logEvidence(ctx: Ctx): Evidence[] {
  const logs = ctx.e.previousLogs;
  if (typeof logs !== 'string' || logs === '') return [];
  const tail = logs.length > 65536 ? logs.slice(-65536) : logs;
  for (const [pattern, text] of OOM_LOG_PATTERNS) {
    if (pattern.test(tail)) return [{ text, source: 'previous logs' }];
  }
  return [];
}

export function limitEvidence(ctx: Ctx): Evidence[] {
  const out: Evidence[] = [];
  const req = ctx.requestText === undefined ? 'no request' : `request ${ctx.requestText}`;
  const qos = isPodPresent(ctx.e.pod) ? ctx.e.pod.qosClass : ctx.incident.pod?.qosClass;
  const own = ctx.container?.limits.memory?.text ?? (ctx.limitScope === 'container' ? ctx.limitText : undefined);
  if (own !== undefined) out.push({ text: `Memory limit ${own}, ${req}${qos ? ` (QoS ${qos})` : ''}`, source: ctx.container ? 'pod spec' : 'incident' });
  else if (ctx.podLimitText !== undefined) out.push({ text: `No memory limit of its own, ${req}${qos ? ` (QoS ${qos})` : ''}`, source: 'pod spec' });
  if (ctx.podLimitText !== undefined) {
    // A pod-level limit (KEP-2837) bounds the sum of the pod's containers.
    const hit = ctx.limitScope === 'pod' ? ': the limit this kill hit' : '';
    out.push({ text: `Pod-level memory limit ${ctx.podLimitText} (spec.resources), shared by all containers${hit}`, source: 'pod spec' });
  }
  return out;
}

export function uptimeEvidence(ctx: Ctx): Evidence[] {
  if (ctx.uptimeSeconds === undefined) return [];
  return [{ text: `It ran ${formatDuration(ctx.uptimeSeconds)} before the kill`, source: 'pod status' }];
}

export function usageEvidence(ctx: Ctx): Evidence[] {
  const out: Evidence[] = [];
  if (ctx.usageAtKill !== undefined) {
    // A metrics sample is never "usage at the kill": it is shown with its age.
    const when =
      ctx.usageSampleAgeSeconds !== undefined
        ? `Last sample ${formatDuration(ctx.usageSampleAgeSeconds)} before the kill`
        : 'Working set recorded with the kill';
    out.push({
      text: `${when}: ${formatMemoryApprox(ctx.usageAtKill)}${ctx.limitBytes ? ` (${percent(ctx.usageAtKill, ctx.limitBytes)} of the limit)` : ''}`,
      source: 'metrics',
    });
  } else if (ctx.usageNow) {
    const after = ctx.usageNow.afterSeconds === undefined ? '' : `, ${formatDuration(ctx.usageNow.afterSeconds)} after the kill`;
    out.push({
      text: `Working set now: ${formatMemoryApprox(ctx.usageNow.bytes)}${ctx.limitBytes ? ` (${percent(ctx.usageNow.bytes, ctx.limitBytes)} of the limit)` : ''}${after} (${ctx.usageNow.source})`,
      source: 'metrics',
    });
  }
  return out;
}

export function podGoneEvidence(ctx: Ctx): Evidence[] {
  return ctx.podGone ? [{ text: 'The pod no longer exists; what is known comes from the incident record', source: 'incident' }] : [];
}

/** How close in time a SystemOOM (or a kernel log line) and the container's kill must be to be one event of the kernel. */
const SAME_OOM_MS = 15_000;

/**
 * The SystemOOM that killed this very container: on its node, within seconds of the kill, naming a victim
 * process that is the container's (its name or image, as the kernel truncates a process name to 15
 * characters). Undefined when none fits: the two stay separate incidents.
 */
export function sameNodeOom(ctx: Ctx, sysOom: EventSummary[]): { node: string; victim: string } | undefined {
  const node = nodeName(ctx);
  const killed = timeMs(ctx.incident.occurredAt);
  if (!node || killed === undefined) return undefined;
  const names = victimNames(ctx);
  for (const ev of sysOom) {
    const at = timeMs(ev.lastTimestamp);
    const victim = /victim process: ([^,\s]{1,64})/.exec(ev.message)?.[1];
    if (at === undefined || victim === undefined || Math.abs(at - killed) > SAME_OOM_MS) continue;
    if (names.some((n) => n.slice(0, 15) === victim.slice(0, 15))) return { node, victim };
  }
  return undefined;
}

/** Process names the container's main process may have: its name, and its image's name without tag. */
function victimNames(ctx: Ctx): string[] {
  const image = ctx.container?.image?.split('@')[0]?.split('/').pop()?.split(':')[0];
  return [ctx.containerName, image].filter((n): n is string => typeof n === 'string' && n !== '');
}
