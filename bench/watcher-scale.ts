import { randomUUID } from 'node:crypto';
import { Child } from './child.js';
import { deleteQueueKeys } from './delete-queue-keys.js';
import { startSimCluster } from './start-sim-cluster.js';
import type { WatcherFigures } from './figures.js';
import type { ProbeCommand, ProbeIngested, ProbeSynced } from './procs/probe-protocol.js';
import type { SimChurned } from './procs/sim-protocol.js';

/**
 * Node flags the watcher runs with in the image (deploy/helm/oombot/templates/watcher-deployment.yaml):
 * V8 keeps its heap small instead of growing it fourfold while the pod list pages stream through.
 */
const WATCHER_NODE_FLAGS = ['--optimize-for-size'];

/** Pod status updates written after the sync, to time how fast a watcher takes in events. */
const CHURN = 20_000;

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

/**
 * Watcher memory after sync, time to sync, and pod events ingested per second, for oombot's watcher
 * and for a naive client-node informer caching full pod objects, against the same simulated cluster;
 * and the floor of a sync: the same paged list only downloaded and parsed.
 * The cluster and each watcher run in their own processes.
 */
export async function benchWatcherScale(sizes: number[], redisUrl: string, log: (line: string) => void): Promise<WatcherFigures[]> {
  const out: WatcherFigures[] = [];
  for (const size of sizes) {
    const { sim, ready, close } = await startSimCluster(size);
    try {
      log(`  simulated cluster: ${ready.pods} pods on ${ready.nodes} nodes`);
      for (const mode of ['download', 'oombot', 'naive'] as const) {
        const queue = `bench-watcher-${randomUUID().slice(0, 8)}`;
        const probe = new Child<ProbeCommand>('./procs/watcher-probe.js', [mode, ready.kubeconfig, queue], {
          gc: true,
          // The download runs as the watcher does, so that the two times compare.
          nodeFlags: mode === 'naive' ? [] : WATCHER_NODE_FLAGS,
        });
        try {
          const synced = await probe.next<ProbeSynced>('synced');
          let eventsPerSecond = Number.NaN;
          if (mode !== 'download') {
            probe.send({ cmd: 'expect', count: CHURN });
            await sim.ask<SimChurned>({ cmd: 'churn', count: CHURN }, 'churned');
            const done = await probe.next<ProbeIngested>('ingested');
            eventsPerSecond = CHURN / (done.ms / 1000);
          }
          const fig: WatcherFigures = {
            pods: ready.pods,
            mode,
            syncMs: synced.syncMs,
            rssBytes: synced.rssBytes,
            heapBytes: synced.heapBytes,
            heapTotalBytes: synced.heapTotalBytes,
            externalBytes: synced.externalBytes,
            eventsPerSecond,
          };
          out.push(fig);
          log(
            `  ${mode.padEnd(8)} sync ${(fig.syncMs / 1000).toFixed(2)} s, RSS ${mib(fig.rssBytes)}, heap ${mib(fig.heapBytes)} used of ${mib(synced.heapTotalBytes)}, external ${mib(synced.externalBytes)}` +
              (mode === 'download' ? '' : `, ${eventsPerSecond.toFixed(0)} events/s`),
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
