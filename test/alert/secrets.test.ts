/**
 * Env values never leave the container spec: a pod with a Slack token, a database password and secret
 * JVM system properties goes through extraction, diagnosis and rendering, and none of the values
 * appears anywhere.
 */
import type { V1Container } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { GiB, parseMemoryBytes } from '../../core/quantity.js';
import { diagnose } from '../../diagnosis/diagnose.js';
import type { ContainerSnapshot } from '../../diagnosis/enriched.js';
import { buildMessage } from '../../alert/message.js';
import { renderSlack } from '../../alert/render-slack.js';
import { renderText } from '../../alert/render-text.js';
import { extractEnvNames, extractRuntimeMemorySettings } from '../../diagnosis/runtime-settings.js';
import { createEnriched } from '../diagnosis/factories.js';

const SECRETS = ['xoxb-1234567890-abcdefSECRET', 'hunter2-db-pass', 'trust-store-s3cr3t', 'license-k3y-s3cr3t', 'GOMEMLIMIT-VALUE-900MiB', 's3cr3t-node-flag'];

const spec: V1Container = {
  name: 'api',
  image: 'registry.example.com/shop/api:1.0.0',
  command: ['sh', '-c', 'exec java -Xmx1g -Ddb.password=hunter2-db-pass -jar /app.jar'],
  args: ['--token=xoxb-1234567890-abcdefSECRET'],
  env: [
    { name: 'SECRET_TOKEN', value: 'xoxb-1234567890-abcdefSECRET' },
    { name: 'DB_PASSWORD', value: 'hunter2-db-pass' },
    { name: 'JAVA_TOOL_OPTIONS', value: '-Dlicense.key=license-k3y-s3cr3t -Djavax.net.ssl.trustStorePassword=trust-store-s3cr3t -XX:MaxRAMPercentage=85' },
    { name: 'NODE_OPTIONS', value: '--secure-heap=s3cr3t-node-flag --max-old-space-size=512' },
    { name: 'GOMEMLIMIT', value: 'GOMEMLIMIT-VALUE-900MiB' },
    { name: 'API_KEY', valueFrom: { secretKeyRef: { name: 'api', key: 'key' } } },
  ],
  resources: { limits: { memory: '1Gi' }, requests: { memory: '1Gi' } },
};

/** What a worker would record for this container. */
function snapshot(c: V1Container): ContainerSnapshot {
  const limit = c.resources?.limits?.memory;
  const request = c.resources?.requests?.memory;
  return {
    name: c.name,
    image: c.image,
    limits: limit ? { memory: { text: limit, bytes: parseMemoryBytes(limit) } } : {},
    requests: request ? { memory: { text: request, bytes: parseMemoryBytes(request) } } : {},
    restartCount: 2,
    runtimeMemorySettings: extractRuntimeMemorySettings(c),
    envNames: extractEnvNames(c),
  };
}

describe('secrets never leak', () => {
  it('from env, command or args into the diagnosis or either rendering', () => {
    const container = snapshot(spec);
    expect(container.envNames).toEqual(['SECRET_TOKEN', 'DB_PASSWORD', 'JAVA_TOOL_OPTIONS', 'NODE_OPTIONS', 'GOMEMLIMIT', 'API_KEY']);
    for (const kind of ['container-oom', 'child-oom', 'sigkill'] as const) {
      const e = createEnriched({ kind, limit: '1Gi', request: '1Gi', container }, { largestNodeAllocatableBytes: 15 * GiB });
      const d = diagnose(e);
      const m = buildMessage(e, d, { proposalId: 'p-1' });
      const all = [JSON.stringify(container), JSON.stringify(d), JSON.stringify(m), JSON.stringify(renderSlack(m)), renderText(m)].join('\n');
      for (const secret of SECRETS) expect(all).not.toContain(secret);
      if (kind === 'container-oom') {
        // The memory flags themselves are shown, as parsed flags only.
        expect(all).toContain('-Xmx1g (command)');
        expect(d.cause).toBe('runtime-heap');
      }
    }
  });
});
