import { afterEach, describe, expect, it } from 'vitest';
import { startSimKube, type SimKube } from '../../helpers/sim-kube.js';

let sim: SimKube;
afterEach(async () => {
  await sim?.close();
});

const SMP = 'application/strategic-merge-patch+json';
const MERGE = 'application/merge-patch+json';

async function start(opts: { podResizeEnabled?: boolean } = {}): Promise<void> {
  sim = await startSimKube({ nodes: 0, ...opts });
  sim.cluster.addNode('big', { memory: '8Gi' });
  sim.cluster.createPod({ name: 'api-0', namespace: 'shop', nodeName: 'big', memoryRequest: '256Mi', memoryLimit: '512Mi' });
}

function resizePath(pod: string, query = ''): string {
  return `${sim.server.url}/api/v1/namespaces/shop/pods/${pod}/resize${query}`;
}

async function patch(pod: string, body: unknown, contentType = SMP, query = ''): Promise<{ code: number; body: Record<string, any> }> {
  const res = await fetch(resizePath(pod, query), { method: 'PATCH', headers: { 'Content-Type': contentType }, body: JSON.stringify(body) });
  return { code: res.status, body: (await res.json()) as Record<string, any> };
}

const memory = (container: string, limit: string, request?: string): object => ({
  spec: { containers: [{ name: container, resources: { limits: { memory: limit }, ...(request ? { requests: { memory: request } } : {}) } }] },
});

function stored(pod = 'api-0'): Record<string, any> {
  return sim.cluster.peek('pods', 'shop', pod)!;
}

describe('simulated API server: pods/{name}/resize', () => {
  it('applies a strategic merge patch at once: spec and container status show the new memory, no pending condition', async () => {
    await start();
    const out = await patch('api-0', memory('api-0', '1Gi', '512Mi'));
    expect(out.code).toBe(200);
    expect(out.body.kind).toBe('Pod');
    const pod = stored();
    expect(pod.spec.containers[0].resources).toMatchObject({ limits: { memory: '1Gi' }, requests: { memory: '512Mi' } });
    expect(pod.status.containerStatuses[0].resources).toMatchObject({ limits: { memory: '1Gi' }, requests: { memory: '512Mi' } });
    expect(pod.status.conditions.some((c: { type: string }) => c.type === 'PodResizePending')).toBe(false);
    expect(pod.status.phase).toBe('Running');
  });

  it('accepts a merge patch too', async () => {
    await start();
    const containers = structuredClone(stored().spec.containers);
    containers[0].resources.limits.memory = '768Mi';
    const out = await patch('api-0', { spec: { containers } }, MERGE);
    expect(out.code).toBe(200);
    expect(stored().status.containerStatuses[0].resources.limits.memory).toBe('768Mi');
  });

  it('dryRun=All returns the would-be pod and changes nothing', async () => {
    await start();
    const rv = sim.cluster.resourceVersion;
    const out = await patch('api-0', memory('api-0', '1Gi'), SMP, '?dryRun=All&fieldManager=oombot');
    expect(out.code).toBe(200);
    expect(out.body.spec.containers[0].resources.limits.memory).toBe('1Gi');
    expect(sim.cluster.resourceVersion).toBe(rv);
    expect(stored().spec.containers[0].resources.limits.memory).toBe('512Mi');
    expect(sim.server.requestCount({ method: 'PATCH', dryRun: true })).toBe(1);
  });

  it('refuses any change besides the containers resources with 422 Invalid', async () => {
    await start();
    const image = await patch('api-0', { spec: { containers: [{ name: 'api-0', image: 'evil:1' }] } });
    expect(image.code).toBe(422);
    expect(image.body.reason).toBe('Invalid');
    expect(image.body.details.causes[0].field).toBe('spec');
    const labels = await patch('api-0', { metadata: { labels: { x: 'y' } } });
    expect(labels.code).toBe(422);
    const tooBig = await patch('api-0', memory('api-0', '128Mi', '256Mi'));
    expect(tooBig.code).toBe(422);
    expect(tooBig.body.message).toContain('must be less than or equal to memory limit');
    expect(stored().spec.containers[0].resources.limits.memory).toBe('512Mi');
  });

  it('reports Infeasible when the node could never fit the request, and the running size stays', async () => {
    await start();
    const out = await patch('api-0', memory('api-0', '16Gi', '16Gi'));
    expect(out.code).toBe(200);
    const pod = stored();
    const pending = pod.status.conditions.find((c: { type: string }) => c.type === 'PodResizePending');
    expect(pending).toMatchObject({ status: 'True', reason: 'Infeasible' });
    expect(pending.message).toContain("Node didn't have enough capacity: memory");
    expect(pod.spec.containers[0].resources.limits.memory).toBe('16Gi');
    expect(pod.status.containerStatuses[0].resources?.limits?.memory).not.toBe('16Gi');
  });

  it('reports Deferred when other pods on the node hold the memory', async () => {
    await start();
    sim.cluster.createPod({ name: 'hog', namespace: 'shop', nodeName: 'big', memoryRequest: '6Gi', memoryLimit: '6Gi' });
    await patch('api-0', memory('api-0', '2Gi', '2Gi'));
    expect(stored().status.conditions.find((c: { type: string }) => c.type === 'PodResizePending')).toMatchObject({ reason: 'Deferred' });
    // A later resize that fits clears the pending condition.
    await patch('api-0', memory('api-0', '1Gi', '1Gi'));
    expect(stored().status.conditions.some((c: { type: string }) => c.type === 'PodResizePending')).toBe(false);
    expect(stored().status.containerStatuses[0].resources.requests.memory).toBe('1Gi');
  });

  it('answers 404 for an unknown pod and 415 for a JSON patch content type it does not take', async () => {
    await start();
    expect((await patch('nope', memory('nope', '1Gi'))).code).toBe(404);
    expect((await patch('api-0', memory('api-0', '1Gi'), 'text/plain')).code).toBe(415);
  });

  it('lists pods/resize in /api/v1 discovery, and not when switched off (then the path is not served)', async () => {
    await start();
    const doc = (await (await fetch(`${sim.server.url}/api/v1`)).json()) as { resources: Array<{ name: string; verbs: string[] }> };
    expect(doc.resources.find((r) => r.name === 'pods/resize')?.verbs).toEqual(['get', 'patch', 'update']);
    await sim.close();
    await start({ podResizeEnabled: false });
    const off = (await (await fetch(`${sim.server.url}/api/v1`)).json()) as { resources: Array<{ name: string }> };
    expect(off.resources.some((r) => r.name === 'pods/resize')).toBe(false);
    expect((await patch('api-0', memory('api-0', '1Gi'))).code).toBe(404);
  });
});
