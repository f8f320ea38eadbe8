/**
 * OOMKilled with an exit code other than 137: a process inside the container was OOM-killed earlier,
 * and the container itself stopped later for another reason.
 */
import { describeExitCode } from '../../core/format.js';
import type { Diagnosis } from '../diagnosis.js';
import { result, type Ctx } from './context.js';
import { containerKernelKills, describeKernelKill, kernelKillEvidence, limitEvidence, logEvidence, podGoneEvidence } from './evidence.js';

export function diagnoseChildOom(ctx: Ctx): Diagnosis {
  const name = ctx.containerName ?? 'the container';
  const t = ctx.incident.termination;
  const victim = containerKernelKills(ctx).at(-1);
  return result(
    ctx,
    'child-oom',
    'high',
    `${victim ? `The kernel OOM-killed ${describeKernelKill(victim)} inside ${name} earlier` : `A process inside ${name} was OOM-killed earlier`}; the container itself stopped later with ${describeExitCode(t?.exitCode)}, so this stop was not an OOM kill.`,
    [
      { text: `Container ${name} stopped with reason OOMKilled but ${describeExitCode(t?.exitCode)}, not 137`, source: 'pod status' },
      {
        text: "The runtime reports OOMKilled from the container's cumulative OOM counter: an earlier kill of a process inside it (not its main process) sets it",
        source: 'pod status',
      },
      ...kernelKillEvidence(ctx),
      ...podGoneEvidence(ctx),
      ...limitEvidence(ctx),
      ...logEvidence(ctx),
    ],
    [
      'Find which process inside the container uses the memory (worker processes, shell scripts, build tools): it was killed while the main process kept running.',
      "The kubelet's cAdvisor metric container_oom_events_total counts these kills.",
      'On cgroup v2 with Kubernetes 1.28+ an OOM kills the whole container (memory.oom.group) unless the kubelet sets singleProcessOOMKill.',
    ],
    { raisingIsWrongFix: 'This stop was not a memory kill of the container: raise the limit only once you know which process ran out and that it needs more.' },
  );
}
