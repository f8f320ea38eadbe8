import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.js';
import { OombotError } from '../../core/errors.js';
import { checkBotConfig } from '../../bot/start-bot.js';

describe('bot role configuration', () => {
  it('refuses to start without SLACK_SIGNING_SECRET and without SLACK_APP_TOKEN, naming both', () => {
    const config = loadConfig({ SLACK_BOT_TOKEN: 'xoxb-1', SLACK_CHANNEL: '#alerts' });
    let err: unknown;
    try {
      checkBotConfig({ config });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(OombotError);
    expect((err as OombotError).code).toBe('CONFIG');
    expect((err as OombotError).message).toContain('SLACK_SIGNING_SECRET');
    expect((err as OombotError).message).toContain('SLACK_APP_TOKEN');
    expect((err as OombotError).hint).toContain('Signing Secret');
  });

  it('starts with either', () => {
    expect(() => checkBotConfig({ config: loadConfig({ SLACK_SIGNING_SECRET: 'x' }) })).not.toThrow();
    expect(() => checkBotConfig({ config: loadConfig({ SLACK_APP_TOKEN: 'xapp-1', SLACK_BOT_TOKEN: 'xoxb-1', SLACK_CHANNEL: '#a' }) })).not.toThrow();
  });
});
