/**
 * npm run bench [-- --sizes 10000,50000,100000 --latency-sizes 1000,10000,50000 --only watcher,latency,storm]
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
import { parseBenchOptions, USAGE, UsageError, type BenchOptions } from './parse-bench-options.js';
import { plotScaling } from './plot.js';
import { renderReport } from './render-report.js';
import { benchStorm } from './storm.js';
import { benchWatcherScale } from './watcher-scale.js';
import { benchSampler } from './sampler.js';

const LATENCY = { rate: 20, seconds: 30, targetMs: 1_000 };
const STORM = { kills: 2_000, deployments: 200, windowSeconds: 60, backgroundPods: 1_000 };
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
      `no Redis answers at ${redactUrl(redisUrl)}. Start one with \`redis-server --daemonize yes\` (or \`docker compose up -d redis\`), or set REDIS_URL to one you have, then run npm run bench again.`,
    );
  }
  const startedAt = new Date();
  const loadBefore = loadavg()[0]!;
  const t0 = performance.now();
  const machine = describeMachine();
  log(`oombot benchmarks on ${machine.cpu} (${machine.cores} cores), ${machine.memoryGiB.toFixed(0)} GiB, Node ${machine.node}`);
  const results: BenchResults = {};
  const seconds: { total: number; watcher?: number; latency?: number; storm?: number; sampler?: number } = { total: 0 };

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
  if (options.only.includes('sampler')) {
    log('');
    log(`Sampler: API calls, CPU and wall time per round, Redis memory of the history, at ${options.samplerSizes.join(', ')} containers`);
    const run = await timed(() => benchSampler(options.samplerSizes, redisUrl, log));
    results.sampler = run.value;
    seconds.sampler = run.seconds;
  }
  seconds.total = (performance.now() - t0) / 1000;

  const failures = failedChecks(results);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const svg = plotScaling(results, { latencyTargetMs: LATENCY.targetMs });
  if (svg) writeFileSync(`${RESULTS_DIR}latest.svg`, svg);
  else rmSync(`${RESULTS_DIR}latest.svg`, { force: true });
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
      plot: svg ? 'latest.svg' : undefined,
      failures,
    }),
  );
  log('');
  log(`report written to bench/results/latest.md${svg ? ' (plot: bench/results/latest.svg)' : ''}; the run took ${(seconds.total / 60).toFixed(1)} min`);
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
