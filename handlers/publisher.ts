import type { Logger } from '../core/logger.js';
import { OombotError, errorMessage } from '../core/errors.js';
import type { AlertGroups, GroupState, PendingRepeats } from './alert-groups.js';
import { PRIORITY, type AlertTransport, type OutgoingMessage } from './transport.js';

export interface GroupView {
  count: number;
  firstAt?: string;
  lastAt?: string;
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
}

/**
 * Posts the first alert of a group and, through the flusher, coalesces repeats into one update and
 * one thread reply per group per flush.
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
    try {
      const { channel, ts } = await transport.post(
        input.channel,
        async () => {
          const state = await groups.get(input.group);
          shown = Math.max(1, state.count);
          return input.render(view(state));
        },
        PRIORITY.alert,
      );
      await groups.posted(input.group, channel, ts, shown, input.model);
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
    const keys = await this.opts.groups.claimDue(50, 60_000);
    await Promise.all(keys.map((key) => this.flushGroup(key)));
    return keys.length;
  }

  private async flushGroup(key: string): Promise<void> {
    const { groups, transport, log } = this.opts;
    const state = await groups.read(key);
    if (!state.ts || !state.channel || !state.model) {
      // Expired, or the first message is not out yet: look again shortly.
      if (state.count === 0) await groups.flushed(key, 0);
      else await groups.flushed(key, state.shown, Date.now() + 2_000);
      return;
    }
    const pending = await groups.takePending(key);
    try {
      if (state.count > state.shown) {
        await transport.update(state.channel, state.ts, this.opts.renderUpdate(state.model, view(state)));
        this.updates++;
      }
      if (pending.notes.length > 0 || pending.trimmed > 0) {
        const reply = this.opts.renderThread(pending, view(state));
        await transport.post(state.channel, { ...reply, threadTs: state.ts }, PRIORITY.thread);
        this.threadReplies++;
      }
      await groups.flushed(key, state.count);
    } catch (err) {
      const permanent = err instanceof OombotError && !err.retryable;
      if (!permanent) await groups.restorePending(key, pending);
      log.warn({ group: key, err: errorMessage(err), hint: err instanceof OombotError ? err.hint : undefined }, permanent ? 'cannot update the alert: giving up on its repeats' : 'cannot update the alert yet: will retry');
      await groups.flushed(key, permanent ? state.count : state.shown, permanent ? undefined : Date.now() + 10_000);
    }
  }
}

function view(state: GroupState): GroupView {
  return { count: state.count, firstAt: state.firstAt, lastAt: state.lastAt };
}
