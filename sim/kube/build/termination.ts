/**
 * How a container's main process ended, as the runtime reports it in `state.terminated` or
 * `lastState.terminated`, and the back-off the kubelet waits before restarting it.
 */
import type { Json } from '../types.js';
import { goDuration } from '../clock.js';

export interface ExitKind {
  exitCode: number;
  reason: string;
}

/** The kernel OOM killer stopped the main process at the cgroup limit. */
export const OOM_KILLED: ExitKind = { exitCode: 137, reason: 'OOMKilled' };

/** SIGKILL for another cause (a failed liveness probe, an eviction): reason Error, not an OOM. */
export const SIGKILLED: ExitKind = { exitCode: 137, reason: 'Error' };

export const COMPLETED: ExitKind = { exitCode: 0, reason: 'Completed' };

/**
 * A process inside the container was OOM-killed earlier and the container stopped later for another
 * reason (143 on a rollout's SIGTERM, 1 on a crash); the runtime still reports OOMKilled.
 */
export function childOomExit(exitCode = 143): ExitKind {
  return { exitCode, reason: 'OOMKilled' };
}

/** A graceful stop (deletion, preemption): Completed on exit 0, Error otherwise. */
export function stopExit(exitCode: number): ExitKind {
  return exitCode === 0 ? COMPLETED : { exitCode, reason: 'Error' };
}

export interface ContainerRun {
  containerID: string | undefined;
  startedAt: string;
  /** Left out when unknown (some runtimes report no finish time). */
  finishedAt?: string;
  /** What the container wrote to its termination message path. */
  message?: string;
}

/** The `terminated` state of a container run that ended with `exit`. */
export function terminatedState(exit: ExitKind, run: ContainerRun): Json {
  const terminated: Json = { containerID: run.containerID, exitCode: exit.exitCode };
  if (run.finishedAt !== undefined) terminated.finishedAt = run.finishedAt;
  terminated.reason = exit.reason;
  terminated.startedAt = run.startedAt;
  if (run.message !== undefined) terminated.message = run.message;
  return terminated;
}

/** What the kubelet writes for a container it could no longer find when the pod was terminated (eviction). */
export function unlocatedTerminatedState(): Json {
  return {
    exitCode: 137,
    finishedAt: null,
    message: 'The container could not be located when the pod was terminated',
    reason: 'ContainerStatusUnknown',
    startedAt: null,
  };
}

/** Back-off of the kubelet after the `restartCount`th restart: 10s doubling up to 5m. */
export function backoffSeconds(restartCount: number): number {
  return Math.min(10 * 2 ** Math.max(0, restartCount - 1), 300);
}

/**
 * The `state` of a container waiting to be restarted. The kubelet names the pod
 * (`pod=<name>_<namespace>(<uid>)`); older fixtures leave it out.
 */
export function crashLoopWaiting(container: string, backoff: number, pod?: { name: string; namespace: string; uid: string }): Json {
  let message = `back-off ${goDuration(backoff)} restarting failed container=${container}`;
  if (pod) message += ` pod=${pod.name}_${pod.namespace}(${pod.uid})`;
  return { waiting: { reason: 'CrashLoopBackOff', message } };
}
