/**
 * The eviction rule reading a record that holds only the kubelet's message. It reads it with the
 * parser the watcher uses (core/eviction-message.ts); these are the messages on which the diagnosis's
 * former pattern read less, or read wrong.
 */
import { describe, expect, it } from 'vitest';
import { diagnose } from '../../../diagnosis/diagnose.js';
import type { EnrichedIncident } from '../../../diagnosis/enriched.js';
import { createEnriched } from '../factories.js';

function evictedWithMessage(message: string): EnrichedIncident {
  const e = createEnriched({ kind: 'evicted' });
  delete e.incident.termination;
  e.incident.eviction = { containers: [], source: 'message', message };
  return e;
}

const texts = (e: EnrichedIncident) => diagnose(e).evidence.map((ev) => ev.text);

describe('eviction: a record with only the message', () => {
  it('reads a request with a decimal point whole (it was cut to "1")', () => {
    const d = diagnose(
      evictedWithMessage('The node was low on resource: memory. Container api was using 2Gi, request is 1.5Gi, has larger consumption of memory.'),
    );
    expect(d).toMatchObject({ cause: 'eviction-memory', confidence: 'medium' });
    expect(d.headline).toContain('above its request of 1.5Gi');
    expect(d.evidence.map((ev) => ev.text)).toContain('api used 2Gi, request 1.5Gi (1.3× its request)');
  });

  it('names the resource of a node condition', () => {
    const d = diagnose(evictedWithMessage('The node had condition: [DiskPressure]. '));
    expect(d.cause).toBe('eviction-resource');
    expect(d.headline).toContain('its node ran low on ephemeral-storage');
  });

  it('names the resource of a bracketed condition list', () => {
    expect(diagnose(evictedWithMessage('The node was low on resource: [MemoryPressure]. ')).cause).toBe('eviction-memory');
  });

  it("tells a container's own ephemeral-storage limit from a node running low", () => {
    const e = evictedWithMessage('Container api exceeded its local ephemeral storage limit "500Mi". ');
    const d = diagnose(e);
    expect(d.cause).toBe('eviction-resource');
    expect(d.headline).toContain('went over its own ephemeral-storage limit');
    expect(texts(e)).toContain('The container api went over its own ephemeral-storage limit of 500Mi');
  });

  it("tells the pod's own ephemeral-storage limit from a node running low", () => {
    const e = evictedWithMessage('Pod ephemeral local storage usage exceeds the total limit of containers 1Gi. ');
    expect(diagnose(e).headline).toContain('went over its own ephemeral-storage limit');
    expect(texts(e)).toContain('The pod went over its own ephemeral-storage limit of 1Gi');
  });

  it("falls back to the pod's status message when the record has none", () => {
    const e = createEnriched({ kind: 'evicted' });
    e.incident.eviction = { containers: [], source: 'none' };
    if (e.pod && !e.pod.gone) e.pod.message = 'The node was low on resource: pids. Threshold quantity: 1000, available: 12. ';
    expect(diagnose(e)).toMatchObject({ cause: 'eviction-resource' });
    expect(diagnose(e).headline).toContain('low on pids');
  });
});

describe('eviction: the resource is cluster text', () => {
  it('a resource named like an Object.prototype key still gets a list of advice', () => {
    for (const resource of ['constructor', '__proto__', 'toString']) {
      const e = createEnriched({ kind: 'evicted' });
      e.incident.eviction = { resource, containers: [], source: 'event-annotations' };
      const d = diagnose(e);
      expect(d.cause).toBe('eviction-resource');
      expect(Array.isArray(d.advice)).toBe(true);
      expect(d.advice.every((a) => typeof a === 'string')).toBe(true);
    }
  });
});
