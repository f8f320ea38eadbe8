/**
 * Child process: the bot role alone against the simulated cluster, in HTTP mode, reporting its memory.
 * argv: kubeconfig, queue name, Slack API URL, signing secret.
 * Messages to the parent: {started, url, ...memory after a forced collection}; after {cmd:'sample'},
 * {sampling}; after {cmd:'peak'}, {peak, ...highest RSS and heap seen since 'sample'}.
 */
import { loadConfig } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import { loadKubeTarget } from '../../core/kube.js';
import { startOombot } from '../../bin/start.js';
import type { BotProbeCommand, BotProbeMessage } from './bot-probe-protocol.js';

const [kubeconfig, queueName, slackApiUrl, signingSecret] = process.argv.slice(2) as [string, string, string, string];
const gc = (globalThis as { gc?: () => void }).gc;

function send(msg: BotProbeMessage): void {
  process.send?.(msg);
}

process.on('disconnect', () => process.exit(0));

const config = loadConfig({
  REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
  OOMBOT_QUEUE: queueName,
  SLACK_BOT_TOKEN: 'xoxb-bench-token',
  SLACK_SIGNING_SECRET: signingSecret,
  SLACK_API_URL: slackApiUrl,
  SLACK_CHANNEL: '#oom',
  PORT: '0',
  LOG_LEVEL: 'silent',
});
const app = await startOombot({
  config,
  roles: ['bot'],
  log: createLogger('silent'),
  kubeTarget: loadKubeTarget({ kubeconfig, clusterName: 'bench' }),
  host: '127.0.0.1',
});
gc?.();
gc?.();
const m = process.memoryUsage();
send({ started: true, url: `http://127.0.0.1:${app.port}/slack/events`, rssBytes: m.rss, heapBytes: m.heapUsed });

let peak = { rssBytes: 0, heapBytes: 0 };
let timer: NodeJS.Timeout | undefined;
process.on('message', (msg: BotProbeCommand) => {
  if (msg.cmd === 'sample') {
    gc?.();
    gc?.();
    const now = process.memoryUsage();
    peak = { rssBytes: now.rss, heapBytes: now.heapUsed };
    timer = setInterval(() => {
      const u = process.memoryUsage();
      peak = { rssBytes: Math.max(peak.rssBytes, u.rss), heapBytes: Math.max(peak.heapBytes, u.heapUsed) };
    }, 5);
    send({ sampling: true, rssBytes: now.rss, heapBytes: now.heapUsed });
  } else if (msg.cmd === 'peak') {
    if (timer) clearInterval(timer);
    send({ peak: true, ...peak });
  }
});
