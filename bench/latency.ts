import { startAlertRig } from './alert-rig.js';
import { alertLatencies, isAlert, percentile } from './alert-times.js';
import { isIncidentCall, type KubeCallKind } from './classify-kube-call.js';
import type { LatencyFigures } from './figures.js';
import type { SimCalls, SimKilled } from './procs/sim-protocol.js';

/**
 * End-to-end latency: pod status change on the simulated API server → alert arriving at the
 * Slack-compatible server, at a steady `rate` incidents/s for `seconds`, each a new workload (so each
 * posts), spread over `channels` namespaces (20 by default) routed to as many channels (Slack allows
 * about 1 message/s per channel),
 * in a cluster with `backgroundPods` other pods that the watcher lists and watches too.
 * Also counts the Kubernetes API calls the worker makes per incident, by kind.
 */
export async function benchLatency(
  opts: { backgroundPods: number; rate: number; seconds: number; channels?: number; redisUrl: string },
  log: (line: string) => void,
): Promise<LatencyFigures> {
  const { rate, seconds } = opts;
  const NAMESPACES = opts.channels ?? 20;
  const namespaces = Array.from({ length: NAMESPACES }, (_, i) => `team-${i}`);
  const total = rate * seconds;
  const rig = await startAlertRig({
    backgroundPods: opts.backgroundPods,
    namespaces,
    perNamespace: Math.ceil(total / NAMESPACES),
    channels: namespaces.map((ns, i) => ({ id: `C0TEAM${String(i).padStart(4, '0')}`, name: ns, member: true })),
    routes: namespaces.map((ns) => `${ns}=#${ns}`).join(','),
    redisUrl: opts.redisUrl,
    name: `latency-${NAMESPACES}`,
  });
  try {
    // A new workload each time, cycling through the namespaces: each namespace (channel) gets rate/20 per second.
    const byNamespace = namespaces.map((ns) => rig.workloads.filter((w) => w.namespace === ns));
    const targets = Array.from({ length: total }, (_, i) => byNamespace[i % NAMESPACES]![Math.floor(i / NAMESPACES)]!);
    await rig.sim.ask<SimCalls>({ cmd: 'calls' }, 'calls'); // start counting API calls and CPU from here
    const firstLog = rig.logs.apiCalls.length;
    const cpuBefore = process.cpuUsage();
    const { killed, maxLagMs } = await rig.sim.ask<SimKilled>({ cmd: 'kill', targets, perSecond: rate }, 'killed', (seconds + 120) * 1000);

    await rig.slack.waitFor(() => rig.slack.calls.filter(isAlert).length >= killed.length, 120_000).catch(() => undefined);
    const latencies = alertLatencies(rig.slack.calls, killed);

    const cpu = process.cpuUsage(cpuBefore);
    const { calls, cpuMs: apiServerCpuMs } = await rig.sim.ask<SimCalls>({ cmd: 'calls' }, 'calls');
    const processed = rig.logs.apiCalls.length - firstLog;
    const kubeCallsByKind: Record<string, number> = {};
    for (const [kind, n] of Object.entries(calls)) {
      if (isIncidentCall(kind as KubeCallKind)) kubeCallsByKind[kind] = n / Math.max(1, processed);
    }
    const fig: LatencyFigures = {
      backgroundPods: opts.backgroundPods,
      clusterPods: rig.cluster.pods + rig.workloads.length,
      rate,
      seconds,
      channels: NAMESPACES,
      incidents: killed.length,
      delivered: latencies.length,
      p50Ms: percentile(latencies, 50),
      p99Ms: percentile(latencies, 99),
      maxMs: latencies.at(-1) ?? NaN,
      kubeCalls: rig.logs.spread(firstLog),
      kubeCallsByKind,
      cpuMsPerIncident: { oombot: (cpu.user + cpu.system) / 1000 / killed.length, apiServer: apiServerCpuMs / killed.length },
      maxKillLagMs: maxLagMs,
    };
    log(
      `  ${fig.clusterPods} pods, ${NAMESPACES} channels: ${fig.incidents} incidents at ${rate}/s, delivered ${fig.delivered}, p50 ${fig.p50Ms.toFixed(0)} ms, p99 ${fig.p99Ms.toFixed(0)} ms, max ${fig.maxMs.toFixed(0)} ms; ` +
        `Kubernetes API calls per incident min ${fig.kubeCalls.min} / avg ${fig.kubeCalls.avg.toFixed(2)} / max ${fig.kubeCalls.max}; ` +
        `CPU per incident: oombot ${fig.cpuMsPerIncident.oombot.toFixed(1)} ms, API server ${fig.cpuMsPerIncident.apiServer.toFixed(1)} ms`,
    );
    return fig;
  } finally {
    await rig.close();
  }
}
