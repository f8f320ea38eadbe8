import { describe, expect, it } from 'vitest';
import { ManualClock, SimCluster } from '../../../sim/kube/index.js';

const Mi = 2 ** 20;

describe('simulated usage over time', () => {
  it('a ramp climbs with the cluster clock up to its cap, as metrics.k8s.io serves it; setUsage makes it steady again', () => {
    const clock = new ManualClock();
    const cluster = new SimCluster({ clock });
    cluster.addNode('node-a', { memory: '8Gi' });
    cluster.addNamespace('shop');
    cluster.createDeployment({ name: 'api', namespace: 'shop', replicas: 1, memoryLimit: '512Mi' });
    const pod = cluster.list('pods', 'shop')[0]!.metadata.name as string;
    const served = () => (cluster.podMetrics('shop')[0]!.containers as { usage: { memory: string } }[])[0]!.usage.memory;
    cluster.setUsageRamp('shop', pod, 'api', { fromBytes: 400 * Mi, bytesPerSecond: 2 * Mi, maxBytes: 500 * Mi });
    expect(served()).toBe(`${400 * 1024}Ki`);
    clock.advance(30_000);
    expect(served()).toBe(`${460 * 1024}Ki`);
    clock.advance(600_000);
    expect(served()).toBe(`${500 * 1024}Ki`);
    cluster.setUsage('shop', pod, 'api', 100 * Mi);
    clock.advance(60_000);
    expect(served()).toBe(`${100 * 1024}Ki`);
  });
});
