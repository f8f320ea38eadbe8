/**
 * The pure part of the worker, fed what the API server could send: raw pods of any shape (up to 50
 * containers, unicode, mrkdwn control characters, mentions and links in every name and message, huge
 * logs, annotations and event messages) and malformed or partial objects (missing status, nulls,
 * unknown reasons, wrong types), through detect → enrich → diagnose → message → render.
 *
 * Checked with Slack's own limits (sim/slack/validate-blocks.ts, what the simulated Slack answers
 * `invalid_blocks` with), for active mentions in every text Slack would show, for env values anywhere,
 * and for control characters in the console rendering. test/handlers/model/limits.test.ts covers
 * hand-built message models and enriched incidents; this starts one step earlier, from raw objects.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CoreV1Event, V1LimitRange, V1Node, V1Pod } from '@kubernetes/client-node';
import type { Incident } from '../../core/incident.js';
import { GiB } from '../../core/quantity.js';
import { detectEventIncidents, detectPodIncidents } from '../../watchers/detect/index.js';
import { toEnriched } from '../../investigate/enrich.js';
import type { Gathered, OwnerObject } from '../../investigate/gather.js';
import type { HistoryRecord } from '../../stores/incident-history.js';
import { diagnose } from '../../diagnosis/diagnose.js';
import { buildMessage } from '../../alert/message.js';
import { renderRepeatUpdate, renderSlack, type SlackMessage } from '../../alert/render-slack.js';
import { renderText } from '../../alert/render-text.js';
import { validateMessage } from '../../sim/slack/validate-blocks.js';
import { CUTOFF, NOW, createDetectContext, createEvictedEvent, createEvictedPod, createSystemOomEvent, readKubeFixture } from '../helpers/pods.js';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mutate } from '../helpers/mutate.js';

const NASTY = [
  '<!channel>',
  '<!here>',
  '<!everyone>',
  '<@U0ALICE>',
  '<#C0ALERTS|alerts>',
  '<!subteam^S0123>',
  '<http://x|y>',
  '<https://evil.example/?a=1&b=2|click>',
  '&',
  '&amp;',
  '&lt;!channel&gt;',
  '```',
  '`',
  '*',
  '_',
  '~',
  '>',
  '<',
  '\u0000',
  '\u0007',
  '\u001b[31m',
  '\u001b]8;;http://x\u0007',
  '\r\n',
  '\r',
  '\t',
  '\u202e',
  '\u2066',
  '\u200b',
  '\uFEFF',
  '\uD83D',
  '\uDE80',
  '🚀',
  '👩‍👩‍👧',
  'é',
  'é',
  '内存',
  'ﷺ',
  '\n',
  ':rotating_light:',
  '@here',
  '@channel',
];

/** Untrusted text: pieces that break messages, unicode, and sometimes a lot of it. */
function hostile(maxPieces: number): fc.Arbitrary<string> {
  return fc.oneof(
    {
      weight: 4,
      arbitrary: fc
        .array(fc.oneof(fc.constantFrom(...NASTY), fc.string({ maxLength: 16 }), fc.string({ unit: 'grapheme', maxLength: 8 })), { maxLength: maxPieces })
        .map((p) => p.join('')),
    },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: maxPieces * 4 }) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...NASTY), fc.integer({ min: 1, max: maxPieces * 50 })).map(([s, n]) => s.repeat(n)) },
  );
}

/** A name as a person would see it: usually Kubernetes-shaped, sometimes anything, sometimes very long. */
const name = fc.oneof(
  { weight: 3, arbitrary: fc.stringMatching(/^[a-z][a-z0-9-]{0,20}[a-z0-9]$/) },
  { weight: 2, arbitrary: hostile(8) },
  { weight: 1, arbitrary: fc.integer({ min: 64, max: 2000 }).map((n) => `n${'a-'.repeat(n)}`) },
);

const quantityText = fc.oneof(
  fc.constantFrom('512Mi', '1Gi', '256Mi', '400m', '1.5Gi', '0', '8Ei', '9e64', '', 'bogus', '-1Gi', '1e-9', '128974848', '<!channel>'),
  fc.string({ maxLength: 12 }),
);

/** Values that look like secrets; none may appear in anything oombot renders or keeps. */
const secret = fc.stringMatching(/^[A-Za-z0-9]{6,12}$/).map((s) => `s3cr3t-${s}`);

interface PodShape {
  pod: V1Pod;
  secrets: string[];
  logs: string;
  events: CoreV1Event[];
  owners: OwnerObject[];
}

function containerArb(i: number) {
  return fc.record({
    name: i === 0 ? fc.constant('api') : fc.oneof(fc.constant(`sidecar-${i}`), name),
    image: hostile(4),
    memoryLimit: fc.option(quantityText, { nil: undefined }),
    memoryRequest: fc.option(quantityText, { nil: undefined }),
    command: fc.array(hostile(4), { maxLength: 3 }),
    secretValues: fc.array(secret, { minLength: 1, maxLength: 3 }),
    javaOptions: fc.boolean(),
    reason: fc.constantFrom('OOMKilled', 'Error', 'Completed', 'ContainerCannotRun', '', 'SomethingNew'),
    exitCode: fc.constantFrom(137, 143, 1, 0, 255, -1),
    message: hostile(20),
    restartCount: fc.nat({ max: 10_000 }),
  });
}

const podShape: fc.Arbitrary<PodShape> = fc
  .record({
    namespace: name,
    podName: name,
    nodeName: name,
    containers: fc.integer({ min: 1, max: 50 }).chain((n) => fc.tuple(...Array.from({ length: n }, (_, i) => containerArb(i)))),
    annotation: fc.oneof(
      hostile(10),
      fc.integer({ min: 1, max: 256 * 1024 }).map((n) => '<!channel>'.repeat(Math.ceil(n / 10))),
    ),
    trackingId: fc.option(hostile(6), { nil: undefined }),
    ownerName: name,
    logs: fc.oneof(
      hostile(40),
      fc.tuple(hostile(6), fc.integer({ min: 1, max: 40_000 })).map(([line, n]) => `${line}\n`.repeat(n)),
    ),
    eventMessage: fc.oneof(hostile(20), fc.constant(`${'<!here> '.repeat(131_072)}`)),
    eventReason: fc.constantFrom('OOMKilling', 'Killing', 'Unhealthy', 'Evicted', 'SystemOOM', 'BackOff', 'Whatever', ''),
    qos: fc.constantFrom('Guaranteed', 'Burstable', 'BestEffort', 'Weird', undefined),
  })
  .map((s) => {
    const secrets: string[] = [];
    const specs = s.containers.map((c) => {
      secrets.push(...c.secretValues);
      const [first, ...rest] = c.secretValues;
      return {
        name: c.name,
        image: c.image,
        command: [...c.command, `--password=${first}`],
        args: ['-Xmx400m', `--token ${first}`],
        env: [
          { name: 'DB_PASSWORD', value: first },
          ...rest.map((v, i) => ({ name: `SECRET_${i}`, value: v })),
          ...(c.javaOptions
            ? [
                { name: 'JAVA_TOOL_OPTIONS', value: `-Dapi.key=${first} -Xmx2g -XX:MaxRAMPercentage=85` },
                { name: 'NODE_OPTIONS', value: `--max-old-space-size=512 --secret=${first}` },
              ]
            : []),
          { name: 'FROM_SECRET', valueFrom: { secretKeyRef: { name: 'db', key: 'password' } } },
        ],
        envFrom: [{ secretRef: { name: 'app-secrets' } }, { configMapRef: { name: 'app-config' } }],
        resources: {
          limits: c.memoryLimit === undefined ? {} : { memory: c.memoryLimit },
          requests: c.memoryRequest === undefined ? {} : { memory: c.memoryRequest },
        },
      };
    });
    const statuses = s.containers.map((c, i) => ({
      name: c.name,
      restartCount: c.restartCount,
      ready: false,
      state: { waiting: { reason: 'CrashLoopBackOff', message: c.message } },
      lastState: {
        terminated: {
          // The first container is always OOM-killed, so every pod gives an incident.
          reason: i === 0 ? 'OOMKilled' : c.reason,
          exitCode: i === 0 ? 137 : c.exitCode,
          message: c.message,
          startedAt: '2025-11-20T09:10:00Z',
          finishedAt: `2025-11-20T09:${String(41 + (i % 18)).padStart(2, '0')}:11Z`,
          containerID: `containerd://${i}`,
        },
      },
    }));
    const pod = {
      metadata: {
        name: s.podName,
        namespace: s.namespace,
        uid: 'u-1',
        annotations: { 'oombot.test/long': s.annotation, ...(s.trackingId === undefined ? {} : { 'argocd.argoproj.io/tracking-id': s.trackingId }) },
        labels: { app: s.ownerName },
        ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: s.ownerName, uid: 'rs-1', controller: true }],
      },
      spec: { nodeName: s.nodeName, containers: specs, terminationGracePeriodSeconds: 30 },
      status: { phase: 'Running', qosClass: s.qos, containerStatuses: statuses },
    } as unknown as V1Pod;
    const event = {
      metadata: { name: 'e1', namespace: s.namespace },
      type: 'Warning',
      reason: s.eventReason,
      message: s.eventMessage,
      count: 3,
      lastTimestamp: '2025-11-20T09:41:12Z',
      involvedObject: { kind: 'Pod', name: s.podName, namespace: s.namespace, uid: 'u-1' },
      source: { component: 'kubelet' },
    } as unknown as CoreV1Event;
    const owners: OwnerObject[] = [
      { kind: 'ReplicaSet', name: s.ownerName, namespace: s.namespace, metadata: { annotations: { big: s.annotation } } },
      {
        kind: 'Deployment',
        name: s.ownerName,
        namespace: s.namespace,
        metadata: { annotations: s.trackingId === undefined ? {} : { 'argocd.argoproj.io/tracking-id': s.trackingId } },
      },
    ];
    return { pod, secrets, logs: s.logs, events: [event], owners };
  });

function gathered(incident: Incident, over: Partial<Gathered> = {}): Gathered {
  return { incident, events: [], owners: [], nodes: [], limitRanges: [], metricsAvailable: false, apiCalls: 0, gaps: [], ...over };
}

/** Every string a Slack client would render from a message: the fallback and all of the blocks. */
function strings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const v of value) strings(v, out);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) strings(v, out);
  return out;
}

/** Accepted by Slack, and inert: nothing in it can mention, broadcast or link. */
function expectSafeForSlack(msg: SlackMessage): void {
  expect(validateMessage({ text: msg.text, blocks: msg.blocks })).toEqual({ messages: [] });
  for (const s of strings(msg)) {
    expect(s.isWellFormed()).toBe(true);
    expect(s).not.toMatch(/[<>]/);
    expect(s.replace(/&(amp|lt|gt);/g, '')).not.toContain('&');
  }
}

function expectCleanConsoleText(text: string): void {
  expect(text.isWellFormed()).toBe(true);
  // No escape sequence or control character can reach a terminal or a log line.
  expect(text).not.toMatch(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/);
  expect(text.length).toBeLessThan(200_000);
}

const POLICY = { maxMemoryLimitBytes: 8 * GiB };

/** detect → enrich → diagnose → message → both renderings, with the checks every alert must pass. */
function runPipeline(incident: Incident, g: Gathered, history: HistoryRecord[] = []) {
  const enriched = toEnriched(g, history, NOW);
  const diagnosis = diagnose(enriched, POLICY);
  expect(diagnosis.evidence.length).toBeGreaterThan(0);
  const model = buildMessage(enriched, diagnosis, { proposalId: 'p_AAAAAAAAAAAAAAAAAAAAAA' });
  const slack = renderSlack(model);
  expectSafeForSlack(slack);
  expectSafeForSlack(renderRepeatUpdate(model, { count: 12, firstSeenAt: incident.occurredAt, lastSeenAt: incident.occurredAt, lastPod: incident.pod?.name }));
  const text = renderText(model, { count: 3, firstSeenAt: incident.occurredAt, lastSeenAt: incident.occurredAt });
  expectCleanConsoleText(text);
  return { enriched, diagnosis, model, slack, text };
}

describe("any pod shape goes through detect → enrich → diagnose → render within Slack's limits", () => {
  it('50 containers, hostile names and messages, huge logs and annotations: valid, inert, no env value anywhere', () => {
    fc.assert(
      fc.property(podShape, fc.boolean(), ({ pod, secrets, logs, events, owners }, metrics) => {
        const ctx = createDetectContext();
        const incidents = [...detectPodIncidents(pod, ctx), ...events.flatMap((e) => detectEventIncidents(e, ctx))];
        expect(incidents.length).toBeGreaterThan(0);
        for (const incident of incidents.slice(0, 3)) {
          const g = gathered(incident, {
            pod,
            events,
            owners,
            nodePods: [pod],
            previousLogs: logs,
            metricsAvailable: metrics,
            ...(metrics ? { podMetrics: { containers: [{ name: 'api', usage: { memory: '510Mi' } }], timestamp: '2025-11-20T09:41:00Z' } } : {}),
          });
          const out = runPipeline(incident, g);
          const everything = [
            JSON.stringify(incident),
            JSON.stringify(out.enriched),
            JSON.stringify(out.diagnosis),
            JSON.stringify(out.model),
            JSON.stringify(out.slack),
            out.text,
          ].join('\n');
          for (const s of secrets) expect(everything).not.toContain(s);
        }
      }),
      { numRuns: 40 },
    );
    // Forty pods of 50 containers with megabytes of logs: seconds alone, longer beside the whole suite.
  }, 120_000);
});

// ---- malformed and partial objects ----

const FIXTURE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'kube');
const fixtures: unknown[] = readdirSync(FIXTURE_DIR).flatMap((file) => {
  const value = readKubeFixture<unknown>(file);
  return Array.isArray(value) ? value : [value];
});
const podSeeds = fixtures.filter((f) => (f as { spec?: unknown }).spec !== undefined) as V1Pod[];
const eventSeeds = [
  ...fixtures.filter((f) => (f as { involvedObject?: unknown }).involvedObject !== undefined),
  createEvictedEvent(createEvictedPod()),
  createSystemOomEvent(),
] as CoreV1Event[];
const nodeSeed = {
  metadata: { name: 'worker-3' },
  status: { allocatable: { memory: '15Gi' }, capacity: { memory: '16Gi' }, conditions: [{ type: 'MemoryPressure', status: 'False' }] },
} as unknown as V1Node;
const limitRangeSeed = { metadata: { name: 'lr' }, spec: { limits: [{ type: 'Container', max: { memory: '4Gi' } }] } } as unknown as V1LimitRange;
const ownerSeed: OwnerObject = {
  kind: 'Deployment',
  name: 'api',
  namespace: 'shop',
  metadata: { labels: { 'kustomize.toolkit.fluxcd.io/name': 'shop' }, annotations: { 'meta.helm.sh/release-name': 'api' } },
};
const historySeed: HistoryRecord = {
  id: 'h1',
  kind: 'container-oom',
  cluster: 'prod-eu-1',
  namespace: 'shop',
  pod: 'api-1',
  container: 'api',
  occurredAt: '2025-11-20T08:00:00Z',
  startedAt: '2025-11-20T07:00:00Z',
  finishedAt: '2025-11-20T08:00:00Z',
  exitCode: 137,
  limitBytes: 512 * 2 ** 20,
};

/** Values the API could never send but a broken proxy, an old server or a bug might. */
const wild = fc.oneof(
  fc.constantFrom(
    null,
    undefined,
    '',
    0,
    -1,
    137,
    2 ** 53,
    Number.NaN,
    true,
    false,
    [],
    {},
    [null],
    { name: null },
    'OOMKilled',
    'Evicted',
    'Unknown',
    'not a date',
    '2025-13-45T99:99:99Z',
  ),
  fc.constantFrom('<!channel>'.repeat(100_000), 'x'.repeat(1_048_576), '\u0000\u001b[31m\uD800'),
  // Keys that shadow Object.prototype's conversions (`{"toString":1}`) are left out: no API object has them.
  fc.anything({ maxDepth: 2, key: fc.string({ maxLength: 10 }).filter((k) => k !== 'toString' && k !== 'valueOf') }),
);

function mutated<T>(seeds: readonly T[]): fc.Arbitrary<T> {
  return fc
    .tuple(
      fc.constantFrom(...seeds),
      fc.array(fc.array(fc.nat(), { minLength: 1, maxLength: 7 }), { minLength: 0, maxLength: 4 }),
      fc.array(wild, { minLength: 4, maxLength: 4 }),
      fc.boolean(),
    )
    .map(
      ([seed, paths, replacements, remove]) =>
        paths.reduce<unknown>((obj, path, i) => mutate(obj, path, replacements[i % replacements.length], remove), seed) as T,
    );
}

describe('malformed or partial API objects never stop a worker', () => {
  it('enrich, diagnose and render take whatever the API sent, and still give a valid, inert alert', () => {
    const seedIncidents = [
      ...podSeeds.flatMap((p) => detectPodIncidents(p, createDetectContext())),
      ...eventSeeds.flatMap((e) => detectEventIncidents(e, createDetectContext())),
    ];
    expect(seedIncidents.length).toBeGreaterThan(5);
    fc.assert(
      fc.property(
        fc.record({
          pod: fc.option(mutated(podSeeds), { nil: undefined }),
          events: fc.array(mutated(eventSeeds), { maxLength: 4 }),
          node: fc.option(mutated([nodeSeed]), { nil: undefined }),
          nodePods: fc.option(fc.array(mutated(podSeeds), { maxLength: 3 }), { nil: undefined }),
          nodes: fc.array(mutated([nodeSeed]), { maxLength: 2 }),
          owners: fc.array(mutated([ownerSeed]), { maxLength: 3 }),
          limitRanges: fc.array(mutated([limitRangeSeed]), { maxLength: 2 }),
          podMetrics: fc.option(mutated([{ containers: [{ name: 'api', usage: { memory: '500Mi' } }], timestamp: '2025-11-20T09:41:00Z' }]), {
            nil: undefined,
          }),
          logs: fc.option(
            fc.oneof(
              hostile(10),
              wild.filter((v): v is string => typeof v === 'string'),
            ),
            { nil: undefined },
          ),
          history: fc.array(mutated([historySeed]), { maxLength: 3 }),
        }),
        fc.constantFrom(...seedIncidents),
        (raw, incidentSeed) => {
          // The incident is the watcher's own record (built by the detectors); the objects read now may be anything.
          const detected = raw.pod ? detectPodIncidents(raw.pod, createDetectContext({ cutoff: CUTOFF })) : [];
          const incident = detected[0] ?? incidentSeed;
          const g = gathered(incident, {
            ...(raw.pod ? { pod: raw.pod } : {}),
            events: raw.events,
            owners: raw.owners,
            ...(raw.node ? { node: raw.node } : {}),
            ...(raw.nodePods ? { nodePods: raw.nodePods } : {}),
            nodes: raw.nodes,
            limitRanges: raw.limitRanges,
            ...(raw.podMetrics ? { podMetrics: raw.podMetrics, metricsAvailable: true } : {}),
            ...(raw.logs !== undefined ? { previousLogs: raw.logs } : {}),
          });
          runPipeline(incident, g, raw.history);
        },
      ),
      { numRuns: 400 },
    );
  });
});
