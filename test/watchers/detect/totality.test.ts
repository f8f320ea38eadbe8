import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import { INCIDENT_KINDS, type Incident } from '../../../core/incident.js';
import { detectEventIncidents, detectPodIncidents, toPodRef } from '../../../watchers/detect/index.js';
import { detectOomKilled } from '../../../watchers/detect/pod-oom-killed.js';
import { detectSigkilled } from '../../../watchers/detect/pod-sigkilled.js';
import { detectEvicted } from '../../../watchers/detect/pod-evicted.js';
import { detectDisrupted } from '../../../watchers/detect/pod-disrupted.js';
import { detectEventEvicted } from '../../../watchers/detect/event-evicted.js';
import { detectEventDisruption } from '../../../watchers/detect/event-disruption.js';
import { detectNodeSystemOom } from '../../../watchers/detect/node-system-oom.js';
import {
  createChildOomPod,
  createDetectContext,
  createDisruptedPod,
  createEvictedEvent,
  createEvictedPod,
  createOomKilledPod,
  createPodEvent,
  createSigkilledPod,
  createSystemOomEvent,
  readKubeFixture,
} from '../../helpers/pods.js';
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mutate } from '../../helpers/mutate.js';

const POD_DETECTORS = [detectOomKilled, detectSigkilled, detectEvicted, detectDisrupted];
const EVENT_DETECTORS = [detectEventEvicted, detectEventDisruption, detectNodeSystemOom];

const FIXTURE_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures', 'kube');
const fixtures: unknown[] = readdirSync(FIXTURE_DIR).flatMap((file) => {
  const value = readKubeFixture<unknown>(file);
  return Array.isArray(value) ? value : [value];
});
const seeds: unknown[] = [
  ...fixtures,
  createOomKilledPod(),
  createChildOomPod(),
  createSigkilledPod(),
  createEvictedPod(),
  createDisruptedPod('PreemptionByScheduler'),
  createEvictedEvent(createEvictedPod()),
  createSystemOomEvent(),
  createPodEvent({ reason: 'TaintManagerEviction', message: 'Marking for deletion Pod a/b' }),
];

const wild = fc.oneof(
  fc.anything(),
  fc.constantFrom(
    null,
    undefined,
    '',
    'OOMKilled',
    'Evicted',
    'Failed',
    'Killing',
    'Pod',
    'Node',
    'True',
    137,
    143,
    -1,
    2 ** 53,
    NaN,
    '2025-13-45T99:99:99Z',
    'not a date',
    new Date(Number.NaN),
    new Date(8.64e15),
    [],
    {},
  ),
);
const mutated = fc
  .tuple(
    fc.constantFrom(...seeds),
    fc.array(fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), { minLength: 1, maxLength: 4 }),
    fc.array(wild, { minLength: 4, maxLength: 4 }),
    fc.boolean(),
  )
  .map(([seed, paths, replacements, remove]) =>
    paths.reduce<unknown>((obj, path, i) => mutate(obj, path, replacements[i % replacements.length], remove), seed),
  );
const anyObject = fc.oneof(fc.anything(), fc.object(), mutated, mutated);
const anyContext = fc.record({
  live: fc.boolean(),
  now: fc.constantFrom(new Date('2025-11-20T10:00:00Z'), new Date(Number.NaN)),
  cutoff: fc.constantFrom(new Date('2025-11-20T09:00:00Z'), new Date(0), new Date(Number.NaN)),
  events: fc.array(anyObject, { maxLength: 4 }),
});

function checkIncident(incident: Incident): void {
  expect(INCIDENT_KINDS).toContain(incident.kind);
  expect(incident.id.startsWith(`${incident.kind}-`)).toBe(true);
  expect(incident.id).not.toContain(':');
  expect(Number.isNaN(Date.parse(incident.occurredAt))).toBe(false);
  expect(() => JSON.stringify(incident)).not.toThrow();
}

describe('detectors are total', () => {
  it('every detector, and both entry points, never throw on arbitrary or partial objects', () => {
    fc.assert(
      fc.property(anyObject, anyContext, (obj, c) => {
        const ctx = createDetectContext({ live: c.live, now: c.now, cutoff: c.cutoff, recentPodEvents: () => c.events as CoreV1Event[] });
        for (const detect of POD_DETECTORS) for (const incident of detect(obj as V1Pod, ctx)) checkIncident(incident);
        for (const detect of EVENT_DETECTORS) for (const incident of detect(obj as CoreV1Event, ctx)) checkIncident(incident);
        detectPodIncidents(obj as V1Pod, ctx).forEach(checkIncident);
        detectEventIncidents(obj as CoreV1Event, ctx).forEach(checkIncident);
        toPodRef(obj as V1Pod);
      }),
      { numRuns: 3000 },
    );
  });

  it('objects with hostile prototypes-looking keys do not confuse the readers', () => {
    const pod = JSON.parse(
      '{"metadata":{"uid":"u","name":"p","namespace":"n","labels":{"__proto__":{"x":"y"},"constructor":"c"}},"status":{"containerStatuses":[{"name":"__proto__","restartCount":1,"lastState":{"terminated":{"exitCode":137,"reason":"OOMKilled","finishedAt":"2025-11-20T09:41:11Z"}}}]}}',
    ) as V1Pod;
    const incidents = detectPodIncidents(pod, createDetectContext());
    expect(incidents.map((incident) => incident.kind)).toEqual(['container-oom']);
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });
});
