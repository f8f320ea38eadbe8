/**
 * Builders for the bodies Slack sends to an app: slash commands (form fields), and `block_actions` /
 * `view_submission` interaction payloads, following the shapes in Slack's reference docs.
 */
import { randomBytes } from 'node:crypto';

export interface SlackIdentity {
  team_id?: string;
  team_domain?: string;
  api_app_id?: string;
  /** The deprecated verification token Slack still sends in every payload. */
  token?: string;
}

export interface SlashCommandInput extends SlackIdentity {
  command?: string;
  text?: string;
  user_id?: string;
  user_name?: string;
  channel_id?: string;
  channel_name?: string;
  response_url?: string;
  trigger_id?: string;
  is_enterprise_install?: boolean;
  enterprise_id?: string;
  enterprise_name?: string;
}

export const SIM_DEFAULTS = {
  team_id: 'T0SIMTEAM',
  team_domain: 'oombot-sim',
  api_app_id: 'A0OOMBOT',
  token: 'verification-token-sim',
  user_id: 'U0ALICE',
  user_name: 'alice',
  channel_id: 'C0ALERTS',
  channel_name: 'alerts',
} as const;

/** A trigger id in Slack's format; a server-minted one (`server.mintTriggerId()`) is tracked for expiry. */
export function makeTriggerId(nowMs = Date.now()): string {
  return `${Math.floor(nowMs / 1000)}.${Math.floor(Math.random() * 1e9)}.${randomBytes(16).toString('hex')}`;
}

/** Slack-style action_ts: seconds with six decimals. */
export function makeActionTs(nowMs = Date.now()): string {
  return `${Math.floor(nowMs / 1000)}.${String((nowMs % 1000) * 1000 + Math.floor(Math.random() * 1000)).padStart(6, '0')}`;
}

/**
 * Default response_url when the caller gives none: Slack's shape on a reserved `.invalid` host, so a test that
 * forgot `server.interaction()` fails fast instead of reaching the real Slack.
 */
const unroutableResponseUrl = (teamId: string) =>
  `https://hooks.slack.invalid/commands/${teamId}/${Math.floor(Math.random() * 1e12)}/${randomBytes(12).toString('hex')}`;

/** All form fields Slack sends with a slash command, in Slack's order. */
export function slashCommandFields(input: SlashCommandInput): Record<string, string> {
  const teamId = input.team_id ?? SIM_DEFAULTS.team_id;
  const fields: Record<string, string> = {
    token: input.token ?? SIM_DEFAULTS.token,
    team_id: teamId,
    team_domain: input.team_domain ?? SIM_DEFAULTS.team_domain,
    channel_id: input.channel_id ?? SIM_DEFAULTS.channel_id,
    channel_name: input.channel_name ?? SIM_DEFAULTS.channel_name,
    user_id: input.user_id ?? SIM_DEFAULTS.user_id,
    user_name: input.user_name ?? SIM_DEFAULTS.user_name,
    command: input.command ?? '/oom',
    text: input.text ?? '',
    api_app_id: input.api_app_id ?? SIM_DEFAULTS.api_app_id,
    is_enterprise_install: String(input.is_enterprise_install ?? false),
    response_url: input.response_url ?? unroutableResponseUrl(teamId),
    trigger_id: input.trigger_id ?? makeTriggerId(),
  };
  if (input.enterprise_id !== undefined) fields.enterprise_id = input.enterprise_id;
  if (input.enterprise_name !== undefined) fields.enterprise_name = input.enterprise_name;
  return fields;
}

export interface BlockActionInput extends SlackIdentity {
  action_id: string;
  value?: string;
  block_id?: string;
  /** Button label; defaults to the label found in `message.blocks`, else the action id. */
  button_text?: string;
  user?: { id: string; username?: string; name?: string };
  channel?: { id: string; name?: string };
  message_ts: string;
  /** The message the button sits on, as Slack stores it (e.g. `messageJson` of a recorded message). */
  message?: Record<string, unknown>;
  is_ephemeral?: boolean;
  response_url?: string;
  trigger_id?: string;
  action_ts?: string;
  state?: { values: Record<string, Record<string, unknown>> };
}

interface FoundButton {
  block_id: string;
  text?: unknown;
  value?: unknown;
}

function findButton(blocks: unknown, actionId: string): FoundButton | undefined {
  if (!Array.isArray(blocks)) return undefined;
  for (const block of blocks as Array<Record<string, unknown>>) {
    const elements = [...(Array.isArray(block.elements) ? block.elements : []), ...(block.accessory ? [block.accessory] : [])] as Array<
      Record<string, unknown>
    >;
    const el = elements.find((e) => e?.action_id === actionId);
    if (el) return { block_id: String(block.block_id ?? ''), text: el.text, value: el.value };
  }
  return undefined;
}

/** A `block_actions` payload for a button click on a message. */
export function blockActionPayload(input: BlockActionInput): Record<string, unknown> {
  const teamId = input.team_id ?? SIM_DEFAULTS.team_id;
  const user = input.user ?? { id: SIM_DEFAULTS.user_id, username: SIM_DEFAULTS.user_name };
  const username = user.username ?? user.name ?? SIM_DEFAULTS.user_name;
  const channel = input.channel ?? { id: SIM_DEFAULTS.channel_id, name: SIM_DEFAULTS.channel_name };
  const found = findButton(input.message?.blocks, input.action_id);
  const message = input.message ?? { type: 'message', ts: input.message_ts, text: '', user: 'U0OOMBOT' };
  const actionTs = input.action_ts ?? makeActionTs();
  return {
    type: 'block_actions',
    user: { id: user.id, username, name: user.name ?? username, team_id: teamId },
    api_app_id: input.api_app_id ?? SIM_DEFAULTS.api_app_id,
    token: input.token ?? SIM_DEFAULTS.token,
    container: {
      type: 'message',
      message_ts: input.message_ts,
      channel_id: channel.id,
      is_ephemeral: input.is_ephemeral ?? false,
    },
    trigger_id: input.trigger_id ?? makeTriggerId(),
    team: { id: teamId, domain: input.team_domain ?? SIM_DEFAULTS.team_domain },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: channel.id, name: channel.name ?? SIM_DEFAULTS.channel_name },
    message,
    state: input.state ?? { values: {} },
    response_url: input.response_url ?? unroutableResponseUrl(teamId).replace('/commands/', '/actions/'),
    actions: [
      {
        action_id: input.action_id,
        block_id: input.block_id ?? found?.block_id ?? randomBytes(3).toString('base64url'),
        text: found?.text ?? { type: 'plain_text', text: input.button_text ?? input.action_id, emoji: true },
        value: input.value ?? (typeof found?.value === 'string' ? found.value : ''),
        type: 'button',
        action_ts: actionTs,
      },
    ],
  };
}

export interface ViewSubmissionInput extends SlackIdentity {
  callback_id: string;
  /** `state.values`: block_id -> action_id -> element state, e.g. `{ type: 'plain_text_input', value: '512Mi' }`. */
  values?: Record<string, Record<string, unknown>>;
  private_metadata?: string;
  view_id?: string;
  blocks?: unknown[];
  title?: string;
  user?: { id: string; username?: string; name?: string };
  trigger_id?: string;
  /** Present when the modal has `response_url_enabled` inputs. */
  response_urls?: Array<{ block_id: string; action_id: string; channel_id: string; response_url: string }>;
}

/** A `view_submission` payload for a modal. */
export function viewSubmissionPayload(input: ViewSubmissionInput): Record<string, unknown> {
  const teamId = input.team_id ?? SIM_DEFAULTS.team_id;
  const appId = input.api_app_id ?? SIM_DEFAULTS.api_app_id;
  const user = input.user ?? { id: SIM_DEFAULTS.user_id, username: SIM_DEFAULTS.user_name };
  const username = user.username ?? user.name ?? SIM_DEFAULTS.user_name;
  const viewId = input.view_id ?? `V${randomBytes(5).toString('hex').toUpperCase()}`;
  return {
    type: 'view_submission',
    team: { id: teamId, domain: input.team_domain ?? SIM_DEFAULTS.team_domain },
    user: { id: user.id, username, name: user.name ?? username, team_id: teamId },
    api_app_id: appId,
    token: input.token ?? SIM_DEFAULTS.token,
    trigger_id: input.trigger_id ?? makeTriggerId(),
    view: {
      id: viewId,
      team_id: teamId,
      type: 'modal',
      blocks: input.blocks ?? [],
      private_metadata: input.private_metadata ?? '',
      callback_id: input.callback_id,
      state: { values: input.values ?? {} },
      hash: `${Math.floor(Date.now() / 1000)}.${randomBytes(4).toString('hex')}`,
      title: { type: 'plain_text', text: input.title ?? 'oombot', emoji: true },
      clear_on_close: false,
      notify_on_close: false,
      close: null,
      submit: { type: 'plain_text', text: 'Submit', emoji: true },
      previous_view_id: null,
      root_view_id: viewId,
      app_id: appId,
      external_id: '',
      app_installed_team_id: teamId,
      bot_id: 'B0OOMBOT',
    },
    response_urls: input.response_urls ?? [],
    is_enterprise_install: false,
    enterprise: null,
  };
}
