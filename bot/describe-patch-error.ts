/**
 * A refused PATCH (dry run or real) in plain words: LimitRange, ResourceQuota, admission webhooks,
 * validation and RBAC are told apart, so the person who clicked knows what to change. Pure.
 */
import { OombotError, errorMessage } from '../core/errors.js';

export interface PatchRefusal {
  /** What stopped it, in words. */
  summary: string;
  /** The API server's own message (untrusted, to be escaped). */
  detail: string;
  /** Whether trying again later can help (API server unreachable, rate limited). */
  transient: boolean;
}

/** Drops the "PATCH /apis/...: " prefix KubeHttp adds, and the object name preamble. */
function serverMessage(err: unknown): string {
  const m = errorMessage(err).replace(/^(PATCH|GET|POST) \/[^:]*: /, '');
  return m.length > 1000 ? `${m.slice(0, 1000)}…` : m;
}

export function describePatchError(err: unknown, what: string): PatchRefusal {
  const detail = serverMessage(err);
  const code = err instanceof OombotError ? err.code : 'UNKNOWN';
  const lower = detail.toLowerCase();
  if (code === 'KUBE_UNREACHABLE' || code === 'KUBE_GONE' || code === 'UNKNOWN') {
    return {
      summary: `The Kubernetes API server could not be reached or failed while changing ${what}: nothing was changed. Try again in a minute.`,
      detail,
      transient: true,
    };
  }
  if (code === 'KUBE_NOT_FOUND') return { summary: `${what} no longer exists: nothing was changed.`, detail, transient: false };
  if (code === 'KUBE_CONFLICT')
    return { summary: `${what} was changed by someone else at the same moment: nothing was changed. Try again.`, detail, transient: true };
  if (lower.includes('exceeded quota')) {
    return {
      summary: `The namespace ResourceQuota does not leave room for this: nothing was changed. Raise the quota, or free memory in the namespace, then try again.`,
      detail,
      transient: false,
    };
  }
  if (lower.includes('per container is') || lower.includes('per pod is') || lower.includes('limitrange') || lower.includes('limit to request ratio')) {
    return {
      summary: `The namespace LimitRange refuses this value: nothing was changed. Ask for the LimitRange to be raised, or choose a value within it.`,
      detail,
      transient: false,
    };
  }
  if (lower.includes('admission webhook') || lower.includes('denied the request')) {
    return { summary: `An admission policy refused the change: nothing was changed. See the policy's message below.`, detail, transient: false };
  }
  if (/cannot (patch|get|create)/.test(lower) || (code === 'KUBE_FORBIDDEN' && lower.includes('user'))) {
    return {
      summary: `oombot is not allowed to change ${what}: grant its ServiceAccount "patch" on this kind (see deploy/), then try again.`,
      detail,
      transient: false,
    };
  }
  if (code === 'KUBE_INVALID') return { summary: `The API server refused the change as invalid: nothing was changed.`, detail, transient: false };
  if (code === 'KUBE_FORBIDDEN') return { summary: `The API server refused the change: nothing was changed.`, detail, transient: false };
  return { summary: `The change failed: nothing was changed.`, detail, transient: false };
}
