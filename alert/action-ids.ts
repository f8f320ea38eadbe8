/**
 * Slack `action_id`s of the alert's buttons, in one place: the renderer sets them, the bot's action
 * handlers listen for them. Each is far inside Slack's 255-character limit (checked by a test).
 */
export const ACTION_RAISE_LIMIT = 'oom_raise_limit';
export const ACTION_SHOW_LOGS = 'oom_show_logs';
export const ACTION_SNOOZE = 'oom_snooze';
export const ACTION_EXPLAIN = 'oom_explain';
export const ACTION_UNDO = 'oom_undo';
/** On the answer to a successful raise: resize the running pods in place (pods/resize). */
export const ACTION_RESIZE = 'oom_resize';

export const ACTION_IDS = {
  raiseLimit: ACTION_RAISE_LIMIT,
  showLogs: ACTION_SHOW_LOGS,
  snooze: ACTION_SNOOZE,
  explain: ACTION_EXPLAIN,
  undo: ACTION_UNDO,
  resize: ACTION_RESIZE,
} as const;

export type ActionId = (typeof ACTION_IDS)[keyof typeof ACTION_IDS];

export const ALL_ACTION_IDS: readonly ActionId[] = Object.values(ACTION_IDS);
