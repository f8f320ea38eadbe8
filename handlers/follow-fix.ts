/**
 * Follows every fix applied from Slack after the click, in the worker role: the rollout as the workload's
 * controller reports it (N of M, done and how long it took, or stuck and why), when the value takes effect
 * for what does not roll by itself, "held" once the verify window passes without a kill at the new value,
 * and "reverted" when the live value goes back below it (naming the field manager that did it). Each
 * change of state is one thread reply under the alert, and the record in Redis (stores/fix-store.ts).
 * oombot never re-applies a reverted fix.
 *
 * Cost: a fix is checked at most once per `intervalMs` (30 s): one GET of the workload, plus one list
 * of its pods (by its selector) while its rollout is not done. Nothing is read for workloads without an
 * open fix. Open fixes are claimed with a lease in Redis, so two workers never check one together, and a
 * restarted worker picks up where the last one stopped.
 */
import { errorMessage, OombotError } from '../core/errors.js';
import type { ClusterDirectory } from '../core/clusters.js';
import type { Logger } from '../core/logger.js';
import type { Metrics } from '../core/metrics.js';
import { FINAL_STATES, type FixRecord, type FixState, type FixStore } from '../stores/fix-store.js';
import {
  alertStatus,
  type FixLine,
  fixYaml,
  heldLine,
  progressLine,
  revertedLine,
  rolledOutLine,
  stuckLine,
  type StuckCause,
  takesEffectLine,
} from '../alert/fix-lines.js';
import { lastMemoryWriter, podTrouble, readWorkload } from './rollout-state.js';

export const FOLLOW_INTERVAL_MS = 30_000;

export interface FixFollowerOptions {
  fixes: FixStore;
  /** A fix is read in the cluster it was applied in (its record names it). */
  clusters: ClusterDirectory;
  log: Logger;
  metrics?: Metrics;
  verifyWindowMs: number;
  /** Posts a thread reply under the fix's alert. */
  post: (channel: string, threadTs: string, line: FixLine) => Promise<void>;
  /**
   * Shows the fix's state on the alert itself (one line that changes with it), while the alert's group is
   * kept; `line` is undefined for a state with nothing to say there.
   */
  showOnAlert?: (fix: FixRecord, text: string) => Promise<void>;
  /** Least time between two checks of one fix (default 30 s). */
  intervalMs?: number;
  /** How often due fixes are looked for (default 1 s). */
  tickMs?: number;
  now?: () => Date;
}

const API: Record<string, [string, string]> = {
  Deployment: ['apis/apps/v1', 'deployments'],
  StatefulSet: ['apis/apps/v1', 'statefulsets'],
  DaemonSet: ['apis/apps/v1', 'daemonsets'],
  ReplicaSet: ['apis/apps/v1', 'replicasets'],
  CronJob: ['apis/batch/v1', 'cronjobs'],
};

function pathOf(f: FixRecord): string | undefined {
  const api = API[f.owner.kind];
  return api && `/${api[0]}/namespaces/${encodeURIComponent(f.owner.namespace)}/${api[1]}/${encodeURIComponent(f.owner.name)}`;
}

export class FixFollower {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly intervalMs: number;
  private readonly now: () => Date;

  constructor(private readonly o: FixFollowerOptions) {
    this.intervalMs = o.intervalMs ?? FOLLOW_INTERVAL_MS;
    this.now = o.now ?? (() => new Date());
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      this.running ??= this.tick()
        .then(() => undefined)
        .catch((err: unknown) => this.o.log.warn({ err: errorMessage(err) }, 'following fixes failed: trying again'))
        .finally(() => {
          this.running = undefined;
        });
    }, this.o.tickMs ?? 1_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Checks every fix that is due (claimed with a lease); returns how many were checked. */
  async tick(): Promise<number> {
    const due = await this.o.fixes.claimDue(20, Math.max(this.intervalMs, 15_000), this.now().getTime());
    for (const { id, token } of due) {
      try {
        await this.check(id);
      } catch (err) {
        this.o.log.warn({ fix: id, err: errorMessage(err) }, 'cannot check a fix now: trying again later');
        await this.o.fixes.schedule(id, this.now().getTime() + this.intervalMs).catch(() => undefined);
      } finally {
        await this.o.fixes.release(id, token).catch(() => undefined);
      }
    }
    return due.length;
  }

  private async check(id: string): Promise<void> {
    const fix = await this.o.fixes.get(id);
    if (!fix || FINAL_STATES.includes(fix.state)) {
      await this.o.fixes.forget(id);
      return;
    }
    const now = this.now();
    const nowIso = now.toISOString();
    const path = pathOf(fix);
    if (!path) {
      await this.o.fixes.forget(id);
      return;
    }
    // Held: the window after the rollout passed without a kill at the new value.
    if (fix.verifyUntil && now.getTime() >= Date.parse(fix.verifyUntil)) {
      const since = fix.rolledOutAt ?? fix.appliedAt;
      await this.transition(fix, { state: 'held' }, nowIso, heldLine(fix, since, this.o.verifyWindowMs / 1000));
      return;
    }
    let obj: unknown;
    try {
      obj = await this.o.clusters.kube(fix.cluster).getJson(path);
    } catch (err) {
      if (err instanceof OombotError && err.code === 'KUBE_NOT_FOUND') {
        this.o.log.info({ fix: id, workload: path }, 'the workload of a followed fix is gone: no longer following it');
        await this.o.fixes.forget(id);
        return;
      }
      throw err;
    }
    const reading = readWorkload(fix.owner.kind, obj, fix.container, fix.target);
    // Reverted: the live value went back below what was applied, by someone other than oombot's Undo.
    if (reading.liveBytes === undefined || reading.liveBytes < fix.toBytes) {
      const writer = lastMemoryWriter(obj, fix.container, fix.target);
      if (writer.manager === 'oombot') {
        // Our own Undo (the bot marks the fix undone too; whichever comes first).
        await this.transition(fix, { state: 'undone' }, nowIso);
        return;
      }
      const detail = `${reading.live}${writer.manager ? ` by ${writer.manager}` : ''}`;
      await this.transition(fix, { state: 'reverted', detail }, nowIso, revertedLine(fix, reading.live, writer.manager, writer.time, fixYaml(fix)));
      return;
    }
    let next = fix;
    const r = reading.rollout;
    if (fix.state === 'rolled-out') {
      // Rolled out: only a revert or the end of the window matter now (a kill is the worker's to tell).
    } else if (r.phase === 'done') {
      const verifyUntil = new Date(now.getTime() + this.o.verifyWindowMs).toISOString();
      const took = (now.getTime() - Date.parse(fix.appliedAt)) / 1000;
      next =
        (await this.transition(
          fix,
          { state: 'rolled-out', rolledOutAt: nowIso, verifyUntil, progress: { updated: r.total, total: r.total } },
          nowIso,
          rolledOutLine(fix, r.total, took, verifyUntil),
        )) ?? fix;
    } else if (r.phase === 'rolling') {
      let cause: StuckCause | undefined = r.deadline ? { kind: 'deadline', message: r.deadline } : undefined;
      if (!cause && reading.selector) cause = podTrouble(await this.pods(fix, reading.selector), fix.container);
      if (cause) {
        const detail = cause.message.slice(0, 500);
        if (fix.state !== 'stuck' || fix.detail !== detail) {
          next =
            (await this.transition(
              fix,
              { state: 'stuck', detail, progress: { updated: r.updated, total: r.total } },
              nowIso,
              stuckLine(fix, cause, r.updated, r.total),
            )) ?? fix;
        }
      } else if (fix.state !== 'rolling-out' || fix.progress?.updated !== r.updated || fix.progress?.total !== r.total) {
        next =
          (await this.transition(
            fix,
            { state: 'rolling-out', progress: { updated: r.updated, total: r.total } },
            nowIso,
            progressLine(fix, r.updated, r.total),
          )) ?? fix;
      }
    } else if (!fix.noted) {
      // Nothing rolls by itself: say when the value takes effect; the verify window starts now.
      const how = r.phase === 'on-delete' ? 'on-delete' : r.phase === 'cronjob' ? 'cronjob' : 'replicaset';
      const line = takesEffectLine(fix, how, {
        ...(r.phase === 'on-delete' ? { updated: r.updated, total: r.total } : {}),
        ...(r.phase === 'cronjob' && r.schedule ? { schedule: r.schedule } : {}),
      });
      const change: Partial<FixRecord> = { noted: true };
      if (r.phase === 'on-delete') change.progress = { updated: r.updated, total: r.total };
      else change.verifyUntil = new Date(now.getTime() + this.o.verifyWindowMs).toISOString();
      next = (await this.update(fix, change, nowIso, line)) ?? fix;
    }
    const wake = Math.min(now.getTime() + this.intervalMs, next.verifyUntil ? Date.parse(next.verifyUntil) : Number.POSITIVE_INFINITY);
    await this.o.fixes.schedule(id, wake);
  }

  private async pods(fix: FixRecord, selector: Record<string, string>): Promise<unknown[]> {
    const labelSelector = Object.entries(selector)
      .map(([k, v]) => `${k}=${v}`)
      .join(',');
    const out: unknown[] = [];
    for await (const page of this.o.clusters
      .kube(fix.cluster)
      .listPages<unknown>(`/api/v1/namespaces/${encodeURIComponent(fix.owner.namespace)}/pods`, { labelSelector }, 200)) {
      out.push(...page);
      if (out.length >= 1000) break;
    }
    return out;
  }

  private async transition(fix: FixRecord, change: Partial<FixRecord> & { state: FixState }, at: string, line?: FixLine): Promise<FixRecord | undefined> {
    const next = await this.update(fix, change, at, line);
    if (next) {
      this.o.metrics?.fixOutcomes.inc({ outcome: change.state });
      this.o.log.info(
        { fix: fix.id, workload: `${fix.owner.kind} ${fix.owner.namespace}/${fix.owner.name}`, state: change.state },
        'followed fix changed state',
      );
    }
    return next;
  }

  /** Writes the record (compare-and-set), then tells the thread; a record someone else moved meanwhile is left to the next check. */
  private async update(fix: FixRecord, change: Partial<FixRecord>, at: string, line?: FixLine): Promise<FixRecord | undefined> {
    const next = await this.o.fixes.update(fix, change, at);
    if (!next) return undefined;
    if (line && fix.alert) {
      await this.o
        .post(fix.alert.channel, fix.alert.ts, line)
        .catch((err: unknown) => this.o.log.warn({ fix: fix.id, err: errorMessage(err) }, 'cannot tell the thread what became of a fix'));
      const status = alertStatus(next);
      if (status && this.o.showOnAlert) {
        await this.o
          .showOnAlert(next, status)
          .catch((err: unknown) => this.o.log.info({ fix: fix.id, err: errorMessage(err) }, 'cannot show the state of a fix on its alert'));
      }
    }
    return next;
  }
}
