/**
 * The bot role: Slack → actions on the cluster. Bolt in HTTP mode on the shared server's
 * `POST /slack/events` (signature checked by SharedHttpReceiver), or Socket Mode when SLACK_APP_TOKEN is
 * set. Every command and click is acknowledged within Slack's 3 seconds; slow work answers later through
 * the response_url (a note first when the cluster is very slow, then the answer).
 */
import { App, type BlockAction, type ButtonAction, type RespondArguments, type RespondFn } from '@slack/bolt';
import type { WebClient } from '@slack/web-api';
import { OombotError, errorMessage } from '../core/errors.js';
import { ProposalStore, type AlertLocation } from '../stores/proposal-store.js';
import { SnoozeStore } from '../stores/snooze-store.js';
import type { RoleContext, RoleHandle } from '../core/role.js';
import { ClusterCache, ClusterCaches } from '../investigate/gather.js';
import { AlertGroups } from '../stores/alert-groups.js';
import { RedisSharedCache } from '../stores/shared-cache.js';
import { NodeSumsReader } from '../stores/node-sums-reader.js';
import { IncidentHistory } from '../stores/incident-history.js';
import { KernelKills } from '../stores/kernel-kills.js';
import { ACTION_EXPLAIN, ACTION_RAISE_LIMIT, ACTION_RESIZE, ACTION_SHOW_LOGS, ACTION_SNOOZE, ACTION_UNDO } from '../alert/action-ids.js';
import { applyProposal, type ChangeKind } from './apply-proposal.js';
import { resizeRunningPods } from './resize-pods.js';
import { explainIncident, showLogs } from './alert-buttons.js';
import { snoozeFromAlert } from './snooze.js';
import { boltLogger } from './bolt-logger.js';
import { forCluster, type BotBase } from './bot-deps.js';
import { runOomCommand } from './oom-command.js';
import { recordChange } from './record-change.js';
import { recordFix } from './record-fix.js';
import { FixStore } from '../stores/fix-store.js';
import { safe, textReply, type Reply } from './reply.js';
import { SharedHttpReceiver, SLACK_EVENTS_PATH } from './shared-http-receiver.js';

export interface BotRoleOptions {
  /** How long a command may take before it is acknowledged with "working on it" (well under Slack's 3 s). */
  ackBudgetMs?: number;
  /**
   * A command or click still at work after this long gets a "still working" note, then its answer
   * when done. A change not yet sent to the API server by then is not sent at all (nothing changed).
   */
  workTimeoutMs?: number;
  now?: () => Date;
}

export interface BotRole extends RoleHandle {
  app: App;
  mode: 'http' | 'socket';
  /** Each request scopes these to its cluster (bot-deps.ts forCluster). */
  deps: BotBase;
  receiver?: SharedHttpReceiver;
  /** Resolves when every command and click taken so far has been answered. */
  idle(): Promise<void>;
}

export function checkBotConfig(ctx: Pick<RoleContext, 'config'>): void {
  const { slack } = ctx.config;
  if (!slack.signingSecret && !slack.appToken) {
    throw new OombotError(
      'CONFIG',
      'the bot role needs SLACK_SIGNING_SECRET (HTTP mode, POST /slack/events) or SLACK_APP_TOKEN (Socket Mode), and neither is set',
      {
        hint: "set SLACK_SIGNING_SECRET to the Signing Secret under your Slack app's Basic Information > App Credentials, or set SLACK_APP_TOKEN=xapp-... (connections:write) for Socket Mode",
      },
    );
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

/** The alert a click came from, when it came from a message in a channel (not an ephemeral answer). */
function alertOf(body: BlockAction): AlertLocation | undefined {
  if (body.container?.is_ephemeral === true) return undefined;
  const channel = body.channel?.id;
  const ts = (body.message as { ts?: string } | undefined)?.ts ?? body.container?.message_ts;
  return channel && ts ? { channel, ts } : undefined;
}

export async function startBotRole(ctx: RoleContext, opts: BotRoleOptions = {}): Promise<BotRole> {
  checkBotConfig(ctx);
  const { config, log } = ctx;
  // No kubeconfig needed here: a hub's bot reaches every cluster through the directory, per request.
  const clusters = ctx.clusters();
  const deps: BotBase = {
    config,
    log,
    clusters,
    caches: new ClusterCaches((cluster) => new ClusterCache(60_000, Date.now, new RedisSharedCache(ctx.redis, config.queueName, cluster))),
    queue: ctx.queue,
    history: new IncidentHistory(ctx.redis, config.queueName, config.dedupeTtlMs),
    kernelKills: new KernelKills(ctx.redis, config.queueName),
    proposals: new ProposalStore(ctx.redis, config.queueName, undefined, { ...(config.proposalKey ? { key: config.proposalKey } : {}), log }),
    snoozes: new SnoozeStore(ctx.redis, config.queueName),
    alerts: new AlertGroups(ctx.redis, config.queueName, config.groupWindowMs),
    nodeSums: new NodeSumsReader(ctx.redis, config.queueName),
    now: opts.now ?? (() => new Date()),
    fixes: new FixStore(ctx.redis, config.queueName, config.verifyWindowMs + config.dedupeTtlMs, log),
    metrics: ctx.metrics,
  };
  const ackBudgetMs = opts.ackBudgetMs ?? 2_000;
  const workTimeoutMs = opts.workTimeoutMs ?? 25_000;
  const seconds = `${Math.round(workTimeoutMs / 100) / 10} s`;
  const logger = boltLogger(log);
  const clientOptions = { ...(config.slack.apiUrl ? { slackApiUrl: config.slack.apiUrl } : {}), retryConfig: { retries: 2 } };
  const botToken = config.slack.botToken;
  if (!botToken) log.warn('SLACK_BOT_TOKEN is not set: the bot answers through response_url only, and cannot update alerts after a change');
  // No auth.test on the request path: the bot token is all a handler needs.
  const authorize = async () => (botToken ? { botToken } : {});

  const socket = Boolean(config.slack.appToken);
  let receiver: SharedHttpReceiver | undefined;
  let app: App;
  if (socket) {
    app = new App({ appToken: config.slack.appToken, socketMode: true, logger, clientOptions, authorize });
  } else {
    receiver = new SharedHttpReceiver({ signingSecret: config.slack.signingSecret!, log, boltLogger: logger });
    app = new App({ receiver, logger, clientOptions, authorize });
  }

  if (botToken) {
    deps.announce = async ({ channel, threadTs, text }) => {
      try {
        await app.client.chat.postMessage({
          token: botToken,
          channel,
          text,
          ...(threadTs ? { thread_ts: threadTs } : {}),
          unfurl_links: false,
          unfurl_media: false,
        });
      } catch (err) {
        log.warn({ err: errorMessage(err), channel }, 'cannot announce in Slack (is the bot in the channel?)');
      }
    };
  }

  const inflight = new Set<Promise<unknown>>();
  const track = <T>(p: Promise<T>): Promise<T> => {
    inflight.add(p);
    void p.finally(() => inflight.delete(p)).catch(() => undefined);
    return p;
  };
  const failed = (err: unknown, what: string): Reply => {
    log.warn({ err: errorMessage(err), what }, 'Slack request failed');
    return textReply(`Sorry, that failed: ${safe(errorMessage(err), 400)}`);
  };
  /**
   * Answers through the response_url. Work still going after `noticeAfterMs` (a slow or stalled API
   * server) first gets a note saying so, then its answer when it is done: never a silent wait, and never
   * "failed" for something that may still happen.
   */
  const answerLater = async (
    respond: RespondFn,
    work: Promise<Reply>,
    what: string,
    forAction: boolean,
    notice: string,
    noticeAfterMs = workTimeoutMs,
  ): Promise<void> => {
    const send = (r: Reply) =>
      respond(toResponse(r, forAction))
        .then(() => undefined)
        .catch((err: unknown) => log.warn({ err: errorMessage(err), what }, 'cannot answer through the response_url'));
    const settled = work.catch((err: unknown) => failed(err, what));
    const first = await within(settled, noticeAfterMs);
    if (first.done) return send(first.value);
    log.warn({ what, waitedMs: noticeAfterMs }, 'Slack request still at work: answering later');
    await send(textReply(notice));
    await send(await settled);
  };

  app.command(/^\/oom/, async ({ command, ack, respond }) => {
    const work = track(runOomCommand(deps, command.text ?? '', { id: command.user_id }));
    const early = await within(work, ackBudgetMs).catch(() => ({ done: false }) as const);
    if (early.done) {
      await ack(toResponse(early.value, false));
      return;
    }
    await ack({ response_type: 'ephemeral', text: ':hourglass_flowing_sand: Looking into it…' });
    void track(
      answerLater(
        respond,
        work,
        '/oom',
        false,
        `:hourglass_flowing_sand: Still looking into it after ${seconds}: the Kubernetes API server is slow. The answer will follow here.`,
      ),
    );
  });

  const change =
    (kind: ChangeKind) =>
    async ({
      ack,
      body,
      action,
      respond,
      client,
    }: {
      ack: () => Promise<void>;
      body: BlockAction;
      action: ButtonAction;
      respond: RespondFn;
      client: WebClient;
    }) => {
      await ack();
      const by = { id: body.user.id, ...(body.user.username || body.user.name ? { name: body.user.username ?? body.user.name } : {}) };
      const alert = alertOf(body);
      const alertBlocks = alert ? (body.message as { blocks?: unknown[] } | undefined)?.blocks : undefined;
      // Past the time limit, a change not yet sent is not sent (see applyProposal).
      const abort = new AbortController();
      const timer = setTimeout(() => abort.abort(), workTimeoutMs);
      timer.unref();
      const work = track(
        applyProposal(deps, action.value, by, kind, { ...(alert ? { alert } : {}), signal: abort.signal })
          .finally(() => clearTimeout(timer))
          .then((result) => {
            // The audit trail goes on by itself: the person's answer does not wait for it.
            if (result.applied)
              void track(
                recordChange(
                  forCluster(deps, result.applied.stored.cluster),
                  botToken ? client : undefined,
                  result.applied,
                  alertBlocks ? { blocks: alertBlocks } : {},
                ),
              );
            if (result.applied) void track(recordFix(deps, result.applied));
            return result.reply;
          }),
      );
      const label = kind === 'raise' ? 'Raise limit' : 'Undo';
      void track(
        answerLater(
          respond,
          work,
          label,
          true,
          `:hourglass_flowing_sand: Still applying after ${seconds}: the Kubernetes API server is slow to confirm the change. The result will follow here; do not click again.`,
          workTimeoutMs + 2_000,
        ),
      );
    };
  app.action<BlockAction<ButtonAction>>(ACTION_RAISE_LIMIT, change('raise'));
  app.action<BlockAction<ButtonAction>>(ACTION_UNDO, change('undo'));

  const simple =
    (what: string, run: (value: string, userId: string) => Promise<Reply>) =>
    async ({ ack, body, action, respond }: { ack: () => Promise<void>; body: BlockAction; action: ButtonAction; respond: RespondFn }) => {
      await ack();
      void track(
        answerLater(
          respond,
          track(run(String(action.value ?? ''), body.user.id)),
          what,
          true,
          `:hourglass_flowing_sand: Still working on it after ${seconds}: the Kubernetes API server is slow. The answer will follow here.`,
        ),
      );
    };
  app.action<BlockAction<ButtonAction>>(
    ACTION_SHOW_LOGS,
    simple('Show logs', (id) => showLogs(deps, id)),
  );
  app.action<BlockAction<ButtonAction>>(
    ACTION_SNOOZE,
    simple('Snooze', (id, user) => snoozeFromAlert(deps, id, user)),
  );
  app.action<BlockAction<ButtonAction>>(
    ACTION_EXPLAIN,
    simple('Explain', (id) => explainIncident(deps, id)),
  );
  app.action<BlockAction<ButtonAction>>(ACTION_RESIZE, async ({ ack, body, action, respond }) => {
    await ack();
    const by = { id: body.user.id, ...(body.user.username || body.user.name ? { name: body.user.username ?? body.user.name } : {}) };
    // Past the time limit no read waits on and no resize is sent (see resizeRunningPods).
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), workTimeoutMs);
    timer.unref();
    const work = track(
      resizeRunningPods(deps, action.value, by, { signal: abort.signal })
        .finally(() => clearTimeout(timer))
        .then((r) => r.reply),
    );
    void track(
      answerLater(
        respond,
        work,
        'Resize running pods',
        true,
        `:hourglass_flowing_sand: Still resizing after ${seconds}: the Kubernetes API server is slow. The result will follow here; do not click again.`,
        workTimeoutMs + 2_000,
      ),
    );
  });

  // Any other action id (an old message, a forged payload): acknowledged at once so Slack shows no
  // error, logged, and ignored.
  const known = [ACTION_RAISE_LIMIT, ACTION_UNDO, ACTION_RESIZE, ACTION_SHOW_LOGS, ACTION_SNOOZE, ACTION_EXPLAIN];
  app.action(new RegExp(`^(?!(?:${known.join('|')})$)`), async ({ ack, body, action }) => {
    await ack();
    const actionId = String((action as { action_id?: unknown }).action_id ?? '').slice(0, 100);
    log.warn({ actionId, user: body.user?.id }, 'unknown Slack action ignored');
  });

  app.error(async (err) => {
    log.error({ err: errorMessage(err) }, 'Slack handler failed');
  });

  if (receiver) {
    ctx.http.route('POST', SLACK_EVENTS_PATH, receiver.requestListener);
    await receiver.start();
    log.info({ path: SLACK_EVENTS_PATH, approvers: config.approvers.length }, 'Slack bot ready (HTTP mode)');
  } else {
    await app.start();
    log.info({ approvers: config.approvers.length }, 'Slack bot connected (Socket Mode)');
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
