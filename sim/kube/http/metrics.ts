/** metrics.k8s.io/v1beta1: pod and node metrics, one or a list, as metrics-server serves them. */
import type { ServerResponse } from 'node:http';
import type { SimCluster } from '../cluster.js';
import type { KubeObject } from '../types.js';
import { SimApiError, makeStatus } from '../status.js';
import { podMetricsOf, nodeMetricsOf, buildNodeMetrics, buildPodMetrics } from '../metrics.js';
import type { InjectedFailures } from './faults.js';
import type { Route } from './route.js';
import { methodNotAllowed, notFoundPath, sendJson } from './respond.js';

/** List items carry no kind or apiVersion. */
function strip(o: KubeObject): KubeObject {
  const { kind: _k, apiVersion: _a, ...rest } = o;
  return rest as KubeObject;
}

export function serveMetrics(cluster: SimCluster, res: ServerResponse, method: string, route: Route, failures: InjectedFailures): void {
  if (method !== 'GET') throw methodNotAllowed();
  if (route.plural === 'pods') {
    if (route.name) {
      const pod = cluster.peek('pods', route.namespace, route.name);
      const m = pod ? podMetricsOf(cluster, pod) : undefined;
      if (!m)
        throw new SimApiError(
          makeStatus(404, `podmetrics.metrics.k8s.io "${route.namespace}/${route.name}" not found`, 'NotFound', {
            name: route.name,
            group: 'metrics.k8s.io',
            kind: 'pods',
          }),
        );
      return sendJson(res, 200, m);
    }
    if (failures.take(res)) return;
    const items = buildPodMetrics(cluster, route.namespace).map(strip);
    return sendJson(res, 200, { kind: 'PodMetricsList', apiVersion: 'metrics.k8s.io/v1beta1', metadata: {}, items });
  }
  if (route.plural === 'nodes' && !route.namespace) {
    if (route.name) {
      const node = cluster.peek('nodes', undefined, route.name);
      if (!node)
        throw new SimApiError(
          makeStatus(404, `nodemetrics.metrics.k8s.io "${route.name}" not found`, 'NotFound', { name: route.name, group: 'metrics.k8s.io', kind: 'nodes' }),
        );
      return sendJson(res, 200, nodeMetricsOf(cluster, node));
    }
    if (failures.take(res)) return;
    return sendJson(res, 200, { kind: 'NodeMetricsList', apiVersion: 'metrics.k8s.io/v1beta1', metadata: {}, items: buildNodeMetrics(cluster).map(strip) });
  }
  throw notFoundPath();
}
