import type { Logger } from '../core/logger.js';
import { errorMessage, OombotError } from '../core/errors.js';
import type { KubeHttp, WatchEvent } from '../core/kube.js';
import { Backoff } from '../core/backoff.js';

export interface KubeObject {
  metadata?: { uid?: string; name?: string; namespace?: string; resourceVersion?: string };
}

interface KubeList<T> {
  metadata?: { resourceVersion?: string; continue?: string };
  items?: T[];
}

export type RestartReason = 'closed' | 'silent' | 'gone' | 'error';

export interface ListWatchHandlers<T> {
  /**
   * One page of a full (re)list, in order; `last` marks the final page. Together the pages are every
   * object that exists now: objects in none of them have been deleted. Pages are handed over one at a
   * time so that a 100k-pod list never sits in memory whole.
   */
  onList(items: T[], meta: { relist: boolean; first: boolean; last: boolean }): void | Promise<void>;
  onEvent(type: 'ADDED' | 'MODIFIED' | 'DELETED', object: T): void | Promise<void>;
  onRestart?(reason: RestartReason): void;
  /**
   * The loop turned unhealthy (a list or watch failed, a watch answered an error or closed at once) or
   * healthy again. Called once per change, not once per failure.
   */
  onHealth?(healthy: boolean, detail: { error?: string; failures: number }): void;
  /** One failed list or watch attempt (each one is followed by a backoff). */
  onFailure?(): void;
  /** What a failed list or watch request threw (a 404: the API is not installed). */
  onError?(err: unknown): void;
}

export interface ListWatchOptions<T> {
  kube: KubeHttp;
  /** Collection path, e.g. /api/v1/pods or /api/v1/namespaces/shop/pods. */
  path: string;
  /** Name for logs and metrics: pods, events, nodes. */
  resource: string;
  /** Selectors sent with the list and the watch, e.g. `{ fieldSelector: 'spec.nodeName=worker-3' }`. */
  selectors?: { fieldSelector?: string; labelSelector?: string };
  handlers: ListWatchHandlers<T>;
  log: Logger;
  /** Restart a watch that delivers nothing (no event, no bookmark) for this long. */
  silenceMs: number;
  pageSize?: number;
  backoff?: { initialMs: number; maxMs: number };
  /** Ask the server to close watches after this long (it picks 30-60 min by default). */
  watchTimeoutSeconds?: number;
  /**
   * A watch counts as working once it delivered an event or bookmark, or stayed open this long (default
   * 5 s). One that closes sooner with nothing delivered is a failure and backs off like an error.
   */
  healthyAfterMs?: number;
}

/** How one watch ended, and whether it ever worked. */
interface WatchOutcome {
  reason: 'closed' | 'silent' | 'gone' | 'aborted';
  /** The message of an ERROR event other than 410 Gone, which ends the watch as a failure. */
  error?: string;
  /** Whether it delivered something or stayed open long enough to count as working. */
  worked: boolean;
}

/**
 * Owns one list+watch loop: list (paged), then watch from the list's resourceVersion with bookmarks;
 * a closed watch resumes from the last resourceVersion seen, a 410 Gone or a silent watch relists.
 * Failures back off exponentially with jitter (capped): a failed list or watch request, a watch ERROR
 * event other than 410, and a watch that closes at once without delivering anything. The backoff and the
 * readiness reset only once a watch has worked, so an API server answering errors is never hammered
 * and /readyz stays false while it lasts. It never gives up and never throws out of `start()`.
 */
export class ListWatch<T extends KubeObject> {
  private resourceVersion: string | undefined;
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private readonly backoff: Backoff;
  /** True once a list has completed and the watch loop is running without errors. */
  synced = false;
  lastError: string | undefined;
  restarts = 0;
  /** Consecutive failed attempts; 0 while healthy. */
  failures = 0;
  private listedOnce = false;
  private healthy = true;

  constructor(private readonly opts: ListWatchOptions<T>) {
    this.backoff = new Backoff(opts.backoff?.initialMs ?? 500, opts.backoff?.maxMs ?? 30_000);
  }

  /** The collection path, as logs and readiness name it. */
  get name(): string {
    return this.opts.path;
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { log, resource } = this.opts;
    while (!this.abort.signal.aborted) {
      try {
        if (this.resourceVersion === undefined) await this.list();
        const outcome = await this.watchOnce();
        if (outcome.reason === 'aborted') break;
        this.restarts++;
        const failed = outcome.error !== undefined || !outcome.worked;
        this.opts.handlers.onRestart?.(outcome.error !== undefined ? 'error' : outcome.reason);
        if (outcome.reason === 'gone') {
          log.info({ resource }, 'watch resourceVersion expired (410 Gone): relisting');
          this.resourceVersion = undefined;
          this.synced = false;
        } else if (outcome.reason === 'silent') {
          // A watch that stopped talking may have lost events without a word (a stuck watch cache, a
          // proxy that dropped the stream); resuming from its resourceVersion would trust it. Relist:
          // objects still show what happened (a kill stays in the pod's status), the sink drops repeats.
          log.warn({ resource, silenceMs: this.opts.silenceMs }, 'watch went silent: relisting');
          this.resourceVersion = undefined;
          this.synced = false;
        } else if (!failed) {
          log.debug({ resource }, 'watch closed by the server: resuming');
        }
        if (failed) {
          const why = outcome.error ?? (outcome.reason === 'gone' ? 'watch expired (410 Gone) at once' : 'watch closed at once, delivering nothing');
          await this.failed(why);
        }
      } catch (err) {
        if (this.abort.signal.aborted) break;
        const gone = err instanceof OombotError && err.code === 'KUBE_GONE';
        if (gone) this.resourceVersion = undefined;
        this.restarts++;
        this.opts.handlers.onRestart?.(gone ? 'gone' : 'error');
        this.opts.handlers.onError?.(err);
        await this.failed(errorMessage(err), err instanceof OombotError ? err.hint : undefined);
      }
    }
    this.synced = false;
  }

  /** One failed attempt: not ready, counted, logged once per change of state, then a growing pause. */
  private async failed(error: string, hint?: string): Promise<void> {
    this.synced = false;
    this.lastError = error;
    this.failures++;
    this.opts.handlers.onFailure?.();
    const delay = this.backoff.next();
    if (this.healthy) {
      this.healthy = false;
      this.opts.log.warn(
        { resource: this.opts.resource, err: error, hint, retryInMs: delay },
        `${this.opts.resource} list/watch failed: retrying with backoff`,
      );
      this.opts.handlers.onHealth?.(false, { error, failures: this.failures });
    } else {
      this.opts.log.debug(
        { resource: this.opts.resource, err: error, failures: this.failures, retryInMs: delay },
        `${this.opts.resource} list/watch still failing`,
      );
    }
    await this.backoff.sleep(delay, this.abort.signal);
  }

  /** A list or a watch worked: ready again, and the next failure starts over at a short delay. */
  private worked(): void {
    this.synced = this.resourceVersion !== undefined;
    this.lastError = undefined;
    this.backoff.reset();
    if (!this.healthy) {
      const failures = this.failures;
      this.healthy = true;
      this.opts.log.info({ resource: this.opts.resource, failures }, `${this.opts.resource} list/watch working again`);
      this.opts.handlers.onHealth?.(true, { failures });
    }
    this.failures = 0;
  }

  private async list(): Promise<void> {
    let cont: string | undefined;
    let rv: string | undefined;
    let count = 0;
    let first = true;
    do {
      const page = await this.opts.kube.getJson<KubeList<T>>(
        this.opts.path,
        {
          ...this.opts.selectors,
          limit: this.opts.pageSize ?? 500,
          continue: cont,
        },
        this.abort.signal,
      );
      cont = page.metadata?.continue || undefined;
      rv = page.metadata?.resourceVersion;
      const items = page.items ?? [];
      count += items.length;
      await this.opts.handlers.onList(items, { relist: this.listedOnce, first, last: !cont });
      first = false;
    } while (cont);
    this.listedOnce = true;
    this.resourceVersion = rv ?? '0';
    this.synced = true;
    this.lastError = undefined;
    this.opts.log.info({ resource: this.opts.resource, count, resourceVersion: rv }, `${this.opts.resource} listed`);
  }

  private async watchOnce(): Promise<WatchOutcome> {
    let gone = false;
    let error: string | undefined;
    let worked = false;
    let openTimer: NodeJS.Timeout | undefined;
    const works = () => {
      if (worked) return;
      worked = true;
      if (openTimer) clearTimeout(openTimer);
      this.worked();
    };
    // Handlers run in order and the resourceVersion only advances once the handler took the object.
    // A handler that finishes synchronously (the common case: nothing to queue) costs no promise.
    let pending: Promise<void> | undefined;
    const failed = (err: unknown) => {
      this.opts.log.error({ resource: this.opts.resource, err: errorMessage(err) }, 'watch event handler failed');
    };
    const inOrder = (step: () => void | Promise<void>, rv: string | undefined) => {
      const advance = () => {
        if (rv) this.resourceVersion = rv;
      };
      if (pending) {
        const next: Promise<void> = pending
          .then(step)
          .catch(failed)
          .then(advance)
          .finally(() => {
            if (pending === next) pending = undefined;
          });
        pending = next;
        return;
      }
      let result: Promise<void> | undefined | void;
      try {
        result = step();
      } catch (err) {
        failed(err);
      }
      if (result && typeof result.then === 'function') {
        const next: Promise<void> = result
          .catch(failed)
          .then(advance)
          .finally(() => {
            if (pending === next) pending = undefined;
          });
        pending = next;
      } else {
        advance();
      }
    };
    const reason = await this.opts.kube
      .watch<T | { code?: number; message?: string }>(
        this.opts.path,
        {
          ...this.opts.selectors,
          resourceVersion: this.resourceVersion,
          allowWatchBookmarks: true,
          timeoutSeconds: this.opts.watchTimeoutSeconds,
        },
        (event: WatchEvent<T | { code?: number; message?: string }>) => {
          if (gone || error !== undefined) return;
          if (event.type === 'ERROR') {
            const status = event.object as { code?: number; message?: string };
            if (status.code === 410) gone = true;
            else error = `watch error${status.code ? ` ${status.code}` : ''}: ${status.message ?? 'no message'}`;
            return;
          }
          works();
          const obj = event.object as T;
          const rv = obj?.metadata?.resourceVersion;
          if (event.type === 'BOOKMARK') {
            inOrder(() => undefined, rv);
            return;
          }
          inOrder(() => this.opts.handlers.onEvent(event.type as 'ADDED' | 'MODIFIED' | 'DELETED', obj), rv);
        },
        {
          signal: this.abort.signal,
          silenceMs: this.opts.silenceMs,
          // Accepted is not yet working: a server that opens the stream and closes it at once, or sends an
          // ERROR, must not reset the backoff. Working is an event or bookmark, or staying open a while.
          onOpen: () => {
            openTimer = setTimeout(() => {
              if (!gone && error === undefined) works();
            }, this.opts.healthyAfterMs ?? 5_000);
            openTimer.unref();
          },
        },
      )
      .finally(() => {
        if (openTimer) clearTimeout(openTimer);
      });
    while (pending) await pending;
    if (reason === 'aborted') return { reason: 'aborted', worked };
    return { reason: gone ? 'gone' : reason, worked, ...(error !== undefined ? { error } : {}) };
  }
}
