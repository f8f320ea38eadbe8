/**
 * The node agent against the simulated API server and real Redis, its kernel log a plain file it tails
 * (OOMBOT_KMSG names one): what it queues, what it keeps for the worker, and what it leaves alone.
 */
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, uptime } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { connectRedis, createIncidentQueue } from '../../core/queue.js';
import { kmsgCursorKey } from '../../core/kernel-kill.js';
import { KubeHttp, loadKubeTarget } from '../../core/kube.js';
import { Metrics } from '../../core/metrics.js';
import { KernelKills } from '../../stores/kernel-kills.js';
import { IncidentSink } from '../../watchers/incident-sink.js';
import { NodeAgent, type NodeAgentOptions } from '../../watchers/node-agent/node-agent.js';
import { REDIS_URL, removeQueueData, uniqueQueueName } from '../helpers/redis.js';
import { captureLogger } from '../helpers/silent-logger.js';
import { startSimCluster } from '../helpers/watcher-harness.js';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(opts: { bootId?: string; lookbackMs?: number } = {}) {
  const sim = await startSimCluster({ replicas: 2 });
  cleanups.push(() => sim.server.close());
  const queueName = uniqueQueueName('agent');
  const redis = connectRedis(REDIS_URL);
  const queue = createIncidentQueue(redis, queueName);
  const metrics = new Metrics({ defaultMetrics: false });
  const logs = captureLogger('debug');
  const sink = new IncidentSink({ queue, redis, queueName, dedupeTtlMs: 600_000, metrics, log: logs.log });
  const kube = new KubeHttp(loadKubeTarget({ kubeconfig: sim.kubeconfig, clusterName: 'sim' }));
  const dir = mkdtempSync(join(tmpdir(), 'oombot-kmsg-'));
  const file = join(dir, 'kmsg');
  writeFileSync(file, '');
  cleanups.push(async () => {
    sink.close();
    await queue.close();
    await kube.close();
    redis.disconnect();
    await removeQueueData(queueName);
    rmSync(dir, { recursive: true, force: true });
  });
  const make = (bootId = opts.bootId ?? 'boot-1', over: Partial<NodeAgentOptions> = {}) =>
    new NodeAgent({
      kube,
      redis,
      sink,
      cluster: 'sim',
      node: 'node-a',
      bootId,
      kmsgPath: file,
      queueName,
      namespaces: [],
      log: logs.log,
      metrics,
      silenceMs: 60_000,
      lookbackMs: opts.lookbackMs ?? 15 * 60_000,
      keepMs: 600_000,
      settleMs: 300,
      pollMs: 20,
      ...over,
    });
  const pod = sim.cluster.list('pods', 'shop').find((p) => p.spec.nodeName === 'node-a')!;
  const cid = String(pod.status.containerStatuses[0].containerID).replace('containerd://', '');
  const write = (lines: string[]) => appendFileSync(file, `${lines.join('\n')}\n`);
  const jobs = async () => (await queue.getJobs(['waiting', 'active', 'completed'])).map((j) => j.data);
  const outcomes = async () => (await metrics.registry.getSingleMetricAsString('oombot_kernel_oom_kills_total')).split('\n').filter((l) => !l.startsWith('#'));
  const uid = String(pod.metadata.uid);
  return { sim, pod, uid, cid, redis, queueName, make, write, jobs, outcomes, logs };
}

const now = () => Math.round(uptime() * 1e6);

function memcg(seq: number, uid: string, cid: string, usec = now()): string[] {
  const cg = `/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${uid.replaceAll('-', '_')}.slice/cri-containerd-${cid}.scope`;
  return [
    `6,${seq},${usec},-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=cri-containerd-${cid}.scope,mems_allowed=0,oom_memcg=${cg},task_memcg=${cg},task=gunicorn,pid=4321,uid=1000`,
    `3,${seq + 1},${usec + 40},-;Memory cgroup out of memory: Killed process 4321 (gunicorn) total-vm:395060kB, anon-rss:261120kB, file-rss:5024kB, shmem-rss:0kB, UID:1000 pgtables:592kB oom_score_adj:994`,
  ];
}

async function until(check: () => Promise<boolean>, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('NodeAgent', () => {
  it('queues a kill in a running container and keeps it under the container for the worker', async () => {
    const t = await setup();
    const agent = t.make();
    cleanups.push(() => agent.stop());
    await agent.start();
    await until(async () => agent.readiness().ok);
    t.write(memcg(100, t.uid, t.cid));
    await until(async () => (await t.jobs()).length === 1);
    const [job] = await t.jobs();
    expect(job).toMatchObject({
      kind: 'process-oom',
      pod: { namespace: 'shop', name: t.pod.metadata.name, uid: t.pod.metadata.uid, nodeName: 'node-a' },
      processOom: {
        node: 'node-a',
        container: 'api',
        containerId: t.cid,
        process: 'gunicorn',
        pid: 4321,
        constraint: 'memcg',
        anonRssKb: 261120,
        bootId: 'boot-1',
        seq: 101,
      },
    });
    const kept = await new KernelKills(t.redis, t.queueName).inContainer('sim', `containerd://${t.cid}`);
    expect(kept).toMatchObject([{ process: 'gunicorn', pid: 4321, constraint: 'memcg', pod: t.pod.metadata.name, container: 'api' }]);
    expect(await t.redis.get(kmsgCursorKey(t.queueName, 'sim', 'node-a'))).toBe('boot-1 101');
  });

  it('keeps a global OOM outside any pod as node evidence, and queues nothing for it', async () => {
    const t = await setup();
    const agent = t.make();
    cleanups.push(() => agent.stop());
    await agent.start();
    t.write([
      `6,200,${now()},-;oom-kill:constraint=CONSTRAINT_NONE,nodemask=(null),cpuset=/,mems_allowed=0,global_oom,task_memcg=/system.slice/containerd.service,task=containerd,pid=811,uid=0`,
      `3,201,${now()},-;Out of memory: Killed process 811 (containerd) total-vm:2100000kB, anon-rss:80000kB, file-rss:30000kB, shmem-rss:0kB, UID:0 pgtables:600kB oom_score_adj:-999`,
    ]);
    const kills = new KernelKills(t.redis, t.queueName);
    await until(async () => (await kills.onNode('sim', 'node-a')).length === 1);
    expect(await kills.onNode('sim', 'node-a')).toMatchObject([{ process: 'containerd', pid: 811, constraint: 'global', node: 'node-a' }]);
    await until(async () => (await t.outcomes()).some((l) => l.includes('outcome="node-evidence"')));
    expect(await t.jobs()).toEqual([]);
  });

  it('on a first start, leaves kills from before the look-back in the replayed buffer as history', async () => {
    const t = await setup({ lookbackMs: 5_000 });
    // Logged 30 s ago this boot: the ring buffer still holds it when the agent first opens it.
    t.write(memcg(300, t.uid, t.cid, now() - 30 * 1e6));
    const agent = t.make();
    cleanups.push(() => agent.stop());
    await agent.start();
    await until(async () => (await t.outcomes()).some((l) => l.includes('outcome="history"')));
    expect(await t.jobs()).toEqual([]);
  });

  it("after a reboot (another boot id) reads the new boot's records even with lower sequence numbers", async () => {
    const t = await setup();
    await t.redis.set(kmsgCursorKey(t.queueName, 'sim', 'node-a'), 'boot-0 5000');
    const agent = t.make('boot-1');
    cleanups.push(() => agent.stop());
    await agent.start();
    t.write(memcg(10, t.uid, t.cid));
    await until(async () => (await t.jobs()).length === 1);
    expect((await t.jobs())[0]?.processOom).toMatchObject({ bootId: 'boot-1', seq: 11 });
  });

  it('does not alert on a kill in a pod it does not list on its node', async () => {
    const t = await setup();
    const agent = t.make();
    cleanups.push(() => agent.stop());
    await agent.start();
    await until(async () => agent.readiness().ok);
    t.write(memcg(400, '11111111-2222-4333-8444-555555555555', 'f'.repeat(64)));
    await until(async () => (await t.outcomes()).some((l) => l.includes('outcome="unknown-pod"')), 15_000);
    expect(await t.jobs()).toEqual([]);
  });

  it('is not ready while the kernel log cannot be opened, and says why', async () => {
    const t = await setup();
    const agent = t.make('boot-1', { kmsgPath: '/nonexistent/kmsg' });
    cleanups.push(() => agent.stop());
    await agent.start();
    await until(async () => (agent.readiness().detail ?? '').includes('/nonexistent/kmsg'));
    expect(agent.readiness().ok).toBe(false);
    await until(async () => t.logs.lines().some((l) => l.msg === 'cannot read the kernel log: retrying' && String(l.path) === '/nonexistent/kmsg'));
  });
});
