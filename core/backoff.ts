import { setTimeout as delay } from 'node:timers/promises';

/** Exponential backoff with full jitter: each delay is random in [initial, min(max, initial * 2^n)]. */
export class Backoff {
  private attempt = 0;
  constructor(
    private readonly initialMs: number,
    private readonly maxMs: number,
    private readonly random: () => number = Math.random,
  ) {}

  next(): number {
    const ceiling = Math.min(this.maxMs, this.initialMs * 2 ** this.attempt);
    this.attempt = Math.min(this.attempt + 1, 30);
    return Math.round(this.initialMs + (ceiling - this.initialMs) * this.random());
  }

  reset(): void {
    this.attempt = 0;
  }

  /** Sleeps, waking early (without throwing) when `signal` aborts. */
  async sleep(ms: number, signal?: AbortSignal): Promise<void> {
    try {
      await delay(ms, undefined, { signal });
    } catch {
      /* aborted */
    }
  }
}
