/** auth.test: who the token belongs to. */
import type { MethodHandler } from './common.js';

export const authTest: MethodHandler = (_args, { ws }) => ({
  ok: true,
  url: `https://${ws.team.domain}.slack.com/`,
  team: ws.team.name,
  user: ws.bot.name,
  team_id: ws.team.id,
  user_id: ws.bot.userId,
  bot_id: ws.bot.botId,
  is_enterprise_install: false,
});
