/**
 * The node agent end to end: kernel log lines written into a FIFO (what /dev/kmsg hands out, one record a
 * line) are read by the `node-agent` role, mapped to the pod on its node in the simulated API server, and
 * become the Slack alert a person sees. A child process killed in a running container gives one alert
 * within 2 s; a restarted agent reading the same buffer again posts nothing twice; a kill that ends the
 * container is one message, the container's OOMKilled, naming the victim process.
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir, uptime } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.js';
import { loadKubeTarget } from '../../core/kube.js';
import { startOombot, type Oombot } from '../../bin/start.js';
import { startBotHarness, type BotHarness } from '../bot/bot-harness.js';
import { REDIS_URL } from '../helpers/redis.js';
import { captureLogger } from '../helpers/silent-logger.js';

const NODE = 'node-a';
let h: BotHarness | undefined;
let agent: Oombot | undefined;
let dir: string | undefined;
let writer: number | undefined;

afterEach(async () => {
  if (writer !== undefined) closeSync(writer);
  writer = undefined;
  await agent?.stop();
  agent = undefined;
  await h?.close();
  h = undefined;
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = undefined;
});

interface World {
  fifo: string;
  bootId: string;
  pod: string;
  uid: string;
  /** The container's id (64 hex) as its status gives it. */
  cid: string;
}

/** The watcher and worker against the simulated cluster and Slack, and a FIFO for the kernel log. */
async function world(): Promise<World> {
  h = await startBotHarness({ roles: ['watcher', 'worker'] });
  const b = h;
  await expect.poll(async () => (await b.app.http.readiness()).ok, { timeout: 10_000 }).toBe(true);
  const pod = b.cluster.list('pods', 'shop').find((p) => p.spec.nodeName === NODE)!;
  const status = (pod.status.containerStatuses as { name: string; containerID: string }[]).find((c) => c.name === 'api')!;
  dir = mkdtempSync(join(tmpdir(), 'oombot-kmsg-'));
  const fifo = join(dir, 'kmsg');
  execFileSync('mkfifo', [fifo]);
  return {
    fifo,
    bootId: randomUUID(),
    pod: pod.metadata.name as string,
    uid: pod.metadata.uid as string,
    cid: status.containerID.replace(/^containerd:\/\//, ''),
  };
}

/** The node agent as its own process would run it (the chart's DaemonSet), against the same queue. */
async function startAgent(w: World): Promise<Oombot> {
  const config = loadConfig({ REDIS_URL, OOMBOT_QUEUE: h!.queueName, PORT: '0', NODE_NAME: NODE, OOMBOT_KMSG: w.fifo, OOMBOT_BOOT_ID: w.bootId });
  const app = await startOombot({
    config,
    roles: ['node-agent'],
    log: captureLogger('debug').log,
    kubeTarget: loadKubeTarget({ kubeconfig: h!.kube.writeKubeconfig(join(dir!, 'kubeconfig')), clusterName: 'sim' }),
    host: '127.0.0.1',
  });
  await expect.poll(async () => (await app.http.readiness()).ok, { timeout: 10_000 }).toBe(true);
  // The agent holds the FIFO open for reading: a writer can open it now without blocking.
  writer ??= openSync(w.fifo, constants.O_WRONLY | constants.O_NONBLOCK);
  return app;
}

/** Microseconds since boot now, as the kernel stamps a record. */
const usecNow = () => Math.round(uptime() * 1e6);

/** The records the kernel logs for a memory-cgroup kill of `pid` (5.15/6.x, systemd driver, containerd). */
function memcgKill(w: World, seq: number, process: string, pid: number): string[] {
  const cgroup = `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${w.uid.replaceAll('-', '_')}.slice/cri-containerd-${w.cid}.scope`;
  const t = usecNow();
  return [
    `4,${seq},${t},-;${process} invoked oom-killer: gfp_mask=0xcc0(GFP_KERNEL), order=0, oom_score_adj=994`,
    `6,${seq + 1},${t + 40},-;memory: usage 524288kB, limit 524288kB, failcnt 17`,
    ` SUBSYSTEM=memory`,
    `6,${seq + 2},${t + 80},-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=cri-containerd-${w.cid}.scope,mems_allowed=0,oom_memcg=${cgroup},task_memcg=${cgroup},task=${process},pid=${pid},uid=1000`,
    `3,${seq + 3},${t + 120},-;Memory cgroup out of memory: Killed process ${pid} (${process}) total-vm:395060kB, anon-rss:261120kB, file-rss:5024kB, shmem-rss:0kB, UID:1000 pgtables:592kB oom_score_adj:994`,
  ];
}

function write(lines: string[]): void {
  writeSync(writer!, `${lines.join('\n')}\n`);
}

const alerts = () => h!.slack.messagesIn('#alerts').filter((m) => !m.thread_ts);
const everything = () => JSON.stringify(h!.slack.messages.map((m) => [m.text, m.blocks]));

async function drained(): Promise<void> {
  await expect
    .poll(async () => await h!.app.queue.getJobCounts('waiting', 'active', 'delayed'), { timeout: 10_000 })
    .toEqual({ waiting: 0, active: 0, delayed: 0 });
  await new Promise((r) => setTimeout(r, 1_500));
}

describe('the node agent', () => {
  it('alerts within 2 s on a child process OOM-killed in a running container, naming the pod, container and process', async () => {
    const w = await world();
    agent = await startAgent(w);
    const started = Date.now();
    write(memcgKill(w, 1000, 'gunicorn', 4321));
    await h!.slack.waitFor(() => alerts().length > 0, 5_000);
    const latency = Date.now() - started;
    process.stdout.write(`kernel line to Slack alert: ${latency} ms\n`);
    expect(latency).toBeLessThan(2_000);
    await drained();
    expect(alerts()).toHaveLength(1);
    const text = everything();
    expect(text).toContain(`Process gunicorn (pid 4321) was OOM-killed inside container api of shop/${w.pod}; the container kept running`);
    expect(text).toMatch(/counts toward its memory limit/);
    expect(text).toContain(NODE);
    // Kubernetes shows nothing: the container never restarted.
    const status = h!.cluster.get('pods', 'shop', w.pod)!.status.containerStatuses[0];
    expect(status.restartCount).toBe(0);
  });

  it('a restarted agent reads the replayed buffer and posts nothing twice; a new kill after it posts once', async () => {
    const w = await world();
    agent = await startAgent(w);
    const first = memcgKill(w, 2000, 'gunicorn', 4321);
    write(first);
    await h!.slack.waitFor(() => alerts().length > 0, 5_000);
    await drained();
    await agent.stop();
    closeSync(writer!);
    writer = undefined;

    // Same boot: /dev/kmsg hands the whole ring buffer out again on open.
    agent = await startAgent(w);
    const second = memcgKill(w, 2010, 'celery', 5150);
    write([...first, ...second]);
    // A second kill of the workload within the group window is a repeat: it goes to the alert's thread.
    await h!.slack.waitFor(() => everything().includes('celery'), 15_000);
    await drained();
    // Each kernel kill was queued once, and the restarted agent skipped the one it had handled.
    const jobs = await h!.app.queue.getJobs(['completed', 'failed', 'waiting', 'active', 'delayed']);
    expect(
      jobs
        .filter((j) => j.data.kind === 'process-oom')
        .map((j) => j.data.processOom?.process)
        .sort(),
    ).toEqual(['celery', 'gunicorn']);
    expect(await agent.metrics.registry.getSingleMetricAsString('oombot_kernel_oom_kills_total')).toMatch(/outcome="replayed"\} 1$/m);
    const posts = h!.slack.calls.filter((c) => c.method === 'chat.postMessage' && !c.args.thread_ts);
    expect(posts, JSON.stringify(posts.map((p) => p.args.text))).toHaveLength(1);
    expect(everything()).toContain('celery (pid 5150)');
  });

  it('a kill that ends the container is one message, its OOMKilled alert, naming the victim process', async () => {
    const w = await world();
    agent = await startAgent(w);
    write(memcgKill(w, 3000, 'gunicorn', 4321));
    // The kubelet reports the container OOMKilled a moment later.
    await new Promise((r) => setTimeout(r, 200));
    h!.cluster.oomKill('shop', w.pod, 'api', { startedAt: new Date(Date.now() - 3600_000).toISOString() });
    await h!.slack.waitFor(() => alerts().length > 0, 10_000);
    await drained();
    expect(
      alerts(),
      alerts()
        .map((a) => a.text)
        .join(' | '),
    ).toHaveLength(1);
    const text = everything();
    expect(text).toMatch(/OOMKilled/);
    expect(text).toContain('gunicorn (pid 4321)');
    expect(text).not.toContain('kept running');
  });
});
