/**
 * A followed fix's workload as its controller reports it: how many pods run the new template, whether
 * the rollout is done, stuck (deadline), or waits for something else (OnDelete, the next CronJob run, a
 * bare ReplicaSet); and the container's live value. Pure: a workload object in, a reading out.
 */
import { parseMemoryBytes } from '../core/quantity.js';

// biome-ignore lint/suspicious/noExplicitAny: Kubernetes objects as JSON
type Obj = any;

export type Rollout =
  | { phase: 'rolling'; updated: number; total: number; deadline?: string }
  | { phase: 'done'; total: number }
  | { phase: 'on-delete'; updated: number; total: number }
  | { phase: 'cronjob'; schedule?: string }
  | { phase: 'replicaset' };

export interface WorkloadReading {
  rollout: Rollout;
  /** The container's live memory limit or request in the template ("none" when unset). */
  live: string;
  liveBytes: number | undefined;
  /** matchLabels of the workload's selector, to find its pods. */
  selector?: Record<string, string>;
}

function templateSpec(kind: string, obj: Obj): Obj {
  return kind === 'CronJob' ? obj?.spec?.jobTemplate?.spec?.template?.spec : obj?.spec?.template?.spec;
}

export function readWorkload(kind: string, obj: Obj, container: string, target: 'limit' | 'request'): WorkloadReading {
  const spec = templateSpec(kind, obj);
  const c = (spec?.containers ?? []).find((x: Obj) => x?.name === container);
  const raw = target === 'limit' ? c?.resources?.limits?.memory : c?.resources?.requests?.memory;
  const live = typeof raw === 'string' ? raw : 'none';
  const selector = obj?.spec?.selector?.matchLabels;
  const s = obj?.status ?? {};
  const observed = (s.observedGeneration ?? 0) >= (obj?.metadata?.generation ?? 0);
  let rollout: Rollout;
  switch (kind) {
    case 'Deployment': {
      const total = obj?.spec?.replicas ?? 1;
      const updated = observed ? (s.updatedReplicas ?? 0) : 0;
      const progressing = (s.conditions ?? []).find((x: Obj) => x?.type === 'Progressing');
      if (observed && updated >= total && (s.replicas ?? 0) === total && (s.availableReplicas ?? 0) >= total) rollout = { phase: 'done', total };
      else
        rollout = {
          phase: 'rolling',
          updated,
          total,
          ...(progressing?.reason === 'ProgressDeadlineExceeded' ? { deadline: String(progressing.message ?? 'the rollout has timed out progressing') } : {}),
        };
      break;
    }
    case 'StatefulSet': {
      const total = obj?.spec?.replicas ?? 1;
      const updated = observed ? (s.updatedReplicas ?? 0) : 0;
      const done = observed && s.updateRevision && s.currentRevision === s.updateRevision && updated >= total && (s.readyReplicas ?? 0) >= total;
      if (done) rollout = { phase: 'done', total };
      else rollout = obj?.spec?.updateStrategy?.type === 'OnDelete' ? { phase: 'on-delete', updated, total } : { phase: 'rolling', updated, total };
      break;
    }
    case 'DaemonSet': {
      const total = s.desiredNumberScheduled ?? 0;
      const updated = observed ? (s.updatedNumberScheduled ?? 0) : 0;
      if (observed && updated >= total && (s.numberAvailable ?? 0) >= total) rollout = { phase: 'done', total };
      else rollout = obj?.spec?.updateStrategy?.type === 'OnDelete' ? { phase: 'on-delete', updated, total } : { phase: 'rolling', updated, total };
      break;
    }
    case 'CronJob':
      rollout = { phase: 'cronjob', ...(typeof obj?.spec?.schedule === 'string' ? { schedule: obj.spec.schedule } : {}) };
      break;
    default:
      rollout = { phase: 'replicaset' };
  }
  return { rollout, live, liveBytes: live === 'none' ? undefined : parseMemoryBytes(live), ...(selector ? { selector } : {}) };
}

/** Who last set the container's memory: the managedFields entry owning it, else the newest update. */
export function lastMemoryWriter(obj: Obj, container: string, target: 'limit' | 'request'): { manager?: string; time?: string } {
  const entries: Obj[] = Array.isArray(obj?.metadata?.managedFields) ? obj.metadata.managedFields : [];
  const key = `k:${JSON.stringify({ name: container })}`;
  const field = target === 'limit' ? 'f:limits' : 'f:requests';
  const owns = (e: Obj): boolean => {
    const tpl = e?.fieldsV1?.['f:spec']?.['f:jobTemplate']?.['f:spec']?.['f:template'] ?? e?.fieldsV1?.['f:spec']?.['f:template'];
    return Boolean(tpl?.['f:spec']?.['f:containers']?.[key]?.['f:resources']?.[field]?.['f:memory']);
  };
  const byTime = [...entries].sort((a, b) => String(b?.time ?? '').localeCompare(String(a?.time ?? '')));
  const e = byTime.find(owns) ?? byTime[0];
  return e ? { ...(typeof e.manager === 'string' ? { manager: e.manager } : {}), ...(typeof e.time === 'string' ? { time: e.time } : {}) } : {};
}

/** Why new pods do not come up: a Pending pod the scheduler cannot place, or a crash-looping one. */
export function podTrouble(
  pods: Obj[],
  container: string,
): { kind: 'unschedulable'; pod: string; message: string; request?: string } | { kind: 'crash-loop'; pod: string; message: string } | undefined {
  for (const p of pods) {
    const cond = (p?.status?.conditions ?? []).find((c: Obj) => c?.type === 'PodScheduled');
    if (p?.status?.phase === 'Pending' && cond?.status === 'False' && cond?.reason === 'Unschedulable') {
      const c = (p?.spec?.containers ?? []).find((x: Obj) => x?.name === container);
      const request = c?.resources?.requests?.memory;
      return {
        kind: 'unschedulable',
        pod: String(p.metadata?.name ?? ''),
        message: String(cond.message ?? ''),
        ...(typeof request === 'string' ? { request } : {}),
      };
    }
  }
  for (const p of pods) {
    const st = (p?.status?.containerStatuses ?? []).find((c: Obj) => c?.state?.waiting?.reason === 'CrashLoopBackOff');
    if (st)
      return {
        kind: 'crash-loop',
        pod: String(p.metadata?.name ?? ''),
        message: `\`CrashLoopBackOff\`: ${String(st.state.waiting.message ?? '').slice(0, 300)}`,
      };
  }
  return undefined;
}
