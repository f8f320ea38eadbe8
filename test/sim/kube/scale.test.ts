import { describe, expect, it } from 'vitest';
import { ManualClock, SimCluster, startSimApiServer } from '../../../sim/kube/index.js';
import { fetchJson } from '../../helpers/sim-kube.js';

describe('scale', () => {
  it('builds a 50k-pod cluster quickly and lists it over HTTP', async () => {
    const cluster = new SimCluster({ clock: new ManualClock(), seed: 3 });
    const t0 = performance.now();
    cluster.addNodes(200);
    for (let i = 0; i < 50; i++) cluster.createDeployment({ name: `svc-${i}`, namespace: `team-${i % 10}`, replicas: 1000 });
    const built = performance.now() - t0;
    expect(cluster.count('pods')).toBe(50_000);
    const server = await startSimApiServer({ cluster });
    try {
      const t1 = performance.now();
      let items = 0;
      let cont = '';
      do {
        const page = await fetchJson(`${server.url}/api/v1/pods?limit=5000${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`);
        items += page.items.length;
        cont = page.metadata.continue ?? '';
      } while (cont);
      const listed = performance.now() - t1;
      expect(items).toBe(50_000);
      const heapMb = Math.round(process.memoryUsage().heapUsed / 2 ** 20);
      console.log(`50k pods: built in ${Math.round(built)} ms, listed over HTTP in ${Math.round(listed)} ms, heap ${heapMb} MiB`);
      expect(built).toBeLessThan(15_000);
    } finally {
      await server.close();
    }
  });
});
