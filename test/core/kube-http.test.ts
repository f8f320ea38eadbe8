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

describe('KubeHttp against an API server that never answers', () => {
  it('gives up every call but a watch after its time limit, with a retryable error that says so', async () => {
    const { createServer } = await import('node:http');
    const { mkdtempSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { writeKubeconfigFile } = await import('../../sim/kube/kubeconfig.js');
    // Accepts requests and sends headers, then nothing: a hung API server (or one behind a stuck proxy).
    const hung = createServer((req, res) => {
      if (req.url?.includes('/log')) return; // not even headers
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"items": [');
    });
    await new Promise<void>((r) => hung.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(hung.address() as { port: number }).port}`;
    const kubeconfig = writeKubeconfigFile(join(mkdtempSync(join(tmpdir(), 'oombot-hung-')), 'kubeconfig'), url);
    const kube = new KubeHttp(loadKubeTarget({ kubeconfig, clusterName: 'hung' }), { timeoutMs: 300 });
    try {
      const started = Date.now();
      await expect(kube.getJson('/api/v1/pods')).rejects.toMatchObject({
        code: 'KUBE_UNREACHABLE',
        retryable: true,
        message: expect.stringContaining('did not answer GET /api/v1/pods within 0.3 s'),
      });
      await expect(kube.getText('/api/v1/namespaces/a/pods/b/log')).rejects.toMatchObject({ message: expect.stringContaining('within 0.3 s') });
      await expect(kube.send('PATCH', '/apis/apps/v1/namespaces/a/deployments/b', {})).rejects.toMatchObject({ retryable: true });
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await kube.close();
      hung.closeAllConnections();
      await new Promise((r) => hung.close(r));
    }
  });
});
