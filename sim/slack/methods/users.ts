/** users.info. */
import { fail, type MethodHandler } from './common.js';

export const usersInfo: MethodHandler = (args, { ws }) => {
  const user = ws.user(args.user);
  if (!user) return fail('user_not_found');
  return {
    ok: true,
    user: {
      id: user.id,
      team_id: ws.team.id,
      name: user.name,
      real_name: user.real_name ?? user.name,
      deleted: false,
      tz: user.tz ?? 'UTC',
      is_bot: user.is_bot ?? false,
      is_admin: false,
      profile: { real_name: user.real_name ?? user.name, display_name: user.name, team: ws.team.id },
    },
  };
};
