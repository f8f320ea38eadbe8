import type { Incident } from '../core/incident.js';
import type { ClusterRoleDeps } from '../core/role.js';
import { ScaleEvents } from '../core/scale-events.js';
import { IncidentSink } from './incident-sink.js';
import { Watcher } from './watcher.js';

export interface WatcherRole {
  watcher: Watcher;
  sink: IncidentSink;
  stop(): Promise<void>;
  readiness(): { ok: boolean; detail?: string };
}

/** The watcher role: one Watcher per cluster feeding one sink. */
export async function startWatcherRole(
  deps: ClusterRoleDeps & {
    /** Records a kill seen in pod status at a first look, older than the look-back, as history. */
    history?: (incident: Incident) => Promise<void>;
  },
): Promise<WatcherRole> {
  const { config, kube, cluster, redis, queue, metrics, history } = deps;
  const log = deps.log.child({ cluster });
  const sink = new IncidentSink({ queue, redis, queueName: config.queueName, dedupeTtlMs: config.dedupeTtlMs, metrics, log, history });
  const watcher = new Watcher({
    kube,
    cluster,
    namespaces: config.watchNamespaces,
    sink,
    redis,
    queueName: config.queueName,
    log,
    metrics,
    silenceMs: config.watchSilenceMs,
    lookbackMs: config.lookbackMs,
    dedupeTtlMs: config.dedupeTtlMs,
    scaleEvents: new ScaleEvents(redis, config.queueName),
  });
  await watcher.start();
  log.info({ server: kube.target.server, namespaces: config.watchNamespaces.length ? config.watchNamespaces : 'all' }, 'watching pods, events and nodes');
  return {
    watcher,
    sink,
    readiness: () => watcher.readiness(),
    async stop() {
      await watcher.stop();
      const left = sink.close();
      if (left.length > 0) {
        log.warn({ count: left.length }, 'incidents not yet queued at shutdown: they will be detected again on the next start');
      }
    },
  };
}
