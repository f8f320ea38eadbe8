/**
 * npm run bench [-- --sizes 10000,50000]
 * Prints figures and ratios, and writes them as Markdown to bench/results/latest.md.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { benchWatcherScale, type WatcherFigures } from './watcher-scale.js';
import { benchLatency, benchStorm } from './alerts.js';

const args = process.argv.slice(2);
const sizesArg = args[args.indexOf('--sizes') + 1];
const sizes = args.includes('--sizes') && sizesArg ? sizesArg.split(',').map(Number) : [10_000, 50_000];
const only = args.includes('--only') ? (args[args.indexOf('--only') + 1] ?? '').split(',') : ['watcher', 'latency', 'storm'];

const lines: string[] = [];
const log = (line: string) => {
  lines.push(line);
  process.stdout.write(`${line}\n`);
};

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
log(`oombot benchmarks on ${machine}`);
log('');
let watcher: WatcherFigures[] = [];
if (only.includes('watcher')) {
  log('Watcher: memory after sync, time to sync, pod events ingested per second');
  watcher = await benchWatcherScale(sizes, log);
}
let latency;
if (only.includes('latency')) {
  log('');
  log('End-to-end latency: pod status change -> message at the Slack-compatible server');
  latency = await benchLatency(20, 30, log);
}
let storm;
if (only.includes('storm')) {
  log('');
  log('Storm: 2,000 kills across 200 Deployments within 60 s, one channel, Slack enforcing 1 message/s with 429s');
  storm = await benchStorm(2_000, 200, 60, log);
}

const mib = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
const table = [
  '| pods | watcher | sync | RSS after sync | heap after sync | events/s |',
  '| ---: | --- | ---: | ---: | ---: | ---: |',
  ...watcher.map((f) => `| ${f.pods} | ${f.mode} | ${(f.syncMs / 1000).toFixed(2)} s | ${mib(f.rssBytes)} | ${mib(f.heapBytes)} | ${f.eventsPerSecond.toFixed(0)} |`),
];
const ratios = sizes.map((size) => {
  const o = watcher.find((f) => f.mode === 'oombot' && Math.abs(f.pods - size) < size * 0.01);
  const n = watcher.find((f) => f.mode === 'naive' && Math.abs(f.pods - size) < size * 0.01);
  if (!o || !n) return `| ${size} | - | - | - |`;
  return `| ${o.pods} | ${(n.rssBytes / o.rssBytes).toFixed(2)}× less RSS | ${(n.heapBytes / o.heapBytes).toFixed(2)}× less heap | ${(n.syncMs / o.syncMs).toFixed(2)}× faster sync, ${(o.eventsPerSecond / n.eventsPerSecond).toFixed(2)}× events/s |`;
});
log('');
log('Ratios (naive informer / oombot):');
for (const r of ratios) log(r);

const alerts: string[] = [];
if (latency) {
  alerts.push(
    '## End-to-end latency',
    '',
    'From the pod status change on the simulated API server to the alert arriving at the Slack-compatible server, at a steady 20 incidents/s for 30 s, each a new workload (so each is a new message), over 20 namespaces routed to 20 channels (Slack allows about one message per second per channel). Everything (simulated cluster, Slack, watcher, worker, Redis client) shares the same 2 cores.',
    '',
    '| incidents | delivered | p50 | p99 | max | Kubernetes API calls per incident |',
    '| ---: | ---: | ---: | ---: | ---: | ---: |',
    `| ${latency.incidents} | ${latency.delivered} | ${latency.p50Ms.toFixed(0)} ms | ${latency.p99Ms.toFixed(0)} ms | ${latency.maxMs.toFixed(0)} ms | ${latency.apiCallsPerIncident.toFixed(1)} |`,
    '',
  );
}
if (storm) {
  alerts.push(
    '## Storm',
    '',
    '2,000 OOM kills across 200 Deployments within 60 s, one channel, against a Slack-compatible server that enforces about 1 message per second per channel with 429 and Retry-After. The floor is one message per Deployment at Slack\'s rate: 200 s.',
    '',
    '| kills | Deployments | Slack calls | posts (incl. thread replies) | updates | 429s | drain | floor | drain / floor | alerts lost |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    `| ${storm.kills} | ${storm.deployments} | ${storm.slackCalls} | ${storm.postMessages} | ${storm.updates} | ${storm.rateLimited} | ${storm.drainSeconds.toFixed(0)} s | ${storm.floorSeconds} s | ${(storm.drainSeconds / storm.floorSeconds).toFixed(2)} | ${storm.lost} |`,
    '',
  );
}

const report = [
  '# oombot benchmark report',
  '',
  `Machine: ${machine}. Command: \`npm run bench -- --sizes ${sizes.join(',')}\`.`,
  '',
  '## Watcher',
  '',
  'oombot\'s watcher keeps no pod objects; the naive watcher is @kubernetes/client-node\'s informer, which caches every pod. Both list and watch the same simulated API server (a separate process); RSS and heap are measured in the watcher process after a forced GC. Events/s: 20,000 pod status updates, timed from the first write until the watcher has handled all of them.',
  '',
  ...table,
  '',
  '| pods | memory | heap | speed |',
  '| ---: | --- | --- | --- |',
  ...ratios,
  '',
  ...alerts,
];
const dir = fileURLToPath(new URL('../../bench/results/', import.meta.url));
mkdirSync(dir, { recursive: true });
writeFileSync(`${dir}latest.md`, report.join('\n'));
log('');
log(`report written to bench/results/latest.md`);
export type { WatcherFigures };
