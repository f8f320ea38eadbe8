import { setTimeout as sleep } from 'node:timers/promises';
import type { RecordedCall } from '../sim/slack/types.js';
import { startAlertRig } from './alert-rig.js';
import { isIncidentCall, type KubeCallKind } from './classify-kube-call.js';
import type { ReadsFigures, ReadsPhase } from './figures.js';
import type { SimCalls, SimKilled } from './procs/sim-protocol.js';

const NAMESPACES = 10;

/**
 * Kubernetes reads per incident, by kind, for a first incident of a workload and for a repeat of its
 * posted alert: each of `workloads` Deployments is OOM-killed once (its first alert goes out), then
 * once more when every first alert is posted (a repeat). Counted from the simulated API server's
 * request log, phase by phase, the watcher's own lists and watches left out.
 */
export async function benchReads(opts: { workloads: number; backgroundPods: number; redisUrl: string }, log: (line: string) => void): Promise<ReadsFigures> {
  const namespaces = Array.from({ length: NAMESPACES }, (_, i) => `reads-${i}`);
  const rig = await startAlertRig({
    backgroundPods: opts.backgroundPods,
    namespaces,
    perNamespace: Math.ceil(opts.workloads / NAMESPACES),
    channels: namespaces.map((ns, i) => ({ id: `C0READS${String(i).padStart(4, '0')}`, name: ns, member: true })),
    routes: namespaces.map((ns) => `${ns}=#${ns}`).join(','),
    redisUrl: opts.redisUrl,
    name: 'reads',
  });
  try {
    const targets = rig.workloads.slice(0, opts.workloads);
    // The watcher's node sums are written once a second after its sync.
    await sleep(1_500);
    const isAlert = (c: RecordedCall) => c.method === 'chat.postMessage' && c.ok && !c.args.thread_ts;
    const phase = async (name: string, waitFor: () => boolean): Promise<ReadsPhase> => {
      await rig.sim.ask<SimCalls>({ cmd: 'calls' }, 'calls');
      const firstLog = rig.logs.apiCalls.length;
      const { killed } = await rig.sim.ask<SimKilled>({ cmd: 'kill', targets, perSecond: 20 }, 'killed', 600_000);
      const deadline = Date.now() + 300_000;
      while (!(waitFor() && rig.logs.apiCalls.length - firstLog >= killed.length) && Date.now() < deadline) await sleep(50);
      const { calls } = await rig.sim.ask<SimCalls>({ cmd: 'calls' }, 'calls');
      const processed = rig.logs.apiCalls.length - firstLog;
      const byKind: Record<string, number> = {};
      for (const [kind, n] of Object.entries(calls)) if (isIncidentCall(kind as KubeCallKind) && n > 0) byKind[kind] = n / Math.max(1, processed);
      const reads = Object.values(byKind).reduce((a, b) => a + b, 0);
      const out: ReadsPhase = { incidents: processed, readsPerIncident: reads, byKind, spread: rig.logs.spread(firstLog) };
      log(
        `  ${name}: ${processed} incidents, ${reads.toFixed(2)} reads per incident (${Object.entries(byKind)
          .map(([k, v]) => `${k} ${v.toFixed(2)}`)
          .join(', ')}); the worker counted min ${out.spread.min} / avg ${out.spread.avg.toFixed(2)} / max ${out.spread.max}`,
      );
      return out;
    };
    const first = await phase('first incident of a workload', () => rig.slack.calls.filter(isAlert).length >= targets.length);
    const repeat = await phase('repeat of a posted alert', () => true);
    return { workloads: targets.length, backgroundPods: opts.backgroundPods, first, repeat };
  } finally {
    await rig.close();
  }
}
