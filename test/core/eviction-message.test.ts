import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseEvictionMessage } from '../../core/eviction-message.js';

describe('parseEvictionMessage', () => {
  it('current kubelet wording (memory)', () => {
    expect(
      parseEvictionMessage(
        'The node was low on resource: memory. Threshold quantity: 100Mi, available: 81232Ki. Container worker was using 912340Ki, request is 200Mi, has larger consumption of memory. ',
      ),
    ).toEqual({ resource: 'memory', threshold: '100Mi', available: '81232Ki', containers: [{ name: 'worker', usage: '912340Ki', request: '200Mi' }] });
  });

  it('several containers, in message order', () => {
    const parsed = parseEvictionMessage(
      'The node was low on resource: memory. Threshold quantity: 750Mi, available: 512Mi. Container app was using 1Gi, request is 256Mi, has larger consumption of memory. Container sidecar was using 300Mi, request is 0, has larger consumption of memory. ',
    );
    expect(parsed.containers.map((c) => c.name)).toEqual(['app', 'sidecar']);
    expect(parsed.containers[1]).toEqual({ name: 'sidecar', usage: '300Mi', request: '0' });
  });

  it('older wording: "which exceeds its request of"', () => {
    expect(parseEvictionMessage('The node was low on resource: memory. Container worker was using 20Ki, which exceeds its request of 0. ')).toEqual({
      resource: 'memory',
      containers: [{ name: 'worker', usage: '20Ki', request: '0' }],
    });
  });

  it('a quantity with a decimal point is read whole, in both wordings', () => {
    expect(
      parseEvictionMessage('The node was low on resource: memory. Container api was using 2Gi, request is 1.5Gi, has larger consumption of memory. ')
        .containers,
    ).toEqual([{ name: 'api', usage: '2Gi', request: '1.5Gi' }]);
    expect(
      parseEvictionMessage('The node was low on resource: memory. Container api was using 2.5Gi, which exceeds its request of 1.5Gi. ').containers,
    ).toEqual([{ name: 'api', usage: '2.5Gi', request: '1.5Gi' }]);
  });

  it('node-pressure ephemeral-storage, pids and node conditions', () => {
    expect(parseEvictionMessage('The node was low on resource: ephemeral-storage. Threshold quantity: 4281126156, available: 3925036Ki. ')).toMatchObject({
      resource: 'ephemeral-storage',
      threshold: '4281126156',
      available: '3925036Ki',
    });
    expect(parseEvictionMessage('The node was low on resource: pids. ').resource).toBe('pids');
    expect(parseEvictionMessage('The node had condition: [DiskPressure]. ').resource).toBe('ephemeral-storage');
    expect(parseEvictionMessage('The node was low on resource: [MemoryPressure]. ').resource).toBe('memory');
  });

  it('local ephemeral-storage limits: container, pod, emptyDir', () => {
    expect(parseEvictionMessage('Container app exceeded its local ephemeral storage limit "500Mi". ')).toEqual({
      resource: 'ephemeral-storage',
      containers: [{ name: 'app', limit: '500Mi' }],
      localLimit: { scope: 'container', name: 'app', limit: '500Mi' },
    });
    expect(parseEvictionMessage('Pod ephemeral local storage usage exceeds the total limit of containers 1Gi. ')).toEqual({
      resource: 'ephemeral-storage',
      containers: [],
      localLimit: { scope: 'pod', limit: '1Gi' },
    });
    expect(parseEvictionMessage('Usage of EmptyDir volume "scratch" exceeds the limit "2Gi". ')).toEqual({
      resource: 'ephemeral-storage',
      containers: [],
      localLimit: { scope: 'emptyDir', name: 'scratch', limit: '2Gi' },
    });
  });

  it('unknown text, empty text and non-strings give nothing', () => {
    for (const input of ['Pod was rejected', '', undefined, null, 42, {}, ['The node was low on resource: memory. ']]) {
      expect(parseEvictionMessage(input)).toEqual({ containers: [] });
    }
  });

  it('never throws and stays bounded on arbitrary text', () => {
    const pieces = fc.constantFrom(
      'The node was low on resource: ',
      'memory',
      '. ',
      'Threshold quantity: ',
      ', available: ',
      'Container ',
      ' was using ',
      ', request is ',
      ', has larger consumption of ',
      ', which exceeds its request of ',
      '"',
      '[',
      ']',
      'exceeded its local ephemeral storage limit ',
      'Usage of EmptyDir volume ',
      'Pod ephemeral local storage usage exceeds the total limit of containers ',
      'The node had condition: ',
    );
    const text = fc.oneof(
      fc.string({ maxLength: 300 }),
      fc.array(fc.oneof(pieces, fc.string({ maxLength: 8 })), { maxLength: 40 }).map((parts) => parts.join('')),
    );
    fc.assert(
      fc.property(text, (message) => {
        const parsed = parseEvictionMessage(message);
        expect(Array.isArray(parsed.containers)).toBe(true);
        expect(parsed.containers.length).toBeLessThanOrEqual(64);
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(fc.anything(), (value) => {
        parseEvictionMessage(value);
      }),
    );
  });

  it('is quick on long hostile input', () => {
    const hostile = `The node was low on resource: ${'a'.repeat(200_000)}${' Container x was using'.repeat(5000)}`;
    const started = performance.now();
    parseEvictionMessage(hostile);
    expect(performance.now() - started).toBeLessThan(500);
  });
});
