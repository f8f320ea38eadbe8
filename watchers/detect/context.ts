import type { CoreV1Event } from '@kubernetes/client-node';

/** What every detector needs to know besides the object itself. */
export interface DetectContext {
  cluster: string;
  now: Date;
  /** Terminations/events that finished before this are history, not incidents (look-back). */
  cutoff: Date;
  /** true when the object came from a live watch event, false when from a (re)list. */
  live: boolean;
  /** Recent Killing/Unhealthy events for a pod uid the watcher has seen (may be empty). */
  recentPodEvents?: (podUid: string) => readonly CoreV1Event[];
}

/**
 * When an incident happened, or undefined when it must not be reported:
 * before the cutoff (history), or of unknown time on a relist (an old kill cannot be told from a new one).
 * A live watch event with no time is taken to have happened now.
 */
export function resolveOccurredAt(known: string | undefined, ctx: DetectContext): string | undefined {
  if (known === undefined) return ctx.live ? safeIso(ctx.now) : undefined;
  const cutoff = ctx.cutoff.getTime();
  if (!Number.isNaN(cutoff) && Date.parse(known) < cutoff) return undefined;
  return known;
}

/** ISO 8601 of a Date, or undefined for an invalid one. */
export function safeIso(date: Date): string | undefined {
  return Number.isNaN(date.getTime()) ? undefined : date.toISOString();
}
