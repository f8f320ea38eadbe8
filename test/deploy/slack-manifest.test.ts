/**
 * The Slack app manifests ask for exactly the scopes the code needs: every Web API method oombot calls
 * is covered by a bot scope (or, for Socket Mode, the app-level token), and every scope is used.
 * The methods are read from the sources (find-slack-calls.ts); api-calls.e2e.test.ts checks that the
 * methods called while oombot runs are among them.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { REPO_ROOT, SLACK_MANIFESTS } from './deploy-files.js';
import { FEATURE_SCOPES, METHOD_SCOPES, findSlackUsage } from './find-slack-calls.js';
import { literalsOf } from './validate-slack-manifest.js';

interface Manifest {
  features: { slash_commands?: { command: string }[] };
  oauth_config: { scopes: { bot: string[]; user?: string[] } };
  settings: { interactivity?: { is_enabled: boolean }; event_subscriptions?: unknown; socket_mode_enabled?: boolean };
}

const usage = findSlackUsage(REPO_ROOT);

describe.each(Object.entries(SLACK_MANIFESTS))('Slack app manifest (%s mode)', (mode, path) => {
  const text = readFileSync(path, 'utf8');
  const manifest = parseYaml(text) as Manifest;
  const scopes = manifest.oauth_config.scopes.bot;

  it('knows the scopes of every Web API method the code calls', () => {
    expect(usage.methods.get('chat.postMessage')?.length).toBeGreaterThan(0);
    expect([...usage.methods.keys()].filter((m) => !(m in METHOD_SCOPES))).toEqual([]);
  });

  it('covers every method the code calls with a bot scope', () => {
    const uncovered = [...usage.methods.keys()].filter((m) => {
      const need = METHOD_SCOPES[m];
      return need !== undefined && 'bot' in need && need.bot.length > 0 && !need.bot.some((s) => scopes.includes(s));
    });
    expect(uncovered).toEqual([]);
    if (usage.slashCommands) expect(scopes).toContain(FEATURE_SCOPES.slashCommand);
  });

  it('asks for no scope the code does not use, and no user scopes', () => {
    const used = new Set<string>(
      [...usage.methods.keys()].flatMap((m) => {
        const need = METHOD_SCOPES[m];
        return need && 'bot' in need ? need.bot : [];
      }),
    );
    if (usage.slashCommands) used.add(FEATURE_SCOPES.slashCommand);
    expect(scopes.filter((s) => !used.has(s))).toEqual([]);
    expect(manifest.oauth_config.scopes.user ?? []).toEqual([]);
    // Each scope is a real one.
    const known = literalsOf('BotScope');
    expect(scopes.filter((s) => !known.includes(s))).toEqual([]);
  });

  it('declares the slash command, interactivity and events the code handles', () => {
    const commands = manifest.features.slash_commands ?? [];
    expect(commands.length > 0).toBe(usage.slashCommands);
    const bot = readFileSync(new URL('../../bot/start-bot.ts', import.meta.url), 'utf8');
    const pattern = /app\.command\(\/(.+?)\/,/.exec(bot)?.[1];
    expect(pattern, 'app.command takes a regular expression in bot/start-bot.ts').toBeDefined();
    for (const c of commands) expect(c.command).toMatch(new RegExp(pattern!));
    expect(manifest.settings.interactivity?.is_enabled ?? false).toBe(usage.interactivity);
    expect(manifest.settings.event_subscriptions !== undefined).toBe(usage.events);
  });

  if (mode === 'socket') {
    it('is for Socket Mode, and says the app-level token needs connections:write', () => {
      expect(usage.socketMode).toBe(true);
      expect(manifest.settings.socket_mode_enabled).toBe(true);
      expect(METHOD_SCOPES['apps.connections.open']).toEqual({ appToken: 'connections:write' });
      expect(text).toContain('connections:write');
    });
  }
});
