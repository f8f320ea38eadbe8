import type { Logger } from '../core/logger.js';
import { OombotError, errorMessage } from '../core/errors.js';
import type { AlertGroups, GroupState, PendingRepeats, RepeatNote } from '../stores/alert-groups.js';
import { z } from 'zod';
import type { AlertChange } from '../alert/alert-state.js';
import { AlertChangeSchema, check, parseChecked, RepeatNoteSchema } from '../stores/schemas.js';
import { ALERT_EVENT_TYPE, PRIORITY, REPEATS_EVENT_TYPE, type AlertTransport, type OutgoingMessage } from './transport.js';

export interface GroupView {
  count: number;
  firstAt?: string;
  lastAt?: string;
  /** Changes applied from Slack to the alert (see AlertGroups.recordChange). */
  changes?: AlertChange[];
  /** Repeats that came before the first message went out, for it to list (see `foldRepeats`). */
  earlier?: RepeatNote[];
}

export interface PublishInput {
  /** Workload the incident belongs to, e.g. "prod/shop/Deployment/api/container-oom". */
  group: string;
  incidentId: string;
  occurredAt: string;
  channel: string;
  /** Renders the first message of the group with the group's count at send time. */
  render: (view: GroupView) => OutgoingMessage;
  /** The first message's model as JSON, kept with the group to render updates. */
  model: string;
  /** One line for the thread when this incident is a repeat. */
  repeatLine: string;
}

export type PublishResult = 'posted' | 'repeat' | 'done';

export interface PublisherOptions {
  groups: AlertGroups;
  transport: AlertTransport;
  log: Logger;
  /** Renders the updated first message from its stored model and the group's counts. */
  renderUpdate: (model: string, view: GroupView) => OutgoingMessage;
  /** Renders the coalesced thread reply for repeats. */
  renderThread: (pending: PendingRepeats, view: GroupView) => OutgoingMessage;
  flushEveryMs?: number;
  /**
   * The first message lists the repeats that came before it went out (up to this many), instead of a
   * thread reply for them right after: in a storm most workloads then cost one post, not two.
   * 0 or unset: never (the console prints repeats as they come).
   */
  foldRepeats?: number;
  /**
   * How long a flush holds a group before another worker may take it over (the worker died). Renewed
   * while the flush runs, so a flush waiting out Slack's rate limits keeps it.
   */
  flushLeaseMs?: number;
}

/**
 * Posts the first alert of a group and, through the flusher, coalesces repeats into one update and
 * one thread reply per group per flush.
 *
 * Each post reaches Slack once, even when a worker dies in the middle of it. BullMQ runs a job again
 * when its worker stops answering (a crash, SIGKILL, a lost connection): the retry must not post what
 * the first run may already have posted, and Slack has no idempotency key for chat.postMessage.
 * So every post carries Slack message metadata naming what it is (the incident of a group's first
 * message, the batch id of a thread reply), and Redis (alert-groups.ts) records what is in flight
 * before the post and where it landed after it:
 *
 * 1. The group's first message is claimed in Redis by one incident, atomically with recording it.
 *    A retried job of that incident finds its own claim still open (no `ts` yet): the first run got
 *    as far as posting, or nearly. Only then, the channel's history since the claim is searched for
 *    the incident's metadata; if the message is there its ts is adopted, else it is posted.
 * 2. A flush moves the repeats it will post into a batch kept in Redis until the thread reply is out.
 *    A flush that finds a batch left over searches the thread for the batch id the same way.
 * 3. Within one attempt the transport does the same after a failure that leaves it open whether Slack
 *    stored the message (timeout, reset connection, 5xx); a 429 or an error answer proves it did not.
 *
 * The search costs Slack reads only after a crash or an ambiguous failure, never on the normal path.
 * It needs the channels:history scope (and channels:read for channels configured by name); without
 * them oombot posts anyway: an alert may then show twice, never zero times. BullMQ keeps one live
 * attempt per job while its lock is renewed (OOMBOT_JOB_LOCK); a worker cut off from Redis for longer
 * than that while still posting could race its successor, which the search cannot rule out.
 */
export class Publisher {
  private flushTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private stopped = false;
  updates = 0;
  threadReplies = 0;

  constructor(private readonly opts: PublisherOptions) {}

  async publish(input: PublishInput): Promise<PublishResult> {
    const { groups, transport } = this.opts;
    const decision = await groups.record(input.group, input.incidentId, input.occurredAt, {
      incidentId: input.incidentId,
      at: input.occurredAt,
      line: input.repeatLine,
    });
    if (decision.action === 'repeat') return 'repeat';
    if (decision.action === 'done') return 'done';
    let shown = 1;
    let folded: { raw: string[]; notes: RepeatNote[] } | undefined;
    try {
      const posted = await transport.post(
        input.channel,
        async () => {
          const state = await groups.get(input.group);
          shown = Math.max(1, state.count);
          const fold = this.opts.foldRepeats && state.count > 1 ? await groups.peekPending(input.group, this.opts.foldRepeats) : undefined;
          folded = fold;
          return input.render({ ...view(state), ...(fold ? { earlier: fold.notes } : {}) });
        },
        PRIORITY.alert,
        { eventType: ALERT_EVENT_TYPE, key: 'incident_id', value: input.incidentId, sinceMs: decision.claimedAt, retry: decision.retry },
      );
      if (posted.found) {
        // Posted by an earlier attempt with a count we do not know: the flusher brings it up to date.
        shown = 1;
        folded = undefined;
        this.opts.log.info(
          { incident: input.incidentId, group: input.group, ts: posted.ts },
          'alert already in Slack from an earlier attempt: not posting it again',
        );
      }
      await groups.posted(input.group, posted.channel, posted.ts, shown, input.model, folded);
      return 'posted';
    } catch (err) {
      // A permanent failure frees the group so that a later incident can try again (after the fix).
      if (err instanceof OombotError && !err.retryable) await groups.release(input.group).catch(() => undefined);
      throw err;
    }
  }

  /** Starts the background flusher of repeats. */
  start(): void {
    if (this.flushTimer || this.stopped) return;
    const tick = () => {
      this.flushing = this.flushOnce()
        .then(() => undefined)
        .catch((err: unknown) => this.opts.log.warn({ err: errorMessage(err) }, 'flushing repeats failed: will retry'))
        .finally(() => {
          this.flushing = undefined;
          if (!this.stopped) {
            this.flushTimer = setTimeout(tick, this.opts.flushEveryMs ?? 1_000);
            this.flushTimer.unref();
          }
        });
    };
    this.flushTimer = setTimeout(tick, this.opts.flushEveryMs ?? 1_000);
    this.flushTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    await this.flushing;
  }

  /** Flushes every group that is due; groups in different channels go out side by side. */
  async flushOnce(): Promise<number> {
    const leaseMs = this.opts.flushLeaseMs ?? 60_000;
    const keys = await this.opts.groups.claimDue(50, leaseMs);
    if (keys.length === 0) return 0;
    const renew = setInterval(() => void this.opts.groups.renew(keys, leaseMs).catch(() => undefined), Math.max(100, leaseMs / 3));
    renew.unref();
    try {
      await Promise.all(keys.map((key) => this.flushGroup(key)));
    } finally {
      clearInterval(renew);
    }
    return keys.length;
  }

  /**
   * Renders a group's alert again from its model and changes (a followed fix changed state). False when
   * the group expired or its first message is not out yet.
   */
  async refresh(group: string): Promise<boolean> {
    const state = await this.opts.groups.get(group);
    if (!state.ts || !state.channel || !state.model) return false;
    await this.opts.transport.update(state.channel, state.ts, this.opts.renderUpdate(state.model, view(state)));
    return true;
  }

  private async flushGroup(key: string): Promise<void> {
    const { groups, transport, log } = this.opts;
    const state = await groups.read(key);
    if (!state.ts || !state.channel || !state.model) {
      // Expired, or the first message is not out yet: look again shortly.
      if (state.count === 0) await groups.flushed(key, 0);
      else await groups.flushed(key, state.shown, { retryAtMs: Date.now() + 2_000 });
      return;
    }
    const batch = await groups.takeBatch(key);
    try {
      if (state.count > state.shown) {
        await transport.update(state.channel, state.ts, this.opts.renderUpdate(state.model, view(state)));
        this.updates++;
      }
      if (batch && (batch.notes.length > 0 || batch.trimmed > 0)) {
        const reply = this.opts.renderThread(batch, view(state));
        const posted = await transport.post(state.channel, { ...reply, threadTs: state.ts }, PRIORITY.thread, {
          eventType: REPEATS_EVENT_TYPE,
          key: 'batch_id',
          value: batch.id,
          sinceMs: 0,
          retry: batch.retry,
        });
        if (posted.found) log.info({ group: key, batch: batch.id }, 'thread reply already in Slack from an earlier flush: not posting it again');
        else this.threadReplies++;
      }
      await groups.flushed(key, state.count, { batchDone: true });
    } catch (err) {
      // A retryable failure keeps the batch for the next flush (which checks Slack before posting it).
      const permanent = err instanceof OombotError && !err.retryable;
      log.warn(
        { group: key, err: errorMessage(err), hint: err instanceof OombotError ? err.hint : undefined },
        permanent ? 'cannot update the alert: giving up on its repeats' : 'cannot update the alert yet: will retry',
      );
      await groups.flushed(key, permanent ? state.count : state.shown, permanent ? { batchDone: true } : { retryAtMs: Date.now() + 10_000 });
    }
  }
}

function view(state: GroupState): GroupView {
  const earlier = parseList(state.earlier, RepeatNoteSchema) as RepeatNote[] | undefined;
  const changes = parseList(state.changes, AlertChangeSchema) as AlertChange[] | undefined;
  return { count: state.count, firstAt: state.firstAt, lastAt: state.lastAt, changes, ...(earlier ? { earlier } : {}) };
}

/**
 * A list kept with the group in Redis, each item checked against `schema`: an item that does not fit (a
 * button that is not our Undo, a line of the wrong shape) is dropped, never rendered into Slack.
 */
function parseList<T>(json: string | undefined, schema: z.ZodType<T>): T[] | undefined {
  if (!json) return undefined;
  const list = parseChecked(z.array(z.unknown()).max(1000), json);
  if (!list.ok) return undefined;
  return list.value.flatMap((item) => {
    const c = check(schema, item);
    return c.ok ? [c.value] : [];
  });
}
