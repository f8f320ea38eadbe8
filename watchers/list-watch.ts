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
}

export interface ListWatchOptions<T> {
  kube: KubeHttp;
  /** Collection path, e.g. /api/v1/pods or /api/v1/namespaces/shop/pods. */
  path: string;
  /** Name for logs and metrics: pods, events, nodes. */
  resource: string;
  handlers: ListWatchHandlers<T>;
  log: Logger;
  /** Restart a watch that delivers nothing (no event, no bookmark) for this long. */
  silenceMs: number;
  pageSize?: number;
  backoff?: { initialMs: number; maxMs: number };
  /** Ask the server to close watches after this long (it picks 30-60 min by default). */
  watchTimeoutSeconds?: number;
}

/**
 * Owns one list+watch loop: list (paged), then watch from the list's resourceVersion with bookmarks;
 * a closed watch resumes from the last resourceVersion seen, a 410 Gone or a silent watch relists,
 * errors back off. It never gives up and never throws out of `start()`.
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
  private listedOnce = false;

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
        const reason = await this.watchOnce();
        if (reason === 'aborted') break;
        this.restarts++;
        this.opts.handlers.onRestart?.(reason);
        if (reason === 'gone') {
          log.info({ resource }, 'watch resourceVersion expired (410 Gone): relisting');
          this.resourceVersion = undefined;
          this.synced = false;
        } else if (reason === 'silent') {
          // A watch that stopped talking may have lost events without a word (a stuck watch cache, a
          // proxy that dropped the stream); resuming from its resourceVersion would trust it. Relist:
          // objects still show what happened (a kill stays in the pod's status), the sink drops repeats.
          log.warn({ resource, silenceMs: this.opts.silenceMs }, 'watch went silent: relisting');
          this.resourceVersion = undefined;
          this.synced = false;
        } else {
          log.debug({ resource }, 'watch closed by the server: resuming');
        }
        this.backoff.reset();
      } catch (err) {
        if (this.abort.signal.aborted) break;
        const gone = err instanceof OombotError && err.code === 'KUBE_GONE';
        if (gone) this.resourceVersion = undefined;
        this.synced = false;
        this.lastError = errorMessage(err);
        this.restarts++;
        this.opts.handlers.onRestart?.(gone ? 'gone' : 'error');
        const delay = this.backoff.next();
        const hint = err instanceof OombotError ? err.hint : undefined;
        log.warn({ resource, err: this.lastError, hint, retryInMs: delay }, `${resource} list/watch failed: retrying`);
        await this.backoff.sleep(delay, this.abort.signal);
      }
    }
    this.synced = false;
  }

  private async list(): Promise<void> {
    let cont: string | undefined;
    let rv: string | undefined;
    let count = 0;
    let first = true;
    do {
      const page = await this.opts.kube.getJson<KubeList<T>>(this.opts.path, {
        limit: this.opts.pageSize ?? 500,
        continue: cont,
      }, this.abort.signal);
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

  private async watchOnce(): Promise<'closed' | 'silent' | 'gone' | 'aborted'> {
    let gone = false;
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
        const next: Promise<void> = pending.then(step).catch(failed).then(advance).finally(() => {
          if (pending === next) pending = undefined;
        });
        pending = next;
        return;
      }
      let result: void | Promise<void> = undefined;
      try {
        result = step();
      } catch (err) {
        failed(err);
      }
      if (result && typeof result.then === 'function') {
        const next: Promise<void> = result.catch(failed).then(advance).finally(() => {
          if (pending === next) pending = undefined;
        });
        pending = next;
      } else {
        advance();
      }
    };
    const reason = await this.opts.kube.watch<T | { code?: number; message?: string }>(
      this.opts.path,
      {
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds: this.opts.watchTimeoutSeconds,
      },
      (event: WatchEvent<T | { code?: number; message?: string }>) => {
        if (gone) return;
        if (event.type === 'ERROR') {
          const status = event.object as { code?: number; message?: string };
          if (status.code === 410) gone = true;
          else this.lastError = status.message ?? 'watch error';
          return;
        }
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
        // Resumed after an error without a relist: watching again, so synced again (readiness, heartbeat),
        // and the next failure starts over at a short delay instead of growing from the last outage.
        onOpen: () => {
          this.synced = true;
          this.lastError = undefined;
          this.backoff.reset();
        },
      },
    );
    while (pending) await pending;
    if (reason === 'aborted') return 'aborted';
    return gone ? 'gone' : reason;
  }
}
