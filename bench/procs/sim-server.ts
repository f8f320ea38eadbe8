/**
 * Child process: a simulated cluster behind the simulated API server. It runs apart from the process
 * being measured, as a real API server would, so the two do not share an event loop.
 *
 * argv[2]: background pods, in Deployments of 50 over 20 namespaces, 100 pods a node (workloads added
 * later get nodes of their own, so a node keeps about 100 pods).
 * Sends {ready, url, kubeconfig, pods, nodes}, then answers the commands of sim-protocol.ts. Runs until
 * killed or until the benchmark goes away.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SimCluster, startSimApiServer, type SimClock } from '../../sim/kube/index.js';
import { classifyKubeCall } from '../classify-kube-call.js';
import type { KillRecord, KillTarget, SimCalls, SimChurned, SimCommand, SimKilled, SimReady, SimWorkloads } from './sim-protocol.js';

const PODS_PER_DEPLOYMENT = 50;
const PODS_PER_NODE = 100;
const NAMESPACES = 20;
/** Working set reported just under the limit (512Mi), as before a limit kill. */
const USAGE_AT_KILL = 511 * 2 ** 20;

const pods = Number(process.argv[2] ?? 10_000);

/** Wall-clock time, shifted back an hour while pods are created: they have run a while when killed. */
class ShiftedClock implements SimClock {
  offsetMs = -3_600_000;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
}

const clock = new ShiftedClock();

const cluster = new SimCluster({ clock, historySize: 200_000, seed: 7, requestLogSize: 10_000_000 });
const nodes = Math.max(3, Math.ceil(pods / PODS_PER_NODE));
cluster.addNodes(nodes, { memory: '64Gi' });
for (let n = 0; n < NAMESPACES; n++) cluster.addNamespace(`ns-${n}`);
for (let d = 0; d * PODS_PER_DEPLOYMENT < pods; d++) {
  cluster.createDeployment({
    name: `app-${d}`,
    namespace: `ns-${d % NAMESPACES}`,
    replicas: Math.min(PODS_PER_DEPLOYMENT, pods - d * PODS_PER_DEPLOYMENT),
    memoryRequest: '256Mi',
    memoryLimit: '512Mi',
    podLabels: { team: `team-${d % 7}` },
  });
}
const server = await startSimApiServer({ cluster, bookmarkIntervalMs: 5_000 });
const kubeconfig = server.writeKubeconfig(join(mkdtempSync(join(tmpdir(), 'oombot-bench-')), 'kubeconfig'));
const background = cluster.list('pods').map((p) => [p.metadata.namespace as string, p.metadata.name as string] as const);
let callsTallied = 0;
let cpuTallied = process.cpuUsage();

function reply(msg: SimReady | SimChurned | SimWorkloads | SimKilled | SimCalls): void {
  process.send?.(msg);
}

function churn(count: number): SimChurned {
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const [ns, name] = background[i % background.length]!;
    cluster.update('pods', ns, name, (p) => {
      const status = p.status as { conditions?: { type: string; lastProbeTime?: string | null }[] };
      const ready = status.conditions?.find((c) => c.type === 'Ready');
      if (ready) ready.lastProbeTime = new Date(Date.now() + i).toISOString();
    });
  }
  return { churned: count, ms: performance.now() - started };
}

function addWorkloads(namespaces: string[], perNamespace: number, replicas = 1): SimWorkloads {
  clock.offsetMs = -3_600_000;
  // Nodes for the new pods too, so that a node keeps about PODS_PER_NODE pods whatever the cluster size.
  const first = cluster.list('nodes').filter((n) => (n.metadata.name as string).startsWith('workload-node-')).length;
  const count = Math.ceil((namespaces.length * perNamespace * replicas) / PODS_PER_NODE);
  for (let i = 0; i < count; i++) cluster.addNode(`workload-node-${first + i + 1}`, { memory: '64Gi' });
  const workloads: KillTarget[] = [];
  for (const namespace of namespaces) {
    if (!cluster.peek('namespaces', undefined, namespace)) cluster.addNamespace(namespace);
    for (let d = 0; d < perNamespace; d++) {
      const name = `app-${d}`;
      cluster.createDeployment({ name, namespace, replicas, memoryRequest: '256Mi', memoryLimit: '512Mi' });
      const pods = cluster.list('pods', namespace).filter((p) => (p.metadata.name as string).startsWith(`${name}-`));
      if (pods.length === 0) throw new Error(`Deployment ${namespace}/${name} made no pod`);
      for (const pod of pods) workloads.push({ namespace, pod: pod.metadata.name as string, container: name });
    }
  }
  clock.offsetMs = 0;
  return { workloads };
}

async function kill(targets: KillTarget[], perSecond: number): Promise<SimKilled> {
  const killed: KillRecord[] = [];
  let maxLagMs = 0;
  const t0 = performance.now();
  for (let i = 0; i < targets.length; i++) {
    const due = t0 + (i * 1000) / perSecond;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    else maxLagMs = Math.max(maxLagMs, -wait);
    const t = targets[i]!;
    cluster.setUsage(t.namespace, t.pod, t.container, USAGE_AT_KILL);
    const at = Date.now();
    cluster.oomKill(t.namespace, t.pod, t.container, { then: 'running' });
    killed.push({ ...t, at });
  }
  return { killed, maxLagMs };
}

function tallyCalls(): SimCalls {
  const calls: Record<string, number> = {};
  const log = cluster.requests;
  for (let i = callsTallied; i < log.length; i++) {
    const kind = classifyKubeCall(log[i]!);
    calls[kind] = (calls[kind] ?? 0) + 1;
  }
  callsTallied = log.length;
  const cpu = process.cpuUsage(cpuTallied);
  cpuTallied = process.cpuUsage();
  return { calls, cpuMs: (cpu.user + cpu.system) / 1000 };
}

// The benchmark went away (finished, failed or interrupted): so does its cluster.
process.on('disconnect', () => process.exit(0));
process.on('message', (msg: SimCommand) => {
  switch (msg.cmd) {
    case 'churn':
      return reply(churn(msg.count));
    case 'workloads':
      return reply(addWorkloads(msg.namespaces, msg.perNamespace, msg.replicas));
    case 'kill':
      return void kill(msg.targets, msg.perSecond).then(reply);
    case 'calls':
      return reply(tallyCalls());
  }
});
clock.offsetMs = 0;
reply({ ready: true, url: server.url, kubeconfig, pods: background.length, nodes });
