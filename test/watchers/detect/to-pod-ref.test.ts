import { describe, expect, it } from 'vitest';
import { toPodRef } from '../../../watchers/detect/index.js';
import { createPod, podFixture } from '../../helpers/pods.js';

describe('toPodRef', () => {
  it('takes identity, node, controller owner, QoS, priority and the workload and revision labels only', () => {
    const ref = toPodRef(podFixture('pod-oom-crashloop.json'));
    expect(ref).toEqual({
      namespace: 'shop',
      name: 'api-7f9c6b8d4-x2k9p',
      uid: '0b1f6c3e-2d4a-4c8e-9a51-7e3f2b9d1a01',
      nodeName: 'worker-3',
      owner: { kind: 'ReplicaSet', name: 'api-7f9c6b8d4', uid: '5c2d8e1a-9b3f-4f7d-8c6a-2e1b0d9f3a77', apiVersion: 'apps/v1' },
      qosClass: 'Burstable',
      phase: 'Running',
      priority: 0,
      labels: {
        'app.kubernetes.io/name': 'api',
        'app.kubernetes.io/instance': 'shop-api',
        'app.kubernetes.io/part-of': 'shop',
        'pod-template-hash': '7f9c6b8d4',
      },
      managedBy: { tool: 'argocd', name: 'shop-api' },
    });
  });

  it('only the controller owner reference counts', () => {
    const pod = createPod({ metadata: { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'worker-3', uid: 'x' }] } });
    expect(toPodRef(pod).owner).toBeUndefined();
  });

  it.each([
    [{ labels: { 'kustomize.toolkit.fluxcd.io/name': 'apps' } }, { tool: 'flux', name: 'apps' }],
    [{ labels: { 'helm.toolkit.fluxcd.io/name': 'redis' } }, { tool: 'flux', name: 'redis' }],
    [{ annotations: { 'meta.helm.sh/release-name': 'orders' } }, { tool: 'helm', name: 'orders' }],
    [{ labels: { 'app.kubernetes.io/managed-by': 'Helm', 'app.kubernetes.io/instance': 'search' } }, { tool: 'helm', name: 'search' }],
    [{ labels: { 'argocd.argoproj.io/instance': 'shop' } }, { tool: 'argocd', name: 'shop' }],
    [
      { annotations: { 'argocd.argoproj.io/tracking-id': 'shop-api:apps/Deployment:shop/api', 'meta.helm.sh/release-name': 'api' } },
      { tool: 'argocd', name: 'shop-api' },
    ],
  ])('managedBy from %j', (metadata, expected) => {
    expect(toPodRef(createPod({ metadata })).managedBy).toEqual(expected);
  });

  it('a plain pod has no managedBy; a partial pod still gives a ref', () => {
    expect(toPodRef(createPod()).managedBy).toBeUndefined();
    expect(toPodRef({} as never)).toEqual({ namespace: '', name: '', uid: '' });
  });
});
