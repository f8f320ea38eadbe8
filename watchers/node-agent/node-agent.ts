import { uptime } from 'node:os';
import type { Redis } from 'ioredis';
import { Backoff } from '../../core/backoff.js';
import { errorMessage } from '../../core/errors.js';
import { containerKillsKey, KERNEL_KILLS_KEPT, kmsgCursorKey, nodeKillsKey, type KernelKillRecord } from '../../core/kernel-kill.js';
import type { KubeHttp } from '../../core/kube.js';
import type { Logger } from '../../core/logger.js';
import type { Metrics } from '../../core/metrics.js';
import { KmsgLineSplitter, OomKillParser, parseCgroupPath, parseKmsgRecord, type OomKill } from '../../kernel/index.js';
import type { IncidentSink } from '../incident-sink.js';
import { followKmsg } from './follow-kmsg.js';
import { NodePods, type ContainerOnNode } from './node-pods.js';
import { processOomIncident, toKernelKillRecord, type KernelKillContext } from './process-oom-incident.js';

export interface NodeAgentOptions {
  kube: KubeHttp;
  redis: Redis;
  sink: IncidentSink;
  cluster: string;
  node: string;
  bootId: string;
  kmsgPath: string;
  queueName: string;
  /** WATCH_NAMESPACES: kills in pods elsewhere are not alerted (empty: all). */
  namespaces: readonly string[];
  log: Logger;
  metrics: Metrics;
  silenceMs: number;
  /** On a first start (no cursor for this boot), kills older than this are history. */
  lookbackMs: number;
  /** How long kernel kill records are kept (the dedupe window). */
  keepMs: number;
  /**
   * How long to wait for the pod to show whether the container itself ended with the kill (its main
   * process was the victim): then the container's OOMKilled alert names the process, and no second one
   * is queued. The kubelet reports a stopped container within about a second.
   */
  settleMs?: number;
  pollMs?: number;
  /** Wall-clock time of the node's boot (ms); defaults to now minus the uptime. */
  bootTimeMs?: number;
}

export type KillOutcome = 'queued' | 'container-ended' | 'not-a-pod' | 'unknown-pod' | 'history' | 'replayed' | 'node-evidence';

/**
 * Follows the node's kernel log and turns each OOM kill into what oombot knows of it:
 * - every kill inside a pod's container is kept in Redis under the container's id, so the worker names
 *   the victim process in that container's own alert (an OOMKilled, or the OOMKilled a child kill leaves);
 * - a kill whose container kept running is queued as a `process-oom` incident: Kubernetes shows nothing;
 * - a global (node-wide) OOM is kept under the node as node-OOM evidence.
 * Exactly once across restarts: the boot id and the kernel's sequence number make the incident id, and the
 * last sequence number handled is kept in Redis, so the replay of the ring buffer on open is skipped.
 */
export class NodeAgent {
  private readonly pods: NodePods;
  private readonly parser = new OomKillParser();
  private readonly splitter = new KmsgLineSplitter();
  private readonly abort = new AbortController();
  private loop: Promise<void> | undefined;
  private readonly inFlight = new Set<number>();
  private readonly tasks = new Set<Promise<void>>();
  /** Kills at or below this sequence number were handled before (this boot). */
  private doneSeq = -1;
  private highestSeq = -1;
  private firstStart = true;
  private kmsgOk = false;
  private kmsgDetail: string | undefined;
  private readonly bootTimeMs: number;
  private readonly startedAt = Date.now();

  constructor(private readonly opts: NodeAgentOptions) {
    this.pods = new NodePods({ kube: opts.kube, node: opts.node, namespaces: opts.namespaces, log: opts.log, silenceMs: opts.silenceMs });
    this.bootTimeMs = opts.bootTimeMs ?? Date.now() - uptime() * 1000;
  }

  /** Starts in the background: Redis or the API server out of reach delays it, never fails it. */
  async start(): Promise<void> {
    this.pods.start();
    this.loop = (async () => {
      // The cursor first: reading the log before it would post the replayed buffer again.
      await this.retry('read how far the kernel log was read', () => this.readCursor());
      if (this.abort.signal.aborted) return;
      await followKmsg({
        path: this.opts.kmsgPath,
        signal: this.abort.signal,
        log: this.opts.log,
        pollMs: this.opts.pollMs,
        onHealth: (ok, detail) => {
          this.kmsgOk = ok;
          this.kmsgDetail = detail;
        },
        onText: (text) => this.read(text),
      });
    })();
  }

  /** Runs `step` until it succeeds or the agent stops, backing off between failures (Redis away). */
  private async retry<T>(what: string, step: () => Promise<T>): Promise<T | undefined> {
    const backoff = new Backoff(500, 30_000);
    let said = false;
    while (!this.abort.signal.aborted) {
      try {
        return await step();
      } catch (err) {
        if (!said) this.opts.log.warn({ err: errorMessage(err) }, `cannot ${what} yet (is Redis reachable?): retrying`);
        said = true;
        await backoff.sleep(backoff.next(), this.abort.signal);
      }
    }
    return undefined;
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
    await Promise.allSettled([...this.tasks]);
    await this.pods.stop();
  }

  readiness(): { ok: boolean; detail?: string } {
    if (!this.kmsgOk) return { ok: false, detail: this.kmsgDetail ?? `opening ${this.opts.kmsgPath}` };
    if (!this.pods.synced) return { ok: false, detail: `listing the pods on node ${this.opts.node}` };
    return { ok: true };
  }

  /** Kills being handled now (waiting for the pod to settle or for Redis). */
  get pending(): number {
    return this.inFlight.size;
  }

  private async readCursor(): Promise<void> {
    const raw = await this.opts.redis.get(kmsgCursorKey(this.opts.queueName, this.opts.cluster, this.opts.node));
    const [boot, seq] = (raw ?? '').split(' ');
    if (boot === this.opts.bootId && seq !== undefined && /^\d{1,20}$/.test(seq)) {
      this.doneSeq = Number(seq);
      this.firstStart = false;
      this.opts.log.info({ bootId: boot, seq: this.doneSeq }, 'resuming the kernel log after the last kill handled');
    }
  }

  private read(text: string): void {
    for (const line of this.splitter.push(text)) {
      const record = parseKmsgRecord(line);
      if (!record) continue;
      const kill = this.parser.push(record);
      if (!kill) continue;
      this.highestSeq = Math.max(this.highestSeq, kill.seq);
      if (kill.seq <= this.doneSeq) {
        this.count(kill, 'replayed');
        continue;
      }
      this.inFlight.add(kill.seq);
      // Retried until done: a kill is queued (or known not to need it) before the cursor passes it. One
      // still in hand when the agent stops keeps the cursor below it, so the next start reads it again.
      const task: Promise<void> = this.retry(`handle the kernel OOM kill ${kill.seq}`, () => this.handle(kill))
        .then(async (outcome) => {
          if (outcome === undefined) return;
          this.count(kill, outcome);
          this.inFlight.delete(kill.seq);
          await this.saveCursor();
        })
        .finally(() => this.tasks.delete(task));
      this.tasks.add(task);
    }
  }

  private count(kill: OomKill, outcome: KillOutcome): void {
    this.opts.metrics.kernelOomKills.inc({ constraint: kill.constraint, outcome });
  }

  /** The cursor moves up to just below the oldest kill still in hand: a crash then replays only those. */
  private async saveCursor(): Promise<void> {
    const oldest = Math.min(...this.inFlight);
    const done = Number.isFinite(oldest) ? oldest - 1 : this.highestSeq;
    if (done <= this.doneSeq) return;
    this.doneSeq = done;
    const key = kmsgCursorKey(this.opts.queueName, this.opts.cluster, this.opts.node);
    await this.opts.redis.set(key, `${this.opts.bootId} ${done}`, 'PX', Math.max(this.opts.keepMs, 86_400_000)).catch((err: unknown) => {
      this.opts.log.warn({ err: errorMessage(err) }, 'cannot save how far the kernel log was read: a restart reads it again (nothing is queued twice)');
    });
  }

  private async handle(kill: OomKill): Promise<KillOutcome> {
    const atMs = Math.min(Date.now(), Math.round(this.bootTimeMs + kill.usec / 1000));
    // On a first start the whole ring buffer is replayed: kills from before the look-back are history.
    if (this.firstStart && atMs < this.startedAt - this.opts.lookbackMs) return 'history';
    const ctx: KernelKillContext = {
      cluster: this.opts.cluster,
      node: this.opts.node,
      bootId: this.opts.bootId,
      at: new Date(atMs).toISOString(),
      now: new Date(),
    };
    const owner = parseCgroupPath(kill.taskCgroup);
    const log = this.opts.log.child({ seq: kill.seq, process: kill.process, pid: kill.pid, constraint: kill.constraint });
    if (kill.constraint === 'global') {
      await this.keep(
        nodeKillsKey(this.opts.queueName, this.opts.cluster, this.opts.node),
        toKernelKillRecord(kill, ctx, { containerId: owner?.containerId, podUid: owner?.podUid }),
        atMs,
      );
    }
    if (!owner) {
      log.info({ cgroup: kill.taskCgroup }, 'kernel OOM kill outside any pod');
      return kill.constraint === 'global' ? 'node-evidence' : 'not-a-pod';
    }
    const id = owner.containerId;
    // Kept at once, before any wait: the container's OOMKilled alert (if the kill ended it) reads it.
    const known = id ? this.pods.byContainerId(id) : undefined;
    await this.keep(
      id ? containerKillsKey(this.opts.queueName, this.opts.cluster, id) : undefined,
      toKernelKillRecord(kill, ctx, { containerId: id, podUid: owner.podUid, on: known }),
      atMs,
    );
    // A container started a moment ago may not be in the list yet: wait for the watch to bring it.
    const on =
      known ??
      (await this.pods.waitFor(
        () => (id ? this.pods.byContainerId(id) : undefined) ?? this.podOnly(owner.podUid),
        this.pods.synced ? (this.opts.settleMs ?? 1_000) : 10_000,
        this.abort.signal,
      ));
    if (!on?.container) {
      log.info(
        { podUid: owner.podUid, containerId: id },
        'kernel OOM kill in a pod that is not listed on this node (gone, or outside WATCH_NAMESPACES): not alerted',
      );
      return 'unknown-pod';
    }
    // Did the kill end the container (its main process)? Then its OOMKilled incident names the process.
    const ended = id ? await this.pods.waitFor(() => this.pods.byContainerId(id)?.ended, this.opts.settleMs ?? 1_000, this.abort.signal) : undefined;
    if (ended?.reason === 'OOMKilled') {
      log.info(
        { pod: `${on.pod.namespace}/${on.pod.name}`, container: on.container },
        'the container ended with the kill: its OOMKilled alert names the process',
      );
      return 'container-ended';
    }
    const incident = processOomIncident(kill, ctx, on, id);
    if ((await this.opts.sink.submit(incident)) === 'deferred') {
      // Redis is away: the sink retries it; the cursor stays below this kill until it lands.
      while (this.opts.sink.isPending(incident.id)) {
        if (this.abort.signal.aborted) throw new Error('stopped before the kill was queued: the next start reads it again');
        await new Promise((r) => setTimeout(r, 500));
      }
    }
    return 'queued';
  }

  private podOnly(uid: string): ContainerOnNode | undefined {
    const pod = this.pods.byPodUid(uid);
    return pod ? { pod, container: '' } : undefined;
  }

  private async keep(key: string | undefined, record: KernelKillRecord, atMs: number): Promise<void> {
    if (!key) return;
    await this.opts.redis
      .multi()
      .zadd(key, atMs, JSON.stringify(record))
      .zremrangebyrank(key, 0, -KERNEL_KILLS_KEPT - 1)
      .pexpire(key, this.opts.keepMs)
      .exec();
  }
}
