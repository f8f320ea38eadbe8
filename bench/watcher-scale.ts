import { randomUUID } from 'node:crypto';
import { Child } from './child.js';
import { deleteQueueKeys } from './delete-queue-keys.js';
import { startSimCluster } from './start-sim-cluster.js';
import type { WatcherFigures } from './figures.js';
import type { ProbeCommand, ProbeIngested, ProbeSynced } from './procs/probe-protocol.js';
import type { SimChurned } from './procs/sim-protocol.js';

/** Pod status updates written after the sync, to time how fast a watcher takes in events. */
const CHURN = 20_000;

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

/**
 * Watcher memory after sync, time to sync, and pod events ingested per second, for oombot's watcher
 * and for a naive client-node informer caching full pod objects, against the same simulated cluster.
 * The cluster and each watcher run in their own processes.
 */
export async function benchWatcherScale(sizes: number[], redisUrl: string, log: (line: string) => void): Promise<WatcherFigures[]> {
  const out: WatcherFigures[] = [];
  for (const size of sizes) {
    const { sim, ready, close } = await startSimCluster(size);
    try {
      log(`  simulated cluster: ${ready.pods} pods on ${ready.nodes} nodes`);
      for (const mode of ['oombot', 'naive'] as const) {
        const queue = `bench-watcher-${randomUUID().slice(0, 8)}`;
        const probe = new Child<ProbeCommand>('./procs/watcher-probe.js', [mode, ready.kubeconfig, queue], { gc: true });
        try {
          const synced = await probe.next<ProbeSynced>('synced');
          probe.send({ cmd: 'expect', count: CHURN });
          await sim.ask<SimChurned>({ cmd: 'churn', count: CHURN }, 'churned');
          const done = await probe.next<ProbeIngested>('ingested');
          const fig: WatcherFigures = {
            pods: ready.pods,
            mode,
            syncMs: synced.syncMs,
            rssBytes: synced.rssBytes,
            heapBytes: synced.heapBytes,
            eventsPerSecond: CHURN / (done.ms / 1000),
          };
          out.push(fig);
          log(
            `  ${mode.padEnd(6)} sync ${(fig.syncMs / 1000).toFixed(2)} s, RSS ${mib(fig.rssBytes)}, heap ${mib(fig.heapBytes)}, ${fig.eventsPerSecond.toFixed(0)} events/s`,
          );
        } catch (err) {
          throw new Error(`while measuring the ${mode} watcher at ${ready.pods} pods: ${(err as Error).message}`);
        } finally {
          await probe.kill();
          if (mode === 'oombot') await deleteQueueKeys(redisUrl, queue);
        }
      }
    } finally {
      await close();
    }
  }
  return out;
}
