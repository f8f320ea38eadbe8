/**
 * `/oom` answers and fixes stay inside WATCH_NAMESPACES: a namespace oombot does not watch is refused
 * before anything is read, cluster-wide lists become per-namespace ones, and every list is paged.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MiB } from '../../core/quantity.js';
import { ACTION_RAISE_LIMIT } from '../../alert/action-ids.js';
import { APPROVER, startBotHarness, type BotHarness } from './bot-harness.js';

let h: BotHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function start(): Promise<BotHarness> {
  const b = await startBotHarness({ env: { WATCH_NAMESPACES: 'shop' } });
  b.cluster.addNamespace('kube-system');
  b.cluster.createPod({ name: 'etcd-0', namespace: 'kube-system', containers: [{ name: 'etcd', image: 'registry.k8s.io/etcd:3.6', memoryLimit: '1Gi' }] });
  b.cluster.setLogs('kube-system', 'etcd-0', 'etcd', { current: 'secret-looking line\n', previous: 'secret-looking line\n' });
  b.cluster.setUsage('kube-system', 'etcd-0', 'etcd', 900 * MiB);
  b.kube.requests().length = 0;
  return b;
}

const touched = (b: BotHarness, ns: string) => b.kube.requests().filter((r) => r.path.includes(`/namespaces/${ns}/`) || r.path.endsWith(`/namespaces/${ns}`));
const clusterWide = (b: BotHarness) =>
  b.kube.requests().filter((r) => /^\/(api\/v1|apis\/[^/]+\/[^/]+)\/(pods|deployments|statefulsets|daemonsets|cronjobs)$/.test(r.path));

describe('/oom within WATCH_NAMESPACES', () => {
  it('refuses a namespace oombot does not watch, before reading anything', async () => {
    h = await start();
    for (const text of ['why -n kube-system etcd-0', 'why kube-system/etcd-0', 'top kube-system', 'history kube-system/etcd', 'snooze kube-system/etcd 1h']) {
      const answer = await h.answer(await h.command(text));
      expect(answer, text).toContain('oombot watches only `shop` (WATCH_NAMESPACES); `kube-system` is not one of them');
      expect(answer, text).not.toContain('secret-looking line');
    }
    expect(touched(h, 'kube-system')).toEqual([]);
  });

  it('does not find a pod outside the watched namespaces by its bare name, and reads no cluster-wide list', async () => {
    h = await start();
    const answer = await h.answer(await h.command('why etcd-0'));
    expect(answer).not.toContain('secret-looking line');
    expect(answer).not.toContain('kube-system/etcd-0');
    expect(touched(h, 'kube-system')).toEqual([]);
    expect(clusterWide(h)).toEqual([]);
  });

  it('top ranks only the watched namespaces', async () => {
    h = await start();
    const [pod] = h.cluster
      .list('pods', 'shop')
      .map((p) => p.metadata.name as string)
      .sort();
    h.cluster.setUsage('shop', pod!, 'api', 300 * MiB);
    const answer = await h.answer(await h.command('top'));
    expect(answer).toContain('the watched namespaces');
    expect(answer).toContain(`shop/${pod}/api`);
    expect(answer).not.toContain('etcd');
    expect(touched(h, 'kube-system')).toEqual([]);
    expect(clusterWide(h)).toEqual([]);
  });

  it('refuses to apply a proposal for a workload outside them (a stored proposal cannot widen the scope)', async () => {
    h = await start();
    h.cluster.createDeployment({ name: 'coredns', namespace: 'kube-system', replicas: 1 });
    const stored = await h.createProposal({ owner: { kind: 'Deployment', namespace: 'kube-system', name: 'coredns' } });
    const answer = await h.answer(await h.click(ACTION_RAISE_LIMIT, stored.id, { user: APPROVER }));
    expect(answer).toContain('outside the namespaces oombot watches');
    expect(h.patches()).toEqual([]);
  });
});

describe('/oom reads lists a page at a time', () => {
  it('pages pods and metrics with limit and continue, and still ranks across every page', async () => {
    h = await startBotHarness();
    h.cluster.createDeployment({
      name: 'big',
      namespace: 'shop',
      replicas: 1200,
      containers: [{ name: 'main', image: 'registry.example/big:1', memoryLimit: '1Gi' }],
    });
    const pods = h.cluster
      .list('pods', 'shop')
      .filter((p) => String(p.metadata.name).startsWith('big-'))
      .map((p) => p.metadata.name as string)
      .sort();
    for (const p of pods) h.cluster.setUsage('shop', p, 'main', 100 * MiB);
    const last = pods.at(-1)!;
    h.cluster.setUsage('shop', last, 'main', 1000 * MiB);
    h.kube.requests().length = 0;
    const answer = await h.answer(await h.command('top'));
    expect(answer).toContain(`shop/${last}/main`);
    const podLists = h.kube.requests().filter((r) => r.path === '/api/v1/pods');
    expect(podLists.length).toBeGreaterThanOrEqual(3);
    expect(podLists.every((r) => r.query.limit === '500')).toBe(true);
    expect(podLists.slice(1).every((r) => (r.query.continue ?? '') !== '')).toBe(true);
  }, 60_000);
});
