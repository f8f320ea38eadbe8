/**
 * Which Slack Web API methods oombot's code calls, and which OAuth scopes each needs.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

/**
 * Scopes a method needs, from Slack's method reference: `bot` lists scopes any one of which suffices for
 * a bot token (conversations.history takes channels:history for public channels, groups:history for
 * private ones, ...); `appToken` is a scope of the app-level token instead. A method the code starts
 * calling must be added here, with its scopes, or the manifest test fails.
 */
export const METHOD_SCOPES: Record<string, { bot: string[] } | { appToken: string }> = {
  'auth.test': { bot: [] },
  'chat.postMessage': { bot: ['chat:write'] },
  'chat.update': { bot: ['chat:write'] },
  'chat.postEphemeral': { bot: ['chat:write'] },
  'chat.delete': { bot: ['chat:write'] },
  'conversations.info': { bot: ['channels:read', 'groups:read', 'im:read', 'mpim:read'] },
  'conversations.join': { bot: ['channels:join'] },
  'conversations.list': { bot: ['channels:read', 'groups:read', 'im:read', 'mpim:read'] },
  'conversations.history': { bot: ['channels:history', 'groups:history', 'im:history', 'mpim:history'] },
  'conversations.replies': { bot: ['channels:history', 'groups:history', 'im:history', 'mpim:history'] },
  'users.info': { bot: ['users:read'] },
  'views.open': { bot: [] },
  'files.getUploadURLExternal': { bot: ['files:write'] },
  'files.completeUploadExternal': { bot: ['files:write'] },
  'apps.connections.open': { appToken: 'connections:write' },
};

/** Scopes that features need rather than methods: the /oom slash command. */
export const FEATURE_SCOPES = { slashCommand: 'commands' };

/** The source folders that run in production (tests, the simulators and benchmarks do not). */
export const PRODUCT_FOLDERS = ['bin', 'core', 'watchers', 'sampler', 'agent', 'handlers', 'bot'];

const API_FAMILIES =
  'admin|api|apps|auth|bookmarks|bots|calls|canvases|chat|conversations|dialog|dnd|emoji|files|functions|migration|oauth|openid|pins|reactions|reminders|rtm|search|stars|team|usergroups|users|views|workflows';

export interface SlackUsage {
  /** Web API method → the files calling it. */
  methods: Map<string, string[]>;
  /** The code registers a slash command (`app.command`). */
  slashCommands: boolean;
  /** The code handles interactive payloads (`app.action`, `app.view`, `app.shortcut`, `app.options`). */
  interactivity: boolean;
  /** The code subscribes to events (`app.event`, `app.message`). */
  events: boolean;
  /** The code can run Bolt in Socket Mode. */
  socketMode: boolean;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return sourceFiles(p);
    return p.endsWith('.ts') ? [p] : [];
  });
}

/**
 * Reads the product's sources for Slack calls: `client.chat.postMessage(` (also split over lines),
 * `apiCall('method'`, Bolt registrations, and the calls Bolt makes by itself in Socket Mode
 * (apps.connections.open with the app token, auth.test to learn the bot's identity).
 */
export function findSlackUsage(repoRoot: string): SlackUsage {
  const usage: SlackUsage = { methods: new Map(), slashCommands: false, interactivity: false, events: false, socketMode: false };
  const add = (method: string, file: string) => usage.methods.set(method, [...(usage.methods.get(method) ?? []), file]);
  const call = new RegExp(`\\.\\s*(${API_FAMILIES})\\s*\\.\\s*([a-zA-Z]+(?:\\s*\\.\\s*[a-zA-Z]+)?)\\s*\\(`, 'g');
  for (const folder of PRODUCT_FOLDERS) {
    for (const file of sourceFiles(join(repoRoot, folder))) {
      const src = readFileSync(file, 'utf8')
        .replace(/\/\*[\s\S]*?\*\//g, '')
        .replace(/(^|[^:])\/\/.*$/gm, '$1');
      const rel = relative(repoRoot, file);
      for (const m of src.matchAll(call)) add(`${m[1]}.${m[2]!.replace(/\s+/g, '')}`, rel);
      for (const m of src.matchAll(/\bapiCall\(\s*['"`]([\w.]+)['"`]/g)) add(m[1]!, rel);
      if (/\bapp\.command\(/.test(src)) usage.slashCommands = true;
      if (/\bapp\.(action|view|shortcut|options)\b/.test(src)) usage.interactivity = true;
      if (/\bapp\.(event|message)\(/.test(src)) usage.events = true;
      if (/socketMode:\s*true/.test(src)) {
        usage.socketMode = true;
        add('apps.connections.open', `${rel} (Bolt, Socket Mode)`);
        add('auth.test', `${rel} (Bolt, Socket Mode)`);
      }
    }
  }
  return usage;
}
