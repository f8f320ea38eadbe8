import { describe, expect, it } from 'vitest';
import type { V1Pod } from '@kubernetes/client-node';
import { trimPod } from '../../core/observed-pod.js';
import { toPodSnapshot } from '../../investigate/enrich.js';

const pod: V1Pod = {
  metadata: {
    name: 'api-7f9c4d8b6-x2x9k',
    namespace: 'shop',
    uid: 'u-1',
    labels: { app: 'api', 'pod-template-hash': '7f9c4d8b6' },
    annotations: { 'meta.helm.sh/release-name': 'shop', 'kubectl.kubernetes.io/last-applied-configuration': '{"big":"x"}' },
    ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'api-7f9c4d8b6', uid: 'rs-1', controller: true }],
  },
  spec: {
    nodeName: 'worker-3',
    containers: [
      {
        name: 'api',
        image: 'shop/api:1.2',
        command: ['sh', '-c', 'java -Xmx2g -XX:MaxRAMPercentage=75 -Dpassword=hunter2 -jar app.jar --token s3cr3t'],
        args: ['--max-old-space-size', '4096', '--db-password=hunter2'],
        env: [
          { name: 'DB_PASSWORD', value: 'hunter2' },
          { name: 'JAVA_TOOL_OPTIONS', value: '-Xms512m -Djavax.net.ssl.trustStorePassword=hunter2' },
          { name: 'GOMEMLIMIT', value: '900MiB' },
          { name: 'DOTNET_GCHeapHardLimit', value: '0x10 hunter3' },
        ],
        resources: { limits: { memory: '512Mi' }, requests: { memory: '256Mi' } },
        livenessProbe: { periodSeconds: 10, failureThreshold: 3, httpGet: { path: '/healthz', port: 8080 } },
      },
    ],
  },
  status: {
    phase: 'Running',
    qosClass: 'Burstable',
    containerStatuses: [
      {
        name: 'api',
        image: 'shop/api:1.2',
        imageID: '',
        ready: true,
        restartCount: 4,
        lastState: { terminated: { exitCode: 137, reason: 'OOMKilled' } },
        state: { running: {} },
      },
    ],
  },
} as V1Pod;

describe('the pod as the watcher sends it with an incident', () => {
  it('carries no env value, command-line secret or unneeded annotation', () => {
    const text = JSON.stringify(trimPod(pod));
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('s3cr3t');
    // A heap size is carried only when the whole value is one (rebuilt); anything else keeps only the name.
    expect(text).toContain('{"name":"GOMEMLIMIT","value":"900MiB"}');
    expect(text).not.toContain('hunter3');
    expect(text).toContain('{"name":"DOTNET_GCHeapHardLimit"}');
    expect(text).not.toContain('last-applied');
    expect(text).toContain('DB_PASSWORD');
  });

  it('gives the same describe-pod snapshot as the whole pod', () => {
    expect(toPodSnapshot(trimPod(pod))).toEqual(toPodSnapshot(pod));
  });
});
