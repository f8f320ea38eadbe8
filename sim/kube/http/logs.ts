/** GET pods/{name}/log: the container's current or previous log, with tailLines and limitBytes. */
import type { ServerResponse } from 'node:http';
import type { SimCluster } from '../cluster.js';
import type { Json } from '../types.js';
import { resourceDef } from '../resources.js';
import { badRequest, notFound } from '../status.js';

export function serveLog(cluster: SimCluster, res: ServerResponse, ns: string, name: string, q: Record<string, string>): void {
  const def = resourceDef('pods');
  const pod = cluster.peek('pods', ns, name);
  if (!pod) throw notFound(def, name);
  const container = containerOf(pod, name, q.container);
  const statuses: Json[] = [...(pod.status?.containerStatuses ?? []), ...(pod.status?.initContainerStatuses ?? [])];
  const status = statuses.find((s) => s.name === container);
  const logs = cluster.getLogs(ns, name, container);
  let text: string;
  if (q.previous === 'true' || q.previous === '1') {
    if (logs?.previous === undefined || !status?.lastState?.terminated)
      throw badRequest(`previous terminated container "${container}" in pod "${name}" not found`);
    text = logs.previous;
  } else {
    const waiting = status?.state?.waiting?.reason;
    if (waiting === 'ContainerCreating' || waiting === 'PodInitializing' || (!status && pod.status?.phase === 'Pending')) {
      throw badRequest(`container "${container}" in pod "${name}" is waiting to start: ${waiting ?? 'ContainerCreating'}`);
    }
    text = logs?.current ?? '';
  }
  if (q.tailLines !== undefined) text = tail(text, Number(q.tailLines));
  let buf = Buffer.from(text, 'utf8');
  if (q.limitBytes !== undefined) buf = buf.subarray(0, Math.max(0, Number(q.limitBytes)));
  res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': buf.length, 'Cache-Control': 'no-cache, private' });
  res.end(buf);
}

/** The container the request names; without one, the only container (else a 400 listing the choices). */
function containerOf(pod: Json, podName: string, requested: string | undefined): string {
  const names: string[] = (pod.spec.containers ?? []).map((c: Json) => c.name);
  const initNames: string[] = (pod.spec.initContainers ?? []).map((c: Json) => c.name);
  let container = requested;
  if (!container) {
    if (names.length !== 1) {
      let msg = `a container name must be specified for pod ${podName}, choose one of: [${names.join(' ')}]`;
      if (initNames.length) msg += ` or one of the init containers: [${initNames.join(' ')}]`;
      throw badRequest(msg);
    }
    container = names[0]!;
  }
  if (!names.includes(container) && !initNames.includes(container)) throw badRequest(`container ${container} is not valid for pod ${podName}`);
  return container;
}

/** The last `n` lines, keeping a final newline. */
function tail(text: string, n: number): string {
  const lines = text.split('\n');
  const trailing = text.endsWith('\n');
  if (trailing) lines.pop();
  return n <= 0 ? '' : lines.slice(-n).join('\n') + (trailing && lines.length ? '\n' : '');
}
