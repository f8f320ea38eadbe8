/** Job (pods up to parallelism until completions or the backoff limit) and CronJob (run on demand). */
import type { Json, KubeObject } from '../types.js';
import type { SimCluster } from '../cluster.js';
import { resourceDef } from '../resources.js';
import { guard, isActive, isReady, ownerRef } from './common.js';
import { buildPod } from './pods.js';

export function syncJob(cluster: SimCluster, job: KubeObject): void {
  const ns = job.metadata.namespace!;
  guard(cluster, job.metadata.uid!, () => {
    const pods = cluster.podsOwnedBy(job.metadata.uid!);
    const failed = pods.filter((p) => p.status?.phase === 'Failed').length;
    const succeeded = pods.filter((p) => p.status?.phase === 'Succeeded').length;
    let active = pods.filter(isActive);
    const completions = job.spec.completions ?? 1;
    const done = (job.status?.conditions ?? []).some((c: Json) => (c.type === 'Complete' || c.type === 'Failed') && c.status === 'True');
    const overLimit = failed > (job.spec.backoffLimit ?? 6);
    if (!done && !overLimit && succeeded < completions) {
      const want = Math.min(job.spec.parallelism ?? 1, completions - succeeded);
      const owner = ownerRef(resourceDef('jobs'), job);
      const generateName = `${job.metadata.name}-`;
      for (let i = active.length; i < want; i++) {
        cluster.create('pods', buildPod(cluster, ns, `${generateName}${cluster.rand.suffix()}`, job.spec.template, owner, { generateName }));
      }
      active = cluster.podsOwnedBy(job.metadata.uid!).filter(isActive);
    }
    const at = cluster.nowIso();
    cluster.updateIfChanged('jobs', ns, job.metadata.name, (x) => {
      const s: Json = { ...(x.status ?? {}) };
      s.startTime ??= at;
      s.active = active.length || undefined;
      s.ready = active.filter(isReady).length;
      s.failed = failed || undefined;
      s.succeeded = succeeded || undefined;
      s.terminating = 0;
      s.uncountedTerminatedPods = {};
      const conds: Json[] = s.conditions ?? [];
      if (overLimit && !conds.some((c) => c.type === 'Failed')) {
        s.conditions = [
          ...conds,
          {
            type: 'FailureTarget',
            status: 'True',
            lastProbeTime: at,
            lastTransitionTime: at,
            reason: 'BackoffLimitExceeded',
            message: 'Job has reached the specified backoff limit',
          },
          {
            type: 'Failed',
            status: 'True',
            lastProbeTime: at,
            lastTransitionTime: at,
            reason: 'BackoffLimitExceeded',
            message: 'Job has reached the specified backoff limit',
          },
        ];
      } else if (succeeded >= completions && !conds.some((c) => c.type === 'Complete')) {
        s.conditions = [
          ...conds,
          {
            type: 'SuccessCriteriaMet',
            status: 'True',
            lastProbeTime: at,
            lastTransitionTime: at,
            reason: 'CompletionsReached',
            message: 'Reached expected number of succeeded pods',
          },
          {
            type: 'Complete',
            status: 'True',
            lastProbeTime: at,
            lastTransitionTime: at,
            reason: 'CompletionsReached',
            message: 'Reached expected number of succeeded pods',
          },
        ];
        s.completionTime = at;
      }
      for (const k of Object.keys(s)) if (s[k] === undefined) delete s[k];
      x.status = s;
    });
  });
}

export function triggerCronJob(cluster: SimCluster, namespace: string, name: string): KubeObject {
  const cj = cluster.peek('cronjobs', namespace, name);
  if (!cj) throw new Error(`cronjob ${namespace}/${name} not found`);
  const now = cluster.now();
  const minute = Math.floor(now.getTime() / 60_000);
  const scheduled = new Date(minute * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  let jobName = `${name}-${minute}`;
  for (let i = 1; cluster.peek('jobs', namespace, jobName); i++) jobName = `${name}-${minute + i}`;
  const tmpl = cj.spec.jobTemplate ?? {};
  const job = cluster.create('jobs', {
    metadata: {
      name: jobName,
      namespace,
      labels: { ...(tmpl.metadata?.labels ?? {}) },
      annotations: { ...(tmpl.metadata?.annotations ?? {}), 'batch.kubernetes.io/cronjob-scheduled-timestamp': scheduled },
      ownerReferences: [ownerRef(resourceDef('cronjobs'), cj)],
    },
    spec: structuredClone(tmpl.spec ?? {}),
  });
  cluster.update('cronjobs', namespace, name, (x) => {
    x.status = {
      ...(x.status ?? {}),
      active: [
        ...(x.status?.active ?? []),
        { kind: 'Job', namespace, name: jobName, uid: job.metadata.uid, apiVersion: 'batch/v1', resourceVersion: job.metadata.resourceVersion },
      ],
      lastScheduleTime: scheduled,
    };
  });
  return cluster.peek('jobs', namespace, jobName)!;
}
