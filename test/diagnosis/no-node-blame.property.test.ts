/**
 * Property: an OOMKilled container with a memory limit (its own or the pod's) on a node with no SystemOOM
 * and no MemoryPressure is never blamed on the node, whatever the usage sample (and its age), the node's
 * overcommit, the runtime flags, the sidecars, the restart cadence or the history. Every claim cites a
 * source. The path is the real one: detect -> enrich -> diagnose -> message.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import { buildMessage } from '../../alert/message.js';
import { renderText } from '../../alert/render-text.js';
import { diagnose } from '../../diagnosis/diagnose.js';
import { toEnriched } from '../../investigate/enrich.js';
import { containerSpec } from '../../sim/kube/build/index.js';
import type { HistoryRecord } from '../../stores/incident-history.js';
import { createOomKilledPod, createPodEvent } from '../helpers/pods.js';
import { CASE_NOW, gatherCase } from './case-world.js';
import { POLICY } from './fixtures.js';

const KILL = Date.parse('2025-11-20T09:41:11Z');
const NODE_BLAME = /node\S* ran out of memory|node out of memory|the node ran out|killed by node pressure/i;

const IMAGES = ['registry.example.com/shop/api:2.14.1', 'eclipse-temurin:11.0.15_10-jre', 'node:18.19.0', 'node:22.11', 'openjdk:8u362-jre', 'golang-app:1.0'];
const ENVS: { name: string; value: string }[][] = [
  [],
  [{ name: 'JAVA_TOOL_OPTIONS', value: '-Xmx1g' }],
  [{ name: 'JAVA_OPTS', value: '-XX:MaxRAMPercentage=90' }],
  [{ name: 'NODE_OPTIONS', value: '--max-old-space-size=4096' }],
  [{ name: 'GOMEMLIMIT', value: '900MiB' }],
  [{ name: 'DOTNET_GCHeapHardLimit', value: '0x20000000' }],
];

const arbCase = fc.record({
  limitMi: fc.integer({ min: 64, max: 8192 }),
  requestShare: fc.option(fc.double({ min: 0.1, max: 1, noNaN: true }), { nil: undefined }),
  usageShare: fc.option(fc.double({ min: 0, max: 1.2, noNaN: true }), { nil: undefined }),
  sampleAgeS: fc.integer({ min: -900, max: 900 }),
  uptimeS: fc.integer({ min: 1, max: 36_000 }),
  restarts: fc.integer({ min: 0, max: 20 }),
  podAgeS: fc.integer({ min: 0, max: 200_000 }),
  image: fc.constantFrom(...IMAGES),
  env: fc.constantFrom(...ENVS),
  sidecar: fc.boolean(),
  podLimit: fc.boolean(),
  overcommitMi: fc.integer({ min: 0, max: 64 * 1024 }),
  earlier: fc.array(fc.record({ hoursAgo: fc.double({ min: 0.1, max: 100, noNaN: true }), uptimeS: fc.integer({ min: 5, max: 36_000 }) }), { maxLength: 6 }),
  backOff: fc.boolean(),
});

describe('no node blame without node evidence', () => {
  it('holds for random OOM kills of a limited container on a node without SystemOOM or MemoryPressure', () => {
    fc.assert(
      fc.property(arbCase, (c) => {
        const limit = `${c.limitMi}Mi`;
        const resources: Record<string, Record<string, string>> = { limits: { memory: limit }, requests: {} };
        if (c.requestShare !== undefined) resources.requests!.memory = `${Math.max(1, Math.floor(c.limitMi * c.requestShare))}Mi`;
        const app = containerSpec({ name: 'api', image: c.image, resources, env: [...c.env, { name: 'DB_PASSWORD', value: 's3cr3t-value' }] });
        const containers = c.sidecar ? [app, containerSpec({ name: 'istio-proxy', image: 'istio/proxyv2:1.24.1', memoryLimit: '256Mi' })] : [app];
        const startedAt = new Date(KILL - c.uptimeS * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
        const pod = createOomKilledPod(
          {
            spec: { containers, ...(c.podLimit ? { resources: { limits: { memory: `${c.limitMi * 2}Mi` } } } : {}) },
            status: { startTime: new Date(KILL - (c.uptimeS + c.podAgeS) * 1000).toISOString().replace(/\.\d+Z$/, 'Z') },
          },
          { startedAt, finishedAt: '2025-11-20T09:41:11Z', restartCount: c.restarts },
        ) as V1Pod;
        const others =
          c.overcommitMi > 0
            ? [
                createOomKilledPod({
                  metadata: { name: 'hog', uid: 'hog' },
                  spec: { containers: [containerSpec({ name: 'hog', memoryLimit: `${c.overcommitMi}Mi` })] },
                }),
              ]
            : [];
        const history: HistoryRecord[] = c.earlier.map((e, i) => {
          const end = KILL - e.hoursAgo * 3600_000;
          return {
            id: `earlier-${i}`,
            kind: 'container-oom',
            cluster: 'prod',
            namespace: 'shop',
            container: 'api',
            workload: 'Deployment/api',
            occurredAt: new Date(end).toISOString(),
            startedAt: new Date(end - e.uptimeS * 1000).toISOString(),
            finishedAt: new Date(end).toISOString(),
            exitCode: 137,
          };
        });
        const metrics =
          c.usageShare === undefined
            ? undefined
            : {
                containers: [{ name: 'api', usage: { memory: `${Math.floor(c.limitMi * c.usageShare * 1024)}Ki` } }],
                timestamp: new Date(KILL - c.sampleAgeS * 1000).toISOString(),
                window: '15s',
              };
        const events = c.backOff ? [createPodEvent({ pod, reason: 'BackOff', message: 'Back-off restarting failed container api in pod api_shop(x)' })] : [];
        const g = gatherCase({ pod, events, ...(metrics ? { metrics } : {}) });
        g.nodePods = [pod, ...others];
        const enriched = toEnriched(g, history, CASE_NOW);
        const d = diagnose(enriched, POLICY);
        const text = renderText(buildMessage(enriched, d));
        expect(d.cause, text).not.toBe('node-pressure');
        expect(d.nodeOom).toBeUndefined();
        expect(`${d.headline}\n${d.evidence.map((e) => e.text).join('\n')}`, text).not.toMatch(NODE_BLAME);
        for (const e of d.evidence) expect(e.source.length).toBeGreaterThan(0);
        // Env values never: only a memory flag may appear.
        expect(text).not.toMatch(/s3cr3t/);
      }),
      { numRuns: 300, seed: 1207 },
    );
  });
});
