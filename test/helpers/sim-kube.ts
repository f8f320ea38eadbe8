/** Start a simulated cluster with its API server, and client-node clients pointed at it. */
import { AppsV1Api, BatchV1Api, CoreV1Api, CustomObjectsApi, KubeConfig } from '@kubernetes/client-node';
import {
  ManualClock,
  SimCluster,
  startSimApiServer,
  type Json,
  type SimApiServer,
  type SimClusterOptions,
  type SimApiServerOptions,
} from '../../sim/kube/index.js';

export interface SimKube {
  cluster: SimCluster;
  server: SimApiServer;
  kc: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
  batch: BatchV1Api;
  custom: CustomObjectsApi;
  clock: ManualClock;
  close(): Promise<void>;
}

export async function startSimKube(opts: SimClusterOptions & Omit<SimApiServerOptions, 'cluster'> & { nodes?: number } = {}): Promise<SimKube> {
  const clock = opts.clock instanceof ManualClock ? opts.clock : new ManualClock();
  const cluster = new SimCluster({ seed: 42, ...opts, clock });
  const serverOpts: SimApiServerOptions = { cluster };
  if (opts.bookmarkIntervalMs !== undefined) serverOpts.bookmarkIntervalMs = opts.bookmarkIntervalMs;
  if (opts.watchTimeoutSeconds !== undefined) serverOpts.watchTimeoutSeconds = opts.watchTimeoutSeconds;
  if (opts.latencyMs !== undefined) serverOpts.latencyMs = opts.latencyMs;
  if (opts.port !== undefined) serverOpts.port = opts.port;
  const server = await startSimApiServer(serverOpts);
  cluster.addNodes(opts.nodes ?? 3);
  const kc = new KubeConfig();
  kc.loadFromString(server.kubeconfig());
  return {
    cluster,
    server,
    kc,
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    batch: kc.makeApiClient(BatchV1Api),
    custom: kc.makeApiClient(CustomObjectsApi),
    clock,
    close: () => server.close(),
  };
}

/** Wait until `check` returns a truthy value (polling), or fail after `timeoutMs`. */
export async function waitFor<T>(check: () => T | undefined | false | null, timeoutMs = 5000, what = 'condition'): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** GET a URL and parse its JSON body (untyped, for raw wire checks). */
export async function fetchJson(url: string, init?: RequestInit): Promise<Json> {
  const res = await fetch(url, init);
  return res.json() as Promise<Json>;
}
