/**
 * Muting alerts is an action: `/oom snooze` and `/oom unsnooze` need a snoozer (OOMBOT_SNOOZERS, the
 * approvers when unset), and every snooze is announced where the team sees it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { IncidentHistory } from '../../stores/incident-history.js';
import { SnoozeStore } from '../../stores/snooze-store.js';
import { APPROVER, OTHER, startBotHarness, type BotHarness } from './bot-harness.js';

let h: BotHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

const KEY = IncidentHistory.workloadKey('sim', 'shop', 'Deployment/api');
const snoozeOf = (b: BotHarness) => new SnoozeStore(b.app.redis, b.queueName).until(KEY);
const announcements = (b: BotHarness) => b.slack.messagesIn('#alerts').filter((m) => /:zzz:|:bell:/.test(m.text ?? ''));

describe('snooze and unsnooze', () => {
  it('are refused to someone who is not a snoozer, and nothing is muted or announced', async () => {
    h = await startBotHarness();
    const answer = await h.answer(await h.command('snooze shop/api 30d', OTHER), OTHER);
    expect(answer).toContain('Only the people allowed to mute alerts can snooze them');
    expect(answer).toContain(`<@${APPROVER}>`);
    expect(await snoozeOf(h)).toBeUndefined();
    expect(announcements(h)).toEqual([]);
    expect(h.logs.lines().some((l) => l.msg === 'snooze refused: the user is not a snoozer' && l.user === OTHER)).toBe(true);
  });

  it('by an approver: muted, and announced in the alerts channel with who, what and until when; unsnooze too', async () => {
    h = await startBotHarness();
    expect(await h.answer(await h.command('snooze shop/api 2h'))).toContain('snoozed for 2h');
    expect((await snoozeOf(h))?.by).toBe(APPROVER);
    const slack = h.slack;
    const told = await slack.waitFor(() => announcements(h!)[0], 5_000);
    expect(told.text).toMatch(new RegExp(`<@${APPROVER}> snoozed alerts for Deployment shop/api for 2h, until \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC`));

    expect(await h.answer(await h.command('unsnooze shop/api', OTHER), OTHER)).toContain('can unsnooze them');
    expect(await snoozeOf(h)).toBeDefined();
    expect(await h.answer(await h.command('unsnooze shop/api'))).toContain('on again');
    expect(await snoozeOf(h)).toBeUndefined();
    await slack.waitFor(() => announcements(h!).find((m) => m.text?.includes(`<@${APPROVER}> turned alerts for Deployment shop/api back on`)), 5_000);
  });

  it('OOMBOT_SNOOZERS names who may mute, apart from the approvers', async () => {
    h = await startBotHarness({ env: { OOMBOT_SNOOZERS: OTHER } });
    expect(await h.answer(await h.command('snooze shop/api 1h', OTHER), OTHER)).toContain('snoozed for 1h');
    expect((await snoozeOf(h))?.by).toBe(OTHER);
    expect(await h.answer(await h.command('unsnooze shop/api'))).toContain('can unsnooze them');
  });
});
