import { randomUUID } from 'node:crypto';
import { sendSlashCommand, startSlackServer } from '../sim/slack/index.js';
import { Child } from './child.js';
import { deleteQueueKeys } from './delete-queue-keys.js';
import type { BotMemoryFigures } from './figures.js';
import type { BotProbeCommand, BotProbePeak, BotProbeSampling, BotProbeStarted } from './procs/bot-probe-protocol.js';
import type { SimWorkloads } from './procs/sim-protocol.js';
import { startSimCluster } from './start-sim-cluster.js';

const SECRET = 'bench-signing-secret-0123456789abcdef';
const CHANNEL = { id: 'C0OOMBENCH', name: 'oom', member: true };
const USER = 'U0BENCH01';

/** The bot's Node flags, as the chart runs it (deploy/helm/oombot/templates/bot-deployment.yaml). */
const BOT_NODE_FLAGS = ['--optimize-for-size'];

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MiB`;

/**
 * The bot's memory while answering `/oom top` and `/oom why` in a cluster of `pods` pods: the bot runs
 * alone in its own process (HTTP mode); `inFlight` commands are sent at once, and the highest RSS and
 * heap the bot reaches before all are answered, over what it had before, is divided by the commands.
 */
export async function benchBotMemory(opts: { pods: number; inFlight: number[]; redisUrl: string }, log: (line: string) => void): Promise<BotMemoryFigures[]> {
  const { sim, ready, close } = await startSimCluster(opts.pods);
  const slack = await startSlackServer({ channels: [CHANNEL] });
  const queue = `bench-bot-${randomUUID().slice(0, 8)}`;
  const probe = new Child<BotProbeCommand>('./procs/bot-probe.js', [ready.kubeconfig, queue, slack.apiUrl, SECRET], { gc: true, nodeFlags: BOT_NODE_FLAGS });
  const out: BotMemoryFigures[] = [];
  try {
    log(`  simulated cluster: ${ready.pods} pods on ${ready.nodes} nodes`);
    const started = await probe.next<BotProbeStarted>('started', 120_000);
    const { workloads } = await sim.ask<SimWorkloads>({ cmd: 'workloads', namespaces: ['botmem'], perNamespace: 1 }, 'workloads');
    const target = workloads[0]!;
    // `why` by a name prefix, without a namespace: the bot looks through every namespace's pods for it.
    const commands = { top: 'top', why: `why ${target.pod.slice(0, -2)}` };
    for (const [name, text] of Object.entries(commands) as [BotMemoryFigures['command'], string][]) {
      for (const k of opts.inFlight) {
        probe.send({ cmd: 'sample' });
        const before = await probe.next<BotProbeSampling>('sampling');
        const t0 = performance.now();
        const answers = await Promise.all(
          Array.from({ length: k }, async () => {
            const { response_url, trigger_id } = slack.interaction({ channel: CHANNEL.id, user: USER });
            const res = await sendSlashCommand(started.url, SECRET, { text, user_id: USER, channel_id: CHANNEL.id, response_url, trigger_id });
            if (res.status !== 200) throw new Error(`/oom ${text} answered HTTP ${res.status}`);
            const record = await slack.waitFor(() => slack.responseUrls.find((u) => u.url === response_url && u.uses.some((x) => x.status === 200)), 300_000);
            const body = record.uses.find((u) => u.status === 200)!.body as { text?: string };
            return String(body.text ?? '');
          }),
        );
        const seconds = (performance.now() - t0) / 1000;
        probe.send({ cmd: 'peak' });
        const peak = await probe.next<BotProbePeak>('peak');
        const fig: BotMemoryFigures = {
          pods: ready.pods,
          command: name,
          inFlight: k,
          rssBeforeBytes: before.rssBytes,
          rssGrowthPerCommandBytes: Math.max(0, peak.rssBytes - before.rssBytes) / k,
          heapGrowthPerCommandBytes: Math.max(0, peak.heapBytes - before.heapBytes) / k,
          seconds,
          answered: answers.filter((a) => a.trim() !== '').length,
        };
        out.push(fig);
        log(
          `  /oom ${name}, ${k} in flight: RSS ${mib(before.rssBytes)} before, +${mib(fig.rssGrowthPerCommandBytes)} and heap +${mib(fig.heapGrowthPerCommandBytes)} per command; answered ${fig.answered} in ${seconds.toFixed(1)} s`,
        );
      }
    }
    return out;
  } finally {
    await probe.kill();
    await slack.close();
    await close();
    await deleteQueueKeys(opts.redisUrl, queue);
  }
}
