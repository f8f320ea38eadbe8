/**
 * diagnose(enriched): what killed the container, why, how sure we are, what to do, and maybe a limit
 * change. Pure: the same input always gives the same diagnosis.
 *
 * Rules, in order, for a main-process OOM kill (OOMKilled + 137):
 *  1. no memory limit, or the working set at the kill was under 90% of the limit → node out of memory;
 *     a SystemOOM event on the node within 10 minutes of the kill → node out of memory (medium);
 *  2. a runtime flag that alone explains the kill (heap >= limit, MaxRAMPercentage >= 90, container
 *     support off) → runtime heap (high);
 *  3. three or more kills of the container after similar uptimes (max/min <= 1.5, all over 10 min), or
 *     a steadily climbing working set with an earlier kill → suspected leak;
 *  4. killed within 60 s of starting → start-up spike (runtime heap if a flag leaves too little room);
 *  5. a flag leaving too little room (heap > 75% of the limit) → runtime heap (medium);
 *  6. otherwise → limit too low for the load.
 * Other kinds: child OOM (OOMKilled + not 137), SIGKILL (probe, grace period, or unknown: never an OOM),
 * evictions (memory: raise the request; other resources: name them), disruptions, node OOM.
 * Confidence: high when the record says so directly; medium when inferred from one strong signal; low
 * when data is missing. An unknown cause is an honest answer.
 */
import type { Incident } from '../core/incident.js';
import { formatMemoryApprox, parseMemoryBytes } from '../core/quantity.js';
import { MAX_HEAP_SHARE, analyseRuntime, type RuntimeAnalysis } from './analyse-runtime.js';
import type { Cause, Confidence, Diagnosis, Evidence } from './diagnosis.js';
import { isPodPresent, type ContainerSnapshot, type EnrichedIncident, type EventSummary, type OwnerChain } from './enriched.js';
import { describeExitCode, formatDuration, oneLine, percent, secondsBetween, timeMs } from '../core/format.js';
import { proposeLimit, proposeRequest, type Caps } from './propose-limit.js';

export interface DiagnosePolicy {
  /** OOMBOT_MAX_MEMORY_LIMIT in bytes. */
  maxMemoryLimitBytes?: number;
}

/** Kill within this many seconds of the start: a start-up spike. */
export const STARTUP_SECONDS = 60;
/** A working set under this share of the limit at the kill means the container did not hit its own limit. */
export const UNDER_LIMIT_SHARE = 0.9;
/** Similar uptimes for a leak: longest / shortest at most this. */
export const LEAK_UPTIME_RATIO = 1.5;
export const LEAK_MIN_UPTIME_SECONDS = 600;
/** A usage sample counts as "at the kill" when taken at most this long before it. */
export const AT_KILL_WINDOW_MS = 120_000;
/** A SystemOOM event this close to the kill is taken as the same event. */
export const SYSTEM_OOM_WINDOW_MS = 600_000;

const OOM_LOG_PATTERNS: readonly [RegExp, string][] = [
  [/java\.lang\.OutOfMemoryError/, 'The previous log has java.lang.OutOfMemoryError: the Java heap filled up before the kill'],
  [/JavaScript heap out of memory/, 'The previous log has "JavaScript heap out of memory": the Node.js heap filled up'],
  [/fatal error: runtime: out of memory/, 'The previous log has the Go runtime\'s "out of memory" fatal error'],
  [/MemoryError/, 'The previous log has a Python MemoryError'],
  [/Allowed memory size of \d+ bytes exhausted/, 'The previous log has PHP "Allowed memory size exhausted"'],
];

interface Ctx {
  e: EnrichedIncident;
  incident: Incident;
  namespace: string;
  containerName?: string;
  container?: ContainerSnapshot;
  limitBytes?: number;
  limitText?: string;
  requestBytes?: number;
  requestText?: string;
  /** Whether the container spec (or the record) says there is no memory limit. */
  limitKnownAbsent: boolean;
  uptimeSeconds?: number;
  usageAtKill?: number;
  usageNow?: { bytes: number; afterSeconds?: number; source: string };
  caps: Caps;
  owner?: OwnerChain;
  podGone: boolean;
}

function buildCtx(e: EnrichedIncident, policy: DiagnosePolicy): Ctx {
  const incident = e.incident;
  const t = incident.termination;
  const pod = isPodPresent(e.pod) ? e.pod : undefined;
  const containerName = t?.container;
  const container = containerName
    ? [...(pod?.containers ?? []), ...(pod?.initContainers ?? [])].find((c) => c.name === containerName)
    : undefined;
  const limitText = container?.limits.memory?.text ?? t?.resources?.limits?.memory;
  const requestText = container?.requests.memory?.text ?? t?.resources?.requests?.memory;
  const limitBytes = container?.limits.memory?.bytes ?? parseMemoryBytes(limitText);
  const requestBytes = container?.requests.memory?.bytes ?? parseMemoryBytes(requestText);
  const specKnown = container !== undefined || t?.resources !== undefined;
  const uptimeSeconds = secondsBetween(t?.startedAt, t?.finishedAt);

  let usageAtKill: number | undefined;
  let usageNow: Ctx['usageNow'];
  const u = e.usage;
  if (u && u.container === containerName && Number.isFinite(u.containerWorkingSetBytes)) {
    const sampled = timeMs(u.sampledAt);
    const killed = timeMs(incident.occurredAt);
    if (sampled !== undefined && killed !== undefined && sampled <= killed && killed - sampled <= AT_KILL_WINDOW_MS) {
      usageAtKill = u.containerWorkingSetBytes;
    } else {
      usageNow = {
        bytes: u.containerWorkingSetBytes,
        afterSeconds: sampled !== undefined && killed !== undefined && sampled > killed ? Math.round((sampled - killed) / 1000) : undefined,
        source: u.source,
      };
    }
  }
  const prev = e.previousIncidents.find((p) => p.occurredAt === incident.occurredAt && p.container === containerName && p.workingSetBytes !== undefined);
  if (usageAtKill === undefined && prev?.workingSetBytes !== undefined) usageAtKill = prev.workingSetBytes;

  const owner: OwnerChain | undefined = e.owner
    ? { ...e.owner, ...(e.owner.managedBy ?? incident.pod?.managedBy ? { managedBy: e.owner.managedBy ?? incident.pod?.managedBy } : {}) }
    : undefined;
  return {
    e,
    incident,
    namespace: incident.pod?.namespace ?? (pod?.namespace ?? ''),
    containerName,
    container,
    limitBytes,
    limitText,
    requestBytes,
    requestText,
    limitKnownAbsent: specKnown && limitText === undefined,
    uptimeSeconds,
    usageAtKill,
    usageNow,
    caps: {
      policyMaxBytes: policy.maxMemoryLimitBytes,
      largestNodeAllocatableBytes: e.largestNodeAllocatableBytes ?? e.node?.allocatableBytes,
      limitRangeMaxBytes: e.limitRange?.maxMemory.bytes ?? parseMemoryBytes(e.limitRange?.maxMemory.text),
    },
    owner,
    podGone: e.pod?.gone === true,
  };
}

// ---------------------------------------------------------------------------------------------------
// Evidence

function nodeName(ctx: Ctx): string | undefined {
  return ctx.e.node?.name ?? ctx.incident.pod?.nodeName ?? ctx.incident.nodeOom?.node;
}

function nodeEvidence(ctx: Ctx): { evidence: Evidence[]; overcommitted: boolean; pressure: boolean } {
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
  return { evidence, overcommitted, pressure };
}

function systemOomEvents(ctx: Ctx): EventSummary[] {
  const killed = timeMs(ctx.incident.occurredAt);
  return ctx.e.events.filter((ev) => {
    if (ev.reason !== 'SystemOOM') return false;
    const at = timeMs(ev.lastTimestamp);
    return killed === undefined || at === undefined || Math.abs(at - killed) <= SYSTEM_OOM_WINDOW_MS;
  });
}

function systemOomEvidence(ctx: Ctx, events: EventSummary[]): Evidence[] {
  return events.slice(-2).map((ev) => ({
    text: `SystemOOM on node ${ev.involvedName ?? nodeName(ctx) ?? ''}${ev.count > 1 ? ` (×${ev.count})` : ''}: ${oneLine(ev.message, 160)}`,
    source: 'events' as const,
  }));
}

function logEvidence(ctx: Ctx): Evidence[] {
  const logs = ctx.e.previousLogs;
  if (typeof logs !== 'string' || logs === '') return [];
  const tail = logs.length > 65536 ? logs.slice(-65536) : logs;
  for (const [pattern, text] of OOM_LOG_PATTERNS) {
    if (pattern.test(tail)) return [{ text, source: 'previous logs' }];
  }
  return [];
}

function limitEvidence(ctx: Ctx): Evidence[] {
  if (ctx.limitText === undefined) return [];
  const req = ctx.requestText === undefined ? 'no request' : `request ${ctx.requestText}`;
  const qos = isPodPresent(ctx.e.pod) ? ctx.e.pod.qosClass : ctx.incident.pod?.qosClass;
  return [{ text: `Memory limit ${ctx.limitText}, ${req}${qos ? ` (QoS ${qos})` : ''}`, source: ctx.container ? 'pod spec' : 'incident' }];
}

function uptimeEvidence(ctx: Ctx): Evidence[] {
  if (ctx.uptimeSeconds === undefined) return [];
  return [{ text: `It ran ${formatDuration(ctx.uptimeSeconds)} before the kill`, source: 'pod status' }];
}

function usageEvidence(ctx: Ctx): Evidence[] {
  const out: Evidence[] = [];
  if (ctx.usageAtKill !== undefined) {
    out.push({
      text: `Working set at the kill: ${formatMemoryApprox(ctx.usageAtKill)}${ctx.limitBytes ? ` (${percent(ctx.usageAtKill, ctx.limitBytes)} of the limit)` : ''}`,
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

function podGoneEvidence(ctx: Ctx): Evidence[] {
  return ctx.podGone ? [{ text: 'The pod no longer exists; what is known comes from the incident record', source: 'incident' }] : [];
}

/** Uptimes at the kill of earlier OOM kills of the same container, plus this one. */
function killUptimes(ctx: Ctx): number[] {
  const earlier = ctx.e.previousIncidents
    .filter((p) => p.kind === 'container-oom' && p.container === ctx.containerName && p.occurredAt !== ctx.incident.occurredAt)
    .map((p) => secondsBetween(p.startedAt, p.finishedAt))
    .filter((s): s is number => s !== undefined);
  return ctx.uptimeSeconds === undefined ? earlier : [...earlier, ctx.uptimeSeconds];
}

function earlierKillCount(ctx: Ctx): number {
  return ctx.e.previousIncidents.filter((p) => p.kind === 'container-oom' && p.container === ctx.containerName && p.occurredAt !== ctx.incident.occurredAt).length;
}

interface LeakSignal {
  evidence: Evidence[];
  confidence: Confidence;
}

function detectLeak(ctx: Ctx): LeakSignal | undefined {
  const evidence: Evidence[] = [];
  const uptimes = killUptimes(ctx);
  let repeats = false;
  let tight = false;
  if (uptimes.length >= 3 && uptimes.every((u) => u >= LEAK_MIN_UPTIME_SECONDS)) {
    const min = Math.min(...uptimes);
    const max = Math.max(...uptimes);
    if (max / min <= LEAK_UPTIME_RATIO) {
      repeats = true;
      tight = uptimes.length >= 4 && max / min <= 1.25;
      evidence.push({
        text: `${uptimes.length} OOM kills of ${ctx.containerName} after similar uptimes: ${uptimes.slice(-6).map(formatDuration).join(', ')}`,
        source: 'previous incidents',
      });
    }
  }
  let climbing = false;
  const samples = (ctx.e.usageSamples ?? []).filter((s) => Number.isFinite(s.workingSetBytes));
  const first = samples[0];
  const lastSample = samples[samples.length - 1];
  if (samples.length >= 4 && first && lastSample) {
    const span = secondsBetween(first.at, lastSample.at);
    const steady = samples.every((s, i) => i === 0 || s.workingSetBytes >= (samples[i - 1]?.workingSetBytes ?? 0) * 0.98);
    if (span !== undefined && span >= LEAK_MIN_UPTIME_SECONDS && steady && lastSample.workingSetBytes >= first.workingSetBytes * 1.3) {
      climbing = true;
      evidence.push({
        text: `Working set climbed steadily from ${formatMemoryApprox(first.workingSetBytes)} to ${formatMemoryApprox(lastSample.workingSetBytes)} over ${formatDuration(span)} before the kill`,
        source: 'metrics',
      });
    }
  }
  if (repeats) return { evidence, confidence: tight || climbing ? 'high' : 'medium' };
  if (climbing && earlierKillCount(ctx) >= 1) return { evidence, confidence: 'medium' };
  return undefined;
}

// ---------------------------------------------------------------------------------------------------
// Result assembly

const NODE_ADVICE = [
  'Set requests equal to limits (QoS Guaranteed) for critical pods: they are killed last when the node runs out.',
  'Lower the memory limits of other pods on the node, or spread them out, so the sum of limits fits allocatable memory.',
  'Add nodes or use larger ones; check kube-reserved and system-reserved on the node.',
];

function result(ctx: Ctx, cause: Cause, confidence: Confidence, headline: string, evidence: Evidence[], advice: string[], extra: Partial<Diagnosis> = {}): Diagnosis {
  const d: Diagnosis = { kind: ctx.incident.kind, cause, confidence, headline, evidence, advice };
  if (extra.proposal) d.proposal = extra.proposal;
  if (extra.noProposalReason) d.noProposalReason = extra.noProposalReason;
  if (extra.raisingIsWrongFix) d.raisingIsWrongFix = extra.raisingIsWrongFix;
  return d;
}

function withLimitProposal(ctx: Ctx, atLeast?: { bytes: number; reason: string }): Partial<Diagnosis> {
  if (ctx.limitBytes === undefined || ctx.containerName === undefined) {
    return { noProposalReason: 'The container\'s current memory limit is not known, so no new value can be computed.' };
  }
  const r = proposeLimit({
    container: ctx.containerName,
    namespace: ctx.namespace,
    owner: ctx.owner,
    limitBytes: ctx.limitBytes,
    limitText: ctx.limitText,
    requestBytes: ctx.requestBytes,
    requestText: ctx.requestText,
    usageAtKillBytes: ctx.usageAtKill,
    atLeastBytes: atLeast?.bytes,
    atLeastReason: atLeast?.reason,
    caps: ctx.caps,
  });
  return r.proposal ? { proposal: r.proposal } : { noProposalReason: r.reason };
}

function lowerIfGone(ctx: Ctx, c: Confidence): Confidence {
  if (!ctx.podGone) return c;
  return c === 'high' ? 'medium' : 'low';
}

// ---------------------------------------------------------------------------------------------------
// Kinds

function diagnoseContainerOom(ctx: Ctx): Diagnosis {
  const name = ctx.containerName ?? 'the container';
  const t = ctx.incident.termination;
  const restarts = t && t.restartCount > 0 ? ` (restart count ${t.restartCount})` : '';
  const base: Evidence[] = [
    { text: `Container ${name} was OOMKilled with exit code 137${restarts}`, source: 'pod status' },
    ...podGoneEvidence(ctx),
    ...limitEvidence(ctx),
    ...uptimeEvidence(ctx),
    ...usageEvidence(ctx),
  ];
  const node = nodeEvidence(ctx);
  const sysOom = systemOomEvents(ctx);
  const logs = logEvidence(ctx);
  const nodeSignals = node.overcommitted || node.pressure || sysOom.length > 0;
  const nodeAll = [...systemOomEvidence(ctx, sysOom), ...node.evidence];

  // 1. Not the container's own limit.
  if (ctx.limitKnownAbsent) {
    return result(
      ctx,
      'node-pressure',
      lowerIfGone(ctx, nodeSignals ? 'high' : 'medium'),
      `${name} has no memory limit, so this was not a container-limit kill: the node${nodeName(ctx) ? ` ${nodeName(ctx)}` : ''} ran out of memory and the kernel picked it.`,
      [...base, { text: `Container ${name} has no memory limit`, source: ctx.container ? 'pod spec' : 'incident' }, ...nodeAll],
      ['Set a memory limit (and a request near real use) on this container so it is bounded and accounted for.', ...NODE_ADVICE],
      { raisingIsWrongFix: `${name} has no limit to raise: the node ran out of memory.` },
    );
  }
  if (ctx.limitBytes === undefined) {
    return result(
      ctx,
      'unknown',
      'low',
      `${name} was OOM-killed, but its memory limit and usage could not be read, so the cause is unknown.`,
      [...base, ...nodeAll, ...logs],
      ['Check the workload\'s memory limit against its real use (kubectl top pod, container_memory_working_set_bytes).', 'Check the node for SystemOOM events and MemoryPressure.'],
      { noProposalReason: 'The container\'s current memory limit is not known, so no new value can be computed.' },
    );
  }
  const limitBytes = ctx.limitBytes;
  if (ctx.usageAtKill !== undefined && ctx.usageAtKill < limitBytes * UNDER_LIMIT_SHARE) {
    return result(
      ctx,
      'node-pressure',
      lowerIfGone(ctx, nodeSignals ? 'high' : 'medium'),
      `${name} was under its ${ctx.limitText} limit (${formatMemoryApprox(ctx.usageAtKill)}) when it was killed: the node${nodeName(ctx) ? ` ${nodeName(ctx)}` : ''} ran out of memory, not the container.`,
      [...base, ...nodeAll],
      NODE_ADVICE,
      { raisingIsWrongFix: `${name} did not reach its limit: a higher limit would not have saved it, and adds to the node's overcommit.` },
    );
  }
  if (sysOom.length > 0 && ctx.usageAtKill === undefined) {
    return result(
      ctx,
      'node-pressure',
      lowerIfGone(ctx, 'medium'),
      `${nodeName(ctx) ? `Node ${nodeName(ctx)}` : 'The node'} ran out of memory at the time of the kill (SystemOOM): ${name} was most likely killed by node pressure rather than its own limit.`,
      [...base, ...nodeAll],
      [...NODE_ADVICE, 'Check the working set of the container at the kill: if it was near its limit, the limit is too low as well.'],
      { raisingIsWrongFix: 'The node ran out of memory: a higher limit on this container adds to the node\'s overcommit instead of fixing it.' },
    );
  }

  const runtime = analyseRuntime(ctx.container?.runtimeMemorySettings ?? [], limitBytes, ctx.limitText);
  const runtimeAdvice = (r: RuntimeAnalysis) => [...r.strong, ...r.weak].map((f) => f.advice);
  const runtimeEvidence = (r: RuntimeAnalysis, which: 'strong' | 'weak' | 'all') =>
    (which === 'all' ? [...r.strong, ...r.weak] : r[which]).map((f) => ({ text: f.text, source: 'container spec' as const }));
  const nodeSide = node.evidence;
  const nodeSideAdvice = node.overcommitted ? ['The node is also overcommitted: consider requests = limits for this workload so the scheduler reserves what it uses.'] : [];

  const heapRuntime = (confidence: Confidence, headline: string, evidence: Evidence[]): Diagnosis => {
    const findings = [...runtime.strong, ...runtime.weak];
    const raisingHelps = findings.every((f) => f.raisingHelps);
    const heap = Math.max(0, ...findings.map((f) => f.heapBytes ?? 0));
    const extra: Partial<Diagnosis> = raisingHelps
      ? withLimitProposal(ctx, heap > 0 ? { bytes: Math.ceil(heap / MAX_HEAP_SHARE), reason: `so a ${formatMemoryApprox(heap)} heap is at most 75% of the limit` } : undefined)
      : {
          raisingIsWrongFix: `The heap is sized as a share of the memory the runtime sees, so a bigger limit only gets a bigger heap: ${findings.filter((f) => !f.raisingHelps)[0]?.advice ?? ''}`.trim(),
        };
    return result(ctx, 'runtime-heap', lowerIfGone(ctx, confidence), headline, [...evidence, ...logs], [...runtimeAdvice(runtime), ...runtime.hints], extra);
  };

  // 2. A runtime flag alone explains it.
  if (runtime.strong.length > 0) {
    return heapRuntime('high', `${name} was OOM-killed at its ${ctx.limitText} limit because its runtime is allowed to use that much or more: ${runtime.strong[0]?.text}.`, [...base, ...runtimeEvidence(runtime, 'all')]);
  }

  // 3. Leak.
  const leak = detectLeak(ctx);
  if (leak) {
    return result(
      ctx,
      'memory-leak',
      lowerIfGone(ctx, leak.confidence),
      `${name} keeps running out of memory the same way: a memory leak is likely, and a higher limit would only delay the next kill.`,
      [...base, ...leak.evidence, ...logs],
      [
        'Profile the memory growth: a heap dump (JVM: jcmd GC.heap_dump), pprof (Go), --inspect / heap snapshots (Node.js), tracemalloc (Python).',
        'Compare the version deployed when the kills started with the one before.',
        'Until it is fixed, a scheduled restart before the usual uptime is a stop-gap, not a fix.',
        ...runtime.hints,
      ],
      { raisingIsWrongFix: 'Memory grows until the kill whatever the limit: raising it only moves the kill later. Find the leak first.' },
    );
  }

  // 4. Start-up spike.
  if (ctx.uptimeSeconds !== undefined && ctx.uptimeSeconds <= STARTUP_SECONDS) {
    const startEvidence = [...base, ...runtimeEvidence(runtime, 'all')];
    if (runtime.weak.length > 0) {
      return heapRuntime('medium', `${name} was OOM-killed ${formatDuration(ctx.uptimeSeconds)} after starting, and its runtime flags leave too little room under the ${ctx.limitText} limit.`, startEvidence);
    }
    return result(
      ctx,
      'startup-spike',
      lowerIfGone(ctx, 'medium'),
      `${name} was OOM-killed ${formatDuration(ctx.uptimeSeconds)} after starting: its start-up needs more than the ${ctx.limitText} limit.`,
      [...startEvidence, ...logs],
      [
        'Check what the start-up loads (caches, models, class loading, migrations) and the runtime heap flags.',
        'Raise the limit to cover the start-up peak, or make the start-up lighter.',
        ...runtime.hints,
      ],
      withLimitProposal(ctx),
    );
  }

  // 5. Flags that leave too little room.
  if (runtime.weak.length > 0) {
    return heapRuntime('medium', `${name} was OOM-killed at its ${ctx.limitText} limit; its runtime flags leave little room outside the heap.`, [...base, ...runtimeEvidence(runtime, 'weak')]);
  }

  // 6. The limit is too low for the load.
  const earlier = earlierKillCount(ctx);
  const evidence = [...base, ...nodeSide, ...logs];
  if (earlier > 0) evidence.push({ text: `${earlier} earlier OOM kill${earlier === 1 ? '' : 's'} of ${name} recorded, at varying uptimes`, source: 'previous incidents' });
  const near = (ctx.usageAtKill ?? ctx.usageNow?.bytes ?? 0) >= limitBytes * 0.85;
  let confidence: Confidence = near ? 'high' : 'medium';
  confidence = lowerIfGone(ctx, confidence);
  return result(
    ctx,
    'limit-too-low',
    confidence,
    `${name} used all of its ${ctx.limitText} memory limit and was OOM-killed: the limit is too low for its load.`,
    evidence,
    ['Raise the memory limit (and the request with it, so the scheduler reserves what it uses).', ...nodeSideAdvice, ...runtime.hints],
    withLimitProposal(ctx),
  );
}

function diagnoseChildOom(ctx: Ctx): Diagnosis {
  const name = ctx.containerName ?? 'the container';
  const t = ctx.incident.termination;
  return result(
    ctx,
    'child-oom',
    'high',
    `A process inside ${name} was OOM-killed earlier; the container itself stopped later with ${describeExitCode(t?.exitCode)}, so this stop was not an OOM kill.`,
    [
      { text: `Container ${name} stopped with reason OOMKilled but ${describeExitCode(t?.exitCode)}, not 137`, source: 'pod status' },
      {
        text: 'The runtime reports OOMKilled from the container\'s cumulative OOM counter: an earlier kill of a process inside it (not its main process) sets it',
        source: 'pod status',
      },
      ...podGoneEvidence(ctx),
      ...limitEvidence(ctx),
      ...logEvidence(ctx),
    ],
    [
      'Find which process inside the container uses the memory (worker processes, shell scripts, build tools): it was killed while the main process kept running.',
      'The kubelet\'s cAdvisor metric container_oom_events_total counts these kills.',
      'On cgroup v2 with Kubernetes 1.28+ an OOM kills the whole container (memory.oom.group) unless the kubelet sets singleProcessOOMKill.',
    ],
    { raisingIsWrongFix: 'This stop was not a memory kill of the container: raise the limit only once you know which process ran out and that it needs more.' },
  );
}

const PROBE_KILL = /failed (liveness|startup) probe/i;

function diagnoseSigkill(ctx: Ctx): Diagnosis {
  const name = ctx.containerName ?? 'the container';
  const notOom = `${name} was killed by SIGKILL (exit code 137) without the OOMKilled reason: this is not an OOM kill.`;
  const base: Evidence[] = [
    { text: `Container ${name} stopped with exit code 137 and reason ${ctx.incident.termination?.reason || 'empty'}, not OOMKilled`, source: 'pod status' },
    ...podGoneEvidence(ctx),
  ];
  const wrongFix = 'Not an OOM kill: more memory does not fix this.';
  const probeKill = ctx.incident.probeKill;
  const killingEvent = [...ctx.e.events].reverse().find((ev) => ev.reason === 'Killing' && PROBE_KILL.test(ev.message));
  const unhealthy = ctx.e.events.filter((ev) => ev.reason === 'Unhealthy' && /liveness|startup/i.test(ev.message));
  if (probeKill || killingEvent || unhealthy.length > 0) {
    const probe = probeKill?.probe ?? (PROBE_KILL.exec(probeKill?.message ?? killingEvent?.message ?? '')?.[1]?.toLowerCase() as 'liveness' | 'startup' | undefined) ?? 'liveness';
    const evidence = [...base];
    if (probeKill) evidence.push({ text: `Kubelet: ${oneLine(probeKill.message, 200)}`, source: 'events' });
    else if (killingEvent) evidence.push({ text: `Kubelet: ${oneLine(killingEvent.message, 200)}`, source: 'events' });
    for (const ev of unhealthy.slice(-2)) {
      evidence.push({ text: `Unhealthy${ev.count > 1 ? ` ×${ev.count}` : ''}: ${oneLine(ev.message, 200)}`, source: 'events' });
    }
    const lp = ctx.container?.liveness;
    if (lp && probe === 'liveness') {
      const parts = [
        lp.periodSeconds !== undefined ? `every ${lp.periodSeconds}s` : undefined,
        lp.timeoutSeconds !== undefined ? `timeout ${lp.timeoutSeconds}s` : undefined,
        lp.failureThreshold !== undefined ? `${lp.failureThreshold} failures allowed` : undefined,
      ].filter(Boolean);
      if (parts.length > 0) evidence.push({ text: `Liveness probe: ${parts.join(', ')}`, source: 'pod spec' });
    }
    return result(
      ctx,
      'probe-kill',
      probeKill || killingEvent ? 'high' : 'medium',
      `${name} failed its ${probe} probe and the kubelet killed it (SIGKILL, exit code 137): not an OOM kill.`,
      evidence,
      [
        'Look at why the probe failed (the Unhealthy events): a slow endpoint under load, long GC pauses, or a dependency the probe checks.',
        probe === 'startup'
          ? 'Give the start-up more time: a higher failureThreshold or periodSeconds on the startupProbe.'
          : 'Give the probe more slack (timeoutSeconds, failureThreshold), or add a startupProbe if it fails while starting.',
        'A liveness probe should check only the process itself, never its dependencies.',
      ],
      { raisingIsWrongFix: `${wrongFix} The container was restarted because its ${probe} probe failed.` },
    );
  }
  const stopping = [...ctx.e.events].reverse().find((ev) => ev.reason === 'Killing' && /stopping container/i.test(ev.message));
  if (stopping) {
    const pod = isPodPresent(ctx.e.pod) ? ctx.e.pod : undefined;
    const grace = pod?.terminationGracePeriodSeconds;
    const evidence = [...base, { text: `Kubelet: ${oneLine(stopping.message, 200)}`, source: 'events' as const }];
    if (grace !== undefined) evidence.push({ text: `terminationGracePeriodSeconds is ${grace}`, source: 'pod spec' });
    return result(
      ctx,
      'grace-period',
      'medium',
      `${name} was asked to stop (SIGTERM) and did not exit within its ${grace === undefined ? '' : `${grace}s `}grace period, so it was killed with SIGKILL: not an OOM kill.`,
      evidence,
      [
        'Make the process exit on SIGTERM: handle the signal, and use the exec form of the command so PID 1 receives it (not a shell).',
        'If it needs longer to drain, raise terminationGracePeriodSeconds or add a preStop hook.',
      ],
      { raisingIsWrongFix: `${wrongFix} The container outlived its termination grace period.` },
    );
  }
  const evidence = [...base, ...usageEvidence(ctx)];
  const sysOom = systemOomEvents(ctx);
  evidence.push(...systemOomEvidence(ctx, sysOom));
  const advice = [
    'Check the events around the kill: a liveness probe, a stop that outlived the grace period, or something outside Kubernetes (a node daemon, the container runtime) sending SIGKILL.',
  ];
  if (sysOom.length > 0) {
    advice.push('The node had a SystemOOM at the time: older container runtimes reported real OOM kills as "Error" with exit 137, so check the node\'s kernel log.');
  }
  return result(
    ctx,
    'unknown',
    'low',
    `${notOom} Nothing recorded says who sent it.`,
    evidence,
    advice,
    { raisingIsWrongFix: `${wrongFix} Exit code 137 without OOMKilled only says the process got SIGKILL.` },
  );
}

interface EvictionUse {
  name: string;
  usageBytes?: number;
  usageText?: string;
  requestBytes?: number;
  requestText?: string;
}

const EVICTION_MESSAGE = /Container (\S+) was using (\S+?),? (?:request is (\S+?)|which exceeds its request of (\S+?))[,.]/g;

function evictionResource(ctx: Ctx): string | undefined {
  const ev = ctx.incident.eviction;
  if (ev?.resource) return ev.resource;
  const text = ev?.message ?? (isPodPresent(ctx.e.pod) ? ctx.e.pod.message : undefined) ?? '';
  return /low on resource: ([A-Za-z.-]+)/.exec(text.slice(0, 2000))?.[1]?.replace(/\.$/, '');
}

function evictionUses(ctx: Ctx): { uses: EvictionUse[]; fromMessage: boolean } {
  const ev = ctx.incident.eviction;
  const fromRecord = (ev?.containers ?? []).map((c) => ({
    name: c.name,
    usageText: c.usage,
    usageBytes: parseMemoryBytes(c.usage),
    requestText: c.request,
    requestBytes: parseMemoryBytes(c.request),
  }));
  if (fromRecord.length > 0) return { uses: fromRecord, fromMessage: ev?.source === 'message' };
  const text = (ev?.message ?? '').slice(0, 4000);
  const uses: EvictionUse[] = [];
  for (const m of text.matchAll(EVICTION_MESSAGE)) {
    const request = m[3] ?? m[4];
    uses.push({ name: m[1] ?? '', usageText: m[2], usageBytes: parseMemoryBytes(m[2]), requestText: request, requestBytes: parseMemoryBytes(request) });
  }
  return { uses, fromMessage: true };
}

function diagnoseEviction(ctx: Ctx): Diagnosis {
  const ev = ctx.incident.eviction;
  const resource = evictionResource(ctx);
  const podName = ctx.incident.pod ? `${ctx.incident.pod.namespace}/${ctx.incident.pod.name}` : 'the pod';
  const base: Evidence[] = [];
  const pressure = [ev?.threshold ? `threshold ${ev.threshold}` : undefined, ev?.available ? `available ${ev.available}` : undefined].filter(Boolean).join(', ');
  if (resource) base.push({ text: `The kubelet evicted the pod: the node was low on ${resource}${pressure ? ` (${pressure})` : ''}`, source: 'eviction' });
  else base.push({ text: 'The kubelet evicted the pod; the starved resource is not recorded', source: 'eviction' });
  if (ev?.disruptionReason) base.push({ text: `DisruptionTarget condition: ${ev.disruptionReason}`, source: 'pod status' });
  base.push(...podGoneEvidence(ctx));
  const { uses, fromMessage } = evictionUses(ctx);

  if (resource === 'memory') {
    const over = uses
      .filter((u) => u.usageBytes !== undefined)
      .map((u) => ({ ...u, excess: (u.usageBytes ?? 0) - (u.requestBytes ?? 0) }))
      .sort((a, b) => b.excess - a.excess);
    const evidence = [...base];
    for (const u of over.slice(0, 5)) {
      const ratio = u.requestBytes ? ` (${((u.usageBytes ?? 0) / u.requestBytes).toFixed(1)}× its request)` : '';
      evidence.push({
        text: `${u.name} used ${formatMemoryApprox(u.usageBytes ?? 0)}, request ${u.requestBytes === undefined || u.requestBytes === 0 ? 'none' : formatMemoryApprox(u.requestBytes)}${ratio}`,
        source: 'eviction',
      });
    }
    evidence.push(...nodeEvidence(ctx).evidence);
    const top = over[0];
    if (!top || top.excess <= 0) {
      return result(
        ctx,
        'eviction-memory',
        'medium',
        `${podName} was evicted because its node ran low on memory${top ? '; it used no more than it requested, so other pods\' use pushed the node over' : ''}.`,
        evidence,
        ['Pods using more than they request are evicted first: check the other pods on the node and their requests.', ...NODE_ADVICE],
        { raisingIsWrongFix: 'The pod was evicted for node memory pressure, not for its own limit: a higher limit would not have helped.' },
      );
    }
    const snap = isPodPresent(ctx.e.pod) ? ctx.e.pod.containers.find((c) => c.name === top.name) : undefined;
    const limitBytes = snap?.limits.memory?.bytes ?? parseMemoryBytes(snap?.limits.memory?.text);
    const r = proposeRequest({
      container: top.name,
      namespace: ctx.namespace,
      owner: ctx.owner,
      usageBytes: top.usageBytes ?? 0,
      requestBytes: top.requestBytes === 0 ? undefined : top.requestBytes,
      requestText: top.requestBytes === 0 ? undefined : (snap?.requests.memory?.text ?? top.requestText),
      limitBytes,
      limitText: snap?.limits.memory?.text,
      caps: ctx.caps,
    });
    return result(
      ctx,
      'eviction-memory',
      lowerIfGone(ctx, fromMessage ? 'medium' : 'high'),
      `${podName} was evicted for node memory pressure: ${top.name} used ${formatMemoryApprox(top.usageBytes ?? 0)}, above its request${top.requestBytes ? ` of ${top.requestText ?? formatMemoryApprox(top.requestBytes)}` : ' (none)'}, so it went first.`,
      evidence,
      [
        `Raise the memory request of ${top.name} toward its real use (${formatMemoryApprox(top.usageBytes ?? 0)}) so the scheduler reserves it.`,
        'Pods using more than they request are evicted first; Guaranteed pods (requests = limits) last.',
      ],
      r.proposal
        ? { proposal: r.proposal, raisingIsWrongFix: 'The limit was not reached: the node ran low and this pod used the most above its request. Raise the request, not the limit.' }
        : { noProposalReason: r.reason, raisingIsWrongFix: 'The limit was not reached: the node ran low and this pod used the most above its request. Raise the request, not the limit.' },
    );
  }

  if (resource) {
    const evidence = [...base];
    for (const u of uses.slice(0, 5)) {
      const used = u.usageBytes !== undefined ? formatMemoryApprox(u.usageBytes) : (u.usageText ?? 'an unknown amount');
      evidence.push({ text: `${u.name} used ${used} of ${resource}, request ${u.requestText && u.requestText !== '0' ? u.requestText : 'none'}`, source: 'eviction' });
    }
    const local = ev?.localLimit;
    if (local) {
      evidence.push({
        text: `The ${local.scope === 'pod' ? 'pod' : `${local.scope} ${local.name ?? ''}`.trim()} went over its own ephemeral-storage limit${local.limit ? ` of ${local.limit}` : ''}`,
        source: 'eviction',
      });
    }
    const advice = EVICTION_ADVICE[resource] ?? EVICTION_ADVICE['ephemeral-storage'] ?? [];
    return result(
      ctx,
      'eviction-resource',
      lowerIfGone(ctx, 'high'),
      local
        ? `${podName} was evicted because it went over its own ${resource} limit; memory had nothing to do with it.`
        : `${podName} was evicted because its node ran low on ${resource}; memory had nothing to do with it.`,
      evidence,
      advice,
      { raisingIsWrongFix: `The eviction was for ${resource}, not memory: a memory limit change would not help.` },
    );
  }
  return result(
    ctx,
    'unknown',
    'low',
    `${podName} was evicted by the kubelet, but the record does not say which resource ran low.`,
    [...base, ...nodeEvidence(ctx).evidence],
    ['Check the node\'s conditions (MemoryPressure, DiskPressure, PIDPressure) and the kubelet\'s Evicted event.'],
    { raisingIsWrongFix: 'Nothing shows the memory limit was reached: do not raise it on this evidence.' },
  );
}

const EVICTION_ADVICE: Record<string, string[]> = {
  'ephemeral-storage': [
    'Find what writes to the container\'s filesystem (logs, /tmp, caches) and move it to a volume, or an emptyDir with a sizeLimit.',
    'Set ephemeral-storage requests (and limits) so the scheduler accounts for the disk the pod uses.',
  ],
  nodefs: [
    'The node\'s root filesystem filled up: find pods writing logs or emptyDir data and bound them with ephemeral-storage limits.',
    'Check container log rotation and the node\'s disk size.',
  ],
  imagefs: ['The node\'s image filesystem filled up: check image garbage collection thresholds, image sizes, and the node\'s disk size.'],
  pids: ['Find the process or thread leak (a fork loop, unbounded thread pools) and set a pod PID limit.'],
};

const DISRUPTION_TEXT: Record<string, string> = {
  PreemptionByScheduler: 'preempted by the scheduler to make room for a higher-priority pod',
  Preempted: 'preempted by the scheduler to make room for a higher-priority pod',
  DeletionByTaintManager: 'evicted by the taint manager because its node got a NoExecute taint (for example, it stopped being ready)',
  TaintManagerEviction: 'evicted by the taint manager because its node got a NoExecute taint (for example, it stopped being ready)',
  EvictionByEvictionAPI: 'evicted through the eviction API (a node drain, the cluster autoscaler or a descheduler)',
};

function diagnoseDisruption(ctx: Ctx): Diagnosis {
  const d = ctx.incident.disruption;
  const podName = ctx.incident.pod ? `${ctx.incident.pod.namespace}/${ctx.incident.pod.name}` : 'the pod';
  const what = d ? DISRUPTION_TEXT[d.reason] : undefined;
  const evidence: Evidence[] = [{ text: `Reason: ${d?.reason ?? 'not recorded'}${d?.message ? ` (${oneLine(d.message, 200)})` : ''}`, source: 'pod status' }];
  const advice = [
    'Use a PodDisruptionBudget so drains keep enough replicas running.',
    'Give critical workloads a higher PriorityClass so they are not preempted.',
    'For taint evictions, check why the node became unready, and tolerationSeconds.',
  ];
  return result(
    ctx,
    what ? 'disruption' : 'unknown',
    what ? 'high' : 'low',
    what ? `${podName} was ${what}: not a resource problem of this pod.` : `${podName} was evicted for a reason oombot does not recognise.`,
    evidence,
    advice,
    { raisingIsWrongFix: 'This eviction was not caused by the pod\'s memory: a limit change would not help.' },
  );
}

function diagnoseNodeOom(ctx: Ctx): Diagnosis {
  const n = ctx.incident.nodeOom;
  const node = n?.node ?? ctx.e.node?.name ?? 'the node';
  const victim = n?.victimProcess ? `process ${n.victimProcess}${n.victimPid !== undefined ? ` (pid ${n.victimPid})` : ''}` : 'a process';
  const ne = nodeEvidence(ctx);
  const evidence: Evidence[] = [
    { text: `SystemOOM on node ${node}${n && n.count > 1 ? ` (×${n.count})` : ''}: the kernel killed ${victim} outside any pod's limit`, source: 'events' },
    ...ne.evidence,
  ];
  return result(
    ctx,
    'node-pressure',
    ne.overcommitted || ne.pressure ? 'high' : 'medium',
    `Node ${node} ran out of memory and the kernel OOM killer killed ${victim}${ne.overcommitted ? '; the node is overcommitted' : ''}.`,
    evidence,
    NODE_ADVICE,
    { raisingIsWrongFix: 'The node ran out, not a container: raising limits adds to the overcommit.' },
  );
}

/** The diagnosis of one enriched incident. */
export function diagnose(enriched: EnrichedIncident, policy: DiagnosePolicy = {}): Diagnosis {
  const ctx = buildCtx(enriched, policy);
  switch (enriched.incident.kind) {
    case 'container-oom':
      return diagnoseContainerOom(ctx);
    case 'child-oom':
      return diagnoseChildOom(ctx);
    case 'sigkill':
      return diagnoseSigkill(ctx);
    case 'evicted':
      return diagnoseEviction(ctx);
    case 'disruption':
      return diagnoseDisruption(ctx);
    case 'node-oom':
      return diagnoseNodeOom(ctx);
    default:
      return result(ctx, 'unknown', 'low', 'oombot does not know this kind of incident.', [{ text: `Incident kind: ${String(enriched.incident.kind)}`, source: 'incident' }], []);
  }
}

