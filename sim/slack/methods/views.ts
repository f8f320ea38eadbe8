/** views.open: trigger ids are single-use and expire, and the view is validated like Slack does. */
import { parseJsonArgument, validateView } from '../validate-blocks.js';
import { slackId, withGeneratedIds } from '../workspace.js';
import { asString, fail, type MethodHandler } from './common.js';

export const viewsOpen: MethodHandler = (args, { ws, triggerIdTtlMs, strictTriggerIds }) => {
  const triggerId = asString(args.trigger_id);
  if (!triggerId) return fail('invalid_arguments', ['[ERROR] missing required field: trigger_id']);
  const trigger = ws.triggers.get(triggerId);
  if (trigger) {
    if (trigger.used) return fail('exchanged_trigger_id');
    if (ws.now() - trigger.issuedAt > triggerIdTtlMs) return fail('expired_trigger_id');
  } else if (strictTriggerIds) {
    return fail('invalid_trigger_id');
  }
  const parsed = parseJsonArgument(args.view);
  if (parsed.invalid || parsed.value === undefined) return fail('invalid_arguments', ['[ERROR] missing required field: view']);
  const problems = validateView(parsed.value);
  if (problems.length > 0) return fail('invalid_arguments', problems);
  if (trigger) trigger.used = true;
  const view = parsed.value as Record<string, unknown>;
  const id = slackId('V');
  const blocks = Array.isArray(view.blocks) ? withGeneratedIds(view.blocks) : [];
  const output = {
    id,
    team_id: ws.team.id,
    app_id: ws.bot.appId,
    bot_id: ws.bot.botId,
    app_installed_team_id: ws.team.id,
    type: view.type,
    title: view.title,
    submit: view.submit ?? null,
    close: view.close ?? null,
    blocks,
    private_metadata: view.private_metadata ?? '',
    callback_id: view.callback_id ?? '',
    external_id: view.external_id ?? '',
    state: { values: {} },
    hash: `${Math.floor(ws.now() / 1000)}.${slackId('', 8)}`,
    clear_on_close: view.clear_on_close ?? false,
    notify_on_close: view.notify_on_close ?? false,
    root_view_id: id,
    previous_view_id: null,
  };
  ws.views.push({ id, trigger_id: triggerId, view: output, at: ws.now() });
  ws.changed();
  return { ok: true, view: output };
};
