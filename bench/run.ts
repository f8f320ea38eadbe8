/**
 * npm run bench [-- --sizes 10000,50000,100000 --latency-sizes 1000,10000,50000 --only watcher,latency,storm,head-of-line,scale]
 * Runs the benchmarks, prints figures as they come, and writes bench/results/latest.md (with the plot
 * bench/results/latest.svg). Exits 0 when every benchmark ran and no alert was lost or undelivered.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { redactUrl } from '../core/redact.js';
import { errorMessage } from '../core/errors.js';
import { redisAnswers } from '../sim/private-redis.js';
import { describeMachine } from './describe-machine.js';
import type { BenchResults } from './figures.js';
import { benchLatency } from './latency.js';
import { benchReads } from './reads.js';
import { benchBotMemory } from './bot-memory.js';
import { parseBenchOptions, USAGE, UsageError, type BenchOptions } from './parse-bench-options.js';
import { plotScaling } from './plot.js';
import { plotSlack } from './plot-slack.js';
import { renderReport, type ReportInput } from './render-report.js';
import { benchStorm } from './storm.js';
import { benchWatcherScale } from './watcher-scale.js';
import { benchSampler } from './sampler.js';
import { benchHeadOfLine } from './head-of-line.js';
import { benchClusters } from './clusters.js';

const LATENCY = { rate: 20, seconds: 30, targetMs: 1_000 };
const READS = { workloads: 200, backgroundPods: 1_000 };
const BOT = { pods: 150_000, inFlight: [1, 4] };
const STORM = { kills: 2_000, deployments: 200, windowSeconds: 60, backgroundPods: 1_000 };
/** Storm drain over its floor, 429 answers: the most the storm may take. */
const STORM_TARGET = { drainRatio: 1.1, rateLimited: 5 };
/** A few Deployments storming (their pods over many nodes) while unrelated ones alert into the same channel. */
const HEAD_OF_LINE = {
  stormDeployments: 3,
  replicas: 40,
  stormPerSecond: 10,
  stormSeconds: 60,
  unrelated: 30,
  quiet: 10,
  backgroundPods: 1_000,
  targetMs: 2_000,
};
/** 100 incidents/s over 100 channels, beside the latency benchmark's 20/s over 20 channels in the same run. */
const SCALE = { rate: 100, channels: 100, seconds: 20, backgroundPods: 1_000, targetMs: 300 };
/** 20 clusters, each with its agent, into one hub; beside one cluster through its agent at the same rate per cluster. */
const CLUSTERS = { counts: [1, 20], podsPerCluster: 500, ratePerCluster: 0.5, seconds: 60 };
const RESULTS_DIR = fileURLToPath(new URL('../../bench/results/', import.meta.url));

const log = (line: string) => process.stdout.write(`${line}\n`);

/** Which checks failed: alerts that never arrived, or kills no message counts. */
function failedChecks(results: BenchResults): string[] {
  const failures: string[] = [];
  for (const f of results.latency ?? []) {
    if (f.delivered < f.incidents) failures.push(`latency at ${f.clusterPods} pods: ${f.incidents - f.delivered} of ${f.incidents} alerts never reached Slack`);
  }
  const s = results.storm;
  if (s) {
    if (s.lost > 0) failures.push(`storm: ${s.lost} of ${s.kills} kills are not counted by any message in Slack`);
    if (s.wrongCounts.length > 0) failures.push(`storm: ${s.wrongCounts.length} Deployments show a wrong count (${s.wrongCounts.slice(0, 5).join('; ')})`);
    if (s.duplicated.length > 0) failures.push(`storm: ${s.duplicated.length} Deployments have more than one message`);
  }
  const h = results.headOfLine;
  if (h && h.delivered < h.unrelated) failures.push(`head-of-line: ${h.unrelated - h.delivered} of ${h.unrelated} unrelated alerts never reached Slack`);
  for (const f of results.scale ?? []) {
    if (f.delivered < f.incidents) failures.push(`scale at ${f.rate}/s: ${f.incidents - f.delivered} of ${f.incidents} alerts never reached Slack`);
  }
  for (const f of results.clusters ?? []) {
    if (f.delivered < f.incidents)
      failures.push(`${f.clusters} clusters into one hub: ${f.incidents - f.delivered} of ${f.incidents} alerts never reached Slack`);
  }
  return failures;
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; seconds: number }> {
  const t0 = performance.now();
  const value = await fn();
  return { value, seconds: (performance.now() - t0) / 1000 };
}

async function runBenchmarks(options: BenchOptions, argv: string[]): Promise<number> {
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  if (!(await redisAnswers(redisUrl))) {
    throw new Error(
      `no Redis answers at ${redactUrl(redisUrl)}. Start one with \`redis-server --daemonize yes\` (or \`docker run -d -p 127.0.0.1:6379:6379 redis:7-alpine\`), or set REDIS_URL to one you have, then run npm run bench again.`,
    );
  }
  const startedAt = new Date();
  const loadBefore = loadavg()[0]!;
  const t0 = performance.now();
  const machine = describeMachine();
  log(`oombot benchmarks on ${machine.cpu} (${machine.cores} cores), ${machine.memoryGiB.toFixed(0)} GiB, Node ${machine.node}`);
  const results: BenchResults = {};
  const seconds: ReportInput['seconds'] = {
    total: 0,
  };

  if (options.only.includes('watcher')) {
    log('');
    log(`Watcher: memory after sync, time to sync, pod events per second, at ${options.sizes.join(', ')} pods`);
    const run = await timed(() => benchWatcherScale(options.sizes, redisUrl, log));
    results.watcher = run.value;
    seconds.watcher = run.seconds;
  }
  if (options.only.includes('latency')) {
    log('');
    log(`End-to-end latency at ${LATENCY.rate} incidents/s for ${LATENCY.seconds} s, with ${options.latencySizes.join(', ')} background pods`);
    const run = await timed(async () => {
      const out = [];
      for (const backgroundPods of options.latencySizes) out.push(await benchLatency({ backgroundPods, ...LATENCY, redisUrl }, log));
      return out;
    });
    results.latency = run.value;
    seconds.latency = run.seconds;
  }
  if (options.only.includes('storm')) {
    log('');
    log(
      `Storm: ${STORM.kills} kills across ${STORM.deployments} Deployments within ${STORM.windowSeconds} s, one channel, Slack enforcing 1 message/s with 429s`,
    );
    const run = await timed(() => benchStorm({ ...STORM, redisUrl }, log));
    results.storm = run.value;
    seconds.storm = run.seconds;
  }
  if (options.only.includes('head-of-line')) {
    log('');
    log(
      `Head-of-line: ${HEAD_OF_LINE.unrelated} unrelated kills during a storm of ${HEAD_OF_LINE.stormDeployments} Deployments (${HEAD_OF_LINE.replicas} pods each) at ${HEAD_OF_LINE.stormPerSecond} kills/s for ${HEAD_OF_LINE.stormSeconds} s, one channel`,
    );
    const run = await timed(() => benchHeadOfLine({ ...HEAD_OF_LINE, redisUrl }, log));
    results.headOfLine = run.value;
    seconds.headOfLine = run.seconds;
  }
  if (options.only.includes('scale')) {
    log('');
    log(
      `Scale: ${SCALE.rate} incidents/s over ${SCALE.channels} channels for ${SCALE.seconds} s, beside ${LATENCY.rate}/s over 20 channels, with ${SCALE.backgroundPods} background pods`,
    );
    const run = await timed(async () => [
      await benchLatency({ backgroundPods: SCALE.backgroundPods, rate: LATENCY.rate, seconds: SCALE.seconds, channels: 20, redisUrl }, log),
      await benchLatency({ backgroundPods: SCALE.backgroundPods, rate: SCALE.rate, seconds: SCALE.seconds, channels: SCALE.channels, redisUrl }, log),
    ]);
    results.scale = run.value;
    seconds.scale = run.seconds;
  }
  if (options.only.includes('reads')) {
    log('');
    log(`Kubernetes reads per incident: ${READS.workloads} Deployments killed once (first incidents), then once more (repeats of posted alerts)`);
    const run = await timed(() => benchReads({ ...READS, redisUrl }, log));
    results.reads = run.value;
    seconds.reads = run.seconds;
  }
  if (options.only.includes('bot')) {
    log('');
    log(`Bot memory: /oom top and /oom why at ${BOT.pods.toLocaleString('en-US')} pods, ${BOT.inFlight.join(' and ')} commands in flight`);
    const run = await timed(() => benchBotMemory({ ...BOT, redisUrl }, log));
    results.bot = run.value;
    seconds.bot = run.seconds;
  }
  if (options.only.includes('sampler')) {
    log('');
    log(`Sampler: API calls, CPU and wall time per round, Redis memory of the history, at ${options.samplerSizes.join(', ')} containers`);
    const run = await timed(() => benchSampler(options.samplerSizes, redisUrl, log));
    results.sampler = run.value;
    seconds.sampler = run.seconds;
  }
  if (options.only.includes('clusters')) {
    log('');
    log(
      `Many clusters, one hub: ${CLUSTERS.counts.join(' and ')} simulated clusters of ${CLUSTERS.podsPerCluster} pods, each with its agent, into one hub with no kubeconfig, ${CLUSTERS.ratePerCluster} kills/s per cluster for ${CLUSTERS.seconds} s`,
    );
    const run = await timed(async () => {
      const out = [];
      for (const clusters of CLUSTERS.counts) out.push(await benchClusters({ ...CLUSTERS, clusters, redisUrl }, log));
      return out;
    });
    results.clusters = run.value;
    seconds.clusters = run.seconds;
  }
  seconds.total = (performance.now() - t0) / 1000;

  const failures = failedChecks(results);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const svg = plotScaling(results, { latencyTargetMs: LATENCY.targetMs });
  if (svg) writeFileSync(`${RESULTS_DIR}latest.svg`, svg);
  else rmSync(`${RESULTS_DIR}latest.svg`, { force: true });
  const slackSvg = plotSlack(results, { drainRatio: STORM_TARGET.drainRatio, headOfLineMs: HEAD_OF_LINE.targetMs, scaleMs: SCALE.targetMs });
  if (slackSvg) writeFileSync(`${RESULTS_DIR}latest-slack.svg`, slackSvg);
  else rmSync(`${RESULTS_DIR}latest-slack.svg`, { force: true });
  const command = `npm run bench${argv.length > 0 ? ` -- ${argv.join(' ')}` : ''}`;
  writeFileSync(
    `${RESULTS_DIR}latest.md`,
    renderReport({
      results,
      machine,
      command,
      startedAt,
      seconds,
      loadAverage: { before: loadBefore, after: loadavg()[0]! },
      latencyTargetMs: LATENCY.targetMs,
      targets: { storm: STORM_TARGET, headOfLineMs: HEAD_OF_LINE.targetMs, scaleMs: SCALE.targetMs },
      plot: svg ? 'latest.svg' : undefined,
      slackPlot: slackSvg ? 'latest-slack.svg' : undefined,
      failures,
    }),
  );
  log('');
  const plots = [svg ? 'bench/results/latest.svg' : '', slackSvg ? 'bench/results/latest-slack.svg' : ''].filter(Boolean);
  log(`report written to bench/results/latest.md${plots.length ? ` (plots: ${plots.join(', ')})` : ''}; the run took ${(seconds.total / 60).toFixed(1)} min`);
  for (const f of failures) process.stderr.write(`FAILED: ${f}\n`);
  return failures.length > 0 ? 1 : 0;
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  let options: BenchOptions;
  try {
    options = parseBenchOptions(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message}\n${USAGE.split('\n')[0]}\n`);
    return 2;
  }
  if (options.help) {
    log(USAGE);
    return 0;
  }
  try {
    return await runBenchmarks(options, argv);
  } catch (err) {
    process.stderr.write(`bench failed: ${errorMessage(err)}\n`);
    return 1;
  }
}

// Exit explicitly: a benchmark that failed half-way may leave sockets or timers behind.
process.exit(await main());
