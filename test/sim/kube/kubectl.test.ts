import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startSimKube, type SimKube } from '../../helpers/sim-kube.js';

const run = promisify(execFile);
const KUBECTL = ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].find((p) => existsSync(p));

describe.skipIf(!KUBECTL)('real kubectl against the simulated API server', () => {
  let sim: SimKube;
  let dir: string;
  let kubeconfig: string;
  const kubectl = async (...args: string[]): Promise<string> =>
    (await run(KUBECTL!, ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), ...args], { timeout: 15_000 })).stdout;

  beforeAll(async () => {
    sim = await startSimKube({ nodes: 2 });
    dir = mkdtempSync(join(tmpdir(), 'sim-kubectl-'));
    kubeconfig = sim.server.writeKubeconfig(join(dir, 'config'), { context: 'sim', namespace: 'shop' });
    sim.cluster.createDeployment({ name: 'api', namespace: 'shop', replicas: 2 });
    sim.cluster.createDeployment({ name: 'db', namespace: 'data', replicas: 1 });
    const pod = sim.cluster.list('pods', 'shop')[0]!.metadata.name;
    sim.cluster.oomKill('shop', pod, 'api');
  });
  afterAll(async () => {
    await sim.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('kubectl get pods -A -o json', async () => {
    const out = JSON.parse(await kubectl('get', 'pods', '-A', '-o', 'json'));
    expect(out.kind).toBe('List');
    expect(out.items).toHaveLength(3);
    expect(out.items[0].kind).toBe('Pod');
    const reasons = out.items.map(
      (p: { status: { containerStatuses: Array<{ lastState: { terminated?: { reason: string } } }> } }) =>
        p.status.containerStatuses[0]!.lastState.terminated?.reason,
    );
    expect(reasons).toContain('OOMKilled');
  });

  it('kubectl get pods -n x prints the table', async () => {
    const out = await kubectl('get', 'pods', '-n', 'shop');
    const lines = out.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE$/);
    expect(lines).toHaveLength(3);
    expect(out).toMatch(/api-[a-z0-9]+-[a-z0-9]{5}\s+0\/1\s+CrashLoopBackOff\s+1 \(\S+ ago\)/);
    // the context namespace is used when -n is absent
    expect(await kubectl('get', 'pods')).toContain('Running');
  });

  it('kubectl describe pod shows the events', async () => {
    const pod = sim.cluster.list('pods', 'shop').find((p) => p.status.containerStatuses[0].restartCount === 1)!.metadata.name;
    const out = await kubectl('describe', 'pod', pod, '-n', 'shop');
    expect(out).toContain('OOMKilled');
    expect(out).toContain('Back-off restarting failed container api');
  });

  it('kubectl get events and nodes print their own columns', async () => {
    const events = await kubectl('get', 'events', '-n', 'shop');
    expect(events.split('\n')[0]).toMatch(/^LAST SEEN\s+TYPE\s+REASON\s+OBJECT\s+MESSAGE$/);
    expect(events).toMatch(/Warning\s+BackOff\s+pod\/api-\S+\s+Back-off restarting failed container api in pod api-/);
    const nodes = await kubectl('get', 'nodes');
    expect(nodes.split('\n')[0]).toMatch(/^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION$/);
    expect(nodes).toMatch(/node-1\s+Ready\s+<none>\s+\S+\s+v1\.35\.\d+/);
    const deploys = await kubectl('get', 'deployments', '-A');
    expect(deploys).toMatch(/shop\s+api\s+1\/2\s+2\s+1\s+/);
  });
});
