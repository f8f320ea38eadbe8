/**
 * Exit 137 without OOMKilled: the process got SIGKILL, which is never an OOM kill. Who sent it, in
 * order: the kubelet after a failed probe, the kubelet after the grace period of a stop, or nobody recorded.
 */
import { oneLine } from '../../core/format.js';
import type { Diagnosis, Evidence } from '../diagnosis.js';
import { isPodPresent } from '../enriched.js';
import { result, type Ctx } from './context.js';
import { podGoneEvidence, systemOomEvents, systemOomEvidence, usageEvidence } from './evidence.js';

const PROBE_KILL = /failed (liveness|startup) probe/i;
const WRONG_FIX = 'Not an OOM kill: more memory does not fix this.';

export function diagnoseSigkill(ctx: Ctx): Diagnosis {
  const name = ctx.containerName ?? 'the container';
  const base: Evidence[] = [
    { text: `Container ${name} stopped with exit code 137 and reason ${ctx.incident.termination?.reason || 'empty'}, not OOMKilled`, source: 'pod status' },
    ...podGoneEvidence(ctx),
  ];
  return killedForProbe(ctx, name, base) ?? killedAfterGracePeriod(ctx, name, base) ?? killedByUnknown(ctx, name, base);
}

function killedForProbe(ctx: Ctx, name: string, base: Evidence[]): Diagnosis | undefined {
  const probeKill = ctx.incident.probeKill;
  const killingEvent = [...ctx.e.events].reverse().find((ev) => ev.reason === 'Killing' && PROBE_KILL.test(ev.message));
  const unhealthy = ctx.e.events.filter((ev) => ev.reason === 'Unhealthy' && /liveness|startup/i.test(ev.message));
  if (!probeKill && !killingEvent && unhealthy.length === 0) return undefined;
  const probe =
    probeKill?.probe ??
    (PROBE_KILL.exec(probeKill?.message ?? killingEvent?.message ?? '')?.[1]?.toLowerCase() as 'liveness' | 'startup' | undefined) ??
    'liveness';
  const evidence = [...base];
  if (probeKill) evidence.push({ text: `Kubelet: ${oneLine(probeKill.message, 200)}`, source: 'events' });
  else if (killingEvent) evidence.push({ text: `Kubelet: ${oneLine(killingEvent.message, 200)}`, source: 'events' });
  for (const ev of unhealthy.slice(-2)) {
    evidence.push({ text: `Unhealthy${ev.count > 1 ? ` ×${ev.count}` : ''}: ${oneLine(ev.message, 200)}`, source: 'events' });
  }
  if (probe === 'liveness') evidence.push(...livenessTiming(ctx));
  return result(
    ctx,
    'probe-kill',
    probeKill || killingEvent ? 'high' : 'medium',
    `${name} failed its ${probe} probe and the kubelet killed it (SIGKILL, exit code 137): not an OOM kill.`,
    evidence,
    [
      'Look at why the probe failed (the Unhealthy events): a slow endpoint under load, long GC pauses, or a dependency the probe checks.',
      probe === 'startup'
        ? 'Give the start-up more time: a higher failureThreshold or periodSeconds on the startupProbe.'
        : 'Give the probe more slack (timeoutSeconds, failureThreshold), or add a startupProbe if it fails while starting.',
      'A liveness probe should check only the process itself, never its dependencies.',
    ],
    { raisingIsWrongFix: `${WRONG_FIX} The container was restarted because its ${probe} probe failed.` },
  );
}

/** How the liveness probe is timed, when the spec is known. */
function livenessTiming(ctx: Ctx): Evidence[] {
  const lp = ctx.container?.liveness;
  if (!lp) return [];
  const parts = [
    lp.periodSeconds !== undefined ? `every ${lp.periodSeconds}s` : undefined,
    lp.timeoutSeconds !== undefined ? `timeout ${lp.timeoutSeconds}s` : undefined,
    lp.failureThreshold !== undefined ? `${lp.failureThreshold} failures allowed` : undefined,
  ].filter(Boolean);
  return parts.length > 0 ? [{ text: `Liveness probe: ${parts.join(', ')}`, source: 'pod spec' }] : [];
}

function killedAfterGracePeriod(ctx: Ctx, name: string, base: Evidence[]): Diagnosis | undefined {
  const stopping = [...ctx.e.events].reverse().find((ev) => ev.reason === 'Killing' && /stopping container/i.test(ev.message));
  if (!stopping) return undefined;
  const pod = isPodPresent(ctx.e.pod) ? ctx.e.pod : undefined;
  const grace = pod?.terminationGracePeriodSeconds;
  const evidence = [...base, { text: `Kubelet: ${oneLine(stopping.message, 200)}`, source: 'events' as const }];
  if (grace !== undefined) evidence.push({ text: `terminationGracePeriodSeconds is ${grace}`, source: 'pod spec' });
  return result(
    ctx,
    'grace-period',
    'medium',
    `${name} was asked to stop (SIGTERM) and did not exit within its ${grace === undefined ? '' : `${grace}s `}grace period, so it was killed with SIGKILL: not an OOM kill.`,
    evidence,
    [
      'Make the process exit on SIGTERM: handle the signal, and use the exec form of the command so PID 1 receives it (not a shell).',
      'If it needs longer to drain, raise terminationGracePeriodSeconds or add a preStop hook.',
    ],
    { raisingIsWrongFix: `${WRONG_FIX} The container outlived its termination grace period.` },
  );
}

function killedByUnknown(ctx: Ctx, name: string, base: Evidence[]): Diagnosis {
  const evidence = [...base, ...usageEvidence(ctx)];
  const sysOom = systemOomEvents(ctx);
  evidence.push(...systemOomEvidence(ctx, sysOom));
  const advice = [
    'Check the events around the kill: a liveness probe, a stop that outlived the grace period, or something outside Kubernetes (a node daemon, the container runtime) sending SIGKILL.',
  ];
  if (sysOom.length > 0) {
    advice.push(
      'The node had a SystemOOM at the time: older container runtimes reported real OOM kills as "Error" with exit 137, so check the node\'s kernel log.',
    );
  }
  return result(
    ctx,
    'unknown',
    'low',
    `${name} was killed by SIGKILL (exit code 137) without the OOMKilled reason: this is not an OOM kill. Nothing recorded says who sent it.`,
    evidence,
    advice,
    { raisingIsWrongFix: `${WRONG_FIX} Exit code 137 without OOMKilled only says the process got SIGKILL.` },
  );
}
