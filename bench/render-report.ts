/** The benchmark report as Markdown, from the figures alone. */
import { KUBE_CALL_KINDS, type KubeCallKind } from './classify-kube-call.js';
import type { Machine } from './describe-machine.js';
import type { BenchResults, LatencyFigures, SamplerFigures, Spread, StormFigures, WatcherFigures } from './figures.js';
import { formatPods } from './plot.js';

export interface ReportInput {
  results: BenchResults;
  machine: Machine;
  command: string;
  startedAt: Date;
  /** Wall time of the whole run and of each benchmark, in seconds. */
  seconds: { total: number; watcher?: number; latency?: number; storm?: number; sampler?: number };
  /** 1-minute load average of the machine before and after the run: others' work shows here. */
  loadAverage: { before: number; after: number };
  latencyTargetMs: number;
  /** File name of the plot beside the report, when one was drawn. */
  plot?: string;
  /** Checks that failed (lost or undelivered alerts): the run exits non-zero. */
  failures: string[];
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
const secs = (millis: number) => `${(millis / 1000).toFixed(2)} s`;
const ms = (v: number) => (Number.isFinite(v) ? `${v.toFixed(0)} ms` : '–');
const times = (v: number) => `${v.toFixed(2)}×`;
const int = (n: number) => n.toLocaleString('en-US');

function duration(seconds: number): string {
  const m = Math.floor(seconds / 60);
  const s = Math.round(seconds % 60);
  return m > 0 ? `${m} min ${s} s` : `${s} s`;
}

/** Calls per incident: shared reads made once a minute come out well under 0.01. */
function perIncident(n: number): string {
  if (n === 0) return '0';
  return n < 0.01 ? '< 0.01' : n.toFixed(2);
}

function spread(s: Spread): string {
  return Number.isFinite(s.avg) ? `${s.min} / ${s.avg.toFixed(2)} / ${s.max}` : '–';
}

function machineSection({ machine, command, startedAt, seconds, loadAverage }: ReportInput): string[] {
  return [
    `Run on ${startedAt
      .toISOString()
      .replace('T', ' ')
      .replace(/\.\d+Z$/, ' UTC')} with \`${command}\`; the whole run took ${duration(seconds.total)}.`,
    '',
    '| machine | |',
    '| --- | --- |',
    `| CPU | ${machine.cpu}, ${machine.cores} cores |`,
    `| memory | ${machine.memoryGiB.toFixed(0)} GiB |`,
    `| Node | ${machine.node} |`,
    `| OS | ${machine.os} |`,
    ...(machine.openFilesLimit ? [`| open files limit | ${int(machine.openFilesLimit)} |`] : []),
    `| load average (1 min) | ${loadAverage.before.toFixed(2)} before the run, ${loadAverage.after.toFixed(2)} after |`,
    '',
    'Everything runs on this one machine: the simulated API server in its own process, oombot (or the watcher measured) in another, Redis beside them. Figures move by some percent from run to run, more when the machine is shared; ratios taken in the same run are steadier than the absolute figures.',
  ];
}

function summarySection(input: ReportInput): string[] {
  const { results, latencyTargetMs } = input;
  const rows: string[] = [];
  const largest = (results.watcher ?? []).reduce((m, f) => Math.max(m, f.pods), 0);
  const o = results.watcher?.find((f) => f.mode === 'oombot' && f.pods === largest);
  const n = results.watcher?.find((f) => f.mode === 'naive' && f.pods === largest);
  if (o && n) {
    rows.push(
      `| watcher RSS after sync, ${formatPods(largest)} pods | oombot ${mib(o.rssBytes)}, naive informer ${mib(n.rssBytes)} (${times(n.rssBytes / o.rssBytes)}) | |`,
    );
    rows.push(
      `| watcher time to sync, ${formatPods(largest)} pods | oombot ${secs(o.syncMs)}, naive informer ${secs(n.syncMs)} (${times(n.syncMs / o.syncMs)}) | |`,
    );
  }
  for (const f of results.latency ?? []) {
    const met = f.p99Ms < latencyTargetMs && f.delivered === f.incidents;
    rows.push(
      `| alert latency p50 / p99, ${f.rate} incidents/s, ${formatPods(f.clusterPods)} pods | ${ms(f.p50Ms)} / ${ms(f.p99Ms)} | p99 < ${latencyTargetMs / 1000} s ${met ? '✓' : '✗'} |`,
    );
  }
  const calls = results.latency?.[0]?.kubeCalls;
  if (calls) rows.push(`| Kubernetes API calls per incident (min / avg / max) | ${spread(calls)} | |`);
  const s = results.storm;
  if (s) {
    rows.push(`| storm: alerts lost | ${s.lost} | 0 ${s.lost === 0 && s.wrongCounts.length === 0 ? '✓' : '✗'} |`);
    rows.push(`| storm: time to drain / floor | ${s.drainSeconds.toFixed(0)} s / ${s.floorSeconds} s = ${(s.drainSeconds / s.floorSeconds).toFixed(2)} | |`);
  }
  return ['## Summary', '', '| figure | result | target |', '| --- | --- | --- |', ...rows];
}

function watcherSection(watcher: WatcherFigures[], seconds?: number): string[] {
  const sizes = [...new Set(watcher.map((f) => f.pods))];
  const ratios = sizes.flatMap((pods) => {
    const o = watcher.find((f) => f.mode === 'oombot' && f.pods === pods);
    const n = watcher.find((f) => f.mode === 'naive' && f.pods === pods);
    if (!o || !n) return [];
    return [
      `| ${int(pods)} | ${times(n.rssBytes / o.rssBytes)} | ${times(n.heapBytes / o.heapBytes)} | ${times(n.syncMs / o.syncMs)} | ${times(o.eventsPerSecond / n.eventsPerSecond)} |`,
    ];
  });
  return [
    '## Watcher: memory and sync against cluster size',
    '',
    "oombot's watcher keeps no pod objects, only uids and the ids of incidents it queued. The naive watcher is @kubernetes/client-node's informer, which caches every pod. Each lists and watches the same simulated cluster (pods in Deployments of 50, 100 pods a node) from its own process. RSS and heap are read in the watcher's process after a forced garbage collection, once it has synced. Events/s: 20,000 pod status updates written as fast as the API server takes them, timed from the first write until the watcher has handled all of them.",
    ...(seconds ? ['', `This benchmark took ${duration(seconds)}.`] : []),
    '',
    '| pods | watcher | time to sync | RSS after sync | heap after sync | events/s |',
    '| ---: | --- | ---: | ---: | ---: | ---: |',
    ...watcher.map(
      (f) =>
        `| ${int(f.pods)} | ${f.mode === 'oombot' ? 'oombot' : 'naive informer'} | ${secs(f.syncMs)} | ${mib(f.rssBytes)} | ${mib(f.heapBytes)} | ${int(Math.round(f.eventsPerSecond))} |`,
    ),
    '',
    "Ratios in the same run, the naive informer's cost over oombot's (above 1: oombot does better; events/s is oombot's rate over the informer's):",
    '',
    '| pods | RSS | heap | time to sync | events/s |',
    '| ---: | ---: | ---: | ---: | ---: |',
    ...ratios,
  ];
}

/** Says so when the simulated API server, not oombot, took most of the cores at some cluster size. */
function apiServerBound(latency: LatencyFigures[]): string[] {
  const bound = latency.filter((f) => (f.cpuMsPerIncident.apiServer * f.rate) / 1000 >= 0.5 && f.cpuMsPerIncident.apiServer > f.cpuMsPerIncident.oombot);
  if (bound.length === 0) return [];
  return [
    '',
    `At ${bound.map((f) => `${int(f.clusterPods)} pods`).join(' and ')}, the simulated API server needed ${bound.map((f) => `${((f.cpuMsPerIncident.apiServer * f.rate) / 1000).toFixed(2)}`).join(' and ')} of a core for the incidents' reads, more than oombot: it answers the read of the pods on a node (a field selector on \`spec.nodeName\`) by scanning every pod of the cluster. Latency there says more about the simulated API server sharing the cores than about oombot.`,
  ];
}

function latencySection(latency: LatencyFigures[], targetMs: number, seconds?: number): string[] {
  const first = latency[0]!;
  return [
    '## End-to-end latency',
    '',
    `From the pod status change on the simulated API server (an OOM kill: \`OOMKilled\`, exit 137, the container restarted) to the alert arriving at the Slack-compatible server. ${first.rate} incidents/s for ${first.seconds} s, each a new Deployment (so each posts a new message), over 20 namespaces routed to 20 channels: Slack allows about one message per second per channel, so ${first.rate}/s is what 20 channels carry. The background pods are listed and watched as well; all of oombot (watcher, worker) runs in one process, the cluster in another. Target: p99 under ${targetMs / 1000} s.`,
    ...(seconds ? ['', `This benchmark took ${duration(seconds)}.`] : []),
    '',
    '| pods in the cluster | incidents | delivered | p50 | p99 | max | p99 target | CPU per incident: oombot | CPU per incident: API server |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | :---: | ---: | ---: |',
    ...latency.map(
      (f) =>
        `| ${int(f.clusterPods)} | ${f.incidents} | ${f.delivered} | ${ms(f.p50Ms)} | ${ms(f.p99Ms)} | ${ms(f.maxMs)} | ${f.p99Ms < targetMs && f.delivered === f.incidents ? '✓' : '✗'} | ${f.cpuMsPerIncident.oombot.toFixed(1)} ms | ${f.cpuMsPerIncident.apiServer.toFixed(1)} ms |`,
    ),
    '',
    `CPU per incident is the CPU time each process used during the run divided by the incidents: oombot's process (which also hosts the Slack-compatible server), and the simulated API server's. Unlike latency, it hardly depends on what else the machine is doing. At ${first.rate} incidents/s, 50 ms per incident is a whole core.`,
    ...apiServerBound(latency),
    ...(latency.some((f) => f.maxKillLagMs > 50)
      ? [
          '',
          `The kill schedule itself fell behind by up to ${ms(Math.max(...latency.map((f) => f.maxKillLagMs)))} (the simulated cluster was busy); latencies are measured from each kill's actual time.`,
        ]
      : []),
  ];
}

function kubeCallsSection(latency: LatencyFigures[], storm?: StormFigures): string[] {
  const kinds = (Object.keys(KUBE_CALL_KINDS) as KubeCallKind[]).filter((k) => latency.some((f) => (f.kubeCallsByKind[k] ?? 0) > 0));
  const byKind =
    latency.length === 0
      ? []
      : [
          '',
          'What the calls are (average per incident, from the request log):',
          '',
          `| call | what for |${latency.map((f) => ` ${formatPods(f.clusterPods)} pods |`).join('')}`,
          `| --- | --- |${latency.map(() => ' ---: |').join('')}`,
          ...kinds.map((k) => `| ${k} | ${KUBE_CALL_KINDS[k]} |${latency.map((f) => ` ${perIncident(f.kubeCallsByKind[k] ?? 0)} |`).join('')}`),
          `| **all** | |${latency
            .map(
              (f) =>
                ` **${Object.values(f.kubeCallsByKind)
                  .reduce((a, b) => a + b, 0)
                  .toFixed(2)}** |`,
            )
            .join('')}`,
        ];
  return [
    '## Kubernetes API calls per incident',
    '',
    "Counted twice: by the worker, which logs the calls it made for each incident it processed (min / avg / max below), and by the simulated API server's request log, by kind (the watcher's own lists and watches left out). The pod, its Events, its owners, the pods on its node, its usage and its previous logs are read for every incident, repeats included; nodes, LimitRanges and whether metrics.k8s.io exists are read once a minute and shared, so the incident that finds them expired makes up to three calls more than the others.",
    '',
    '| run | incidents | calls per incident: min / avg / max |',
    '| --- | ---: | ---: |',
    ...latency.map((f) => `| latency, ${int(f.clusterPods)} pods | ${f.incidents} | ${spread(f.kubeCalls)} |`),
    ...(storm
      ? [
          `| storm, ${int(storm.kills)} kills of ${storm.deployments} Deployments | ${int(storm.kills)} | ${spread(storm.kubeCalls)} (${int(storm.kubeCallsTotal)} in all) |`,
        ]
      : []),
    ...byKind,
  ];
}

function stormSection(s: StormFigures, seconds?: number): string[] {
  const limited =
    Object.entries(s.rateLimitedByMethod)
      .map(([m, n]) => `${n} on ${m}`)
      .join(', ') || 'none';
  const problems = Object.entries(s.problems).sort((a, b) => b[1] - a[1]);
  return [
    '## Storm',
    '',
    `${int(s.kills)} OOM kills across ${s.deployments} Deployments (${s.kills / s.deployments} each, round after round) within ${s.windowSeconds} s, all alerting into one channel, in a cluster of ${int(s.backgroundPods)} other pods. The Slack-compatible server enforces about 1 message per second per channel (burst 3) for chat.postMessage and 50 per minute for chat.update, answering 429 with Retry-After beyond that. The floor is one message per Deployment at Slack's rate: ${s.floorSeconds} s. Time to drain runs from the first kill to the last Slack call that changed a message.`,
    '',
    'Alerts lost are read from what the Slack-compatible server holds, not from oombot\'s own state: for each Deployment, the count its message shows ("Seen N times", or 1) is compared with the kills of that Deployment.',
    ...(seconds ? ['', `This benchmark took ${duration(seconds)}.`] : []),
    '',
    '| kills | Deployments | Slack calls | posts | thread replies | updates | 429s | time to drain | floor | drain / floor | alerts lost |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    `| ${int(s.kills)} | ${s.deployments} | ${int(s.slackCalls)} | ${s.posts} | ${s.threadReplies} | ${s.updates} | ${s.rateLimited} | ${s.drainSeconds.toFixed(0)} s | ${s.floorSeconds} s | ${(s.drainSeconds / s.floorSeconds).toFixed(2)} | ${s.lost} |`,
    '',
    `- Messages in the channel: ${s.posts} top-level for ${s.deployments} Deployments${s.duplicated.length ? `; more than one for ${s.duplicated.join(', ')}` : ', one each'}.`,
    `- Counts shown: ${s.wrongCounts.length === 0 ? `every Deployment's message shows its ${s.kills / s.deployments} kills` : `wrong for ${s.wrongCounts.length} Deployments (${s.wrongCounts.slice(0, 10).join('; ')}${s.wrongCounts.length > 10 ? '; …' : ''})`}.`,
    ...(s.posts + s.threadReplies > s.floorSeconds
      ? [
          `- Why the drain is above the floor: thread replies share the channel's budget with the alerts, so ${s.posts} posts and ${s.threadReplies} thread replies need at least ${s.posts + s.threadReplies} s at 1 message/s; ${s.updates} updates at Slack's 50 per minute need at least ${Math.ceil((s.updates * 60) / 50)} s, side by side with them.`,
        ]
      : []),
    `- Thread replies: ${s.threadReplies}; with the repeats the first messages list themselves, they account for ${int(s.threadRepeats)} repeats (${int(s.kills - s.deployments)} expected: every kill after a Deployment's first).`,
    `- 429 answers: ${limited}.`,
    `- Kubernetes API calls: ${int(s.kubeCallsTotal)} for ${int(s.kills)} incidents (${spread(s.kubeCalls)} min / avg / max per incident).`,
    ...(s.peakOpenFiles !== undefined
      ? [
          `- Open file descriptors of the oombot process: at most ${int(s.peakOpenFiles)}${s.peakApiConnections !== undefined ? `, of which up to ${int(s.peakApiConnections)} connections to the API server at once` : ''}.`,
        ]
      : []),
    `- Warnings and errors logged by oombot:${problems.length === 0 ? ' none' : ''}`,
    ...problems.slice(0, 10).map(([msg, n]) => `  - ${n} × ${msg.replace(/\|/g, '\\|')}`),
  ];
}

function samplerSection(sampler: SamplerFigures[], seconds?: number): string[] {
  const ms = (n: number) => `${n.toFixed(0)} ms`;
  return [
    '## Sampler: API calls, CPU and Redis memory per round',
    '',
    "The memory sampler (one replica) against a simulated cluster whose pods each have one container with a 512Mi limit. The first round lists the Running pods (for their limits, paged by 500) besides the metrics; later rounds read only `metrics.k8s.io` (the pod list is read again every 5 minutes). CPU is of the sampler's process (the API server runs in its own). Redis memory is `MEMORY USAGE` of the history keys: after the rounds ran, and at the bound, measured on 200 containers whose two tiers are full (240 samples at the interval and 240 one-minute maxima) and scaled to every container.",
    ...(seconds ? ['', `This benchmark took ${duration(seconds)}.`] : []),
    '',
    '| containers | API calls, first round | API calls a round after | CPU, first round | CPU a round after | wall a round after | Redis after the rounds | Redis at full history | per 10k containers |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...sampler.map(
      (f) =>
        `| ${int(f.containers)} | ${f.firstRound.apiCalls} | ${f.steadyRound.apiCalls.toFixed(1)} | ${ms(f.firstRound.cpuMs)} | ${ms(f.steadyRound.cpuMs)} | ${ms(f.steadyRound.wallMs)} | ${mib(f.redisBytesAfterRounds)} | ${mib(f.redisBytesPerContainerFull * f.containers)} | ${mib(f.redisBytesPer10kFull)} |`,
    ),
  ];
}

export function renderReport(input: ReportInput): string {
  const { results } = input;
  const sections: string[][] = [['# oombot benchmark report', '', ...machineSection(input)]];
  if (input.failures.length > 0) sections.push(['## Failed checks', '', ...input.failures.map((f) => `- ${f}`)]);
  sections.push(summarySection(input));
  if (input.plot) {
    const what = [
      results.latency?.length ? 'alert latency p50 and p99' : '',
      results.watcher?.length ? 'watcher RSS after sync, oombot and the naive informer' : '',
    ]
      .filter(Boolean)
      .join('; ');
    sections.push([`![${what}, against pods in the cluster](${input.plot})`, '', `Plotted against pods in the cluster: ${what}.`]);
  }
  if (results.watcher?.length) sections.push(watcherSection(results.watcher, input.seconds.watcher));
  if (results.latency?.length) sections.push(latencySection(results.latency, input.latencyTargetMs, input.seconds.latency));
  if (results.latency?.length || results.storm) sections.push(kubeCallsSection(results.latency ?? [], results.storm));
  if (results.storm) sections.push(stormSection(results.storm, input.seconds.storm));
  if (results.sampler?.length) sections.push(samplerSection(results.sampler, input.seconds.sampler));
  return `${sections.map((s) => s.join('\n')).join('\n\n')}\n`;
}
