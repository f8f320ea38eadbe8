import { afterEach, describe, expect, it } from 'vitest';
import { KubeHttp, loadKubeTarget } from '../../core/kube.js';
import type { SimApiServer } from '../../sim/kube/index.js';
import { startSimCluster } from '../helpers/watcher-harness.js';

describe('KubeHttp', () => {
  let server: SimApiServer | undefined;
  let kube: KubeHttp | undefined;
  afterEach(async () => {
    await kube?.close();
    await server?.close();
  });

  it('reuses its connections to the API server instead of opening one per call', async () => {
    const sim = await startSimCluster();
    server = sim.server;
    kube = new KubeHttp(loadKubeTarget({ kubeconfig: sim.kubeconfig, clusterName: 'sim' }));
    for (let i = 0; i < 50; i++) await kube.getJson('/api/v1/namespaces/shop/pods');
    await Promise.all(Array.from({ length: 20 }, () => kube!.getJson('/api/v1/nodes')));
    expect(server.requestCount()).toBeGreaterThanOrEqual(70);
    // Sequential calls share one connection; 20 at once need at most 20 more.
    expect(server.connectionCount()).toBeLessThanOrEqual(21);
    const before = server.connectionCount();
    for (let i = 0; i < 30; i++) await kube.getJson('/api/v1/namespaces/shop/pods');
    expect(server.connectionCount()).toBe(before);
  });
});
