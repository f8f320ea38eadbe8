/**
 * "Raise limit" on the shapes real templates have: only `limits.memory` written (Kubernetes copies it
 * into the request on the Pod, not in the template), and no memory at all with a LimitRange default.
 * From the kill to the click, end to end: one correct patch, and the template then says the value.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { ACTION_RAISE_LIMIT, ACTION_UNDO } from '../../alert/action-ids.js';
import { makeLimitRange } from '../../sim/kube/index.js';
import { startBotHarness, type BotHarness } from './bot-harness.js';

interface Btn {
  action_id?: string;
  value?: string;
  confirm?: { text?: { text?: string } };
}
const buttons = (blocks: unknown): Btn[] => ((blocks ?? []) as { elements?: Btn[] }[]).flatMap((b) => b.elements ?? []);

let h: BotHarness | undefined;
afterEach(async () => {
  await h?.close();
  h = undefined;
});

async function killAndRaise(b: BotHarness, namespace: string, deployment: string, usageBytes: number): Promise<string> {
  const pod = b.cluster.list('pods', namespace).find((p) => String(p.metadata.name).startsWith(`${deployment}-`))!;
  // At its limit when killed: the diagnosis is a limit too low, and the alert offers a raise.
  b.cluster.setUsage(namespace, String(pod.metadata.name), 'main', usageBytes);
  b.cluster.oomKill(namespace, String(pod.metadata.name), 'main', { startedAt: new Date(Date.now() - 3600_000).toISOString() });
  const alert = await b.slack.waitFor(() => b.slack.messagesIn('#alerts').find((m) => JSON.stringify(m.blocks).includes(`${namespace}/${deployment}`)), 15_000);
  const raise = buttons(alert.blocks).find((x) => x.action_id === ACTION_RAISE_LIMIT);
  expect(raise, `the alert offers a raise: ${JSON.stringify(alert.blocks).slice(0, 3000)}`).toBeDefined();
  return b.answer(await b.click(ACTION_RAISE_LIMIT, raise!.value!, { messageTs: alert.ts }));
}

/** The buttons of an answer read by `h.answer` (its last line holds the blocks). */
const answerButtons = (answer: string): Btn[] => buttons(JSON.parse(answer.slice(answer.lastIndexOf('\n') + 1)));

const templateResources = (b: BotHarness, ns: string, name: string) => b.cluster.get('deployments', ns, name)!.spec.template.spec.containers[0].resources;

describe('Raise limit on real template shapes', () => {
  it('a template with only limits.memory: raised on the first click', async () => {
    h = await startBotHarness({ roles: ['watcher', 'worker', 'bot'] });
    await expect.poll(async () => (await h!.app.http.readiness()).ok, { timeout: 10_000 }).toBe(true);
    h.cluster.createDeployment({
      name: 'lim',
      namespace: 'shop',
      replicas: 1,
      containers: [{ name: 'main', image: 'registry.example/lim:1', memoryLimit: '512Mi' }],
    });
    const pod = h.cluster.list('pods', 'shop').find((p) => String(p.metadata.name).startsWith('lim-'))!;
    expect(pod.spec.containers[0].resources.requests.memory).toBe('512Mi');
    expect(templateResources(h, 'shop', 'lim').requests).toBeUndefined();
    const answer = await killAndRaise(h, 'shop', 'lim', 510 * 2 ** 20);
    expect(answer).toContain('Done');
    expect(answer).not.toContain('someone changed it');
    expect(templateResources(h, 'shop', 'lim').limits.memory).not.toBe('512Mi');
  });

  it('a container whose limit comes from a LimitRange default: raised, with the limit written out', async () => {
    h = await startBotHarness({ roles: ['watcher', 'worker', 'bot'] });
    await expect.poll(async () => (await h!.app.http.readiness()).ok, { timeout: 10_000 }).toBe(true);
    h.cluster.addNamespace('batch');
    h.cluster.create('limitranges', makeLimitRange({ namespace: 'batch', default: { memory: '256Mi' }, defaultRequest: { memory: '128Mi' } }));
    h.cluster.createDeployment({ name: 'dflt', namespace: 'batch', replicas: 1, containers: [{ name: 'main', image: 'registry.example/dflt:1' }] });
    const pod = h.cluster.list('pods', 'batch').find((p) => String(p.metadata.name).startsWith('dflt-'))!;
    expect(pod.spec.containers[0].resources.limits.memory).toBe('256Mi');
    expect(templateResources(h, 'batch', 'dflt')?.limits).toBeUndefined();
    const answer = await killAndRaise(h, 'batch', 'dflt', 255 * 2 ** 20);
    expect(answer).toContain('Done');
    expect(templateResources(h, 'batch', 'dflt').limits.memory).toMatch(/Mi|Gi/);
    expect(templateResources(h, 'batch', 'dflt').limits.memory).not.toBe('256Mi');
  });

  it('a kill at the pod-level limit (spec.resources, KEP-2837): one PATCH of the template spec.resources, and Undo restores it', async () => {
    h = await startBotHarness({ roles: ['watcher', 'worker', 'bot'] });
    await expect.poll(async () => (await h!.app.http.readiness()).ok, { timeout: 10_000 }).toBe(true);
    h.cluster.createDeployment({
      name: 'pl',
      namespace: 'shop',
      replicas: 1,
      podResources: { limits: { memory: '1Gi' } },
      containers: [
        { name: 'main', image: 'registry.example/pl:1' },
        { name: 'helper', image: 'registry.example/helper:1' },
      ],
    });
    const pod = h.cluster.list('pods', 'shop').find((p) => String(p.metadata.name).startsWith('pl-'))!;
    // The API server defaults the pod-level request to the pod-level limit on the Pod (no container asks).
    expect(pod.spec.resources).toEqual({ limits: { memory: '1Gi' }, requests: { memory: '1Gi' } });
    expect(h.cluster.get('deployments', 'shop', 'pl')!.spec.template.spec.resources).toEqual({ limits: { memory: '1Gi' } });

    const answer = await killAndRaise(h, 'shop', 'pl', 1000 * 2 ** 20);
    expect(answer).toContain('Done: pod-level memory limit of Deployment shop/pl: 1Gi → 1280Mi, request 1Gi → 1280Mi');
    const real = h.patches({ dryRun: false }).filter((p) => p.path.includes('/deployments/pl'));
    expect(real).toHaveLength(1);
    expect(JSON.parse(real[0]!.body!)).toEqual({
      metadata: { resourceVersion: expect.stringMatching(/^\d+$/) },
      spec: { template: { spec: { resources: { limits: { memory: '1280Mi' }, requests: { memory: '1280Mi' } } } } },
    });
    const template = h.cluster.get('deployments', 'shop', 'pl')!.spec.template.spec;
    expect(template.resources).toEqual({ limits: { memory: '1280Mi' }, requests: { memory: '1280Mi' } });
    expect(template.containers.map((c: { resources?: unknown }) => c.resources)).toEqual([{}, {}]);
    await expect
      .poll(() => h!.cluster.list('events', 'shop').find((e) => e.reason === 'OombotLimitRaised')?.message)
      .toContain('pod-level resources limit 1Gi -> 1280Mi');

    const undo = answerButtons(answer).find((b) => b.action_id === ACTION_UNDO);
    expect(undo?.confirm?.text?.text).toContain('Deployment shop/pl, spec.template.spec.resources: memory limit 1280Mi → 1Gi, request 1280Mi → 1Gi.');
    expect(await h.answer(await h.click(ACTION_UNDO, undo!.value!))).toContain('Undone: pod-level memory limit of Deployment shop/pl: 1280Mi → 1Gi');
    expect(h.cluster.get('deployments', 'shop', 'pl')!.spec.template.spec.resources).toEqual({ limits: { memory: '1Gi' }, requests: { memory: '1Gi' } });
    expect(h.patches({ dryRun: false }).filter((p) => p.path.includes('/deployments/pl'))).toHaveLength(2);
  });

  it('an injected istio-proxy: the pod is Burstable (its status), the sidecar gets no raise with how to size it, and a raise of the app does not call the pod Guaranteed', async () => {
    h = await startBotHarness({ roles: ['watcher', 'worker', 'bot'] });
    await expect.poll(async () => (await h!.app.http.readiness()).ok, { timeout: 10_000 }).toBe(true);
    h.cluster.addNamespace('mesh', { 'istio-injection': 'enabled' });
    // The app alone would be Guaranteed (cpu and memory requests = limits); the injected proxy is not.
    const app = { image: 'registry.example/shop:1', memoryRequest: '512Mi', memoryLimit: '512Mi', cpuRequest: '500m', cpuLimit: '500m' };
    const podAnnotations = { 'sidecar.istio.io/proxyMemory': '128Mi', 'sidecar.istio.io/proxyMemoryLimit': '256Mi' };
    h.cluster.createDeployment({ name: 'storefront', namespace: 'mesh', replicas: 1, podAnnotations, containers: [{ name: 'main', ...app }] });
    const pod = h.cluster.list('pods', 'mesh').find((p) => String(p.metadata.name).startsWith('storefront-'))!;
    expect(pod.spec.containers.map((c: { name: string }) => c.name)).toEqual(['main', 'istio-proxy']);
    expect(pod.spec.containers[1].resources.limits.memory).toBe('256Mi');
    expect(pod.status.qosClass).toBe('Burstable');
    expect(h.cluster.get('deployments', 'mesh', 'storefront')!.spec.template.spec.containers).toHaveLength(1);

    const name = String(pod.metadata.name);
    h.cluster.setUsage('mesh', name, 'istio-proxy', 255 * 2 ** 20);
    h.cluster.oomKill('mesh', name, 'istio-proxy', { startedAt: new Date(Date.now() - 3600_000).toISOString() });
    const alert = await h.slack.waitFor(() => h!.slack.messagesIn('#alerts').find((m) => JSON.stringify(m.blocks).includes('mesh/storefront')), 15_000);
    const text = JSON.stringify(alert.blocks);
    expect(text).toContain('istio-proxy');
    expect(text).toContain('Burstable');
    expect(text).not.toContain('Guaranteed');
    expect(buttons(alert.blocks).map((b) => b.action_id)).not.toContain(ACTION_RAISE_LIMIT);
    expect(text).toContain('Container istio-proxy is not in the pod template of Deployment storefront');
    expect(text).toContain('sidecar.istio.io/proxyMemoryLimit');

    // The app container of another Deployment in the mesh: raised with its request, and the pod is not called Guaranteed.
    h.cluster.createDeployment({ name: 'checkout', namespace: 'mesh', replicas: 1, podAnnotations, containers: [{ name: 'main', ...app }] });
    const answer = await killAndRaise(h, 'mesh', 'checkout', 510 * 2 ** 20);
    expect(answer).toContain('Done: Deployment mesh/checkout, container main: memory limit 512Mi → 640Mi, request 512Mi → 640Mi');
    const checkout = await h.slack.waitFor(() => h!.slack.messagesIn('#alerts').find((m) => JSON.stringify(m.blocks).includes('mesh/checkout')), 15_000);
    expect(JSON.stringify(checkout.blocks)).toContain('to keep it equal to the limit');
    expect(JSON.stringify(checkout.blocks)).not.toContain('Guaranteed');
    expect(h.cluster.get('deployments', 'mesh', 'checkout')!.spec.template.spec.containers.map((c: { name: string }) => c.name)).toEqual(['main']);
  });
});
