/**
 * A process inside a container OOM-killed by the kernel while the container kept running (the node agent
 * read it in the kernel log). Kubernetes shows nothing: no restart, no OOMKilled (kubernetes/kubernetes#88522).
 * Typical of servers that fork workers (gunicorn, uWSGI, Puma, PHP-FPM, Chrome renderers): each worker
 * counts toward the container's limit, and the kernel kills the largest, not the main process.
 */
import { formatMemoryApprox } from '../../core/quantity.js';
import type { Diagnosis, Evidence } from '../diagnosis.js';
import { isPodPresent } from '../enriched.js';
import { NODE_ADVICE, result, withLimitProposal, type Ctx } from './context.js';
import { describeKernelKill, limitEvidence, nodeEvidence, residentBytes, usageEvidence } from './evidence.js';

export function diagnoseProcessOom(ctx: Ctx): Diagnosis {
  const p = ctx.incident.processOom;
  const pod = ctx.incident.pod;
  const name = ctx.containerName ?? 'its container';
  const where = pod ? ` of ${pod.namespace}/${pod.name}` : '';
  const victim = p ? describeKernelKill(p) : 'a process';
  const short = p ? `process ${p.process} (pid ${p.pid})` : 'a process';
  const Short = short.charAt(0).toUpperCase() + short.slice(1);
  const node = p?.node ?? pod?.nodeName ?? 'its node';
  const line = {
    text: `The kernel log of node ${node}: ${p?.constraint === 'global' ? 'out of memory (the whole node)' : "memory cgroup out of memory (the container's limit)"}, killed ${victim}${p?.groupKill ? ' with the rest of its group (memory.oom.group)' : ''}`,
    source: 'kernel log' as const,
  };

  if (ended(ctx)) {
    return result(
      ctx,
      'process-oom',
      'high',
      `${Short} was OOM-killed inside container ${name}${where}, and the container itself ended with it (OOMKilled): its own alert names the process.`,
      [line, { text: `Container ${name} was OOMKilled in the same kill`, source: 'pod status' }],
      [],
      { joinsContainerOom: true },
    );
  }

  const running = runningEvidence(ctx);
  if (p?.constraint === 'global') {
    const ne = nodeEvidence(ctx);
    return result(
      ctx,
      'node-pressure',
      'high',
      `Node ${node} ran out of memory and the kernel killed ${short} inside container ${name}${where}; the container kept running.`,
      [line, ...running, ...limitEvidence(ctx), ...ne.evidence],
      NODE_ADVICE,
      { raisingIsWrongFix: "The node ran out, not the container's limit: a higher limit adds to the node's overcommit." },
    );
  }

  const rss = p ? residentBytes(p) : undefined;
  const share: Evidence[] =
    rss !== undefined && ctx.limitBytes
      ? [
          {
            text: `The killed process alone held ${formatMemoryApprox(rss)}, ${Math.round((rss / ctx.limitBytes) * 100)}% of the ${ctx.limitText} limit`,
            source: 'kernel log',
          },
        ]
      : [];
  return result(
    ctx,
    'process-oom',
    'high',
    `${Short} was OOM-killed inside container ${name}${where}; the container kept running.`,
    [line, ...running, ...share, ...limitEvidence(ctx), ...usageEvidence(ctx)],
    [
      'Every process in the container counts toward its memory limit: forked workers (gunicorn, uWSGI, Puma, PHP-FPM, a Node.js cluster, Chrome renderers) each add their own memory.',
      'Size the per-worker memory (fewer workers, recycle them: max-requests, a smaller per-worker cache), or raise the limit to what the workers need together: workers × per-worker memory + the main process.',
      'Kubernetes shows no restart and no OOMKilled for this kill: the requests the killed process was serving failed, and its parent may have started a new one.',
    ],
    withLimitProposal(ctx),
  );
}

/** The pod shows the killed container's run ended OOMKilled: the kill took the container with it. */
function ended(ctx: Ctx): boolean {
  const id = ctx.incident.processOom?.containerId;
  const c = ctx.container;
  if (!id || !c) return false;
  return [c.lastState, c.state].some((s) => s?.state === 'terminated' && s.reason === 'OOMKilled' && s.containerID?.endsWith(id) === true);
}

function runningEvidence(ctx: Ctx): Evidence[] {
  const c = ctx.container;
  if (!c || !isPodPresent(ctx.e.pod)) return [];
  if (c.state?.state !== 'running') return [];
  return [
    {
      text: `Container ${c.name} is still running${c.state.startedAt ? ` (since ${c.state.startedAt})` : ''}, restart count ${c.restartCount}: its main process survived`,
      source: 'pod status',
    },
  ];
}
