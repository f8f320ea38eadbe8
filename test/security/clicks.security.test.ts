/**
 * What a click may do, through the real Bolt receiver over HTTP with correctly signed requests: only an
 * approver, identified by user id alone, applies a stored proposal, at most once, whatever is replayed,
 * tampered with or made up.
 *
 * Already covered elsewhere (not repeated here): a double click and a concurrent replay patch once, a
 * non-approver's Raise and Undo are refused, tampered JSON / unknown / expired proposal ids are refused
 * (test/bot/raise-limit.test.ts); a redelivered Socket Mode envelope patches once and a non-approver
 * over the socket is refused (test/bot/socket-mode.test.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setTimeout as sleep } from 'node:timers/promises';
import { ACTION_EXPLAIN, ACTION_RAISE_LIMIT, ACTION_UNDO } from '../../alert/action-ids.js';
import { replaySignedRequest, sendBlockAction } from '../../sim/slack/index.js';
import { APPROVER, OTHER, SECRET, startBotHarness, type BotHarness } from '../bot/bot-harness.js';
import { expectNoActiveMention, everythingSentToSlack } from './slack-output.js';

const RAISED = 'OombotLimitRaised';
const RESTORED = 'OombotLimitRestored';

function liveLimit(h: BotHarness): string | undefined {
  const d = h.cluster.get('deployments', 'shop', 'api');
  return d?.spec.template.spec.containers.find((c: { name: string }) => c.name === 'api')?.resources?.limits?.memory;
}

const auditEvents = (h: BotHarness, reason: string) => h.cluster.list('events', 'shop').filter((e) => e.reason === reason).length;

describe('replayed clicks', () => {
  let h: BotHarness;
  /** The answer to the applied Raise, with its Undo button. */
  let done = '';
  beforeAll(async () => {
    h = await startBotHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('a Raise click replayed after it applied is refused: one patch, one audit trail, and the replay is told so', async () => {
    const stored = await h.createProposal();
    const ts = await h.postAlert(stored);
    const first = await h.click(ACTION_RAISE_LIMIT, stored.id, { messageTs: ts });
    done = await h.answer(first);
    expect(done).toContain('Done');
    await h.bot.idle();
    const patchesAfterFirst = h.patches().length;
    const callsAfterFirst = h.slack.calls.length;

    // The same signed bytes again, inside the 5-minute window: the signature is fine, the claim is not.
    const replay = await replaySignedRequest(first.request);
    expect(replay.status).toBe(200);
    await h.bot.idle();
    const uses = h.slack.responseUrls.find((r) => r.url === JSON.parse(new URLSearchParams(first.request.body).get('payload')!).response_url)!.uses;
    expect(uses).toHaveLength(2);
    expect(JSON.stringify(uses[1]!.body)).toContain('already applied');
    expect(h.patches()).toHaveLength(patchesAfterFirst); // not even a dry run
    expect(h.patches({ dryRun: false })).toHaveLength(1);
    expect(h.slack.calls.length).toBe(callsAfterFirst); // no second chat.update, no second thread reply
    expect(auditEvents(h, RAISED)).toBe(1);
    expect(liveLimit(h)).toBe('640Mi');
    expect(h.logs.lines().filter((l) => l.msg === 'memory raised from Slack')).toHaveLength(1);
  });

  it('an Undo click replayed after it applied restores once', async () => {
    const id = new RegExp(`"action_id":"${ACTION_UNDO}".*?"value":"(p_[A-Za-z0-9_-]{22})"`).exec(done)?.[1];
    expect(id).toBeDefined();
    const undo = await h.click(ACTION_UNDO, id!);
    expect(await h.answer(undo)).toContain('Undone');
    await h.bot.idle();
    const before = h.patches({ dryRun: false }).length;
    const replay = await replaySignedRequest(undo.request);
    expect(replay.status).toBe(200);
    await h.bot.idle();
    expect(h.patches({ dryRun: false })).toHaveLength(before);
    expect(auditEvents(h, RESTORED)).toBe(1);
    expect(liveLimit(h)).toBe('512Mi');
  });
});

describe('tampered and made-up clicks', () => {
  let h: BotHarness;
  beforeAll(async () => {
    h = await startBotHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it.each([
    ['empty', ''],
    ['one character short', `p_${'A'.repeat(21)}`],
    ['one character long', `p_${'A'.repeat(23)}`],
    ['a Redis pattern', 'p_*'],
    ['a pattern of the right length', `p_${'*'.repeat(22)}`],
    ['upper-case prefix', `P_${'A'.repeat(22)}`],
    ['a trailing newline', `p_${'A'.repeat(22)}\n`],
    ['a key path', '../../proposal:p_AAAAAAAAAAAAAAAAAAAAAA'],
    ['a limit in the clear', '{"owner":{"kind":"Deployment","name":"api","namespace":"shop"},"toLimit":"64Gi"}'],
    ['a mention', '<!channel> <@U0ALICE>'],
    ['2000 characters', 'p_'.repeat(1000)],
  ])('a Raise value that is %s is refused, escaped, logged, and nothing reaches the API', async (_what, value) => {
    const stored = await h.createProposal();
    const patches = h.patches().length;
    const answer = await h.answer(await h.click(ACTION_RAISE_LIMIT, value));
    expect(answer).toMatch(/not carry a valid proposal|expired or is unknown/);
    expectNoActiveMention(answer);
    expect(h.patches()).toHaveLength(patches);
    const logged = h.logs
      .lines()
      .filter((l) => String(l.msg).startsWith('change refused'))
      .at(-1)!;
    expect(String(logged.value ?? logged.proposal ?? '').length).toBeLessThanOrEqual(60);
    // The stored proposal was not touched by any of it.
    expect(await h.proposals.claim(stored.id, 'probe')).toBeDefined();
  });

  it('a click with no value at all is refused', async () => {
    const { response_url } = h.slack.interaction({ channel: 'C0ALERTS', user: APPROVER });
    const payloadless = await sendBlockAction(h.url, SECRET, {
      action_id: ACTION_RAISE_LIMIT,
      user: { id: APPROVER },
      channel: { id: 'C0ALERTS' },
      message_ts: '1700000000.000100',
      response_url,
    });
    expect(await h.answer(payloadless)).toContain('not carry a valid proposal');
  });

  it('a proposal id sent to another button is not applied by it', async () => {
    const stored = await h.createProposal();
    const patches = h.patches().length;
    const answer = await h.answer(await h.click(ACTION_EXPLAIN, stored.id));
    expect(answer).toContain('no longer on record');
    expect(h.patches()).toHaveLength(patches);
    expect(await h.proposals.claim(stored.id, 'probe')).toBeDefined();
  });

  it('an unknown action id changes nothing, sends nothing to Slack, and is logged', async () => {
    const patches = h.patches().length;
    const calls = h.slack.calls.length;
    const { response_url } = h.slack.interaction({ channel: 'C0ALERTS', user: APPROVER });
    const started = Date.now();
    const res = await sendBlockAction(h.url, SECRET, {
      action_id: 'oom_delete_namespace',
      value: 'shop',
      user: { id: APPROVER },
      channel: { id: 'C0ALERTS' },
      message_ts: '1700000000.000100',
      response_url,
    });
    await h.bot.idle();
    expect(Date.now() - started).toBeLessThan(4_000);
    expect(h.patches()).toHaveLength(patches);
    expect(h.slack.calls.length).toBe(calls);
    expect(h.slack.responseUrls.find((r) => r.url === response_url)!.uses).toEqual([]);
    expect(h.logs.lines().some((l) => l.level === 'warn' && JSON.stringify(l).includes('oom_delete_namespace'))).toBe(true);
    expect(res.status).toBe(200);
  });

  it('an unknown action id is acknowledged with 200 at once and logged (Slack would show the user an error otherwise)', async () => {
    const { response_url } = h.slack.interaction({ channel: 'C0ALERTS', user: APPROVER });
    const started = Date.now();
    const res = await sendBlockAction(h.url, SECRET, {
      action_id: 'oom_made_up',
      value: 'x',
      user: { id: APPROVER },
      channel: { id: 'C0ALERTS' },
      message_ts: '1700000000.000100',
      response_url,
    });
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(h.logs.lines().some((l) => l.level === 'warn' && JSON.stringify(l).includes('oom_made_up'))).toBe(true);
  });
});

describe('who may apply', () => {
  let h: BotHarness;
  beforeAll(async () => {
    h = await startBotHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it.each([
    ["an approver's user name", { id: OTHER, username: 'olga', name: 'olga' }],
    ['the approver id in lower case', { id: APPROVER.toLowerCase() }],
    ['the approver id with a space', { id: `${APPROVER} ` }],
    ['the approver id as a prefix', { id: `${APPROVER}X` }],
    ['a list of ids', { id: `${OTHER},${APPROVER}` }],
  ])('a click carrying %s is refused and logged, and no request of any kind reaches the workload', async (_what, user) => {
    const stored = await h.createProposal();
    const requests = h.kube.requests().filter((r) => r.path.includes('/deployments/')).length;
    const { response_url } = h.slack.interaction({ channel: 'C0ALERTS', user: user.id });
    const res = await sendBlockAction(h.url, SECRET, {
      action_id: ACTION_RAISE_LIMIT,
      value: stored.id,
      user,
      channel: { id: 'C0ALERTS' },
      message_ts: '1700000000.000100',
      response_url,
    });
    expect(res.status).toBe(200);
    await h.bot.idle();
    const use = await h.slack.waitFor(() => h.slack.responseUrls.find((r) => r.url === response_url)?.uses[0]);
    expect(JSON.stringify(use.body)).toContain('Only approvers');
    expectNoActiveMention(JSON.stringify(use.body), [user.id, APPROVER]);
    expect(h.kube.requests().filter((r) => r.path.includes('/deployments/'))).toHaveLength(requests);
    expect(h.logs.lines().some((l) => l.msg === 'change refused: user is not an approver' && l.user === user.id)).toBe(true);
    // Not used up: it can still be claimed.
    expect(await h.proposals.claim(stored.id, 'probe')).toBeDefined();
  });

  it('nothing sent to Slack in all of this can mention anyone but the people involved', async () => {
    await sleep(100);
    expectNoActiveMention(everythingSentToSlack(h.slack), [APPROVER, OTHER, APPROVER.toLowerCase(), `${APPROVER}X`, `${OTHER},${APPROVER}`, `${APPROVER} `]);
  });
});
