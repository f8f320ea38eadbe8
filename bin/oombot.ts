#!/usr/bin/env node
import { Command, Option } from 'commander';
import { ALL_ROLES, ConfigError, DEFAULT_ROLES, loadConfig, parseRoles, type Config, type Role } from '../core/config.js';
import { createLogger } from '../core/logger.js';
import { OombotError, errorMessage } from '../core/errors.js';
import { type Oombot, ROLE_STARTERS, startOombot } from './start.js';
import { hasKubeConfig } from '../core/kube.js';
import { demoFallbackRefusal } from './demo-fallback.js';

/** The roles a hub runs: with only these and no kubeconfig, `start` serves the clusters' agents. */
const HUB_ROLES: readonly Role[] = ['worker', 'bot'];

const ENV_HELP = `
Configuration (environment variables):
  KUBECONFIG               kubeconfig path; in-cluster service account when unset in a pod
  CLUSTER_NAME             cluster name in alerts (default: the kube context name)
  WATCH_NAMESPACES         comma list of namespaces to watch (default: all)
  REDIS_URL                Redis for the queue (default redis://127.0.0.1:6379); Sentinel:
                           redis-sentinel://[:pw@]host:26379,host2:26379[/db]#master;
                           Cluster: redis-cluster://[:pw@]host:6379,host2:6379 (rediss-… for TLS)
  SLACK_BOT_TOKEN          xoxb-... bot token; without it alerts print to the console
  SLACK_SIGNING_SECRET     verifies requests from Slack (HTTP mode)
  SLACK_APP_TOKEN          xapp-... app token: Socket Mode when set
  SLACK_API_URL            base URL of the Slack Web API (proxies, tests)
  SLACK_CHANNEL            default alert channel (#name or id)
  OOMBOT_ROUTES            per-namespace channels: "payments=#pay-oncall,shop=C0123"
  OOMBOT_APPROVERS         Slack user ids allowed to apply fixes (none: nobody can)
  OOMBOT_SNOOZERS          Slack user ids allowed to snooze alerts (default: the approvers)
  OOMBOT_PROPOSAL_KEY      HMAC key sealing stored fix proposals; the same for worker and bot
  OOMBOT_LOOKBACK          on a first start, kills older than this are not alerted (default 15m)
  OOMBOT_DEDUPE_TTL        how long incident ids are remembered (default 7d)
  OOMBOT_WATCH_SILENCE     restart a watch silent for this long (default 5m)
  OOMBOT_GROUP_WINDOW      repeats of a workload within this window thread (default 30m)
  OOMBOT_JOB_LOCK          a crashed worker's jobs go to another worker after this (default 60s)
  OOMBOT_VERIFY_WINDOW     a raise with no kill at the new limit this long after its rollout held (default 24h)
  OOMBOT_MAX_MEMORY_LIMIT  highest memory limit a fix may propose, e.g. 16Gi
  OOMBOT_QUEUE             queue name (default oombot-incidents)
  PORT                     HTTP port for /healthz, /readyz, /metrics, /slack/events (default 3000)
  LOG_LEVEL                fatal, error, warn, info, debug, trace, silent (default info)
Node agent (--roles node-agent, one per node: the chart's DaemonSet):
  NODE_NAME                the node it runs on (downward API spec.nodeName); required by the node agent
  OOMBOT_KMSG              kernel log to follow (default /dev/kmsg; a file or FIFO in its format for tests)
  OOMBOT_BOOT_ID           the node's boot id (default: read /proc/sys/kernel/random/boot_id)
`;

const program = new Command()
  .name('oombot')
  .description('Reports Kubernetes OOM kills and evictions to Slack with their cause, and fixes memory limits from Slack.')
  .version(process.env.npm_package_version ?? '0.1.0')
  .addHelpText('after', ENV_HELP);

program
  .command('start')
  .description(
    'run oombot: the watcher (Kubernetes -> queue), the worker (queue -> Slack) and the bot (Slack -> cluster); the node agent (kernel log -> queue) only when named in --roles',
  )
  .addOption(
    new Option('--roles <roles>', `comma list of roles to run in this process (${ALL_ROLES.join(', ')})`).default(
      DEFAULT_ROLES.filter((r) => ROLE_STARTERS[r]).join(','),
    ),
  )
  .addHelpText('after', ENV_HELP)
  .action(async (options: { roles: string }) => {
    let roles: Role[];
    let config: Config;
    try {
      roles = parseRoles(options.roles);
      config = loadConfig();
    } catch (err) {
      if (err instanceof ConfigError) {
        process.stderr.write(`oombot: ${err.message}\n`);
        process.exit(2);
      }
      throw err;
    }
    // A hub (the worker and the bot only) holds no cluster credentials: it reaches each cluster through
    // that cluster's agent. Any other role needs a cluster, and without one a bare machine gets the demo.
    const hub = !hasKubeConfig(config.kubeconfig) && roles.every((r) => HUB_ROLES.includes(r));
    if (!hasKubeConfig(config.kubeconfig) && !hub) {
      const refusal = demoFallbackRefusal(process.env);
      if (refusal) {
        process.stderr.write(`oombot: ${refusal}\n`);
        process.exit(2);
      }
      process.stderr.write(
        'oombot: no cluster configured (no KUBECONFIG, no in-cluster service account, no ~/.kube/config): starting the demo on a simulated cluster\n',
      );
      await demo(roles, config, false);
      return;
    }
    const log = createLogger(config.logLevel);
    if (hub) {
      log.info(
        { roles },
        'no kubeconfig: running as a hub, reaching each cluster through its agent (oombot start --roles agent in the cluster, on this Redis, with this OOMBOT_QUEUE and OOMBOT_PROPOSAL_KEY)',
      );
    }
    let app: Oombot;
    try {
      app = await startOombot({ config, roles, log, ...(hub ? { kubeTarget: null } : {}) });
    } catch (err) {
      const hint = err instanceof OombotError ? err.hint : undefined;
      log.fatal({ err: errorMessage(err), hint }, 'oombot could not start');
      process.stderr.write(`oombot: ${errorMessage(err)}${hint ? `\n  fix: ${hint}` : ''}\n`);
      process.exit(1);
    }
    const shutdown = (signal: string) => {
      log.info({ signal }, 'signal received');
      const force = setTimeout(() => {
        log.error('shutdown took over 25 s: exiting anyway (unfinished jobs are retried by another worker)');
        process.exit(1);
      }, 25_000);
      force.unref();
      app.stop().then(
        () => process.exit(0),
        (err: unknown) => {
          log.error({ err: errorMessage(err) }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });

program
  .command('demo')
  .description('run oombot against a simulated cluster with scripted incidents (no cluster or Slack needed)')
  .option('--exit-when-done', 'stop once the scripted scenarios are done instead of running until Ctrl-C')
  .option('--step <seconds>', 'seconds between scenario steps', '8')
  .action(async (options: { exitWhenDone?: boolean; step: string }) => {
    let config: Config;
    try {
      config = loadConfig();
    } catch (err) {
      if (err instanceof ConfigError) {
        process.stderr.write(`oombot: ${err.message}\n`);
        process.exit(2);
      }
      throw err;
    }
    await demo(
      DEFAULT_ROLES.filter((r) => ROLE_STARTERS[r]),
      config,
      Boolean(options.exitWhenDone),
      Number(options.step),
    );
  });

/** What bin/ needs of sim/demo.ts: the simulator is loaded only for the demo, and the image leaves it out. */
interface DemoModule {
  runDemo(opts: { config: Config; roles: Role[]; exitWhenDone: boolean; stepSeconds: number; signal: AbortSignal }): Promise<void>;
}

/** The demo's module, or undefined where this build has no simulator (the production image). */
async function loadDemo(): Promise<DemoModule | undefined> {
  // A computed specifier, so the product's build does not compile the simulator in.
  const specifier = new URL('../sim/demo.js', import.meta.url).href;
  try {
    return (await import(specifier)) as DemoModule;
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && String((err as Error).message).includes('sim/demo.js')) return undefined;
    throw err;
  }
}

async function demo(roles: Role[], config: Config, exitWhenDone: boolean, stepSeconds = 8): Promise<void> {
  const demoModule = await loadDemo();
  if (!demoModule) {
    process.stderr.write(
      'oombot: the demo is not part of this build (the production image leaves the simulator out).\n' +
        '  fix: run the demo from a clone of the repository (npm ci && npm start), or give this build a cluster: KUBECONFIG, or in-cluster configuration\n',
    );
    process.exit(2);
  }
  const { runDemo } = demoModule;
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  process.once('SIGTERM', () => stop.abort());
  try {
    await runDemo({ config, roles, exitWhenDone, stepSeconds, signal: stop.signal });
    process.exit(0);
  } catch (err) {
    process.stderr.write(`oombot demo: ${errorMessage(err)}\n`);
    process.exit(1);
  }
}

await program.parseAsync(process.argv);
