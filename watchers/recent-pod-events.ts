import type { CoreV1Event } from '@kubernetes/client-node';

/**
 * Recent Killing/Unhealthy events per pod uid, so a SIGKILL seen on the pod can name the liveness
 * probe that caused it. Bounded: a few events per pod, a capped number of pods, and an age limit.
 */
export class RecentPodEvents {
  private readonly byPod = new Map<string, { at: number; events: CoreV1Event[] }>();

  constructor(
    private readonly maxPods = 5_000,
    private readonly perPod = 6,
    private readonly maxAgeMs = 15 * 60_000,
    private readonly clock: () => number = Date.now,
  ) {}

  add(podUid: string, event: CoreV1Event): void {
    const now = this.clock();
    const entry = this.byPod.get(podUid);
    const kept = (entry?.events ?? []).filter((e) => e.metadata?.name !== event.metadata?.name);
    kept.push(slim(event));
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

/** Only the fields the SIGKILL correlation reads. */
function slim(e: CoreV1Event): CoreV1Event {
  return {
    metadata: { name: e.metadata?.name, namespace: e.metadata?.namespace },
    involvedObject: { uid: e.involvedObject?.uid, fieldPath: e.involvedObject?.fieldPath, name: e.involvedObject?.name, kind: e.involvedObject?.kind },
    reason: e.reason,
    message: e.message?.slice(0, 512),
    type: e.type,
    count: e.count,
    firstTimestamp: e.firstTimestamp,
    lastTimestamp: e.lastTimestamp,
    eventTime: e.eventTime,
  } as CoreV1Event;
}
