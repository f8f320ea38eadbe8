/** OOMBOT_VERIFY_WINDOW: how long after a raise's rollout a fix is watched before it is called held. */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../core/config.js';

describe('OOMBOT_VERIFY_WINDOW', () => {
  it('defaults to 24h and takes any duration down to 1s', () => {
    expect(loadConfig({}).verifyWindowMs).toBe(24 * 3600_000);
    expect(loadConfig({ OOMBOT_VERIFY_WINDOW: '1s' }).verifyWindowMs).toBe(1_000);
    expect(loadConfig({ OOMBOT_VERIFY_WINDOW: '3d' }).verifyWindowMs).toBe(3 * 86_400_000);
  });

  it('a value that is not a duration stops oombot with the variable named', () => {
    expect(() => loadConfig({ OOMBOT_VERIFY_WINDOW: 'soon' })).toThrow(ConfigError);
    expect(() => loadConfig({ OOMBOT_VERIFY_WINDOW: 'soon' })).toThrow(/OOMBOT_VERIFY_WINDOW="soon" is not a duration/);
  });
});
