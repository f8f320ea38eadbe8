/**
 * Property tests of `/oom` argument parsing beyond test/bot/parse-oom-command.test.ts: text up to 5 kB
 * built from real subcommands, flags and injection attempts always gives a well-formed command or a
 * helpful refusal, only Kubernetes-shaped names ever get through, and no answer echoes injected
 * mrkdwn unescaped or breaks Slack's limits.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CLUSTER,
  KIND_NAMES,
  MAX_SNOOZE_MS,
  MAX_TEXT,
  MIN_SNOOZE_MS,
  SUBCOMMANDS,
  USAGE,
  parseOomCommand,
  type OomCommand,
} from '../../bot/parse-oom-command.js';
import { runOomCommand } from '../../bot/oom-command.js';
import type { BotDeps } from '../../bot/bot-deps.js';
import { validateMessage } from '../../sim/slack/validate-blocks.js';

const NAMESPACE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const NAME = /^[a-z0-9][-a-z0-9.]{0,252}$/;

const INJECTIONS = [
  '<!channel>',
  '<!here>',
  '<!everyone>',
  '<@U0ALICE>',
  '<#C0ALERTS>',
  '<!subteam^S123>',
  '<https://evil.example|click me>',
  '<mailto:a@b.c|mail>',
  '&lt;!channel&gt;',
  '&amp;',
  '*bold*',
  '_it_',
  '~s~',
  '`',
  '```',
  '> quote',
  '\u202e',
  '\u0000',
  '\u001b[31m',
  '\r\n',
  '\t',
  '🧨',
  '\uD800',
  '%3C!channel%3E',
  '{"toLimit":"64Gi"}',
  '$(rm -rf /)',
  "'; DROP TABLE--",
  '../../etc/passwd',
  '*',
  '?',
  '\\',
];

/** Words a user (or an attacker) could type: subcommands, flags, names, durations, kinds and injections. */
const word = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...SUBCOMMANDS, 'WHY', 'Top', '-h', '--help', 'hsitory', 'snoze') },
  {
    weight: 3,
    arbitrary: fc.constantFrom('-n', '--namespace', '--namespace=shop', '-nshop', '-n=', '--namespace=', '--cluster', '--cluster=beta', '--cluster='),
  },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      'api',
      'shop/api',
      'shop/Deployment/api',
      'beta/shop/api',
      'beta/shop/Deployment/api',
      'sts/db',
      'api-7f9c-x2x9k',
      'a.b',
      '-api',
      'API',
      'a/b/c/d',
      '/',
      '//',
      'shop/',
      '/api',
    ),
  },
  { weight: 2, arbitrary: fc.constantFrom('30m', '2h', '1d', '1w', '1h30m', '0m', '31d', '59s', '999999w', '1.5h', '-1h', 'forever') },
  { weight: 1, arbitrary: fc.constantFrom(...Object.keys(KIND_NAMES)) },
  { weight: 4, arbitrary: fc.constantFrom(...INJECTIONS) },
  { weight: 2, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 12 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 300 }).map((n) => 'x'.repeat(n)) },
);

const separator = fc.constantFrom(' ', '  ', '\t', '\n', '\u00a0', '\u3000', '');

/** A command line: words joined by (odd) whitespace, sometimes padded far past the length limit. */
const commandText = fc.oneof(
  { weight: 6, arbitrary: fc.array(fc.tuple(word, separator), { maxLength: 12 }).map((parts) => parts.map(([w, s]) => w + s).join('')) },
  { weight: 1, arbitrary: fc.tuple(word, fc.integer({ min: 250, max: 5120 })).map(([w, n]) => `why ${w} ${'<!channel>'.repeat(n)}`.slice(0, 5120)) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 5120 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 5120 }) },
);

function checkCommand(cmd: OomCommand): void {
  switch (cmd.name) {
    case 'help':
    case 'top':
      if (cmd.name === 'top' && cmd.namespace !== undefined) expect(cmd.namespace).toMatch(NAMESPACE);
      if (cmd.name === 'top' && cmd.cluster !== undefined) expect(cmd.cluster).toMatch(CLUSTER);
      return;
    case 'why':
      expect(cmd.pod.name).toMatch(NAME);
      if (cmd.pod.cluster !== undefined) expect(cmd.pod.cluster).toMatch(CLUSTER);
      if (cmd.pod.namespace !== undefined) expect(cmd.pod.namespace).toMatch(NAMESPACE);
      return;
    case 'history':
    case 'unsnooze':
    case 'snooze': {
      expect(cmd.workload.name).toMatch(NAME);
      if (cmd.workload.cluster !== undefined) expect(cmd.workload.cluster).toMatch(CLUSTER);
      if (cmd.workload.namespace !== undefined) expect(cmd.workload.namespace).toMatch(NAMESPACE);
      if (cmd.workload.kind !== undefined) expect(Object.values(KIND_NAMES)).toContain(cmd.workload.kind);
      if (cmd.name === 'snooze') {
        expect(cmd.durationMs).toBeGreaterThanOrEqual(MIN_SNOOZE_MS);
        expect(cmd.durationMs).toBeLessThanOrEqual(MAX_SNOOZE_MS);
        expect(cmd.durationText).toMatch(/^(\d{1,6}[smhdw])+$/);
      }
      return;
    }
    case 'invalid':
      // Helpful: says what is wrong, briefly, and how to write it when the subcommand is known.
      expect(cmd.problem.trim().length).toBeGreaterThan(0);
      expect(cmd.problem.length).toBeLessThanOrEqual(400);
      if (cmd.usage !== undefined) expect(Object.values(USAGE)).toContain(cmd.usage);
      return;
  }
}

/** Nothing in an answer can mention, link or broadcast: no raw angle brackets, `&` only as an entity. */
function expectInert(text: string, where: string): void {
  expect(text, where).not.toMatch(/[<>]/);
  expect(text.replace(/&(amp|lt|gt);/g, ''), where).not.toContain('&');
}

const deps = { log: { warn: () => undefined, info: () => undefined, debug: () => undefined } } as unknown as BotDeps;

describe('parseOomCommand on anything typed, up to 5 kB', () => {
  it('never throws, and gives a well-formed command or a helpful refusal', () => {
    fc.assert(
      fc.property(commandText, (text) => {
        const cmd = parseOomCommand(text);
        checkCommand(cmd);
        // Past the length limit nothing is parsed at all, and the answer says why.
        if (text.length > MAX_TEXT) expect(cmd).toEqual({ name: 'invalid', problem: expect.stringContaining(`${text.length} characters`) });
      }),
      { numRuns: 3000 },
    );
  });

  it('what gets through is only ever Kubernetes-shaped: injection text never reaches a lookup', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('why', 'history', 'snooze', 'unsnooze', 'top'),
        fc.constantFrom(...INJECTIONS),
        fc.constantFrom('', 'shop/', '-n shop ', 'deploy/'),
        (sub, injected, prefix) => {
          const cmd = parseOomCommand(`${sub} ${prefix}${injected}${sub === 'snooze' ? ' 1h' : ''}`);
          checkCommand(cmd);
          // Only whitespace-like injections leave a valid command (`top` alone); nothing else gets through.
          if (cmd.name !== 'invalid') expect(injected.trim()).toBe('');
        },
      ),
    );
  });

  it('a refusal or help answer never echoes injected mrkdwn unescaped, and fits in a Slack message', async () => {
    await fc.assert(
      fc.asyncProperty(commandText, async (text) => {
        const cmd = parseOomCommand(text);
        if (cmd.name !== 'invalid' && cmd.name !== 'help') return;
        const reply = await runOomCommand(deps, text, { id: 'U0ALICE' });
        expectInert(reply.text, 'text');
        for (const block of reply.blocks ?? []) expectInert(JSON.stringify(block).replace(/\\"/g, ''), 'blocks');
        expect(validateMessage({ text: reply.text, blocks: reply.blocks }).messages).toEqual([]);
        expect(reply.text.length).toBeLessThanOrEqual(3000);
      }),
      { numRuns: 1000 },
    );
  });
});
