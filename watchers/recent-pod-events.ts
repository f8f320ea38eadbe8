import type { CoreV1Event } from '@kubernetes/client-node';
import { trimEvent } from '../core/observed-pod.js';

/**
 * Recent events per pod uid (trimmed): they go with the pod's next incident, so the worker need not read
 * them, and a SIGKILL seen on the pod can name the liveness probe that caused it. Bounded: a few events
 * per pod, a capped number of pods, and an age limit.
 */
export class RecentPodEvents {
  private readonly byPod = new Map<string, { at: number; events: CoreV1Event[] }>();

  constructor(
    private readonly maxPods = 2_000,
    private readonly perPod = 8,
    private readonly maxAgeMs = 15 * 60_000,
    private readonly clock: () => number = Date.now,
  ) {}

  add(podUid: string, event: CoreV1Event): void {
    const now = this.clock();
    const entry = this.byPod.get(podUid);
    const kept = (entry?.events ?? []).filter((e) => e.metadata?.name !== event.metadata?.name);
    kept.push(trimEvent(event));
    // Re-insert so the Map's order is least recently touched first.
    this.byPod.delete(podUid);
    this.byPod.set(podUid, { at: now, events: kept.slice(-this.perPod) });
    while (this.byPod.size > this.maxPods) {
      const oldest = this.byPod.keys().next().value;
      if (oldest === undefined) break;
      this.byPod.delete(oldest);
    }
  }

  get(podUid: string): readonly CoreV1Event[] {
    const entry = this.byPod.get(podUid);
    if (!entry) return [];
    if (this.clock() - entry.at > this.maxAgeMs) {
      this.byPod.delete(podUid);
      return [];
    }
    return entry.events;
  }

  delete(podUid: string): void {
    this.byPod.delete(podUid);
  }

  get size(): number {
    return this.byPod.size;
  }
}
