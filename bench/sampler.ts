import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Queue } from 'bullmq';
import { connectRedis, createIncidentQueue } from '../core/queue.js';
import { KubeHttp, loadKubeTarget } from '../core/kube.js';
import type { NearLimitJob } from '../core/near-limit.js';
import { createLogger } from '../core/logger.js';
import { Sampler } from '../sampler/sampler.js';
import { COARSE_POINTS, MemoryHistory, RECENT_POINTS } from '../stores/memory-history.js';
import { deleteQueueKeys } from './delete-queue-keys.js';
import type { SamplerFigures } from './figures.js';
import { startSimCluster } from './start-sim-cluster.js';

const ROUNDS = 5;
/** Containers whose history is filled to its bound to measure Redis bytes per container at full history. */
const FULL_SAMPLE = 200;

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

async function memoryOf(redis: ReturnType<typeof connectRedis>, pattern: string): Promise<{ keys: number; bytes: number }> {
  let cursor = '0';
  let keys = 0;
  let bytes = 0;
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 2000);
    cursor = next;
    if (batch.length === 0) continue;
    const pipe = redis.pipeline();
    for (const k of batch) pipe.memory('USAGE', k, 'SAMPLES', '0');
    for (const [, v] of (await pipe.exec()) ?? []) bytes += Number(v) || 0;
    keys += batch.length;
  } while (cursor !== '0');
  return { keys, bytes };
}

/**
 * The sampler against a simulated cluster of `size` pods (each with one container with a 512Mi limit):
 * API calls, CPU and wall time per round (the first round, which also lists the pods, and the steady
 * rounds after it), and the Redis memory its history takes: after the rounds run, and at the bound (the
 * history of FULL_SAMPLE containers filled to 240 + 240 points, scaled to every container).
 */
export async function benchSampler(sizes: number[], redisUrl: string, log: (line: string) => void): Promise<SamplerFigures[]> {
  const out: SamplerFigures[] = [];
  for (const size of sizes) {
    const { ready, close } = await startSimCluster(size);
    const queueName = `bench-sampler-${randomUUID().slice(0, 8)}`;
    const redis = connectRedis(redisUrl);
    const queue = createIncidentQueue(redis, queueName) as unknown as Queue<NearLimitJob>;
    const kube = new KubeHttp(loadKubeTarget({ kubeconfig: ready.kubeconfig, clusterName: 'bench' }), { timeoutMs: 120_000 });
    try {
      log(`  simulated cluster: ${ready.pods} pods on ${ready.nodes} nodes`);
      const sampler = new Sampler({
        kube,
        redis,
        queue,
        log: createLogger('warn'),
        cluster: 'bench',
        queueName,
        namespaces: [],
        intervalMs: 1_000,
        warnAt: 0.9,
      });
      const rounds: { calls: number; cpuMs: number; wallMs: number; containers: number }[] = [];
      while (rounds.length < ROUNDS + 1) {
        await sleep(1_000 - (Date.now() % 1_000) + 5);
        const cpu = process.cpuUsage();
        const t0 = performance.now();
        const r = await sampler.round();
        if (!r.ran) continue;
        const used = process.cpuUsage(cpu);
        rounds.push({ calls: r.apiCalls, cpuMs: (used.user + used.system) / 1000, wallMs: performance.now() - t0, containers: r.containers });
      }
      const [first, ...steady] = rounds as [(typeof rounds)[number], ...typeof rounds];
      const avg = (f: (r: (typeof rounds)[number]) => number) => steady.reduce((s, r) => s + f(r), 0) / steady.length;
      const afterRounds = await memoryOf(redis, `oombot:${queueName}:mem:*`);

      // The bound: FULL_SAMPLE containers with both tiers full (480 samples 30 s apart span 4 hours).
      const history = new MemoryHistory(redis, `${queueName}-full`, 'bench');
      const t = Math.floor(Date.now() / 1000) - 4 * 3600;
      for (let i = 0; i < RECENT_POINTS + COARSE_POINTS; i++) {
        await history.record(
          Array.from({ length: FULL_SAMPLE }, (_, c) => ({
            container: `ns-${c % 20}/app-${c}-7f9c4d8b6-x2x9k/app-${c}`,
            at: t + i * 30,
            bytes: (300 + (i % 50)) * 2 ** 20,
          })),
          1,
        );
      }
      const full = await memoryOf(redis, `oombot:${queueName}-full:mem:*`);
      await deleteQueueKeys(redisUrl, `${queueName}-full`);
      const fullPerContainer = full.bytes / FULL_SAMPLE;
      const fig: SamplerFigures = {
        pods: ready.pods,
        containers: first.containers,
        firstRound: { apiCalls: first.calls, cpuMs: first.cpuMs, wallMs: first.wallMs },
        steadyRound: { apiCalls: avg((r) => r.calls), cpuMs: avg((r) => r.cpuMs), wallMs: avg((r) => r.wallMs) },
        redisBytesAfterRounds: afterRounds.bytes,
        redisBytesPerContainerFull: fullPerContainer,
        redisBytesPer10kFull: fullPerContainer * 10_000,
      };
      out.push(fig);
      log(
        `  ${int(fig.containers)} containers: first round ${fig.firstRound.apiCalls} API calls, ${fig.firstRound.cpuMs.toFixed(0)} ms CPU, ${fig.firstRound.wallMs.toFixed(0)} ms; ` +
          `then ${fig.steadyRound.apiCalls.toFixed(1)} calls, ${fig.steadyRound.cpuMs.toFixed(0)} ms CPU, ${fig.steadyRound.wallMs.toFixed(0)} ms a round; ` +
          `Redis ${mib(fig.redisBytesAfterRounds)} after ${ROUNDS + 1} rounds, ${mib(fig.redisBytesPerContainerFull * fig.containers)} at full history (${mib(fig.redisBytesPer10kFull)} per 10k containers)`,
      );
    } catch (err) {
      throw new Error(`while measuring the sampler at ${size} pods: ${(err as Error).message}`);
    } finally {
      await kube.close();
      await queue.close().catch(() => undefined);
      redis.disconnect();
      await deleteQueueKeys(redisUrl, queueName);
      await close();
    }
  }
  return out;
}

function int(n: number): string {
  return n.toLocaleString('en-US');
}
