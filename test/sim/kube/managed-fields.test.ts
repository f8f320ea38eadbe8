/** metadata.managedFields as the API server keeps them: the manager of each write and the fields it changed. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSimKube, type SimKube } from '../../helpers/sim-kube.js';

let sim: SimKube;
beforeAll(async () => {
  sim = await startSimKube();
  sim.cluster.addNamespace('shop');
});
afterAll(async () => sim?.close());

type Entry = { manager: string; operation: string; apiVersion: string; time: string; fieldsType: string; fieldsV1: Record<string, unknown> };

async function send(method: string, path: string, body: unknown, headers: Record<string, string>): Promise<Record<string, unknown>> {
  const res = await fetch(`${sim.server.url}${path}`, { method, headers, body: JSON.stringify(body) });
  expect(res.status).toBeLessThan(300);
  return (await res.json()) as Record<string, unknown>;
}

describe('managedFields', () => {
  it('names the User-Agent manager on create, the fieldManager on a patch, and moves the changed fields to the patcher', async () => {
    const deployment = {
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: 'web' } },
        template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'web', image: 'web:1' }] } },
      },
    };
    await send('POST', '/apis/apps/v1/namespaces/shop/deployments', deployment, {
      'content-type': 'application/json',
      'user-agent': 'kubectl/v1.35.2 (linux/amd64) kubernetes/abc',
    });
    const patched = (await send(
      'PATCH',
      '/apis/apps/v1/namespaces/shop/deployments/web?fieldManager=argocd-controller',
      { spec: { template: { spec: { containers: [{ name: 'web', image: 'web:2' }] } } } },
      { 'content-type': 'application/strategic-merge-patch+json', 'user-agent': 'argocd/v2' },
    )) as { metadata: { managedFields: Entry[] } };
    const entries = patched.metadata.managedFields;
    expect(entries.map((e) => [e.manager, e.operation, e.apiVersion, e.fieldsType])).toEqual([
      ['kubectl', 'Update', 'apps/v1', 'FieldsV1'],
      ['argocd-controller', 'Update', 'apps/v1', 'FieldsV1'],
    ]);
    const container = 'k:{"name":"web"}';
    const argo = entries[1]!.fieldsV1 as Record<string, Record<string, Record<string, Record<string, Record<string, unknown>>>>>;
    expect(argo['f:spec']?.['f:template']?.['f:spec']?.['f:containers']?.[container]).toEqual({ '.': {}, 'f:image': {} });
    const kubectl = JSON.stringify(entries[0]!.fieldsV1);
    expect(kubectl).toContain('f:replicas');
    expect(kubectl).not.toContain('"f:image"');
    // The defaults the server filled in are nobody's.
    expect(kubectl).not.toContain('f:restartPolicy');
    expect(Number.isFinite(Date.parse(entries[1]!.time))).toBe(true);
  });
});
