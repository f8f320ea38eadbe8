/** The benchmark report as Markdown, from the figures alone. */
import { KUBE_CALL_KINDS, type KubeCallKind } from './classify-kube-call.js';
import type { Machine } from './describe-machine.js';
import type {
  ClustersFigures,
  BenchResults,
  BotMemoryFigures,
  HeadOfLineFigures,
  LatencyFigures,
  ReadsFigures,
  SamplerFigures,
  Spread,
  StormFigures,
  WatcherFigures,
} from './figures.js';
import { formatPods } from './plot.js';

export interface ReportInput {
  results: BenchResults;
  machine: Machine;
  command: string;
  startedAt: Date;
  /** Wall time of the whole run and of each benchmark, in seconds. */
  seconds: {
    total: number;
    watcher?: number;
    latency?: number;
    storm?: number;
    headOfLine?: number;
    scale?: number;
    reads?: number;
    bot?: number;
    sampler?: number;
    clusters?: number;
  };
  /** 1-minute load average of the machine before and after the run: others' work shows here. */
  loadAverage: { before: number; after: number };
  latencyTargetMs: number;
  /** Targets of the Slack side: storm drain over its floor and 429s, head-of-line p99, p99 at scale. */
  targets?: { storm: { drainRatio: number; rateLimited: number }; headOfLineMs: number; scaleMs: number };
  /** File name of the plot beside the report, when one was drawn. */
  plot?: string;
  /** File name of the Slack side's plot (storm, head-of-line, scale), when one was drawn. */
  slackPlot?: string;
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
  const d = results.watcher?.find((f) => f.mode === 'download' && f.pods === largest);
  if (o && n) {
    rows.push(
      `| watcher RSS after sync, ${formatPods(largest)} pods | oombot ${mib(o.rssBytes)}, naive informer ${mib(n.rssBytes)} (${times(n.rssBytes / o.rssBytes)}) | ≤ 160 MiB ${o.rssBytes <= 160 * 2 ** 20 ? '✓' : '✗'} |`,
    );
    rows.push(
      `| watcher time to sync, ${formatPods(largest)} pods | oombot ${secs(o.syncMs)}, naive informer ${secs(n.syncMs)} (${times(n.syncMs / o.syncMs)})${d ? `, download and parse only ${secs(d.syncMs)} (oombot ${times(o.syncMs / d.syncMs)})` : ''} | ${d ? `≤ 1.5× download ${o.syncMs <= 1.5 * d.syncMs ? '✓' : '✗'}` : ''} |`,
    );
  }
  const r = results.reads;
  if (r) {
    rows.push(
      `| Kubernetes reads, first incident of a workload | ${r.first.readsPerIncident.toFixed(2)} per incident | ≤ 3 ${r.first.readsPerIncident <= 3 ? '✓' : '✗'} |`,
    );
    rows.push(
      `| Kubernetes reads, repeat of a posted alert | ${r.repeat.readsPerIncident.toFixed(2)} per incident | ≤ 1 ${r.repeat.readsPerIncident <= 1 ? '✓' : '✗'} |`,
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
  const t = input.targets;
  const mark = (ok: boolean) => (ok ? '✓' : '✗');
  if (s) {
    const ratio = s.drainSeconds / s.floorSeconds;
    rows.push(`| storm: alerts lost | ${s.lost} | 0 ${mark(s.lost === 0 && s.wrongCounts.length === 0)} |`);
    rows.push(
      `| storm: time to drain / floor | ${s.drainSeconds.toFixed(0)} s / ${s.floorSeconds} s = ${ratio.toFixed(2)} | ${t ? `≤ ${t.storm.drainRatio} ${mark(ratio <= t.storm.drainRatio)}` : ''} |`,
    );
    rows.push(`| storm: answers of 429 | ${s.rateLimited} | ${t ? `≤ ${t.storm.rateLimited} ${mark(s.rateLimited <= t.storm.rateLimited)}` : ''} |`);
  }
  const h = results.headOfLine;
  if (h) {
    rows.push(
      `| unrelated alert during a storm, same channel: time to Slack p50 / p99 | ${ms(h.storm.p50Ms)} / ${ms(h.storm.p99Ms)} (quiet channel: ${ms(h.quiet.p50Ms)} / ${ms(h.quiet.p99Ms)}) | ${t ? `p99 ≤ ${t.headOfLineMs / 1000} s ${mark(h.storm.p99Ms <= t.headOfLineMs && h.delivered === h.unrelated)}` : ''} |`,
    );
  }
  for (const f of results.scale ?? []) {
    const target =
      t && f.rate > (results.scale?.[0]?.rate ?? 0) ? `p99 < ${t.scaleMs} ms ${mark(f.p99Ms < t.scaleMs && f.delivered === f.incidents)}` : 'baseline';
    rows.push(`| alert latency p50 / p99, ${f.rate} incidents/s over ${f.channels} channels | ${ms(f.p50Ms)} / ${ms(f.p99Ms)} | ${target} |`);
  }
  for (const f of results.bot ?? []) {
    rows.push(
      `| bot memory per command in flight, \`/oom ${f.command}\` × ${f.inFlight}, ${formatPods(f.pods)} pods | RSS +${mib(f.rssGrowthPerCommandBytes)} (heap +${mib(f.heapGrowthPerCommandBytes)}) over ${mib(f.rssBeforeBytes)} before it, ${f.answered} of ${f.inFlight} answered | ≤ 50 MiB ${mark(f.rssGrowthPerCommandBytes <= 50 * 2 ** 20 && f.answered === f.inFlight)} |`,
    );
  }
  for (const f of results.sampler ?? []) {
    // The first round lists every pod for its limits, as each round would without keeping them: the baseline.
    rows.push(
      `| sampler, ${int(f.containers)} containers: API calls / CPU a round | ${f.steadyRound.apiCalls.toFixed(1)} / ${f.steadyRound.cpuMs.toFixed(0)} ms (first round, listing every pod: ${f.firstRound.apiCalls} / ${f.firstRound.cpuMs.toFixed(0)} ms, ${times(f.firstRound.cpuMs / Math.max(1, f.steadyRound.cpuMs))}) | |`,
    );
  }
  const many = results.clusters?.at(-1);
  const one = results.clusters?.[0];
  if (many && one && many !== one) {
    rows.push(
      `| alert latency p50 / p99, ${many.clusters} clusters into one hub (through their agents) | ${ms(many.p50Ms)} / ${ms(many.p99Ms)} (${one.clusters} cluster: ${ms(one.p50Ms)} / ${ms(one.p99Ms)}) | every alert delivered ${mark(many.delivered === many.incidents)} |`,
    );
    rows.push(
      `| hub CPU per incident, ${many.clusters} clusters | ${many.hubCpuMsPerIncident.toFixed(1)} ms, ${(many.hubCpuShare * 100).toFixed(0)}% of a core at ${(many.ratePerCluster * many.clusters).toFixed(0)} incidents/s (${one.clusters} cluster: ${one.hubCpuMsPerIncident.toFixed(1)} ms) | baseline |`,
    );
  }
  return ['## Summary', '', '| figure | result | target |', '| --- | --- | --- |', ...rows];
}

const WATCHER_NAMES: Record<WatcherFigures['mode'], string> = { oombot: 'oombot', naive: 'naive informer', download: 'download and parse only' };

function syncFloor(watcher: WatcherFigures[]): string[] {
  const rows = [...new Set(watcher.map((f) => f.pods))].flatMap((pods) => {
    const o = watcher.find((f) => f.mode === 'oombot' && f.pods === pods);
    const d = watcher.find((f) => f.mode === 'download' && f.pods === pods);
    return o && d ? [`| ${int(pods)} | ${times(o.syncMs / d.syncMs)} | ${o.syncMs <= 1.5 * d.syncMs ? '✓' : '✗'} |`] : [];
  });
  if (rows.length === 0) return [];
  return [
    '',
    "oombot's time to sync over the download's, in the same run (target ≤ 1.5×):",
    '',
    '| pods | sync / download | ≤ 1.5× |',
    '| ---: | ---: | :---: |',
    ...rows,
  ];
}

/** The bot's memory per command in flight. */
function botSection(bot: BotMemoryFigures[], seconds?: number): string[] {
  const limit = 50 * 2 ** 20;
  return [
    '## Bot: memory per command in flight',
    '',
    `The bot alone in its own process (HTTP mode) against a cluster of ${int(bot[0]!.pods)} pods. \`/oom top\` ranks the cluster's pods; \`/oom why\` is given a pod name prefix without a namespace, so the bot looks through every namespace's pods for it. Commands are sent at once; the highest RSS and heap the bot reaches until all are answered, over what it had before (after a forced collection), divided by the commands. Target: at most 50 MiB per command in flight.`,
    ...(seconds ? ['', `This benchmark took ${duration(seconds)}.`] : []),
    '',
    '| command | in flight | RSS before | RSS per command | heap per command | answered | time | ≤ 50 MiB |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | :---: |',
    ...bot.map(
      (f) =>
        `| \`/oom ${f.command}\` | ${f.inFlight} | ${mib(f.rssBeforeBytes)} | ${mib(f.rssGrowthPerCommandBytes)} | ${mib(f.heapGrowthPerCommandBytes)} | ${f.answered} of ${f.inFlight} | ${f.seconds.toFixed(1)} s | ${f.rssGrowthPerCommandBytes <= limit ? '✓' : '✗'} |`,
    ),
  ];
}

/** Reads per incident by kind, first incidents and repeats side by side. */
function readsSection(r: ReadsFigures, seconds?: number): string[] {
  const kinds = (Object.keys(KUBE_CALL_KINDS) as KubeCallKind[]).filter((k) => (r.first.byKind[k] ?? 0) > 0 || (r.repeat.byKind[k] ?? 0) > 0);
  return [
    '## Kubernetes reads per incident: first incident and repeat',
    '',
    `${int(r.workloads)} Deployments (one pod each, over 10 namespaces and channels, ${int(r.backgroundPods)} background pods) are OOM-killed once each at 20/s: each is the first incident of its workload and posts. Once every first alert is out, each is killed again: a repeat of a posted alert. Reads are counted from the simulated API server's request log phase by phase (the watcher's lists and watches left out) and divided by the incidents processed; the once-a-minute shared reads (nodes, LimitRanges, discovery) are spread over the incidents. Targets: at most 3 for a first incident, 1 for a repeat (main before this change: 7.04 for every incident, repeats included).`,
    ...(seconds ? ['', `This benchmark took ${duration(seconds)}.`] : []),
    '',
    '| read | first incident | repeat |',
    '| --- | ---: | ---: |',
    ...kinds.map((k) => `| ${KUBE_CALL_KINDS[k]} | ${perIncident(r.first.byKind[k] ?? 0)} | ${perIncident(r.repeat.byKind[k] ?? 0)} |`),
    `| **all reads per incident** | **${r.first.readsPerIncident.toFixed(2)}** | **${r.repeat.readsPerIncident.toFixed(2)}** |`,
    `| counted by the worker, min / avg / max | ${spread(r.first.spread)} | ${spread(r.repeat.spread)} |`,
  ];
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
    'The download row is the floor of a sync: the same paged list (500 pods a page) downloaded and parsed by the same HTTP client, nothing kept. Heap used and committed: what V8 holds after the collection, and what it keeps reserved for its heap; RSS beyond the committed heap is code, native memory and the allocator.',
    '',
    '| pods | watcher | time to sync | RSS after sync | heap used / committed | external | events/s |',
    '| ---: | --- | ---: | ---: | ---: | ---: | ---: |',
    ...watcher.map(
      (f) =>
        `| ${int(f.pods)} | ${WATCHER_NAMES[f.mode]} | ${secs(f.syncMs)} | ${mib(f.rssBytes)} | ${mib(f.heapBytes)} / ${f.heapTotalBytes === undefined ? '–' : mib(f.heapTotalBytes)} | ${f.externalBytes === undefined ? '–' : mib(f.externalBytes)} | ${Number.isFinite(f.eventsPerSecond) ? int(Math.round(f.eventsPerSecond)) : '–'} |`,
    ),
    ...syncFloor(watcher),
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
    "Counted twice: by the worker, which logs the calls it made for each incident it processed (min / avg / max below), and by the simulated API server's request log, by kind (the watcher's own lists and watches left out). The pod and its Events come with the job (as the watcher saw them) and the node's memory sums from the watcher; a first incident reads its top owner, its usage and its previous logs, a repeat of a posted alert only its usage. Nodes, LimitRanges, VPAs and whether metrics.k8s.io exists are read once a minute and owner chains once in five, shared through Redis, so the incident that finds them expired makes a few calls more than the others.",
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
    `${int(s.kills)} OOM kills across ${s.deployments} Deployments (${s.kills / s.deployments} each, round after round) within ${s.windowSeconds} s, all alerting into one channel (configured by name, \`#alerts\`), in a cluster of ${int(s.backgroundPods)} other pods. The Slack-compatible server enforces about 1 message per second per channel (burst 3) for chat.postMessage and 50 per minute for chat.update, answering 429 with Retry-After beyond that. The floor is one message per Deployment at Slack's rate: ${s.floorSeconds} s. Time to drain runs from the first kill to the last Slack call that changed a message.`,
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
    `- Slack calls by method (429s included): ${Object.entries(s.callsByMethod ?? {})
      .map(([m, n]) => `${m} ${int(n)}`)
      .join(', ')}.`,
    `- oombot paces chat.postMessage per channel (its \`#name\` and its id are one lane) a little under 1 a second with a burst of 2, and chat.update on its own workspace budget (about 46 a minute), so updates never wait behind posts. ${s.posts} alerts need at least ${s.posts} s at 1 message/s; ${s.updates} updates at 46 a minute need ${Math.ceil((s.updates * 60) / 46)} s, side by side with them.`,
    `- Thread replies: ${s.threadReplies}. A repeat gets one only when it brings something its alert has not shown (a new node, container, cause or image); every other repeat is counted in its alert ("Seen N times", through chat.update). Repeats listed word for word, in the first messages (those that came before it went out) and in thread replies: ${int(s.threadRepeats)} of ${int(s.kills - s.deployments)}.`,
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

function headOfLineSection(h: HeadOfLineFigures, targetMs: number | undefined, seconds?: number): string[] {
  return [
    '## Head-of-line: an unrelated alert during a storm',
    '',
    `${h.stormDeployments} Deployments of ${h.replicas} pods each (spread over the nodes) storm: ${int(h.stormKills)} kills in ${h.stormSeconds} s, round after round over their pods, so their alerts are updated again and again and get a thread reply for each new node. Meanwhile ${h.unrelated} unrelated Deployments are killed once each, evenly from 5 s into the storm, alerting into the same channel. Time to Slack runs from the kill on the simulated API server to the unrelated workload's alert at the Slack-compatible server (same limits as the storm). The baseline, in the same run: unrelated kills in the quiet channel just before the storm, one every 2 s.${targetMs ? ` Target: p99 within ${targetMs / 1000} s.` : ''}`,
    ...(seconds ? ['', `This benchmark took ${duration(seconds)}.`] : []),
    '',
    '| when | unrelated kills | delivered | p50 | p99 | max |',
    '| --- | ---: | ---: | ---: | ---: | ---: |',
    `| quiet channel (baseline) | | | ${ms(h.quiet.p50Ms)} | ${ms(h.quiet.p99Ms)} | ${ms(h.quiet.maxMs)} |`,
    `| during the storm | ${h.unrelated} | ${h.delivered} | ${ms(h.storm.p50Ms)} | ${ms(h.storm.p99Ms)} | ${ms(h.storm.maxMs)} |`,
    '',
    `- What the storm sent to the channel meanwhile: ${h.stormAlerts} alerts, ${h.stormUpdates} updates, ${h.stormThreadReplies} thread replies; ${h.rateLimited} answers of 429.`,
    "- A workload's first alert goes before updates and thread replies waiting in the same channel (updates have a budget of their own), so it waits at most for the one call whose turn had come.",
  ];
}

function scaleSection(scale: LatencyFigures[], targetMs: number | undefined, seconds?: number): string[] {
  return [
    '## Scale: incidents over many channels',
    '',
    `Alert latency as in the latency benchmark (each incident a new Deployment, so each posts; one namespace per channel; ${int(scale[0]!.backgroundPods)} background pods), at ${scale.map((f) => `${f.rate} incidents/s over ${f.channels} channels`).join(' and ')}, ${scale[0]!.seconds} s each, in the same run: the first is the baseline. At one incident per second per channel each channel runs at Slack's own pace.${targetMs ? ` Target: p99 under ${targetMs} ms at the higher rate.` : ''}`,
    ...(seconds ? ['', `This benchmark took ${duration(seconds)}.`] : []),
    '',
    '| rate | channels | incidents | delivered | p50 | p99 | max | CPU per incident: oombot | CPU per incident: API server |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...scale.map(
      (f) =>
        `| ${f.rate}/s | ${f.channels} | ${int(f.incidents)} | ${int(f.delivered)} | ${ms(f.p50Ms)} | ${ms(f.p99Ms)} | ${ms(f.maxMs)} | ${f.cpuMsPerIncident.oombot.toFixed(1)} ms | ${f.cpuMsPerIncident.apiServer.toFixed(1)} ms |`,
    ),
    '',
    ...scale.map((f) => {
      const cores = ((f.cpuMsPerIncident.oombot + f.cpuMsPerIncident.apiServer) * f.rate) / 1000;
      const thread = (f.cpuMsPerIncident.oombot * f.rate) / 1000;
      return `- At ${f.rate}/s the incidents need ${cores.toFixed(2)} cores of CPU between oombot's process and the simulated API server, ${thread.toFixed(2)} of them on oombot's one thread${thread >= 0.8 || cores >= 1.6 ? ': the machine, not Slack, sets the pace, and alerts wait in the queue' : ''}.`;
    }),
    '',
    'Real Slack also limits a workspace\'s posts as a whole ("several hundred messages a minute"); the Slack-compatible server does not model that limit, so 100 alerts a second here measures oombot\'s own pipeline, not what a real workspace would accept.',
  ];
}

function clustersSection(clusters: ClustersFigures[], seconds?: number): string[] {
  const f0 = clusters[0]!;
  return [
    '## Many clusters, one hub',
    '',
    `Each simulated cluster (${int(f0.podsPerCluster)} pods besides the workloads killed) runs in its own process with an agent (\`--roles agent\`: its watcher and the agent server, all agents in the benchmark's process); one hub (\`--roles worker,bot\`, no kubeconfig) runs in a process of its own and reaches each cluster only through its agent over Redis. Each cluster's workloads live in a namespace of their own, routed to a channel of its own, and are OOM-killed at ${f0.ratePerCluster} a second per cluster for ${f0.seconds} s, each kill a new workload, so each posts. Latency: from the kill written to the API server to the alert at Slack. Hub CPU: the hub's process alone. API calls: made by the agents for the hub, per incident. The first row is the baseline: one cluster through its agent at the same rate per cluster.`,
    ...(seconds ? ['', `This benchmark took ${duration(seconds)}.`] : []),
    '',
    '| clusters | incidents | delivered | p50 | p99 | max | hub CPU per incident | hub CPU, share of a core | hub RSS | API calls per incident |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...clusters.map(
      (f) =>
        `| ${f.clusters} | ${int(f.incidents)} | ${int(f.delivered)} | ${ms(f.p50Ms)} | ${ms(f.p99Ms)} | ${ms(f.maxMs)} | ${f.hubCpuMsPerIncident.toFixed(1)} ms | ${(f.hubCpuShare * 100).toFixed(0)}% | ${mib(f.hubRssBytes)} | ${f.kubeCallsPerIncident.toFixed(2)} |`,
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
  if (input.slackPlot) {
    sections.push([
      `![the Slack side: each figure beside its baseline in the same run, with its target](${input.slackPlot})`,
      '',
      "The Slack side, each figure beside its baseline from the same run and its target: the storm's drain against its floor, an unrelated alert's time to Slack in a quiet channel and during a storm, alert latency at 20 and at 100 incidents/s.",
    ]);
  }
  if (results.watcher?.length) sections.push(watcherSection(results.watcher, input.seconds.watcher));
  if (results.reads) sections.push(readsSection(results.reads, input.seconds.reads));
  if (results.bot?.length) sections.push(botSection(results.bot, input.seconds.bot));
  if (results.latency?.length) sections.push(latencySection(results.latency, input.latencyTargetMs, input.seconds.latency));
  if (results.latency?.length || results.storm) sections.push(kubeCallsSection(results.latency ?? [], results.storm));
  if (results.storm) sections.push(stormSection(results.storm, input.seconds.storm));
  if (results.sampler?.length) sections.push(samplerSection(results.sampler, input.seconds.sampler));
  if (results.headOfLine) sections.push(headOfLineSection(results.headOfLine, input.targets?.headOfLineMs, input.seconds.headOfLine));
  if (results.scale?.length) sections.push(scaleSection(results.scale, input.targets?.scaleMs, input.seconds.scale));
  if (results.clusters?.length) sections.push(clustersSection(results.clusters, input.seconds.clusters));
  return `${sections.map((s) => s.join('\n')).join('\n\n')}\n`;
}
