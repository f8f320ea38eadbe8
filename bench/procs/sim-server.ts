/**
 * Child process: a simulated cluster of N pods behind the simulated API server.
 * Parent messages: {cmd:'churn', count} updates `count` pod statuses as fast as it can and answers
 * {churned}. Runs until killed.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimCluster, startSimApiServer } from '../../sim/kube/index.js';

const pods = Number(process.argv[2] ?? 10_000);
const perDeployment = 50;

const cluster = new SimCluster({ historySize: 200_000, seed: 7 });
const nodes = Math.max(3, Math.ceil(pods / 100));
cluster.addNodes(nodes, { memory: '64Gi' });
const namespaces = 20;
for (let n = 0; n < namespaces; n++) cluster.addNamespace(`ns-${n}`);
for (let d = 0; d * perDeployment < pods; d++) {
  cluster.createDeployment({
    name: `app-${d}`,
    namespace: `ns-${d % namespaces}`,
    replicas: Math.min(perDeployment, pods - d * perDeployment),
    memoryRequest: '256Mi',
    memoryLimit: '512Mi',
    podLabels: { team: `team-${d % 7}` },
  });
}
const server = await startSimApiServer({ cluster, bookmarkIntervalMs: 5_000 });
const kubeconfig = server.writeKubeconfig(join(mkdtempSync(join(tmpdir(), 'oombot-bench-')), 'kubeconfig'));
const all = cluster.list('pods').map((p) => [p.metadata.namespace as string, p.metadata.name as string] as const);
process.send?.({ ready: true, url: server.url, kubeconfig, pods: all.length });

process.on('message', (msg: { cmd: string; count: number }) => {
  if (msg.cmd === 'churn') {
    const started = performance.now();
    for (let i = 0; i < msg.count; i++) {
      const [ns, name] = all[i % all.length]!;
      cluster.update('pods', ns, name, (p) => {
        const status = p.status as { conditions?: { type: string; lastProbeTime?: string | null }[] };
        const ready = status.conditions?.find((c) => c.type === 'Ready');
        if (ready) ready.lastProbeTime = new Date(Date.now() + i).toISOString();
      });
    }
    process.send?.({ churned: msg.count, ms: performance.now() - started });
  }
});
