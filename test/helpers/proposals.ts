import type { LimitProposal } from '../../diagnosis/propose-limit.js';

const MiB = 2 ** 20;

/** A typical proposal: Deployment shop/api, container api, limit 512Mi → 640Mi; override what a test needs. */
export function sampleProposal(overrides: Partial<LimitProposal> = {}): LimitProposal {
  return {
    target: 'limit',
    container: 'api',
    owner: { kind: 'Deployment', name: 'api', namespace: 'shop' },
    fromLimit: '512Mi',
    toLimit: '640Mi',
    fromLimitBytes: 512 * MiB,
    toLimitBytes: 640 * MiB,
    reason: 'VPA rule after an OOM kill',
    ...overrides,
  };
}
