/**
 * The bot role: Slack → actions on the cluster. Bolt in HTTP mode on the shared server's
 * `POST /slack/events` (signature checked by SharedHttpReceiver), or Socket Mode when SLACK_APP_TOKEN is
 * set. Every command and click is acknowledged within Slack's 3 seconds; slow work answers later through
 * the response_url.
 */
import { App, type BlockAction, type ButtonAction, type RespondArguments, type RespondFn } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { OombotError, errorMessage } from '../core/errors.js';
import { ProposalStore } from '../core/proposal-store.js';
import { SnoozeStore } from '../core/snooze-store.js';
import type { RoleContext, RoleHandle } from '../core/start.js';
import { ClusterCache } from '../handlers/gather.js';
import { IncidentHistory } from '../handlers/incident-history.js';
import { ACTION_EXPLAIN, ACTION_RAISE_LIMIT, ACTION_SHOW_LOGS, ACTION_SNOOZE, ACTION_UNDO } from '../handlers/model/action-ids.js';
import { applyProposal, type ChangeKind } from './apply-proposal.js';
import { explainIncident, showLogs, snoozeFromAlert } from './alert-buttons.js';
import { boltLogger } from './bolt-logger.js';
import type { BotDeps } from './bot-deps.js';
import { runOomCommand } from './oom-command.js';
import { recordChange } from './record-change.js';
import { safe, textReply, type Reply } from './reply.js';
import { SharedHttpReceiver, SLACK_EVENTS_PATH } from './shared-http-receiver.js';

export interface BotRoleOptions {
  /** How long a command may take before it is acknowledged with "working on it" (well under Slack's 3 s). */
  ackBudgetMs?: number;
  /** A command or click that takes longer than this is answered with a failure. */
  workTimeoutMs?: number;
  now?: () => Date;
}

export interface BotRole extends RoleHandle {
  app: App;
  mode: 'http' | 'socket';
  deps: BotDeps;
  receiver?: SharedHttpReceiver;
  /** Resolves when every command and click taken so far has been answered. */
  idle(): Promise<void>;
}

export function checkBotConfig(ctx: Pick<RoleContext, 'config'>): void {
  const { slack } = ctx.config;
  if (!slack.signingSecret && !slack.appToken) {
    throw new OombotError('CONFIG', 'the bot role needs SLACK_SIGNING_SECRET (HTTP mode, POST /slack/events) or SLACK_APP_TOKEN (Socket Mode), and neither is set', {
      hint: 'set SLACK_SIGNING_SECRET to the Signing Secret under your Slack app\'s Basic Information > App Credentials, or set SLACK_APP_TOKEN=xapp-... (connections:write) for Socket Mode',
    });
  }
}

function toResponse(reply: Reply, forAction: boolean): RespondArguments {
  return {
    response_type: reply.inChannel ? 'in_channel' : 'ephemeral',
    text: reply.text,
    ...(reply.blocks ? { blocks: reply.blocks } : {}),
    ...(forAction ? { replace_original: false } : {}),
  } as RespondArguments;
}

function within<T>(work: Promise<T>, ms: number): Promise<{ done: true; value: T } | { done: false }> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve({ done: false }), ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve({ done: true, value });
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

export async function startBotRole(ctx: RoleContext, opts: BotRoleOptions = {}): Promise<BotRole> {
  checkBotConfig(ctx);
  const { config, log } = ctx;
  const kube = ctx.kube();
  const deps: BotDeps = {
    config,
    log,
    kube,
    cluster: kube.target.clusterName,
    redis: ctx.redis,
    queue: ctx.queue,
    history: new IncidentHistory(ctx.redis, config.queueName, config.dedupeTtlMs),
    proposals: new ProposalStore(ctx.redis, config.queueName),
    snoozes: new SnoozeStore(ctx.redis, config.queueName),
    cache: new ClusterCache(),
    now: opts.now ?? (() => new Date()),
  };
  const ackBudgetMs = opts.ackBudgetMs ?? 2_000;
  const workTimeoutMs = opts.workTimeoutMs ?? 25_000;
  const logger = boltLogger(log);
  const clientOptions = { ...(config.slack.apiUrl ? { slackApiUrl: config.slack.apiUrl } : {}), retryConfig: { retries: 2 } };
  const botToken = config.slack.botToken;
  if (!botToken) log.warn('SLACK_BOT_TOKEN is not set: the bot answers through response_url only, and cannot update alerts after a change');

  const socket = Boolean(config.slack.appToken);
  let receiver: SharedHttpReceiver | undefined;
  let app: App;
  if (socket) {
    app = new App({ token: botToken, appToken: config.slack.appToken, socketMode: true, logger, clientOptions });
  } else {
    receiver = new SharedHttpReceiver({ signingSecret: config.slack.signingSecret!, log, boltLogger: logger });
    // No auth.test on the request path: the bot token is all a handler needs.
    app = new App({ receiver, logger, clientOptions, authorize: async () => (botToken ? { botToken } : {}) });
  }

  const inflight = new Set<Promise<unknown>>();
  const track = <T>(p: Promise<T>): Promise<T> => {
    inflight.add(p);
    void p.finally(() => inflight.delete(p)).catch(() => undefined);
    return p;
  };
  const timed = <T>(p: Promise<T>, what: string): Promise<T> =>
    Promise.race([p, new Promise<never>((_, reject) => setTimeout(() => reject(new OombotError('UNKNOWN', `${what} took longer than ${Math.round(workTimeoutMs / 1000)} s`)), workTimeoutMs).unref())]);
  const answerLater = (respond: RespondFn, reply: Promise<Reply>, what: string, forAction: boolean): Promise<void> =>
    timed(reply, what)
      .catch((err: unknown) => {
        log.warn({ err: errorMessage(err), what }, 'Slack request failed');
        return textReply(`Sorry, that failed: ${safe(errorMessage(err), 400)}`);
      })
      .then((r) => respond(toResponse(r, forAction)))
      .then(() => undefined)
      .catch((err: unknown) => log.warn({ err: errorMessage(err), what }, 'cannot answer through the response_url'));

  app.command(/^\/oom/, async ({ command, ack, respond }) => {
    const work = track(runOomCommand(deps, command.text ?? '', { id: command.user_id }));
    const early = await within(work, ackBudgetMs).catch(() => ({ done: false }) as const);
    if (early.done) {
      await ack(toResponse(early.value, false));
      return;
    }
    await ack({ response_type: 'ephemeral', text: ':hourglass_flowing_sand: Looking into it…' });
    void track(answerLater(respond, work, '/oom', false));
  });

  const change = (kind: ChangeKind) =>
    async ({ ack, body, action, respond, client }: { ack: () => Promise<void>; body: BlockAction; action: ButtonAction; respond: RespondFn; client: WebClient }) => {
      await ack();
      const by = { id: body.user.id, ...(body.user.username || body.user.name ? { name: body.user.username ?? body.user.name } : {}) };
      const message = body.message as { ts?: string; blocks?: unknown[] } | undefined;
      const work = track(
        (async () => {
          const result = await applyProposal(deps, action.value, by, kind);
          if (result.applied) {
            await recordChange(deps, botToken ? client : undefined, result.applied, {
              ...(body.channel?.id ? { channel: body.channel.id } : {}),
              ...(message?.ts ?? body.container?.message_ts ? { ts: message?.ts ?? body.container.message_ts } : {}),
              ...(message?.blocks ? { blocks: message.blocks } : {}),
              isEphemeral: body.container?.is_ephemeral === true,
            });
          }
          return result.reply;
        })(),
      );
      void track(answerLater(respond, work, kind === 'raise' ? 'Raise limit' : 'Undo', true));
    };
  app.action<BlockAction<ButtonAction>>(ACTION_RAISE_LIMIT, change('raise'));
  app.action<BlockAction<ButtonAction>>(ACTION_UNDO, change('undo'));

  const simple = (what: string, run: (value: string, userId: string) => Promise<Reply>) =>
    async ({ ack, body, action, respond }: { ack: () => Promise<void>; body: BlockAction; action: ButtonAction; respond: RespondFn }) => {
      await ack();
      void track(answerLater(respond, track(run(String(action.value ?? ''), body.user.id)), what, true));
    };
  app.action<BlockAction<ButtonAction>>(ACTION_SHOW_LOGS, simple('Show logs', (id) => showLogs(deps, id)));
  app.action<BlockAction<ButtonAction>>(ACTION_SNOOZE, simple('Snooze', (id, user) => snoozeFromAlert(deps, id, user)));
  app.action<BlockAction<ButtonAction>>(ACTION_EXPLAIN, simple('Explain', (id) => explainIncident(deps, id)));

  app.error(async (err) => {
    log.error({ err: errorMessage(err) }, 'Slack handler failed');
  });

  if (receiver) {
    ctx.http.route('POST', SLACK_EVENTS_PATH, receiver.requestListener);
    await receiver.start();
    log.info({ path: SLACK_EVENTS_PATH, cluster: deps.cluster, approvers: config.approvers.length }, 'Slack bot ready (HTTP mode)');
  } else {
    await app.start();
    log.info({ cluster: deps.cluster, approvers: config.approvers.length }, 'Slack bot connected (Socket Mode)');
  }
  if (config.approvers.length === 0) log.warn('OOMBOT_APPROVERS is empty: nobody can apply changes from Slack');

  const idle = async () => {
    while (inflight.size > 0) await Promise.allSettled([...inflight]);
  };
  return {
    app,
    mode: socket ? 'socket' : 'http',
    deps,
    ...(receiver ? { receiver } : {}),
    idle,
    readiness: () => ({ ok: true }),
    async stop() {
      await receiver?.stop();
      // Finish the answers in hand, but do not wait forever on a hung cluster.
      await Promise.race([idle(), new Promise((r) => setTimeout(r, 10_000).unref())]);
      if (socket) await app.stop();
    },
  };
}

/** The bot's entry in core/start.ts ROLE_STARTERS. */
export const botRole = (ctx: RoleContext): Promise<BotRole> => startBotRole(ctx);
