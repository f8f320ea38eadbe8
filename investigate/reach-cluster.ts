/**
 * A cluster's API as the worker and the bot use it for one incident or one command, noting when the
 * cluster could not be reached at all: no agent connected for it (UNKNOWN_CLUSTER) or its agent away
 * (AGENT_AWAY). Such a read fails like any other (a gap), so the alert still goes out with what the
 * watcher sent; the note lets the answer say why the details are missing instead of staying silent.
 */
import type { ClusterDirectory, ClusterInfo } from '../core/clusters.js';
import type { Config } from '../core/config.js';
import { OombotError } from '../core/errors.js';
import type { KubeApi } from '../core/kube-api.js';

/** The errors that mean the cluster itself cannot be reached from here, not that one read failed. */
export function isClusterOutOfReach(err: unknown): err is OombotError {
  return err instanceof OombotError && (err.code === 'UNKNOWN_CLUSTER' || err.code === 'AGENT_AWAY');
}

export interface ReachedCluster {
  kube: KubeApi;
  /** The first out-of-reach error any call met (or the directory gave), if any. */
  outOfReach(): OombotError | undefined;
}

export function reachCluster(clusters: ClusterDirectory, cluster: string): ReachedCluster {
  let seen: OombotError | undefined;
  let inner: KubeApi | undefined;
  try {
    inner = clusters.kube(cluster);
  } catch (err) {
    if (!isClusterOutOfReach(err)) throw err;
    seen = err;
  }
  const note = (err: unknown): unknown => {
    if (!seen && isClusterOutOfReach(err)) seen = err;
    return err;
  };
  const api = (): KubeApi => {
    if (!inner) throw seen;
    return inner;
  };
  const guard = async <T>(fn: () => Promise<T>): Promise<T> => {
    try {
      return await fn();
    } catch (err) {
      throw note(err);
    }
  };
  const kube: KubeApi = {
    get timeoutMs() {
      return inner?.timeoutMs ?? 0;
    },
    getJson: (path, query, signal) => guard(() => api().getJson(path, query, signal)),
    getMetadata: (path, signal) => guard(() => api().getMetadata(path, signal)),
    async *listPages(path, query, pageSize, signal) {
      try {
        yield* api().listPages(path, query, pageSize, signal);
      } catch (err) {
        throw note(err);
      }
    },
    eachListItem: (path, query, each, pageSize, signal) => guard(() => api().eachListItem(path, query, each, pageSize, signal)),
    listPage: (path, query, each, pageSize, signal) => guard(() => api().listPage(path, query, each, pageSize, signal)),
    getText: (path, query) => guard(() => api().getText(path, query)),
    send: (method, path, body, opts) => guard(() => api().send(method, path, body, opts)),
  };
  return { kube, outOfReach: () => seen };
}

/** "Cluster beta's agent was last seen 3 min ago" from the error, capitalised, without a final stop. */
export function outOfReachText(err: OombotError): string {
  const text = err.message.replace(/[.\s]+$/, '');
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/**
 * The namespaces a read of one cluster stays in: this process's WATCH_NAMESPACES when set, else the ones
 * the cluster's agent serves (its own WATCH_NAMESPACES), so a hub never asks an agent for a cluster-wide
 * list it would refuse. Unchanged for a cluster served whole, or reached with this process's kubeconfig.
 */
export function scopedTo<C extends Pick<Config, 'watchNamespaces'>>(config: C, info: Pick<ClusterInfo, 'namespaces'> | undefined): C {
  if (config.watchNamespaces.length > 0 || !info?.namespaces?.length) return config;
  return { ...config, watchNamespaces: [...info.namespaces] };
}
