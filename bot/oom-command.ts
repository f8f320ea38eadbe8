/** `/oom <subcommand>` → the answer. Every failure becomes a short answer, never a silent one. */
import { asOombotError } from '../core/errors.js';
import type { BotBase } from './bot-deps.js';
import { answerClusters } from './answer-clusters.js';
import { chooseCluster } from './pick-cluster.js';
import { answerWhy } from './answer-why.js';
import { answerTop } from './answer-top.js';
import { answerHistory, answerSnooze, answerUnsnooze } from './answer-workload.js';
import { type OomCommand, parseOomCommand, SUBCOMMANDS, USAGE } from './parse-oom-command.js';
import { code, safe, textReply, type Reply } from './reply.js';
import { inScope, outOfScopeReply } from './scope.js';

export function helpReply(): Reply {
  return textReply(
    [
      '*oombot* explains OOM kills and evictions, and raises memory limits for approvers.',
      ...SUBCOMMANDS.map((s) => `• ${code(USAGE[s], 200)}`),
      'Alerts carry buttons: *Raise limit* (approvers only, with a dry run first), *Show logs*, *Snooze*, *Explain*.',
    ].join('\n'),
  );
}

export async function runOomCommand(base: BotBase, text: string, user: { id: string }): Promise<Reply> {
  const cmd = parseOomCommand(text);
  const named = namespaceOf(cmd);
  if (named !== undefined && !inScope(base.config, named)) return outOfScopeReply(base, named);
  try {
    switch (cmd.name) {
      case 'help':
        return helpReply();
      case 'invalid':
        return textReply(`${safe(cmd.problem, 400)}.\n${cmd.usage ? `Usage: ${code(cmd.usage, 200)}` : 'Try `/oom help`.'}`);
      case 'clusters':
        return await answerClusters(base);
      case 'why':
        return await answerWhy(base, cmd.pod);
      case 'top': {
        const choice = await chooseCluster(base, cmd.cluster, cmd.namespace);
        if (choice.kind === 'reply') return choice.reply;
        if (choice.kind === 'several') {
          const names = choice.clusters.map((c) => code(c.name, 63)).join(', ');
          return textReply(
            `oombot reaches several clusters (${names}): name one, e.g. ${code(`/oom top ${cmd.namespace ?? ''} --cluster ${choice.clusters[0]!.name}`.replace('  ', ' '), 200)}.`,
          );
        }
        return await answerTop(choice.deps, cmd.namespace);
      }
      case 'history':
        return await answerHistory(base, cmd.workload);
      case 'snooze':
        return await answerSnooze(base, cmd.workload, cmd.durationMs, cmd.durationText, user.id);
      case 'unsnooze':
        return await answerUnsnooze(base, cmd.workload, user.id);
    }
  } catch (err) {
    const e = asOombotError(err);
    base.log.warn({ command: cmd.name, code: e.code, err: e.message, hint: e.hint }, '/oom failed');
    return textReply(`Sorry, that failed: ${safe(e.message, 500)}${e.hint ? `\n_${safe(e.hint, 300)}_` : ''}`);
  }
}

/** The namespace a command names explicitly, if any: checked against the scope before anything is read. */
function namespaceOf(cmd: OomCommand): string | undefined {
  switch (cmd.name) {
    case 'why':
      return cmd.pod.namespace;
    case 'top':
      return cmd.namespace;
    case 'history':
    case 'snooze':
    case 'unsnooze':
      return cmd.workload.namespace;
    default:
      return undefined;
  }
}
