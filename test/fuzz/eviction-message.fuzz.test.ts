/**
 * Property tests of the eviction message parser beyond test/core/eviction-message.test.ts:
 * messages generated in the kubelet's own formats (pkg/kubelet/eviction/helpers.go) parse back to the
 * numbers they were built from, and megabytes of hostile text never throw or stall.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatMemory } from '../../core/quantity.js';
import { parseEvictionMessage } from '../../core/eviction-message.js';

// The kubelet's format strings, verbatim.
const nodeLow = (resource: string) => `The node was low on resource: ${resource}. `;
const nodeCondition = (conditions: string[]) => `The node had condition: [${conditions.join(' ')}]. `;
const thresholdMet = (threshold: string, available: string) => `Threshold quantity: ${threshold}, available: ${available}. `;
const container = (name: string, usage: string, request: string, resource: string) =>
  `Container ${name} was using ${usage}, request is ${request}, has larger consumption of ${resource}. `;
/** Before 1.17. */
const containerOld = (name: string, usage: string, request: string) => `Container ${name} was using ${usage}, which exceeds its request of ${request}. `;
const podStorage = (limit: string) => `Pod ephemeral local storage usage exceeds the total limit of containers ${limit}. `;
const containerStorage = (name: string, limit: string) => `Container ${name} exceeded its local ephemeral storage limit ${JSON.stringify(limit)}. `;
const emptyDir = (volume: string, limit: string) => `Usage of EmptyDir volume ${JSON.stringify(volume)} exceeds the limit ${JSON.stringify(limit)}. `;

const lower = [...'abcdefghijklmnopqrstuvwxyz0123456789'];
/** A DNS-1123 label, as container and volume names are. */
const label = fc
  .tuple(fc.constantFrom(...lower), fc.string({ unit: fc.constantFrom(...lower, '-'), maxLength: 61 }), fc.constantFrom(...lower))
  .map(([a, mid, z]) => `${a}${mid}${z}`);

/** Quantities as the kubelet prints them (canonical), plus a few hand-written forms. */
const quantity = fc.oneof(
  fc.bigInt({ min: 0n, max: 1n << 50n }).map((b) => formatMemory(b)),
  fc.integer({ min: 0, max: 2 ** 31 }).map(String),
  fc.tuple(fc.integer({ min: 1, max: 999 }), fc.constantFrom('Ki', 'Mi', 'Gi', 'k', 'M', 'G', 'm')).map(([n, s]) => `${n}${s}`),
  fc.constantFrom('0', '1.5Gi', '100Mi', '81232Ki', '4281126156', '10%'),
);
const resource = fc.constantFrom('memory', 'ephemeral-storage', 'pids');

interface Usage {
  name: string;
  usage: string;
  request: string;
}

const usages = fc.array(fc.record({ name: label, usage: quantity, request: quantity }), { maxLength: 12 });

describe('parseEvictionMessage on kubelet-format messages', () => {
  it('node pressure: resource, threshold, available and every container come back, in order', () => {
    fc.assert(
      fc.property(resource, fc.option(fc.tuple(quantity, quantity), { nil: undefined }), usages, fc.boolean(), (res, threshold, containers, old) => {
        const message =
          nodeLow(res) +
          (threshold ? thresholdMet(threshold[0], threshold[1]) : '') +
          containers.map((c) => (old ? containerOld(c.name, c.usage, c.request) : container(c.name, c.usage, c.request, res))).join('');
        const parsed = parseEvictionMessage(message);
        expect(parsed.resource).toBe(res);
        expect(parsed.threshold).toBe(threshold?.[0]);
        expect(parsed.available).toBe(threshold?.[1]);
        expect(parsed.containers).toEqual(containers.map((c: Usage) => ({ name: c.name, usage: c.usage, request: c.request })));
        expect(parsed.localLimit).toBeUndefined();
        // The kubelet's trailing space is not part of the format a parser may rely on.
        expect(parseEvictionMessage(message.trimEnd())).toEqual(parsed);
      }),
      { numRuns: 1500 },
    );
  });

  it('node conditions name their resource', () => {
    const byCondition: Record<string, string> = { MemoryPressure: 'memory', DiskPressure: 'ephemeral-storage', PIDPressure: 'pids' };
    fc.assert(
      fc.property(fc.uniqueArray(fc.constantFrom(...Object.keys(byCondition)), { minLength: 1, maxLength: 3 }), (conditions) => {
        expect(parseEvictionMessage(nodeCondition(conditions)).resource).toBe(byCondition[conditions[0]!]);
      }),
    );
  });

  it('local ephemeral-storage limits: container, pod and emptyDir come back with their limits', () => {
    fc.assert(
      fc.property(label, quantity, (name, limit) => {
        expect(parseEvictionMessage(containerStorage(name, limit))).toEqual({
          resource: 'ephemeral-storage',
          containers: [{ name, limit }],
          localLimit: { scope: 'container', name, limit },
        });
        expect(parseEvictionMessage(podStorage(limit))).toEqual({ resource: 'ephemeral-storage', containers: [], localLimit: { scope: 'pod', limit } });
        expect(parseEvictionMessage(emptyDir(name, limit))).toEqual({
          resource: 'ephemeral-storage',
          containers: [],
          localLimit: { scope: 'emptyDir', name, limit },
        });
      }),
      { numRuns: 500 },
    );
  });
});

/** Text built from the kubelet's own words in any order, with odd characters between them. */
const kubeletish = fc
  .array(
    fc.oneof(
      resource.map(nodeLow),
      fc.tuple(quantity, quantity).map(([t, a]) => thresholdMet(t, a)),
      fc.tuple(label, quantity, quantity, resource).map(([n, u, r, res]) => container(n, u, r, res)),
      fc.tuple(label, quantity, quantity).map(([n, u, r]) => containerOld(n, u, r)),
      fc.tuple(label, quantity).map(([n, l]) => containerStorage(n, l)),
      fc.string({ unit: 'grapheme', maxLength: 30 }),
      fc.constantFrom('Container ', ' was using ', '. ', '"', '[', ']', '\u0000', '\n', '<!channel>', '\uD800'),
    ),
    { maxLength: 60 },
  )
  .map((parts) => parts.join(''));

describe('parseEvictionMessage on hostile text', () => {
  it('never throws on jumbled kubelet text and arbitrary unicode, and returns only strings it found', () => {
    fc.assert(
      fc.property(fc.oneof(kubeletish, fc.string({ unit: 'grapheme', maxLength: 500 }), fc.string({ unit: 'binary', maxLength: 500 })), (message) => {
        const parsed = parseEvictionMessage(message);
        expect(parsed.containers.length).toBeLessThanOrEqual(64);
        // A resource is read from the text, or named for a node condition or a local storage limit.
        if (parsed.resource !== undefined && !['memory', 'ephemeral-storage', 'pids'].includes(parsed.resource)) expect(message).toContain(parsed.resource);
        for (const value of [parsed.threshold, parsed.available, ...parsed.containers.flatMap((c) => [c.name, c.usage, c.request, c.limit])]) {
          if (value !== undefined) {
            expect(typeof value).toBe('string');
            expect(message).toContain(value);
            expect(value.length).toBeLessThanOrEqual(256);
          }
        }
      }),
      { numRuns: 1500 },
    );
  });

  it('a 1 MB message, kubelet words repeated, parses within bounds and quickly', () => {
    fc.assert(
      fc.property(
        kubeletish.filter((s) => s.length > 0),
        (piece) => {
          const huge = piece.repeat(Math.ceil(1_048_576 / piece.length)).slice(0, 1_048_576);
          const started = performance.now();
          const parsed = parseEvictionMessage(huge);
          expect(performance.now() - started).toBeLessThan(1000);
          expect(parsed.containers.length).toBeLessThanOrEqual(64);
        },
      ),
      { numRuns: 20 },
    );
  });
});
