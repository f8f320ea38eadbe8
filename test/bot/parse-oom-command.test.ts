import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { parseDuration, parseOomCommand } from '../../bot/parse-oom-command.js';
import { closestNames, editDistance } from '../../bot/closest-names.js';
import { runOomCommand } from '../../bot/oom-command.js';
import type { BotDeps } from '../../bot/bot-deps.js';

describe('parseOomCommand', () => {
  it.each([
    ['why api-7f9c', { name: 'why', pod: { name: 'api-7f9c' } }],
    ['why shop/api-7f9c', { name: 'why', pod: { namespace: 'shop', name: 'api-7f9c' } }],
    ['why api-7f9c -n shop', { name: 'why', pod: { namespace: 'shop', name: 'api-7f9c' } }],
    ['why --namespace=shop api', { name: 'why', pod: { namespace: 'shop', name: 'api' } }],
    ['  WHY   api- ', { name: 'why', pod: { name: 'api-' } }],
    ['top', { name: 'top' }],
    ['top shop', { name: 'top', namespace: 'shop' }],
    ['history shop/Deployment/api', { name: 'history', workload: { namespace: 'shop', kind: 'Deployment', name: 'api' } }],
    ['history sts/db', { name: 'history', workload: { kind: 'StatefulSet', name: 'db' } }],
    ['history shop/api', { name: 'history', workload: { namespace: 'shop', name: 'api' } }],
    ['snooze api 1h30m', { name: 'snooze', workload: { name: 'api' }, durationMs: 5_400_000, durationText: '1h30m' }],
    ['unsnooze shop/api', { name: 'unsnooze', workload: { namespace: 'shop', name: 'api' } }],
    ['', { name: 'help' }],
    // Clusters: in the path, or --cluster (also --cluster=name), for every command that reads one.
    ['why beta/shop/checkout-x', { name: 'why', pod: { cluster: 'beta', namespace: 'shop', name: 'checkout-x' } }],
    ['why checkout-x --cluster beta', { name: 'why', pod: { cluster: 'beta', name: 'checkout-x' } }],
    ['why --cluster=prod_eu-1 shop/checkout-x', { name: 'why', pod: { cluster: 'prod_eu-1', namespace: 'shop', name: 'checkout-x' } }],
    ['why beta/shop/checkout-x --cluster beta', { name: 'why', pod: { cluster: 'beta', namespace: 'shop', name: 'checkout-x' } }],
    ['top shop --cluster beta', { name: 'top', namespace: 'shop', cluster: 'beta' }],
    ['top --cluster=beta', { name: 'top', cluster: 'beta' }],
    ['history beta/shop/api', { name: 'history', workload: { cluster: 'beta', namespace: 'shop', name: 'api' } }],
    ['history beta/shop/Deployment/api', { name: 'history', workload: { cluster: 'beta', namespace: 'shop', kind: 'Deployment', name: 'api' } }],
    // Three parts with a kind in the middle stay namespace/Kind/name, as before clusters were named.
    ['history beta/deploy/api', { name: 'history', workload: { namespace: 'beta', kind: 'Deployment', name: 'api' } }],
    ['history api --cluster beta', { name: 'history', workload: { cluster: 'beta', name: 'api' } }],
    ['snooze api 2h --cluster beta', { name: 'snooze', workload: { cluster: 'beta', name: 'api' }, durationMs: 7_200_000, durationText: '2h' }],
    [
      'snooze --cluster beta shop/api 2h',
      { name: 'snooze', workload: { cluster: 'beta', namespace: 'shop', name: 'api' }, durationMs: 7_200_000, durationText: '2h' },
    ],
    ['unsnooze beta/shop/Deployment/api', { name: 'unsnooze', workload: { cluster: 'beta', namespace: 'shop', kind: 'Deployment', name: 'api' } }],
    ['clusters', { name: 'clusters' }],
  ])('%j', (text, expected) => {
    expect(parseOomCommand(text)).toEqual(expected);
  });

  it.each([
    'why',
    'why a b',
    'why Shop/API',
    'why a/b/c/d',
    'why beta/shop/api --cluster alpha',
    'why api --cluster',
    'why api --cluster=<!channel>',
    'why ../shop/api',
    'history beta/shop/Widget/api',
    'history a/b/c/d/e',
    'top --cluster a --cluster b',
    'clusters beta',
    'why <!channel>',
    'top a b',
    'history a/b/c/d',
    'history shop/Widget/api',
    'snooze api',
    'snooze api 0m',
    'snooze api 31d',
    'nope',
    'why api -n',
  ])('refuses %j', (text) => {
    expect(parseOomCommand(text).name).toBe('invalid');
  });

  it('durations', () => {
    expect(parseDuration('90s')).toBe(90_000);
    expect(parseDuration('2h')).toBe(7_200_000);
    expect(parseDuration('1w')).toBe(604_800_000);
    expect(parseDuration('1.5h')).toBeUndefined();
    expect(parseDuration('-1h')).toBeUndefined();
  });

  it('never throws, and a refusal never echoes <, > or & unescaped', async () => {
    const deps = { log: { warn: () => undefined } } as unknown as BotDeps;
    await fc.assert(
      fc.asyncProperty(fc.string({ maxLength: 600 }), async (text) => {
        const cmd = parseOomCommand(text);
        if (cmd.name !== 'invalid' && cmd.name !== 'help') return;
        const reply = await runOomCommand(deps, text, { id: 'U1' });
        const all = `${reply.text}${JSON.stringify(reply.blocks)}`;
        expect(all.replace(/&(amp|lt|gt);/g, '')).not.toMatch(/[<>]/);
        expect(reply.text.length).toBeLessThanOrEqual(3000);
      }),
      { numRuns: 300 },
    );
  });
});

describe('closestNames', () => {
  it('finds names a typo away, closest first', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(closestNames('apu', ['shop/api', 'shop/web', 'pay/apiserver'])).toEqual(['shop/api']);
    expect(closestNames('paymnets-worker', ['pay/payments-worker', 'pay/payments-api'])[0]).toBe('pay/payments-worker');
    expect(closestNames('zzz', ['shop/api'])).toEqual([]);
  });
});
