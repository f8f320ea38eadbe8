/**
 * Child process: a hub (`oombot start --roles worker,bot`) with no cluster credentials of its own, so
 * that its CPU is measured apart from the agents, the simulated clusters and the Slack-compatible server.
 *
 * argv[2]: the hub's environment as JSON (REDIS_URL, OOMBOT_QUEUE, SLACK_*, …). The process's own
 * environment is not read for configuration, and HOME points at an empty folder, so no kubeconfig is found.
 * Sends {hubReady, port}, then answers `cpu` (hub-protocol.ts). Runs until killed.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig } from '../../core/config.js';
import { createLogger } from '../../core/logger.js';
import { startOombot } from '../../bin/start.js';
import type { HubCommand, HubCpu, HubReady } from './hub-protocol.js';

const env = JSON.parse(process.argv[2] ?? '{}') as Record<string, string>;
const config = loadConfig(env);
const app = await startOombot({ config, roles: ['worker', 'bot'], log: createLogger(config.logLevel), host: '127.0.0.1' });
for (const deadline = Date.now() + 120_000; ; ) {
  if ((await app.http.readiness()).ok) break;
  if (Date.now() > deadline) throw new Error(`the hub was not ready after 2 min: ${JSON.stringify(await app.http.readiness())}`);
  await sleep(50);
}
let since = process.cpuUsage();
process.send!({ hubReady: true, port: app.port } satisfies HubReady);
process.on('message', (m: HubCommand) => {
  if (m.cmd !== 'cpu') return;
  const used = process.cpuUsage(since);
  since = process.cpuUsage();
  process.send!({ cpuMs: (used.user + used.system) / 1000, rssBytes: process.memoryUsage().rss } satisfies HubCpu);
});
process.on('disconnect', () => {
  void app.stop().finally(() => process.exit(0));
});
