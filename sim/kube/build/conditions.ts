/** Pod conditions (status.conditions) as the kubelet and the disruption controllers write them. */
import type { Json } from '../types.js';

/** One pod condition; `at` undefined leaves lastTransitionTime out (kubelets before 1.26 on DisruptionTarget). */
export function podCondition(type: string, status: string, at: string | undefined, reason?: string, message?: string): Json {
  const c: Json = { type, status, lastProbeTime: null };
  if (at !== undefined) c.lastTransitionTime = at;
  if (reason) c.reason = reason;
  if (message) c.message = message;
  return c;
}

/** The DisruptionTarget condition set before a pod is evicted, preempted or deleted by the taint manager. */
export function disruptionTarget(reason: string, message: string, at: string | undefined): Json {
  return podCondition('DisruptionTarget', 'True', at, reason, message);
}
