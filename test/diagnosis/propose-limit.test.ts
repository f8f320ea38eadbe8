import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { GiB, MiB, formatMemory, parseQuantity, memoryBytes } from '../../core/quantity.js';
import type { OwnerChain } from '../../diagnosis/enriched.js';
import { bumpedLimitBytes, patchTarget, proposeLimit, proposeRequest } from '../../diagnosis/propose-limit.js';

const deployment: OwnerChain = {
  chain: [
    { kind: 'ReplicaSet', name: 'api-7f9c' },
    { kind: 'Deployment', name: 'api' },
  ],
};
const base = { container: 'api', namespace: 'shop', owner: deployment, caps: {} };

describe('proposeLimit', () => {
  it('applies the VPA rule with the limit as usage when none was sampled', () => {
    const r = proposeLimit({ ...base, limitBytes: 512 * MiB, requestBytes: 256 * MiB });
    expect(r.proposal).toMatchObject({ target: 'limit', fromLimit: '512Mi', toLimit: '640Mi', owner: { kind: 'Deployment', name: 'api', namespace: 'shop' } });
    expect(r.proposal?.toRequest).toBeUndefined();
    expect(r.proposal?.requestNote).toMatch(/request stays at 256Mi/);
  });

  it('uses +100Mi for small containers and ×1.2 for large ones', () => {
    expect(bumpedLimitBytes(128 * MiB)).toBe(256 * MiB); // 228Mi → 256Mi
    expect(bumpedLimitBytes(4 * GiB)).toBe(5 * GiB); // 4.8Gi → 5Gi (256Mi steps)
  });

  it('uses usage at the kill when known, never below the request', () => {
    expect(proposeLimit({ ...base, limitBytes: GiB, requestBytes: 256 * MiB, usageAtKillBytes: 1000 * MiB }).proposal?.toLimit).toBe('1280Mi');
    // usage under the request: the request is `used`
    expect(proposeLimit({ ...base, limitBytes: GiB, requestBytes: GiB, usageAtKillBytes: 100 * MiB }).proposal?.toLimit).toBe('1280Mi');
  });

  it('raises the request with the limit when they are equal, and calls the pod Guaranteed only when its status says so', () => {
    const p = proposeLimit({ ...base, limitBytes: GiB, requestBytes: GiB, qosClass: 'Guaranteed' }).proposal;
    expect(p).toMatchObject({ toLimit: '1280Mi', fromRequest: '1Gi', toRequest: '1280Mi' });
    expect(p?.requestNote).toMatch(/keep the pod Guaranteed/);
    // A Burstable pod (another container, an injected sidecar, with requests below limits): not "Guaranteed".
    const burstable = proposeLimit({ ...base, limitBytes: GiB, requestBytes: GiB, qosClass: 'Burstable' }).proposal;
    expect(burstable?.toRequest).toBe('1280Mi');
    expect(burstable?.requestNote).toBe('The request is raised with the limit (1Gi → 1280Mi) to keep it equal to the limit.');
  });

  it('is capped by policy, node and LimitRange, the lowest first', () => {
    const r = proposeLimit({
      ...base,
      limitBytes: 4 * GiB,
      caps: { policyMaxBytes: 8 * GiB, largestNodeAllocatableBytes: 4675304 * 1024, limitRangeMaxBytes: 6 * GiB },
    });
    expect(r.proposal).toMatchObject({ toLimit: '4352Mi', cappedBy: 'node' });
    expect(r.proposal?.reason).toMatch(/largest node/);
  });

  it('makes no proposal when the cap is not above the current limit, and says why', () => {
    const r = proposeLimit({ ...base, limitBytes: 8 * GiB, caps: { policyMaxBytes: 8 * GiB } });
    expect(r.proposal).toBeUndefined();
    expect(r.reason).toMatch(/policy maximum/);
    expect(r.reason).toMatch(/already 8Gi/);
  });

  it('offers nothing to patch for bare pods, Jobs, unknown kinds or unknown owners, but says what to set', () => {
    const bare = proposeLimit({ ...base, owner: { chain: [] }, limitBytes: 256 * MiB });
    expect(bare.proposal).toBeUndefined();
    expect(bare.reason).toMatch(/no controller.*memory limit to 384Mi/);
    expect(bare.suggested).toBe('384Mi');
    expect(proposeLimit({ ...base, owner: { chain: [{ kind: 'Job', name: 'once' }] }, limitBytes: GiB }).reason).toMatch(
      /Job's pod template cannot be changed/,
    );
    expect(proposeLimit({ ...base, owner: { chain: [{ kind: 'Rollout', name: 'web' }] }, limitBytes: GiB }).reason).toMatch(/Rollout web/);
    expect(proposeLimit({ ...base, owner: undefined, limitBytes: GiB }).reason).toMatch(/could not be resolved/);
  });

  it('patches the CronJob above a Job', () => {
    const r = proposeLimit({
      ...base,
      owner: {
        chain: [
          { kind: 'Job', name: 'etl-1' },
          { kind: 'CronJob', name: 'etl' },
        ],
      },
      limitBytes: GiB,
    });
    expect(r.proposal?.owner).toEqual({ kind: 'CronJob', name: 'etl', namespace: 'shop' });
  });

  it('flags GitOps and Helm ownership so the UI can warn of a revert', () => {
    const r = proposeLimit({ ...base, owner: { ...deployment, managedBy: { tool: 'argocd', name: 'shop' } }, limitBytes: GiB });
    expect(r.proposal?.managedBy).toEqual({ tool: 'argocd', name: 'shop' });
    expect(r.proposal?.revertWarning).toMatch(/Argo CD.*reverted.*Commit resources.limits.memory: 1280Mi/);
  });

  it('always proposes more than the limit, within the caps, as a parseable human quantity', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 64 * 1024 }).map((n) => n * MiB),
        fc.option(
          fc.integer({ min: 0, max: 64 * 1024 }).map((n) => n * MiB),
          { nil: undefined },
        ),
        fc.option(
          fc.integer({ min: 1, max: 128 * 1024 }).map((n) => n * MiB),
          { nil: undefined },
        ),
        (limit, request, cap) => {
          const r = proposeLimit({
            ...base,
            limitBytes: limit,
            requestBytes: request === undefined ? undefined : Math.min(request, limit),
            caps: { policyMaxBytes: cap },
          });
          if (r.proposal) {
            expect(r.proposal.toLimitBytes).toBeGreaterThan(limit);
            if (cap !== undefined) expect(r.proposal.toLimitBytes).toBeLessThanOrEqual(cap);
            expect(memoryBytes(parseQuantity(r.proposal.toLimit))).toBe(r.proposal.toLimitBytes);
            expect(r.proposal.toLimit).toBe(formatMemory(r.proposal.toLimitBytes));
          } else {
            expect(r.reason).toBeTruthy();
            expect(cap).toBeDefined();
          }
        },
      ),
    );
  });
});

describe('proposeRequest', () => {
  it('raises the request toward measured use', () => {
    const r = proposeRequest({ ...base, usageBytes: 912340 * 1024, requestBytes: 200 * MiB, requestText: '200Mi', limitBytes: 2 * GiB });
    expect(r.proposal).toMatchObject({ target: 'request', fromRequest: '200Mi', toRequest: '896Mi' });
  });

  it('never goes above the limit', () => {
    expect(proposeRequest({ ...base, usageBytes: 1000 * MiB, requestBytes: 200 * MiB, limitBytes: GiB - 10 * MiB }).proposal?.toRequestBytes).toBe(
      GiB - 10 * MiB,
    );
  });

  it('has nothing to offer when the use was within the request', () => {
    expect(proposeRequest({ ...base, usageBytes: 100 * MiB, requestBytes: 200 * MiB }).reason).toMatch(/within its request/);
  });
});

describe('patchTarget', () => {
  it('takes the top controller', () => {
    expect(patchTarget(deployment, 'shop', 'api', 'x')).toEqual({ owner: { kind: 'Deployment', name: 'api', namespace: 'shop' } });
  });
});

describe('patchTarget when the owners could not be read', () => {
  it('proposes nothing on a ReplicaSet or Job known only from the pod, since a Deployment or CronJob may control it', () => {
    for (const kind of ['ReplicaSet', 'Job']) {
      const r = patchTarget({ chain: [{ kind, name: 'api-7f9c' }], verified: false }, 'shop', 'api', 'memory limit to 640Mi');
      expect(r).toEqual({ reason: expect.stringContaining(`${kind} api-7f9c could not be read to find the controller above it`) });
    }
    // A StatefulSet has no controller above it: known from the pod alone, it is still the one to patch.
    expect(patchTarget({ chain: [{ kind: 'StatefulSet', name: 'db' }], verified: false }, 'shop', 'db', 'memory limit')).toEqual({
      owner: { kind: 'StatefulSet', name: 'db', namespace: 'shop' },
    });
    // Read and verified, a bare ReplicaSet is patched.
    expect(patchTarget({ chain: [{ kind: 'ReplicaSet', name: 'bare' }] }, 'shop', 'api', 'memory limit')).toEqual({
      owner: { kind: 'ReplicaSet', name: 'bare', namespace: 'shop' },
    });
  });
});
