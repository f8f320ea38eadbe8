/**
 * What the watcher keeps in memory from its watches and writes to Redis now and then (each node's memory
 * sums, the node and LimitRange lists): one write at a time, every `everyMs`, and a last one on stop.
 */
export abstract class FlushLoop {
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(private readonly everyMs = 1_000) {}

  /** Writes what changed since the last write. */
  protected abstract write(): Promise<void>;

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flushing;
  }

  /** Writes now, or joins the write under way: never two at once. */
  flush(): Promise<void> {
    this.flushing ??= this.write().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }
}
