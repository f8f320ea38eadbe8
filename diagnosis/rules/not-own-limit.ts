/**
 * Rule 1 of a main-process OOM kill: not the container's own limit. Without a limit, or under 90% of
 * it at the kill, or with a SystemOOM on the node at the time, the node ran out; a limit that cannot be
 * read leaves the cause unknown.
 */
import { formatMemoryApprox } from '../../core/quantity.js';
import type { Diagnosis } from '../diagnosis.js';
import { NODE_ADVICE, UNDER_LIMIT_SHARE, lowerIfGone, result, type Ctx } from './context.js';
import { containerKernelKills, describeKernelKill, nodeName, sameNodeOom } from './evidence.js';
import type { AtLimit, OomKill } from './oom-kill.js';

export function noLimit({ ctx, name, base, nodeSignals, nodeAll }: OomKill): Diagnosis {
  return result(
    ctx,
    'node-pressure',
    lowerIfGone(ctx, nodeSignals ? 'high' : 'medium'),
    `${name} has no memory limit, so this was not a container-limit kill: the node${onNode(ctx)} ran out of memory and the kernel picked it.`,
    [...base, { text: `Container ${name} has no memory limit`, source: ctx.container ? 'pod spec' : 'incident' }, ...nodeAll],
    ['Set a memory limit (and a request near real use) on this container so it is bounded and accounted for.', ...NODE_ADVICE],
    { raisingIsWrongFix: `${name} has no limit to raise: the node ran out of memory.` },
  );
}

export function limitUnknown({ ctx, name, base, nodeAll, logs }: OomKill): Diagnosis {
  return result(
    ctx,
    'unknown',
    'low',
    `${name} was OOM-killed, but its memory limit and usage could not be read, so the cause is unknown.`,
    [...base, ...nodeAll, ...logs],
    [
      "Check the workload's memory limit against its real use (kubectl top pod, container_memory_working_set_bytes).",
      'Check the node for SystemOOM events and MemoryPressure.',
    ],
    { noProposalReason: "The container's current memory limit is not known, so no new value can be computed." },
  );
}

export function underLimit({ ctx, name, base, node, sysOom, nodeAll, limitBytes }: AtLimit): Diagnosis | undefined {
  const usage = ctx.usageAtKill;
  // One container's working set says nothing about the sum a pod-level limit bounds.
  if (ctx.limitScope === 'pod') return undefined;
  const under = usage !== undefined && usage < limitBytes * UNDER_LIMIT_SHARE;
  // A low sample alone proves nothing (it may be minutes old, and memory can climb in seconds): the node
  // is blamed only on node evidence, a SystemOOM at the time or MemoryPressure. Overcommit is a risk, not
  // a record that the node ran out. Without such evidence an OOMKilled container hit its own limit.
  if (!under || !(node.pressure || node.kernelOom || sysOom.length > 0)) return undefined;
  return result(
    ctx,
    'node-pressure',
    lowerIfGone(ctx, 'high'),
    `${name} was under its ${ctx.limitText} limit (${formatMemoryApprox(usage)} in the last sample) and the node${onNode(ctx)} ${sysOom.length > 0 ? 'recorded a SystemOOM' : node.kernelOom ? 'logged a global OOM kill' : 'reported MemoryPressure'} at the time: the node ran out of memory, not the container.`,
    [...base, ...nodeAll],
    NODE_ADVICE,
    {
      raisingIsWrongFix: `${name} did not reach its limit: a higher limit would not have saved it, and adds to the node's overcommit.`,
      ...nodeOomOf(ctx, sysOom),
    },
  );
}

export function nodeRanOut({ ctx, name, base, sysOom, node, nodeAll }: OomKill): Diagnosis | undefined {
  if ((sysOom.length === 0 && !node.kernelOom) || ctx.usageAtKill !== undefined) return undefined;
  return result(
    ctx,
    'node-pressure',
    lowerIfGone(ctx, 'medium'),
    `${nodeName(ctx) ? `Node ${nodeName(ctx)}` : 'The node'} ran out of memory at the time of the kill (${sysOom.length > 0 ? 'SystemOOM' : 'a global OOM kill in its kernel log'}): ${name} was most likely killed by node pressure rather than its own limit.`,
    [...base, ...nodeAll],
    [...NODE_ADVICE, 'Check the working set of the container at the kill: if it was near its limit, the limit is too low as well.'],
    {
      raisingIsWrongFix: "The node ran out of memory: a higher limit on this container adds to the node's overcommit instead of fixing it.",
      ...nodeOomOf(ctx, sysOom),
    },
  );
}

/** " worker-3" after "the node", when the node is known. */
function onNode(ctx: Ctx): string {
  return nodeName(ctx) ? ` ${nodeName(ctx)}` : '';
}

function nodeOomOf(ctx: Ctx, sysOom: AtLimit['sysOom']): { nodeOom?: { node: string; victim: string } } {
  const same = sameNodeOom(ctx, sysOom);
  return same ? { nodeOom: same } : {};
}

/**
 * The kernel log says the container's process was killed in a global OOM (CONSTRAINT_NONE): the node ran
 * out, whatever the container's usage was. The node agent's word is direct evidence.
 */
export function killedInNodeOom({ ctx, name, base, nodeAll }: OomKill): Diagnosis | undefined {
  const kill = containerKernelKills(ctx).at(-1);
  if (kill?.constraint !== 'global') return undefined;
  return result(
    ctx,
    'node-pressure',
    lowerIfGone(ctx, 'high'),
    `Node ${kill.node} ran out of memory and the kernel killed ${describeKernelKill(kill)} in ${name} (a global OOM, not the container's limit).`,
    [...base, ...nodeAll],
    NODE_ADVICE,
    { raisingIsWrongFix: `${name} was killed because the node ran out, not at its own limit: a higher limit adds to the node's overcommit.` },
  );
}
