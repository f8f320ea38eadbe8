/**
 * Istio's sidecar injector as a mutating admission webhook: a pod created in a namespace labelled
 * `istio-injection=enabled` (and not opted out with the pod label `sidecar.istio.io/inject: "false"`)
 * gets an `istio-proxy` container the workload's template never holds. Its memory comes from the pod's
 * `sidecar.istio.io/proxyMemory` (request) and `sidecar.istio.io/proxyMemoryLimit` (limit) annotations,
 * else Istio's defaults (requests 100m / 128Mi, limits 2 / 1Gi). Webhooks run after the API server's
 * defaulting and LimitRanger, so the proxy keeps exactly what the injector wrote.
 */
import type { Json } from './types.js';
import type { SimCluster } from './cluster.js';

export const ISTIO_PROXY = 'istio-proxy';
export const PROXY_IMAGE = 'docker.io/istio/proxyv2:1.24.0';

/** Whether the injector takes this pod. */
function injects(cluster: SimCluster, namespace: string, metadata: Json): boolean {
  const ns = cluster.peek('namespaces', undefined, namespace);
  if (ns?.metadata.labels?.['istio-injection'] !== 'enabled') return false;
  return metadata.labels?.['sidecar.istio.io/inject'] !== 'false';
}

/** The pod spec with the istio-proxy sidecar added, or `spec` itself when the injector leaves the pod alone. */
export function injectSidecars(cluster: SimCluster, namespace: string, metadata: Json, spec: Json): Json {
  if (!injects(cluster, namespace, metadata)) return spec;
  if ((spec.containers ?? []).some((c: Json) => c.name === ISTIO_PROXY)) return spec;
  const a: Record<string, string> = metadata.annotations ?? {};
  const proxy: Json = {
    name: ISTIO_PROXY,
    image: PROXY_IMAGE,
    args: ['proxy', 'sidecar', '--domain', `${namespace}.svc.cluster.local`],
    ports: [{ containerPort: 15090, name: 'http-envoy-prom', protocol: 'TCP' }],
    resources: {
      limits: { cpu: a['sidecar.istio.io/proxyCPULimit'] ?? '2', memory: a['sidecar.istio.io/proxyMemoryLimit'] ?? '1Gi' },
      requests: { cpu: a['sidecar.istio.io/proxyCPU'] ?? '100m', memory: a['sidecar.istio.io/proxyMemory'] ?? '128Mi' },
    },
    imagePullPolicy: 'IfNotPresent',
    terminationMessagePath: '/dev/termination-log',
    terminationMessagePolicy: 'File',
  };
  return { ...spec, containers: [...(spec.containers ?? []), proxy] };
}
