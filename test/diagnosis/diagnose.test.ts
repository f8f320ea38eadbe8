import { describe, expect, it } from 'vitest';
import { GiB, MiB } from '../../core/quantity.js';
import type { PodSnapshot } from '../../diagnosis/enriched.js';
import { diagnose } from '../../diagnosis/diagnose.js';
import type { Cause, Confidence } from '../../diagnosis/diagnosis.js';
import { createEnriched, earlierKill } from './factories.js';
import { POLICY, fixtureNames, loadFixture } from './fixtures.js';

const expected: Record<string, { cause: Cause; confidence: Confidence; proposal: string | null }> = {
  'limit-too-low': { cause: 'limit-too-low', confidence: 'high', proposal: '640Mi' },
  leak: { cause: 'memory-leak', confidence: 'high', proposal: null },
  'startup-spike': { cause: 'startup-spike', confidence: 'medium', proposal: '384Mi' },
  'jvm-heap': { cause: 'runtime-heap', confidence: 'high', proposal: '2816Mi' },
  'node-overcommit': { cause: 'node-pressure', confidence: 'high', proposal: null },
  'eviction-memory': { cause: 'eviction-memory', confidence: 'high', proposal: '896Mi' },
  'eviction-ephemeral-storage': { cause: 'eviction-resource', confidence: 'high', proposal: null },
  'child-oom': { cause: 'child-oom', confidence: 'high', proposal: null },
  'liveness-sigkill': { cause: 'probe-kill', confidence: 'high', proposal: null },
  unknown: { cause: 'unknown', confidence: 'low', proposal: null },
  'pod-gone': { cause: 'limit-too-low', confidence: 'low', proposal: null },
  'bare-pod': { cause: 'limit-too-low', confidence: 'medium', proposal: null },
  'node-oom-system': { cause: 'node-pressure', confidence: 'high', proposal: null },
  preempted: { cause: 'disruption', confidence: 'high', proposal: null },
  'hostile-text': { cause: 'limit-too-low', confidence: 'medium', proposal: '448Mi' },
  'vpa-auto-capped': { cause: 'limit-too-low', confidence: 'high', proposal: null },
  'pod-level-limit': { cause: 'limit-too-low', confidence: 'medium', proposal: '1280Mi' },
  'process-oom': { cause: 'process-oom', confidence: 'high', proposal: '1280Mi' },
  'process-oom-node': { cause: 'node-pressure', confidence: 'high', proposal: null },
};

describe('diagnose: fixtures', () => {
  it('has an expectation for every fixture', () => {
    expect(fixtureNames().sort()).toEqual(Object.keys(expected).sort());
  });

  for (const name of fixtureNames()) {
    it(name, () => {
      const d = diagnose(loadFixture(name), POLICY);
      const want = expected[name];
      expect({ cause: d.cause, confidence: d.confidence }).toEqual({ cause: want?.cause, confidence: want?.confidence });
      const to = d.proposal ? (d.proposal.target === 'limit' ? d.proposal.toLimit : d.proposal.toRequest) : null;
      expect(to).toBe(want?.proposal);
      expect(d.evidence.length).toBeGreaterThan(0);
      expect(d.headline.length).toBeGreaterThan(0);
      if (!d.proposal && d.cause !== 'unknown') expect(d.raisingIsWrongFix ?? d.noProposalReason).toBeTruthy();
    });
  }

  it('never calls a SIGKILL an OOM kill', () => {
    for (const name of ['liveness-sigkill', 'unknown']) {
      const d = diagnose(loadFixture(name), POLICY);
      expect(d.headline).toMatch(/not an OOM/);
      expect(d.raisingIsWrongFix).toMatch(/Not an OOM/);
      expect(d.proposal).toBeUndefined();
    }
  });

  it('a memory eviction raises the request, never the limit', () => {
    const d = diagnose(loadFixture('eviction-memory'), POLICY);
    expect(d.proposal?.target).toBe('request');
    expect(d.raisingIsWrongFix).toMatch(/Raise the request, not the limit/);
  });

  it('says the pod is gone, and why nothing can be patched', () => {
    const d = diagnose(loadFixture('pod-gone'), POLICY);
    expect(d.evidence.map((e) => e.text).join('\n')).toMatch(/no longer exists/);
    expect(d.noProposalReason).toMatch(/owner could not be resolved.*960Mi/);
  });

  it('flags a Helm-managed proposal', () => {
    const d = diagnose(loadFixture('jvm-heap'), POLICY);
    expect(d.proposal?.managedBy).toEqual({ tool: 'helm', name: 'orders' });
    expect(d.proposal?.revertWarning).toMatch(/helm upgrade/);
  });
});

describe('diagnose: container OOM rules', () => {
  it('limit too low: OOMKilled at the limit with nothing else going on', () => {
    const d = diagnose(createEnriched());
    expect(d.cause).toBe('limit-too-low');
    expect(d.confidence).toBe('medium');
    expect(d.proposal?.target === 'limit' && d.proposal.toLimit).toBe('640Mi');
  });

  it('no memory limit at all: the node ran out', () => {
    const d = diagnose(createEnriched({ limit: null, request: null }));
    expect(d.cause).toBe('node-pressure');
    expect(d.raisingIsWrongFix).toMatch(/no limit/);
  });

  it('a SystemOOM on the node at the time, usage unknown: node pressure, medium', () => {
    const e = createEnriched(
      {},
      {
        events: [
          {
            reason: 'SystemOOM',
            type: 'Warning',
            message: 'System OOM encountered, victim process: java, pid: 1',
            count: 1,
            lastTimestamp: '2026-11-23T10:15:30Z',
            involvedKind: 'Node',
            involvedName: 'worker-3',
          },
        ],
      },
    );
    const d = diagnose(e);
    expect(d).toMatchObject({ cause: 'node-pressure', confidence: 'medium' });
    expect(d.proposal).toBeUndefined();
  });

  it('a SystemOOM long before the kill does not count', () => {
    const e = createEnriched(
      {},
      {
        events: [{ reason: 'SystemOOM', type: 'Warning', message: 'old', count: 1, lastTimestamp: '2026-11-22T10:15:30Z', involvedKind: 'Node' }],
      },
    );
    expect(diagnose(e).cause).toBe('limit-too-low');
  });

  it('a sample well under the limit, without node evidence: the container hit its own limit, and the sample is shown with its age', () => {
    const e = createEnriched({}, { usage: { container: 'api', containerWorkingSetBytes: 200 * MiB, source: 'prometheus', sampledAt: '2026-11-23T10:15:00Z' } });
    const d = diagnose(e);
    expect(d.cause).not.toBe('node-pressure');
    expect(d.headline).not.toMatch(/node/i);
    expect(d.evidence.some((x) => /^Last sample \d+.* before the kill: 200Mi/.test(x.text))).toBe(true);
    expect(d.evidence.some((x) => /at the kill:/.test(x.text) && /^Working set at the kill/.test(x.text))).toBe(false);
    // The proposal starts from the limit, not from the older, lower sample.
    expect(d.proposal?.target === 'limit' && d.proposal.toLimitBytes > d.proposal.fromLimitBytes).toBe(true);
  });

  it('a sample well under the limit with node evidence (MemoryPressure): node pressure, confidence high', () => {
    const e = createEnriched({}, { usage: { container: 'api', containerWorkingSetBytes: 200 * MiB, source: 'prometheus', sampledAt: '2026-11-23T10:15:00Z' } });
    e.node = { ...(e.node ?? { name: 'node-a' }), memoryPressure: true };
    const d = diagnose(e);
    expect(d.cause).toBe('node-pressure');
    expect(d.confidence).toBe('high');
    expect(d.headline).toContain('reported MemoryPressure');
  });

  it('a usage sample taken after the restart is "usage now", not usage at the kill', () => {
    const e = createEnriched(
      {},
      { usage: { container: 'api', containerWorkingSetBytes: 100 * MiB, source: 'metrics.k8s.io', sampledAt: '2026-11-23T10:20:00Z' } },
    );
    const d = diagnose(e);
    expect(d.cause).toBe('limit-too-low');
    expect(d.evidence.some((x) => /Working set now/.test(x.text))).toBe(true);
  });

  it('at first sight (no history yet): restart 4 in about 2 h, each run about 31 min, this one 31 min: a leak is suspected, not a low limit', () => {
    const e = createEnriched({ uptimeSeconds: 31 * 60 });
    // The pod started four runs ago; restartCount 4 is what the kubelet reports after this kill.
    e.pod = { ...(e.pod as PodSnapshot), startedAt: new Date(Date.parse('2026-11-23T10:15:42Z') - 4 * 31 * 60_000 - 40_000).toISOString() };
    const d = diagnose(e);
    expect(d.cause).toBe('memory-leak');
    expect(d.confidence).toBe('medium');
    expect(d.evidence.some((x) => /^Restart 4 of api in 2h 4m since the pod started, about one every 31m/.test(x.text))).toBe(true);
  });

  it('at first sight with the kill its status showed on record: restart 4, this kill and the one before both OOM kills after ~31 min: a leak, high', () => {
    const e = createEnriched({ uptimeSeconds: 31 * 60 });
    e.pod = { ...(e.pod as PodSnapshot), startedAt: new Date(Date.parse('2026-11-23T10:15:42Z') - 4 * 31 * 60_000 - 40_000).toISOString() };
    // Recorded from lastState when oombot first looked: the third run, killed after 31 min.
    e.previousIncidents = [earlierKill(31 / 60 + 0.001, 31 * 60)];
    const d = diagnose(e);
    expect({ cause: d.cause, confidence: d.confidence }).toEqual({ cause: 'memory-leak', confidence: 'high' });
    const cadence = d.evidence.find((x) => /^4th restart of api/.test(x.text));
    expect(cadence?.text).toMatch(
      /^4th restart of api in 2h 4m since the pod started, each run about 31m; this one lasted 31m; it and an earlier run on record ended in OOM kills \(2026-11-23 09:44:\d\d UTC after 31m\)$/,
    );
    expect(cadence?.source).toBe('previous incidents');
    expect(d.proposal).toBeUndefined();
  });

  it("a kill on record from before the pod started does not confirm this pod's cadence", () => {
    const e = createEnriched({ uptimeSeconds: 31 * 60 });
    e.pod = { ...(e.pod as PodSnapshot), startedAt: new Date(Date.parse('2026-11-23T10:15:42Z') - 4 * 31 * 60_000 - 40_000).toISOString() };
    e.previousIncidents = [earlierKill(5, 31 * 60)];
    const d = diagnose(e);
    expect({ cause: d.cause, confidence: d.confidence }).toEqual({ cause: 'memory-leak', confidence: 'medium' });
  });

  it('the change that started it is said only when no kill is on record before it', () => {
    const change = {
      sourceKind: 'ReplicaSet',
      sourceName: 'api-7f9c4d8b6',
      revision: 5,
      previousRevision: 4,
      at: '2026-11-23T10:03:00Z',
      by: { manager: 'argocd-controller', operation: 'Update' },
      changes: [{ container: 'api', field: 'image' as const, from: 'api:1.4', to: 'api:1.5' }],
    };
    const after = diagnose(createEnriched({}, { change }));
    expect(after.evidence.find((e) => e.source === 'rollout history')?.text).toMatch(
      /revision 5 made 2026-11-23 10:03:00 UTC, 12m 42s before the first kill, by argocd-controller: image api:1\.4 → api:1\.5/,
    );
    expect(after.advice[0]).toBe('The kills began after revision 5: compare it with revision 4, or roll back to it.');
    // A kill of the previous revision on record: the change did not start it.
    const before = diagnose(createEnriched({}, { change, previousIncidents: [earlierKill(2, 3600)] }));
    expect(before.evidence.some((e) => e.source === 'rollout history')).toBe(false);
    // A change made after this kill started nothing.
    const later = diagnose(createEnriched({}, { change: { ...change, at: '2026-11-23T10:20:00Z' } }));
    expect(later.evidence.some((e) => e.source === 'rollout history')).toBe(false);
  });

  it('a pod restarted often but with runs unlike this one is not called a leak from its cadence', () => {
    const e = createEnriched({ uptimeSeconds: 31 * 60 });
    e.pod = { ...(e.pod as PodSnapshot), startedAt: new Date(Date.parse('2026-11-23T10:15:42Z') - 4 * 3 * 3600_000).toISOString() };
    expect(diagnose(e).cause).not.toBe('memory-leak');
  });

  it('-Xmx1g in JAVA_TOOL_OPTIONS of a 768Mi container, a 411Mi sample before the kill, no node evidence: the heap flag, not the node', () => {
    const d = diagnose(
      createEnriched(
        {
          limit: '768Mi',
          request: '768Mi',
          container: { runtimeMemorySettings: [{ name: '-Xmx', source: 'env', envName: 'JAVA_TOOL_OPTIONS', flag: '-Xmx1g', bytes: GiB }] },
        },
        { usage: { container: 'api', containerWorkingSetBytes: 411 * MiB, source: 'metrics.k8s.io', sampledAt: '2026-11-23T10:14:22Z' } },
      ),
    );
    expect(d.cause).toBe('runtime-heap');
    expect(JSON.stringify(d)).toContain('-Xmx1g');
    expect(d.headline).not.toMatch(/node/i);
    expect(d.evidence.some((x) => /^Last sample .* before the kill: ~?411Mi/.test(x.text))).toBe(true);
  });

  it('-Xmx at or above the limit: runtime heap, proposal fits the heap', () => {
    const d = diagnose(
      createEnriched({
        limit: '1Gi',
        request: '1Gi',
        container: { runtimeMemorySettings: [{ name: '-Xmx', source: 'args', value: '1g', flag: '-Xmx1g', bytes: GiB }] },
      }),
    );
    expect(d).toMatchObject({ cause: 'runtime-heap', confidence: 'high' });
    expect(d.proposal?.target === 'limit' && d.proposal.toLimitBytes).toBeGreaterThanOrEqual(GiB / 0.75);
  });

  it('MaxRAMPercentage of 90: runtime heap, and raising is the wrong fix', () => {
    const d = diagnose(
      createEnriched({
        container: { runtimeMemorySettings: [{ name: 'MaxRAMPercentage', source: 'args', value: '90.0', flag: '-XX:MaxRAMPercentage=90.0', percent: 90 }] },
      }),
    );
    expect(d).toMatchObject({ cause: 'runtime-heap', confidence: 'high' });
    expect(d.proposal).toBeUndefined();
    expect(d.raisingIsWrongFix).toMatch(/MaxRAMPercentage to 75/);
  });

  it('MaxRAMPercentage of 80: runtime heap, medium', () => {
    const d = diagnose(
      createEnriched({
        container: {
          runtimeMemorySettings: [{ name: 'MaxRAMPercentage', source: 'env', envName: 'JAVA_TOOL_OPTIONS', flag: '-XX:MaxRAMPercentage=80', percent: 80 }],
        },
      }),
    );
    expect(d).toMatchObject({ cause: 'runtime-heap', confidence: 'medium' });
  });

  it('JVM container support disabled: runtime heap, no proposal', () => {
    const d = diagnose(
      createEnriched({
        container: {
          runtimeMemorySettings: [{ name: 'UseContainerSupport', source: 'command', value: '-', flag: '-XX:-UseContainerSupport', enabled: false }],
        },
      }),
    );
    expect(d.cause).toBe('runtime-heap');
    expect(d.proposal).toBeUndefined();
  });

  it('Node.js old space above the limit: runtime heap', () => {
    const d = diagnose(
      createEnriched({
        container: {
          runtimeMemorySettings: [{ name: '--max-old-space-size', source: 'args', value: '4096', flag: '--max-old-space-size=4096', bytes: 4096 * MiB }],
        },
      }),
    );
    expect(d.cause).toBe('runtime-heap');
    expect(d.advice.join(' ')).toMatch(/--max-old-space-size/);
  });

  it('Go without GOMEMLIMIT is a hint, not a cause', () => {
    const d = diagnose(createEnriched({ container: { runtimeMemorySettings: [{ name: 'GOGC', source: 'env', envName: 'GOGC' }] } }));
    expect(d.cause).toBe('limit-too-low');
    expect(d.advice.join(' ')).toMatch(/GOMEMLIMIT/);
  });

  it('three kills after similar uptimes: suspected leak, no proposal', () => {
    const e = createEnriched({ uptimeSeconds: 6 * 3600 }, { previousIncidents: [earlierKill(12, 6.2 * 3600), earlierKill(6, 5.8 * 3600)] });
    const d = diagnose(e);
    expect(d).toMatchObject({ cause: 'memory-leak', confidence: 'medium' });
    expect(d.proposal).toBeUndefined();
    expect(d.raisingIsWrongFix).toMatch(/only moves the kill later/);
  });

  it('kills at very different uptimes are not a leak', () => {
    const e = createEnriched({ uptimeSeconds: 6 * 3600 }, { previousIncidents: [earlierKill(12, 600), earlierKill(6, 2 * 3600)] });
    expect(diagnose(e).cause).toBe('limit-too-low');
  });

  it('a kill within seconds of the start: start-up spike', () => {
    const d = diagnose(createEnriched({ uptimeSeconds: 5 }));
    expect(d.cause).toBe('startup-spike');
    expect(d.proposal).toBeDefined();
  });

  it('unknown limit and pod gone: an honest unknown', () => {
    const e = createEnriched({}, { pod: { gone: true } });
    delete e.incident.termination?.resources;
    const d = diagnose(e);
    expect(d).toMatchObject({ cause: 'unknown', confidence: 'low' });
  });

  it('respects the policy maximum', () => {
    const d = diagnose(createEnriched({ limit: '8Gi', request: '8Gi' }), { maxMemoryLimitBytes: 8 * GiB });
    expect(d.proposal).toBeUndefined();
    expect(d.noProposalReason).toMatch(/policy maximum/);
  });

  it('respects the namespace LimitRange', () => {
    const d = diagnose(createEnriched({ limit: '1Gi' }), { maxMemoryLimitBytes: 8 * GiB });
    const capped = diagnose(createEnriched({ limit: '1Gi' }, { limitRange: { maxMemory: { text: '1Gi', bytes: GiB } } }));
    expect(d.proposal).toBeDefined();
    expect(capped.proposal).toBeUndefined();
    expect(capped.noProposalReason).toMatch(/LimitRange/);
  });
});

describe('diagnose: other kinds', () => {
  it('OOMKilled with exit 1 is a child OOM', () => {
    const d = diagnose(createEnriched({ kind: 'child-oom', exitCode: 1 }));
    expect(d.cause).toBe('child-oom');
    expect(d.headline).toMatch(/exit code 1/);
    expect(d.proposal).toBeUndefined();
  });

  it('a SIGKILL after "Stopping container" is the grace period', () => {
    const e = createEnriched(
      { kind: 'sigkill', reason: 'Error' },
      {
        events: [{ reason: 'Killing', type: 'Normal', message: 'Stopping container api', count: 1, lastTimestamp: '2026-11-23T10:15:12Z' }],
      },
    );
    const d = diagnose(e);
    expect(d.cause).toBe('grace-period');
    expect(d.headline).toMatch(/30s grace period/);
  });

  it('a startup probe kill is named', () => {
    const e = createEnriched({ kind: 'sigkill', reason: 'Error' });
    e.incident.probeKill = { reason: 'Killing', message: 'Container api failed startup probe, will be restarted', probe: 'startup' };
    const d = diagnose(e);
    expect(d.cause).toBe('probe-kill');
    expect(d.headline).toMatch(/startup probe/);
  });

  it('parses an eviction message when the structured data is missing', () => {
    const e = createEnriched({ kind: 'evicted', limit: '2Gi' });
    delete e.incident.termination;
    e.incident.eviction = {
      containers: [],
      source: 'message',
      message:
        'The node was low on resource: memory. Threshold quantity: 100Mi, available: 81232Ki. Container api was using 912340Ki, request is 200Mi, has larger consumption of memory.',
    };
    const d = diagnose(e);
    expect(d).toMatchObject({ cause: 'eviction-memory', confidence: 'medium' });
    expect(d.proposal?.target === 'request' && d.proposal.toRequest).toBe('896Mi');
  });

  it('parses the older eviction wording', () => {
    const e = createEnriched({ kind: 'evicted' });
    e.incident.eviction = {
      resource: 'memory',
      containers: [],
      source: 'message',
      message: 'The node was low on resource: memory. Container api was using 700Mi, which exceeds its request of 100Mi.',
    };
    expect(diagnose(e).proposal?.target).toBe('request');
  });

  it('a memory eviction of a pod within its request blames the others', () => {
    const e = createEnriched({ kind: 'evicted' });
    e.incident.eviction = { resource: 'memory', containers: [{ name: 'api', usage: '100Mi', request: '256Mi' }], source: 'event-annotations' };
    const d = diagnose(e);
    expect(d.proposal).toBeUndefined();
    expect(d.raisingIsWrongFix).toBeTruthy();
  });

  it('a pids eviction names the resource', () => {
    const e = createEnriched({ kind: 'evicted' });
    e.incident.eviction = { resource: 'pids', containers: [], source: 'event-annotations' };
    const d = diagnose(e);
    expect(d.cause).toBe('eviction-resource');
    expect(d.headline).toMatch(/pids/);
  });

  it('a taint eviction is a disruption', () => {
    const e = createEnriched({ kind: 'disruption' });
    e.incident.disruption = { reason: 'DeletionByTaintManager' };
    expect(diagnose(e)).toMatchObject({ cause: 'disruption', confidence: 'high' });
  });
});
