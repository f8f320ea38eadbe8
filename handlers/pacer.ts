/** A budget of calls: one every `intervalMs` on average, with up to `burst` at once. */
export interface PaceRule {
  intervalMs: number;
  burst?: number;
}

/**
 * Spaces calls per key (a Slack channel, or a method's workspace-wide budget) so that oombot stays
 * under Slack's limits instead of bouncing off them: a token bucket per key, refilled one call every
 * `intervalMs`, holding at most `burst`. Waiters with a lower priority number go first (a first alert
 * beats a thread reply), FIFO within one. A 429 empties the key's bucket until Retry-After has passed.
 * Two keys found to name the same thing (a channel's `#name` and its id) are made one with `alias`.
 */
export class Pacer {
  private readonly lanes = new Map<string, Lane>();
  private readonly aliases = new Map<string, string>();
  private readonly intervalMs: number;
  private readonly burst: number;
  private seq = 0;

  constructor(
    rule: PaceRule | number,
    private readonly clock: () => number = Date.now,
  ) {
    const r = typeof rule === 'number' ? { intervalMs: rule } : rule;
    this.intervalMs = Math.max(1, r.intervalMs);
    this.burst = Math.max(1, r.burst ?? 1);
  }

  /** Resolves when the caller may make its call for `key`. */
  slot(key: string, priority = 0): Promise<void> {
    const lane = this.lane(key);
    return new Promise<void>((resolve) => {
      const waiter = { priority, seq: this.seq++, resolve };
      // Insert in order (priority, then arrival): the queue stays sorted.
      let i = lane.waiters.length;
      while (i > 0 && lane.waiters[i - 1]!.priority > priority) i--;
      lane.waiters.splice(i, 0, waiter);
      this.pump(lane);
    });
  }

  /** After a 429: nothing more for `key` until `ms` from now, and then one call at a time. */
  penalize(key: string, ms: number): void {
    const lane = this.lane(key);
    const until = this.clock() + ms;
    if (until > lane.blockedUntil) {
      lane.blockedUntil = until;
      lane.tokens = 1;
      lane.updatedAt = until;
    }
    this.restart(lane);
  }

  /**
   * From now on `alias` is another name of `key`: both share one budget. Calls already waiting under
   * `alias` join `key`'s queue in their order; the tighter of the two states wins.
   */
  alias(alias: string, key: string): void {
    const target = this.canonical(key);
    const from = this.canonical(alias);
    if (from === target) return;
    this.aliases.set(from, target);
    const old = this.lanes.get(from);
    if (!old) return;
    this.lanes.delete(from);
    const lane = this.lane(target);
    this.refill(old);
    this.refill(lane);
    lane.tokens = Math.min(lane.tokens, old.tokens);
    lane.blockedUntil = Math.max(lane.blockedUntil, old.blockedUntil);
    lane.updatedAt = Math.max(lane.updatedAt, old.updatedAt);
    if (old.timer) clearTimeout(old.timer);
    lane.waiters.push(...old.waiters);
    lane.waiters.sort((a, b) => a.priority - b.priority || a.seq - b.seq);
    this.restart(lane);
  }

  /** Callers waiting for `key` (of `priority` only, when given). */
  waiting(key: string, priority?: number): number {
    const waiters = this.lanes.get(this.canonical(key))?.waiters ?? [];
    return priority === undefined ? waiters.length : waiters.filter((w) => w.priority === priority).length;
  }

  private canonical(key: string): string {
    let k = key;
    for (let hops = 0; hops < 8; hops++) {
      const next = this.aliases.get(k);
      if (next === undefined) break;
      k = next;
    }
    return k;
  }

  private lane(key: string): Lane {
    const k = this.canonical(key);
    let lane = this.lanes.get(k);
    if (!lane) {
      lane = { tokens: this.burst, updatedAt: this.clock(), blockedUntil: 0, waiters: [] };
      this.lanes.set(k, lane);
    }
    return lane;
  }

  private refill(lane: Lane): void {
    const now = this.clock();
    if (now <= lane.updatedAt) return;
    lane.tokens = Math.min(this.burst, lane.tokens + (now - lane.updatedAt) / this.intervalMs);
    lane.updatedAt = now;
  }

  private restart(lane: Lane): void {
    if (lane.timer) {
      clearTimeout(lane.timer);
      lane.timer = undefined;
    }
    this.pump(lane);
  }

  private pump(lane: Lane): void {
    if (lane.timer) return;
    while (lane.waiters.length > 0) {
      const now = this.clock();
      this.refill(lane);
      const wait = now < lane.blockedUntil ? lane.blockedUntil - now : lane.tokens >= 1 ? 0 : Math.ceil((1 - lane.tokens) * this.intervalMs);
      if (wait > 0) {
        lane.timer = setTimeout(() => {
          lane.timer = undefined;
          this.pump(lane);
        }, wait);
        return;
      }
      lane.tokens -= 1;
      lane.waiters.shift()!.resolve();
    }
  }
}

interface Lane {
  tokens: number;
  updatedAt: number;
  /** Set by a 429: no call before this time. */
  blockedUntil: number;
  waiters: { priority: number; seq: number; resolve: () => void }[];
  timer?: NodeJS.Timeout;
}
