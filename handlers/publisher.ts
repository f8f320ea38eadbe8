import type { Logger } from '../core/logger.js';
import { OombotError, errorMessage } from '../core/errors.js';
import { FACET_KINDS, type AlertGroups, type FacetKind, type GroupState, type RepeatFacets, type RepeatNote, type SeenFacets } from '../stores/alert-groups.js';
import { z } from 'zod';
import type { AlertChange } from '../alert/alert-state.js';
import { AlertChangeSchema, check, parseChecked, RepeatNewsSchema, RepeatNoteSchema, SeenFacetsSchema } from '../stores/schemas.js';
import { ALERT_EVENT_TYPE, PRIORITY, REPEATS_EVENT_TYPE, type AlertTransport, type OutgoingMessage } from './transport.js';

export interface GroupView {
  count: number;
  firstAt?: string;
  lastAt?: string;
  /** Changes applied from Slack to the alert (see AlertGroups.recordChange). */
  changes?: AlertChange[];
  /** Repeats that came before the first message went out, for it to list (see `foldRepeats`). */
  earlier?: RepeatNote[];
  /** Repeats with something new shown on the alert itself, because the channel was busy with new alerts. */
  news?: RepeatNews[];
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
  /** What the incident is about (node, container, cause, image): a repeat that brings a new one gets a thread reply. */
  facets?: RepeatFacets;
}

/** A repeat that brought something its alert had not shown, and what. */
export interface RepeatNews {
  note: RepeatNote;
  news: { kind: FacetKind; value: string }[];
}

/** What a thread reply says: the repeats since the last flush that brought something new. */
export interface ThreadNews {
  items: RepeatNews[];
  /** Repeats since the last flush, these included. */
  repeats: number;
}

export type PublishResult = 'posted' | 'repeat' | 'done';

export interface PublisherOptions {
  groups: AlertGroups;
  transport: AlertTransport;
  log: Logger;
  /** Renders the updated first message from its stored model and the group's counts. */
  renderUpdate: (model: string, view: GroupView) => OutgoingMessage;
  /** Renders the thread reply for repeats that brought something new. */
  renderThread: (news: ThreadNews, view: GroupView) => OutgoingMessage;
  flushEveryMs?: number;
  /** Groups one worker flushes at once (each may wait for Slack's budget); default 200. */
  maxFlushing?: number;
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
  private renewTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  /** Groups this worker is flushing, each on its own. */
  private readonly inFlight = new Map<string, Promise<void>>();
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
      ...(input.facets && Object.keys(input.facets).length > 0 ? { facets: input.facets } : {}),
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
      const seen = addFacets({}, input.facets);
      for (const note of folded?.notes ?? []) addFacets(seen, note.facets);
      await groups.posted(input.group, posted.channel, posted.ts, shown, input.model, folded, seen);
      return 'posted';
    } catch (err) {
      // A permanent failure frees the group so that a later incident can try again (after the fix).
      if (err instanceof OombotError && !err.retryable) await groups.release(input.group).catch(() => undefined);
      throw err;
    }
  }

  /**
   * Starts the background flusher of repeats. Each due group is flushed on its own: a group waiting
   * for Slack's budget (its update, its thread reply) holds up no other group, and the flusher keeps
   * taking due groups while earlier ones wait.
   */
  start(): void {
    if (this.flushTimer || this.stopped) return;
    const tick = () => {
      this.flushing = this.startDue()
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
    await Promise.all(this.inFlight.values());
    if (this.renewTimer) clearInterval(this.renewTimer);
    this.renewTimer = undefined;
  }

  /** Flushes every group that is due and waits for those flushes; groups go out side by side. */
  async flushOnce(): Promise<number> {
    const started = await this.startDue();
    await Promise.all(started);
    return started.length;
  }

  /**
   * Renders a group's alert again from its model and changes (a followed fix changed state). False when
   * the group expired or its first message is not out yet.
   */
  async refresh(group: string): Promise<boolean> {
    const state = await this.opts.groups.get(group);
    if (!state.ts || !state.channel || !state.model) return false;
    const model = state.model;
    // Rendered at its turn, from the group as it is then (a repeat or another change may have come meanwhile).
    await this.opts.transport.update(state.channel, state.ts, async () => {
      const latest = await this.opts.groups.get(group);
      return this.opts.renderUpdate(latest.model ?? model, view(latest.model ? latest : state));
    });
    return true;
  }

  /** Claims the groups that are due (as many as there is room for) and starts flushing each. */
  private async startDue(): Promise<Promise<void>[]> {
    const room = (this.opts.maxFlushing ?? 200) - this.inFlight.size;
    if (room <= 0) return [];
    const leaseMs = this.leaseMs();
    const keys = await this.opts.groups.claimDue(room, leaseMs);
    const started: Promise<void>[] = [];
    for (const key of keys) {
      const run = this.flushGroup(key)
        .catch((err: unknown) => this.opts.log.warn({ group: key, err: errorMessage(err) }, 'flushing repeats failed: will retry'))
        .finally(() => {
          this.inFlight.delete(key);
          if (this.inFlight.size === 0 && this.renewTimer) {
            clearInterval(this.renewTimer);
            this.renewTimer = undefined;
          }
        });
      this.inFlight.set(key, run);
      started.push(run);
    }
    if (this.inFlight.size > 0 && !this.renewTimer) {
      // A flush waiting out Slack's budget keeps its groups: their leases are renewed meanwhile.
      this.renewTimer = setInterval(() => void this.opts.groups.renew([...this.inFlight.keys()], leaseMs).catch(() => undefined), Math.max(100, leaseMs / 3));
      this.renewTimer.unref();
    }
    return started;
  }

  private leaseMs(): number {
    return this.opts.flushLeaseMs ?? 60_000;
  }

  /**
   * One group's flush: the count goes to the alert through chat.update (its own budget, rendered when
   * its turn comes, so the latest count wins), and a thread reply is posted only for repeats that bring
   * something the alert has not shown (a new node, container, cause or image), side by side.
   */
  private async flushGroup(key: string): Promise<void> {
    const { groups, transport, log } = this.opts;
    const state = await groups.read(key);
    if (!state.ts || !state.channel || !state.model) {
      // Expired, or the first message is not out yet: look again shortly.
      if (state.count === 0) await groups.flushed(key, 0);
      else await groups.flushed(key, state.shown, { retryAtMs: Date.now() + 2_000 });
      return;
    }
    const { channel, ts, model } = state;
    const batch = await groups.takeBatch(key);
    const seen = parseSeen(state.seen);
    const items = batch ? newsOf(batch.notes, seen) : [];
    // While new alerts wait for this channel, news goes on the alert itself (chat.update has its own
    // budget) instead of taking the channel's turn from them with a thread reply. A batch that an
    // earlier flush may have posted already goes to the thread, where it is looked for first.
    const onAlert = batch !== undefined && items.length > 0 && !batch.retry && (transport.alertsWaiting?.(channel) ?? 0) > 0;
    const noted = onAlert ? [...(view(state).news ?? []), ...items].slice(-MAX_NEWS_ON_ALERT) : undefined;

    let shown = state.shown;
    const update =
      state.count > state.shown || onAlert
        ? (async () => {
            let rendered = state.count;
            await transport.update(channel, ts, async () => {
              // Rendered at its turn: repeats that came while it waited are in it.
              const latest = await groups.read(key);
              rendered = Math.max(rendered, latest.count);
              const v = view(latest.count > 0 ? latest : state);
              return this.opts.renderUpdate(model, noted ? { ...v, news: noted } : v);
            });
            shown = rendered;
            this.updates++;
          })()
        : Promise.resolve();
    const reply =
      batch && items.length > 0 && !onAlert
        ? (async () => {
            const message = this.opts.renderThread({ items, repeats: batch.notes.length + batch.trimmed }, view(state));
            const posted = await transport.post(channel, { ...message, threadTs: ts }, PRIORITY.thread, {
              eventType: REPEATS_EVENT_TYPE,
              key: 'batch_id',
              value: batch.id,
              sinceMs: 0,
              retry: batch.retry,
            });
            if (posted.found) log.info({ group: key, batch: batch.id }, 'thread reply already in Slack from an earlier flush: not posting it again');
            else this.threadReplies++;
          })()
        : Promise.resolve();
    const [updated, replied] = await Promise.allSettled([update, reply]);
    const failures = [updated, replied].flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    if (failures.length === 0) {
      await groups.flushed(key, shown, { batchDone: true, ...(items.length > 0 ? { seen } : {}), ...(noted ? { noted } : {}) });
      return;
    }
    // A retryable failure keeps what did not go out for the next flush (which checks Slack before
    // posting the thread reply again); a permanent one gives up on this alert's repeats.
    const permanent = failures.find((err) => err instanceof OombotError && !err.retryable);
    const err = permanent ?? failures[0];
    log.warn(
      { group: key, err: errorMessage(err), hint: err instanceof OombotError ? err.hint : undefined },
      permanent ? 'cannot update the alert: giving up on its repeats' : 'cannot update the alert yet: will retry',
    );
    if (permanent) {
      await groups.flushed(key, state.count, { batchDone: true });
      return;
    }
    // The batch is done when its news is out: in the thread, or on the alert.
    const newsOut = onAlert ? updated.status === 'fulfilled' : replied.status === 'fulfilled';
    await groups.flushed(key, shown, {
      retryAtMs: Date.now() + 10_000,
      batchDone: newsOut,
      ...(newsOut && items.length > 0 ? { seen } : {}),
      ...(newsOut && noted ? { noted } : {}),
    });
  }
}

/** Repeats with news an alert shows itself, at most (the newest). */
const MAX_NEWS_ON_ALERT = 10;

/**
 * The repeats of `notes` that bring a facet `seen` does not hold yet, each with what it brings;
 * `seen` takes them in (so two repeats on the same new node make one piece of news).
 */
export function newsOf(notes: readonly RepeatNote[], seen: SeenFacets): RepeatNews[] {
  const out: RepeatNews[] = [];
  for (const note of notes) {
    const news: RepeatNews['news'] = [];
    for (const kind of FACET_KINDS) {
      const value = note.facets?.[kind];
      if (!value || seen[kind]?.includes(value)) continue;
      news.push({ kind, value });
    }
    if (news.length === 0) continue;
    addFacets(seen, note.facets);
    out.push({ note, news });
  }
  return out;
}

/** Adds the facets to `seen` (each kind keeps its newest 100 values) and returns it. */
export function addFacets(seen: SeenFacets, facets: RepeatFacets | undefined): SeenFacets {
  for (const kind of FACET_KINDS) {
    const value = facets?.[kind];
    if (!value) continue;
    const list = seen[kind] ?? [];
    if (!list.includes(value)) list.push(value);
    seen[kind] = list.slice(-100);
  }
  return seen;
}

function parseSeen(json: string | undefined): SeenFacets {
  if (!json) return {};
  const parsed = parseChecked(SeenFacetsSchema, json);
  return parsed.ok ? parsed.value : {};
}

function view(state: GroupState): GroupView {
  const earlier = parseList(state.earlier, RepeatNoteSchema) as RepeatNote[] | undefined;
  const changes = parseList(state.changes, AlertChangeSchema) as AlertChange[] | undefined;
  const news = parseList(state.noted, RepeatNewsSchema) as RepeatNews[] | undefined;
  return { count: state.count, firstAt: state.firstAt, lastAt: state.lastAt, changes, ...(earlier ? { earlier } : {}), ...(news ? { news } : {}) };
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
