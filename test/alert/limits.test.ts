/**
 * Whatever a pod looks like, the rendered alert stays inside Slack's limits: arbitrary models, and
 * arbitrary incidents run through the whole pure pipeline (50 containers, megabytes of logs, unicode,
 * mentions and links in every string).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GiB, MiB } from '../../core/quantity.js';
import { ALL_ACTION_IDS } from '../../alert/action-ids.js';
import { diagnose } from '../../diagnosis/diagnose.js';
import type { ContainerSnapshot, EnrichedIncident } from '../../diagnosis/enriched.js';
import { buildMessage, type MessageModel } from '../../alert/message.js';
import { renderRepeatUpdate, renderSlack } from '../../alert/render-slack.js';
import { renderText } from '../../alert/render-text.js';
import { createEnriched } from '../diagnosis/factories.js';
import { slackLimitProblems } from './slack-limits.js';

const nasty = fc.constantFrom(
  '<!channel>',
  '<!here>',
  '<@U123>',
  '<https://evil|click>',
  '&',
  '```',
  '`',
  '*',
  '_',
  '\u0000',
  '\u001b[31m',
  '\r\n',
  '\u202e',
  '🚀',
  '\uD83D',
  '\uDE80',
  'é',
  '内存',
  '\n',
);
/** Strings full of what breaks messages: mentions, links, fences, controls, lone and paired surrogates. */
const hostile = (maxLength: number) =>
  fc.oneof(
    { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength }) },
    {
      weight: 3,
      arbitrary: fc.array(fc.oneof(nasty, fc.string({ maxLength: 20 })), { maxLength: Math.max(1, Math.floor(maxLength / 8)) }).map((a) => a.join('')),
    },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: maxLength }).map((n) => '🧨'.repeat(n)) },
    { weight: 1, arbitrary: fc.integer({ min: 0, max: maxLength }).map((n) => '<&>'.repeat(n)) },
  );

const action = fc.record({
  id: fc.oneof(fc.constantFrom(...ALL_ACTION_IDS), hostile(300)),
  label: hostile(200),
  value: fc.oneof(fc.string({ maxLength: 40 }), hostile(2500)),
  style: fc.option(fc.constantFrom('primary' as const, 'danger' as const), { nil: undefined }),
  confirm: fc.option(fc.record({ title: hostile(200), text: hostile(600), confirm: hostile(60), deny: hostile(60) }), { nil: undefined }),
});

const model: fc.Arbitrary<MessageModel> = fc.record({
  incidentId: hostile(100),
  kind: fc.constantFrom('container-oom' as const, 'child-oom' as const, 'sigkill' as const, 'evicted' as const, 'disruption' as const, 'node-oom' as const),
  title: hostile(400),
  severity: fc.constantFrom('critical' as const, 'warning' as const),
  headline: hostile(5000),
  cause: fc.constantFrom('limit-too-low' as const, 'unknown' as const),
  causeLabel: hostile(300),
  confidence: fc.constantFrom('high' as const, 'medium' as const, 'low' as const),
  facts: fc.array(fc.record({ label: hostile(200), value: hostile(3000) }), { maxLength: 40 }),
  evidence: fc.array(fc.record({ text: hostile(3000), source: fc.constantFrom('pod status' as const, 'events' as const) }), { maxLength: 60 }),
  advice: fc.array(hostile(3000), { maxLength: 40 }),
  warnings: fc.array(hostile(3000), { maxLength: 10 }),
  proposal: fc.option(fc.record({ summary: hostile(2000), reason: hostile(4000), notes: fc.array(hostile(2000), { maxLength: 10 }) }), { nil: undefined }),
  events: fc.array(
    fc.record({
      type: hostile(50),
      reason: hostile(100),
      count: fc.integer({ min: 0, max: 1e9 }),
      at: fc.option(hostile(60), { nil: undefined }),
      object: fc.option(hostile(300), { nil: undefined }),
      message: hostile(3000),
    }),
    { maxLength: 30 },
  ),
  logs: fc.option(
    fc.record({ container: fc.option(hostile(300), { nil: undefined }), lines: fc.array(hostile(2000), { maxLength: 200 }), truncated: fc.boolean() }),
    { nil: undefined },
  ),
  actions: fc.array(action, { maxLength: 40 }),
  footer: hostile(5000),
});

describe('Slack limits', () => {
  it('any message model renders within the limits', () => {
    fc.assert(
      fc.property(model, (m) => {
        expect(slackLimitProblems(renderSlack(m))).toEqual([]);
        expect(typeof renderText(m)).toBe('string');
      }),
      { numRuns: 300 },
    );
  });

  it('any grouped update renders within the limits', () => {
    fc.assert(
      fc.property(
        model,
        fc.integer({ min: -5, max: 1e12 }),
        hostile(300),
        hostile(300),
        fc.option(hostile(1000), { nil: undefined }),
        (m, count, first, last, pod) => {
          const msg = renderRepeatUpdate(m, { count, firstSeenAt: first, lastSeenAt: last, lastPod: pod });
          expect(slackLimitProblems(msg)).toEqual([]);
          expect(msg.blocks.some((b) => b.block_id === 'oom_repeat')).toBe(true);
        },
      ),
      { numRuns: 100 },
    );
  });

  const containerArb = (i: number): fc.Arbitrary<ContainerSnapshot> =>
    fc.record({
      name: fc.oneof(fc.constant(i === 0 ? 'api' : `c${i}`), hostile(300)),
      limits: fc.record({
        memory: fc.option(fc.record({ text: hostile(20), bytes: fc.option(fc.integer({ min: 0, max: 2 ** 40 }), { nil: undefined }) }), { nil: undefined }),
      }),
      requests: fc.record({
        memory: fc.option(fc.record({ text: hostile(20), bytes: fc.option(fc.integer({ min: 0, max: 2 ** 40 }), { nil: undefined }) }), { nil: undefined }),
      }),
      restartCount: fc.nat(),
      runtimeMemorySettings: fc.array(
        fc.record({
          name: fc.constantFrom('-Xmx' as const, 'MaxRAMPercentage' as const, '--max-old-space-size' as const, 'GOGC' as const, 'UseContainerSupport' as const),
          source: fc.constantFrom('args' as const, 'env' as const),
          flag: fc.option(hostile(40), { nil: undefined }),
          bytes: fc.option(fc.integer({ min: 0, max: 2 ** 40 }), { nil: undefined }),
          percent: fc.option(fc.double({ min: 0, max: 100, noNaN: true }), { nil: undefined }),
          enabled: fc.option(fc.boolean(), { nil: undefined }),
        }),
        { maxLength: 4 },
      ),
      envNames: fc.array(hostile(50), { maxLength: 5 }),
    });

  const enrichedArb: fc.Arbitrary<EnrichedIncident> = fc
    .record({
      kind: fc.constantFrom('container-oom' as const, 'child-oom' as const, 'sigkill' as const, 'evicted' as const, 'disruption' as const, 'node-oom' as const),
      pod: hostile(300),
      container: fc.oneof(fc.constant('api'), hostile(300)),
      exitCode: fc.integer({ min: -1, max: 300 }),
      uptime: fc.integer({ min: 0, max: 30 * 86400 }),
      containers: fc.integer({ min: 0, max: 50 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => containerArb(i)))),
      logs: fc.oneof(fc.constant(undefined), hostile(5000), fc.constant(`${'x'.repeat(1024)}\n`), fc.constant('<!channel> ```\n')),
      logRepeat: fc.integer({ min: 1, max: 10_000 }),
      eventMessage: hostile(3000),
      evictionMessage: hostile(3000),
      usage: fc.option(fc.integer({ min: 0, max: 2 ** 40 }), { nil: undefined }),
      limit: fc.constantFrom('512Mi', '1Gi', '400m', 'bogus', '8Ei', ''),
      managed: fc.boolean(),
      previous: fc.array(fc.integer({ min: 1, max: 86400 }), { maxLength: 10 }),
    })
    .map((a) => {
      const e = createEnriched({ kind: a.kind, exitCode: a.exitCode, uptimeSeconds: a.uptime, limit: a.limit || null });
      const i = e.incident;
      if (i.pod) i.pod.name = a.pod;
      if (i.termination) i.termination.container = a.container;
      if (a.kind === 'evicted')
        i.eviction = {
          resource: 'memory',
          containers: [{ name: a.container, usage: '912340Ki', request: '200Mi' }],
          source: 'message',
          message: a.evictionMessage,
        };
      if (a.kind === 'disruption') i.disruption = { reason: 'PreemptionByScheduler', message: a.evictionMessage };
      if (a.kind === 'node-oom') i.nodeOom = { node: a.pod, victimProcess: a.container, count: 2, message: a.eventMessage };
      if (a.kind === 'sigkill') i.probeKill = { reason: 'Killing', message: a.eventMessage };
      if (e.pod && !e.pod.gone) e.pod.containers = a.containers.length > 0 ? a.containers : e.pod.containers;
      e.previousLogs = a.logs === undefined ? undefined : a.logs.repeat(a.logRepeat);
      e.events = [
        {
          reason: 'SystemOOM',
          type: 'Warning',
          message: a.eventMessage,
          count: 3,
          lastTimestamp: '2026-11-23T10:15:40Z',
          involvedKind: 'Node',
          involvedName: a.pod,
        },
      ];
      if (a.usage !== undefined)
        e.usage = { container: a.container, containerWorkingSetBytes: a.usage, source: 'prometheus', sampledAt: '2026-11-23T10:15:30Z' };
      if (a.managed && e.owner) e.owner.managedBy = { tool: 'argocd', name: a.pod };
      e.previousIncidents = a.previous.map((s, n) => ({
        kind: 'container-oom' as const,
        container: a.container,
        occurredAt: `2026-11-2${n % 3}T00:00:00Z`,
        startedAt: '2026-11-19T00:00:00Z',
        finishedAt: new Date(Date.parse('2026-11-19T00:00:00Z') + s * 1000).toISOString(),
      }));
      return e;
    });

  it('any incident goes through diagnose → message → Slack within the limits', () => {
    fc.assert(
      fc.property(enrichedArb, fc.option(fc.string({ minLength: 1, maxLength: 64 }), { nil: undefined }), (e, proposalId) => {
        const d = diagnose(e, { maxMemoryLimitBytes: 8 * GiB });
        expect(d.evidence.length).toBeGreaterThan(0);
        const m = buildMessage(e, d, { proposalId });
        expect(slackLimitProblems(renderSlack(m))).toEqual([]);
        renderText(m);
      }),
      { numRuns: 150 },
    );
  });

  it('10 MB of logs and 50 containers render fast and within the limits', () => {
    const e = createEnriched();
    const big = `${'<!channel> 🚀 ``` log line & more '.repeat(40)}\n`;
    e.previousLogs = big.repeat(Math.ceil((10 * 1024 * 1024) / big.length));
    if (e.pod && !e.pod.gone) {
      const first = e.pod.containers[0] as ContainerSnapshot;
      e.pod.containers = Array.from({ length: 50 }, (_, n) => ({ ...first, name: n === 0 ? 'api' : `sidecar-${n}` }));
    }
    const started = performance.now();
    const d = diagnose(e);
    const m = buildMessage(e, d, { proposalId: 'p1' });
    const msg = renderSlack(m);
    expect(performance.now() - started).toBeLessThan(2000);
    expect(slackLimitProblems(msg)).toEqual([]);
    expect(JSON.stringify(msg).length).toBeLessThan(40_000);
    expect(d.proposal && m.actions[0]?.value).toBe('p1');
  });

  it('every action id fits', () => {
    for (const id of ALL_ACTION_IDS) expect(id.length).toBeLessThanOrEqual(255);
    expect(new Set(ALL_ACTION_IDS).size).toBe(ALL_ACTION_IDS.length);
  });

  it('a 1 MiB limit still proposes sensibly', () => {
    const d = diagnose(createEnriched({ limit: '1Mi', request: null }));
    expect(d.proposal?.target === 'limit' && d.proposal.toLimitBytes).toBe(128 * MiB);
  });
});
