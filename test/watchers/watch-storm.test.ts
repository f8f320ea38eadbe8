/**
 * An API server that answers watches with errors, or closes them at once, must not be hammered: each
 * such watch is a failure that backs off (exponentially, with jitter, capped), /readyz stays false while
 * it lasts, a metric counts the failures, and the log says so once per change of state.
 */
import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { KubeHttp, loadKubeTarget } from '../../core/kube.js';
import { writeKubeconfigFile } from '../../sim/kube/kubeconfig.js';
import { type KubeObject, ListWatch } from '../../watchers/list-watch.js';
import { captureLogger } from '../helpers/silent-logger.js';

type WatchMode = 'error-event' | 'close-at-once' | 'healthy';

/** A pod collection that lists fine and watches as `mode` says. */
class FlakyApiServer {
  mode: WatchMode = 'error-event';
  lists = 0;
  watches = 0;
  private readonly server: Server = createServer((req, res) => this.handle(req, res));
  private readonly open = new Set<ServerResponse>();

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const res of this.open) res.destroy();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    res.setHeader('content-type', 'application/json');
    if (url.searchParams.get('watch') !== 'true') {
      this.lists++;
      res.end(JSON.stringify({ kind: 'PodList', apiVersion: 'v1', metadata: { resourceVersion: '100' }, items: [] }));
      return;
    }
    this.watches++;
    res.writeHead(200);
    if (this.mode === 'error-event') {
      res.end(
        `${JSON.stringify({ type: 'ERROR', object: { kind: 'Status', apiVersion: 'v1', status: 'Failure', code: 500, reason: 'InternalError', message: 'etcdserver: request timed out' } })}\n`,
      );
    } else if (this.mode === 'close-at-once') {
      res.end();
    } else {
      this.open.add(res);
      res.write(`${JSON.stringify({ type: 'BOOKMARK', object: { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: '101' } } })}\n`);
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a watch against an API server that fails', () => {
  let api: FlakyApiServer | undefined;
  let watch: ListWatch<KubeObject> | undefined;
  let kube: KubeHttp | undefined;
  afterEach(async () => {
    await watch?.stop();
    await kube?.close();
    await api?.close();
  });

  async function start(mode: WatchMode) {
    api = new FlakyApiServer();
    api.mode = mode;
    const kubeconfig = writeKubeconfigFile(join(mkdtempSync(join(tmpdir(), 'oombot-storm-')), 'kubeconfig'), await api.start());
    kube = new KubeHttp(loadKubeTarget({ kubeconfig, clusterName: 'flaky' }));
    const logs = captureLogger();
    const health: boolean[] = [];
    let failures = 0;
    watch = new ListWatch<KubeObject>({
      kube,
      path: '/api/v1/pods',
      resource: 'pods',
      log: logs.log,
      silenceMs: 30_000,
      backoff: { initialMs: 50, maxMs: 800 },
      healthyAfterMs: 1_000,
      handlers: {
        onList: () => undefined,
        onEvent: () => undefined,
        onHealth: (healthy) => health.push(healthy),
        onFailure: () => {
          failures++;
        },
      },
    });
    watch.start();
    return { logs, health, failures: () => failures };
  }

  it.each(['error-event', 'close-at-once'] as const)(
    '%s: backs off, stays not ready, counts and logs the change once; recovers when the server does',
    async (mode) => {
      const { logs, health, failures } = await start(mode);
      await sleep(2_000);
      // Unbounded, this is over 1,000 watches in 2 s; with the backoff (50 ms doubling to 800 ms) a handful.
      expect(api!.watches).toBeGreaterThanOrEqual(3);
      expect(api!.watches).toBeLessThanOrEqual(15);
      expect(api!.lists).toBe(1);
      expect(watch!.synced).toBe(false);
      expect(watch!.lastError).toMatch(mode === 'error-event' ? /watch error 500: etcdserver: request timed out/ : /closed at once/);
      expect(failures()).toBeGreaterThanOrEqual(api!.watches - 1);
      expect(health).toEqual([false]);
      const warned = logs.lines().filter((l) => String(l.msg).includes('list/watch failed: retrying'));
      expect(warned).toHaveLength(1);

      api!.mode = 'healthy';
      const deadline = Date.now() + 5_000;
      while (!watch!.synced && Date.now() < deadline) await sleep(20);
      expect(watch!.synced).toBe(true);
      expect(watch!.lastError).toBeUndefined();
      expect(health).toEqual([false, true]);
      expect(logs.lines().filter((l) => String(l.msg).includes('working again'))).toHaveLength(1);
    },
  );

  it('a watch that is open and quiet counts as working, without any event', async () => {
    const { health } = await start('healthy');
    await sleep(300);
    expect(watch!.synced).toBe(true);
    expect(api!.watches).toBe(1);
    expect(health).toEqual([]);
  });
});
