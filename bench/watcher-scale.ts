import { randomUUID } from 'node:crypto';
import { Child } from './child.js';

export interface WatcherFigures {
  pods: number;
  mode: 'oombot' | 'naive';
  syncMs: number;
  rssBytes: number;
  heapBytes: number;
  eventsPerSecond: number;
}

const CHURN = 20_000;

/**
 * Watcher memory after sync, time to sync, and pod events ingested per second, for oombot's watcher
 * and for a naive client-node informer caching full pod objects, against the same simulated cluster.
 */
export async function benchWatcherScale(sizes: number[], log: (line: string) => void): Promise<WatcherFigures[]> {
  const out: WatcherFigures[] = [];
  for (const size of sizes) {
    const sim = new Child('./procs/sim-server.js', [String(size)]);
    try {
      const ready = await sim.next<{ kubeconfig: string; pods: number }>('ready');
      log(`  simulated cluster: ${ready.pods} pods`);
      for (const mode of ['oombot', 'naive'] as const) {
        const probe = new Child('./procs/watcher-probe.js', [mode, ready.kubeconfig, `bench-${randomUUID().slice(0, 8)}`], { gc: true });
        try {
          const synced = await probe.next<{ syncMs: number; rssBytes: number; heapBytes: number }>('synced');
          probe.send({ cmd: 'expect', count: CHURN });
          sim.send({ cmd: 'churn', count: CHURN });
          await sim.next('churned');
          const done = await probe.next<{ ms: number }>('ingested');
          const fig: WatcherFigures = {
            pods: ready.pods,
            mode,
            syncMs: synced.syncMs,
            rssBytes: synced.rssBytes,
            heapBytes: synced.heapBytes,
            eventsPerSecond: CHURN / (done.ms / 1000),
          };
          out.push(fig);
          log(`  ${mode.padEnd(6)} sync ${(fig.syncMs / 1000).toFixed(2)} s, RSS ${(fig.rssBytes / 2 ** 20).toFixed(0)} MiB, heap ${(fig.heapBytes / 2 ** 20).toFixed(0)} MiB, ${fig.eventsPerSecond.toFixed(0)} events/s`);
        } finally {
          await probe.kill();
        }
      }
    } finally {
      await sim.kill();
    }
  }
  return out;
}
