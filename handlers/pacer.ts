/**
 * Spaces calls per key (a Slack channel, or a method's workspace-wide budget) so that oombot stays
 * under Slack's limits instead of bouncing off them: at most one call per `intervalMs` per key.
 * Waiters with a lower priority number go first (a first alert beats a thread reply), FIFO within one.
 * A 429 pushes the key's next slot back by Retry-After.
 */
export class Pacer {
  private readonly lanes = new Map<string, Lane>();
  private seq = 0;

  constructor(
    private readonly intervalMs: number,
    private readonly clock: () => number = Date.now,
  ) {}

  /** Resolves when the caller may make its call for `key`. */
  slot(key: string, priority = 0): Promise<void> {
    const lane = this.lane(key);
    return new Promise<void>((resolve) => {
      lane.waiters.push({ priority, seq: this.seq++, resolve });
      lane.waiters.sort((a, b) => a.priority - b.priority || a.seq - b.seq);
      this.pump(key, lane);
    });
  }

  /** After a 429: nothing more for `key` until `ms` from now. */
  penalize(key: string, ms: number): void {
    const lane = this.lane(key);
    lane.nextAt = Math.max(lane.nextAt, this.clock() + ms);
    if (lane.timer) {
      clearTimeout(lane.timer);
      lane.timer = undefined;
    }
    this.pump(key, lane);
  }

  /** Callers waiting, per key. */
  waiting(key: string): number {
    return this.lanes.get(key)?.waiters.length ?? 0;
  }

  private lane(key: string): Lane {
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { nextAt: 0, waiters: [] };
      this.lanes.set(key, lane);
    }
    return lane;
  }

  private pump(key: string, lane: Lane): void {
    if (lane.timer || lane.waiters.length === 0) return;
    const wait = lane.nextAt - this.clock();
    if (wait > 0) {
      lane.timer = setTimeout(() => {
        lane.timer = undefined;
        this.pump(key, lane);
      }, wait);
      return;
    }
    const next = lane.waiters.shift()!;
    lane.nextAt = this.clock() + this.intervalMs;
    next.resolve();
    if (lane.waiters.length > 0) this.pump(key, lane);
    else if (lane.nextAt <= this.clock()) this.lanes.delete(key);
  }
}

interface Lane {
  nextAt: number;
  waiters: { priority: number; seq: number; resolve: () => void }[];
  timer?: NodeJS.Timeout;
}
