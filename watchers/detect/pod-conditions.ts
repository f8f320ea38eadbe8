import type { V1Pod } from '@kubernetes/client-node';
import { asArray, asString, field, fieldAt, toIso } from './read-fields.js';
import { EVENT_MESSAGE_BYTES, trimText } from './trim-text.js';

export interface DisruptionTarget {
  reason?: string;
  message?: string;
  /** ISO 8601. */
  at?: string;
}

/** The pod's `DisruptionTarget` condition when it is True (since 1.26 set by whoever is about to kill the pod). */
export function disruptionTargetOf(pod: V1Pod): DisruptionTarget | undefined {
  const condition = asArray(fieldAt(pod, 'status', 'conditions')).find(
    (candidate) => field(candidate, 'type') === 'DisruptionTarget' && field(candidate, 'status') === 'True',
  );
  if (condition === undefined) return undefined;
  const target: DisruptionTarget = {};
  const reason = asString(field(condition, 'reason'))?.trim();
  if (reason) target.reason = reason.slice(0, 128);
  const message = trimText(asString(field(condition, 'message')), EVENT_MESSAGE_BYTES);
  if (message !== undefined) target.message = message;
  const at = toIso(field(condition, 'lastTransitionTime'));
  if (at !== undefined) target.at = at;
  return target;
}

/** The kubelet's own reason for ending a pod: evictions, node shutdown, critical-pod preemption. */
export const KUBELET_DISRUPTION_REASON = 'TerminationByKubelet';
