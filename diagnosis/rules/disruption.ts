/** An eviction that is not about resources: preemption, the taint manager, or the eviction API. */
import { oneLine } from '../../core/format.js';
import type { Diagnosis, Evidence } from '../diagnosis.js';
import { result, type Ctx } from './context.js';

const DISRUPTION_TEXT: Record<string, string> = {
  PreemptionByScheduler: 'preempted by the scheduler to make room for a higher-priority pod',
  Preempted: 'preempted by the scheduler to make room for a higher-priority pod',
  DeletionByTaintManager: 'evicted by the taint manager because its node got a NoExecute taint (for example, it stopped being ready)',
  TaintManagerEviction: 'evicted by the taint manager because its node got a NoExecute taint (for example, it stopped being ready)',
  EvictionByEvictionAPI: 'evicted through the eviction API (a node drain, the cluster autoscaler or a descheduler)',
  TerminationByKubelet: 'stopped by the kubelet (a graceful node shutdown, or room made for a critical pod)',
  DeletionByPodGC: 'deleted by the pod garbage collector (its node is gone, or it was orphaned)',
};

export function diagnoseDisruption(ctx: Ctx): Diagnosis {
  const d = ctx.incident.disruption;
  const podName = ctx.incident.pod ? `${ctx.incident.pod.namespace}/${ctx.incident.pod.name}` : 'the pod';
  // The reason is cluster text: a name like "constructor" must not reach Object.prototype.
  const what = d && Object.hasOwn(DISRUPTION_TEXT, d.reason) ? DISRUPTION_TEXT[d.reason] : undefined;
  const evidence: Evidence[] = [{ text: `Reason: ${d?.reason ?? 'not recorded'}${d?.message ? ` (${oneLine(d.message, 200)})` : ''}`, source: 'pod status' }];
  const advice = [
    'Use a PodDisruptionBudget so drains keep enough replicas running.',
    'Give critical workloads a higher PriorityClass so they are not preempted.',
    'For taint evictions, check why the node became unready, and tolerationSeconds.',
  ];
  return result(
    ctx,
    what ? 'disruption' : 'unknown',
    what ? 'high' : 'low',
    what ? `${podName} was ${what}: not a resource problem of this pod.` : `${podName} was evicted for a reason oombot does not recognise.`,
    evidence,
    advice,
    { raisingIsWrongFix: "This eviction was not caused by the pod's memory: a limit change would not help." },
  );
}
