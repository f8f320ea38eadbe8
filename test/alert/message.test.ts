import { describe, expect, it } from 'vitest';
import { ACTION_EXPLAIN, ACTION_RAISE_LIMIT, ACTION_SHOW_LOGS, ACTION_SNOOZE } from '../../alert/action-ids.js';
import { diagnose } from '../../diagnosis/diagnose.js';
import { buildMessage, tailLog } from '../../alert/message.js';
import { renderRepeatUpdate, renderSlack } from '../../alert/render-slack.js';
import { renderText } from '../../alert/render-text.js';
import { clip, escapeMrkdwn, neutraliseFences } from '../../core/text-safety.js';
import { createEnriched } from '../diagnosis/factories.js';
import { POLICY, loadFixture } from '../diagnosis/fixtures.js';
import { slackLimitProblems } from './slack-limits.js';

describe('buildMessage actions', () => {
  it('offers "Raise limit" only with a proposal AND a proposal id, carrying only the id', () => {
    const e = createEnriched();
    const d = diagnose(e);
    expect(buildMessage(e, d).actions.map((a) => a.id)).toEqual([ACTION_SHOW_LOGS, ACTION_SNOOZE, ACTION_EXPLAIN]);
    const m = buildMessage(e, d, { proposalId: 'prop-42' });
    expect(m.actions[0]).toMatchObject({ id: ACTION_RAISE_LIMIT, label: 'Raise limit to 640Mi', value: 'prop-42', style: 'primary' });
    expect(m.actions[0]?.confirm?.text).toMatch(/512Mi → 640Mi/);
  });

  it('never offers "Raise limit" without a proposal', () => {
    const e = loadFixture('leak');
    const m = buildMessage(e, diagnose(e, POLICY), { proposalId: 'prop-1' });
    expect(m.actions.map((a) => a.id)).not.toContain(ACTION_RAISE_LIMIT);
  });

  it('warns in the confirm dialog when GitOps or Helm will revert the change', () => {
    const e = loadFixture('jvm-heap');
    const m = buildMessage(e, diagnose(e, POLICY), { proposalId: 'prop-1' });
    expect(m.actions[0]?.confirm?.text).toMatch(/Helm \(release orders\) reverts it unless committed to its source/);
  });

  it('does not offer logs of a pod that is gone', () => {
    const e = loadFixture('pod-gone');
    expect(buildMessage(e, diagnose(e, POLICY)).actions.map((a) => a.id)).not.toContain(ACTION_SHOW_LOGS);
  });
});

describe('untrusted text', () => {
  it('escapes &, < and > only', () => {
    expect(escapeMrkdwn('<!channel> & <@U1> *b* _i_ `c`')).toBe('&lt;!channel&gt; &amp; &lt;@U1&gt; *b* _i_ `c`');
  });

  it('makes no mention or link from a hostile pod, events and logs', () => {
    const e = loadFixture('hostile-text');
    const msg = renderSlack(buildMessage(e, diagnose(e, POLICY), { proposalId: 'p' }));
    expect(slackLimitProblems(msg)).toEqual([]);
    const texts = JSON.stringify(msg.blocks.map((b) => ({ ...b, elements: undefined }))) + msg.text;
    expect(texts).not.toMatch(/<!channel>|<!here>|<@U|<https?:/);
    expect(texts).toContain('&lt;!channel&gt;');
  });

  it('keeps logs in one code block, with ``` neutralised and ANSI stripped', () => {
    const e = loadFixture('hostile-text');
    const msg = renderSlack(buildMessage(e, diagnose(e, POLICY)));
    const logs = msg.blocks.find((b) => b.block_id === 'oom_logs');
    const text = logs?.type === 'section' ? (logs.text?.text ?? '') : '';
    expect(text.match(/```/g)).toHaveLength(2);
    expect(text).not.toContain('\u001b');
    expect(text).not.toContain('\u202e');
    expect(renderText(buildMessage(e, diagnose(e, POLICY)))).not.toContain('\u001b');
  });

  it('neutralises any run of backticks', () => {
    for (let n = 3; n < 12; n++) expect(neutraliseFences('`'.repeat(n))).not.toContain('```');
  });

  it('clips by code points: never splits a surrogate pair or an entity', () => {
    const s = clip('🚀'.repeat(100), 11);
    expect(s.length).toBeLessThanOrEqual(11);
    expect(s.isWellFormed()).toBe(true);
    expect(s.endsWith('…')).toBe(true);
    const amp = clip('&&&&&&', 12);
    expect(amp).toBe('&amp;&amp;…');
  });
});

describe('tailLog', () => {
  it('keeps the last lines of a huge log, each trimmed', () => {
    const log = `${'first line\n'.repeat(1_000_000)}${'x'.repeat(5000)}\nlast line\n\n`;
    const t = tailLog(log, 20);
    expect(t.lines).toHaveLength(20);
    expect(t.lines.at(-1)).toBe('last line');
    expect(t.lines.at(-2)?.endsWith('…')).toBe(true);
    expect(Array.from(t.lines.at(-2) ?? '').length).toBeLessThanOrEqual(300);
    expect(t.truncated).toBe(true);
  });

  it('does not start on half a surrogate pair', () => {
    const log = '🚀'.repeat(40_000);
    for (const line of tailLog(log, 5).lines) expect(line.isWellFormed()).toBe(true);
  });
});

describe('renderRepeatUpdate', () => {
  it('says how often and when, right under the title', () => {
    const e = loadFixture('limit-too-low');
    const msg = renderRepeatUpdate(buildMessage(e, diagnose(e, POLICY)), { count: 3, firstSeenAt: '10:15', lastSeenAt: '10:40' });
    expect(msg.blocks[1]).toMatchObject({ type: 'context', block_id: 'oom_repeat' });
    expect(msg.text.startsWith('(3×) ')).toBe(true);
  });
});
