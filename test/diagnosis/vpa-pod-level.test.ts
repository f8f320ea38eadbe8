/**
 * Workloads a VerticalPodAutoscaler sizes, and pods with pod-level resources (KEP-2837): from objects as
 * the API server writes them (test/fixtures/api/), through enrichment, to the diagnosis.
 */
import { readFileSync } from 'node:fs';
import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import type { Incident } from '../../core/incident.js';
import { diagnose } from '../../diagnosis/diagnose.js';
import type { Diagnosis } from '../../diagnosis/diagnosis.js';
import { toEnriched } from '../../investigate/enrich.js';
import type { Gathered, OwnerObject } from '../../investigate/gather.js';
import { createEnriched } from './factories.js';
import { POLICY } from './fixtures.js';

type Json = Record<string, any>;

function apiFixture(name: string): Json {
  return JSON.parse(readFileSync(new URL(`../fixtures/api/${name}.json`, import.meta.url), 'utf8')) as Json;
}

/** The auto-capped VPA with its spec changed: `mode` undefined removes updatePolicy (the VPA defaults to Auto). */
function vpa(change: { mode?: string | null; policies?: Json[] | null; target?: string } = {}): Json {
  const v = apiFixture('vpa-auto-capped');
  if (change.mode === null) delete v.spec.updatePolicy;
  else if (change.mode !== undefined) v.spec.updatePolicy.updateMode = change.mode;
  if (change.policies === null) delete v.spec.resourcePolicy;
  else if (change.policies !== undefined) v.spec.resourcePolicy.containerPolicies = change.policies;
  if (change.target !== undefined) v.spec.targetRef.name = change.target;
  return v;
}

const OWNERS: OwnerObject[] = [
  {
    kind: 'ReplicaSet',
    name: 'api-7f9c',
    namespace: 'shop',
    metadata: { uid: 'rs1', ownerReferences: [{ apiVersion: 'apps/v1', kind: 'Deployment', name: 'api', controller: true }] },
  },
  {
    kind: 'Deployment',
    name: 'api',
    namespace: 'shop',
    metadata: { uid: 'd1' },
    spec: { template: { spec: { containers: [{ name: 'api' }, { name: 'cache' }] } } },
  } as OwnerObject,
];

function incidentOf(pod: Json): Incident {
  const c = pod.spec.containers[0];
  const term = pod.status.containerStatuses[0].lastState.terminated;
  return {
    v: 1,
    id: 'prod-shop-api-x2x9k-api-4',
    kind: 'container-oom',
    cluster: 'prod',
    occurredAt: term.finishedAt,
    detectedAt: '2026-11-23T10:15:44Z',
    pod: {
      namespace: 'shop',
      name: pod.metadata.name,
      uid: pod.metadata.uid,
      nodeName: 'worker-3',
      owner: { kind: 'ReplicaSet', name: 'api-7f9c' },
      qosClass: 'Burstable',
    },
    termination: {
      container: c.name,
      init: false,
      restartCount: 4,
      exitCode: 137,
      reason: 'OOMKilled',
      from: 'lastState',
      startedAt: term.startedAt,
      finishedAt: term.finishedAt,
      resources: { limits: c.resources.limits ?? {}, requests: c.resources.requests ?? {} },
    },
  };
}

function diagnosed(pod: Json, vpas: Json[] | undefined): Diagnosis {
  return diagnose(enrichedOf(pod, vpas), POLICY);
}

function enrichedOf(pod: Json, vpas: Json[] | undefined): ReturnType<typeof toEnriched> {
  const g: Gathered = {
    incident: incidentOf(pod),
    pod: pod as V1Pod,
    events: [],
    owners: OWNERS,
    nodes: [],
    metricsAvailable: true,
    limitRanges: [],
    apiCalls: 0,
    gaps: [],
  };
  if (vpas) g.vpas = vpas;
  return toEnriched(g, [], new Date('2026-11-23T10:16:00Z'));
}

/** The plain pod with a different memory limit on its container. */
function podWithLimit(limit: string): Json {
  const pod = apiFixture('pod-oom');
  pod.spec.containers[0].resources.limits.memory = limit;
  return pod;
}

describe('a VPA that targets the workload', () => {
  const cases: { name: string; vpas: Json[] | undefined; pod?: Json; proposal: boolean; advice?: string; reason?: string }[] = [
    {
      name: 'Auto, maxAllowed at the limit hit: the cap is the cause, no button',
      vpas: [vpa()],
      proposal: false,
      advice: 'VPA api-vpa caps memory at 512Mi: raise maxAllowed',
      reason: 'VPA api-vpa (updateMode Auto) sizes this workload',
    },
    {
      name: 'Auto, maxAllowed below the limit hit: the cap is the cause',
      vpas: [vpa()],
      pod: podWithLimit('768Mi'),
      proposal: false,
      advice: 'VPA api-vpa caps memory at 512Mi',
    },
    {
      name: 'updateMode unset defaults to Auto; maxAllowed above the limit: the VPA manages it, no button',
      vpas: [vpa({ mode: null, policies: [{ containerName: '*', maxAllowed: { memory: '2Gi' } }] })],
      proposal: false,
      advice: "VPA api-vpa manages this workload's memory (updateMode Auto)",
      reason: "VPA api-vpa (updateMode Auto) manages this workload's memory",
    },
    {
      name: "Recreate: the container's own policy wins over *",
      vpas: [
        vpa({
          mode: 'Recreate',
          policies: [
            { containerName: '*', maxAllowed: { memory: '256Mi' } },
            { containerName: 'api', maxAllowed: { memory: '4Gi' } },
          ],
        }),
      ],
      proposal: false,
      advice: "VPA api-vpa manages this workload's memory (updateMode Recreate)",
    },
    {
      name: 'InPlaceOrRecreate without a resource policy',
      vpas: [vpa({ mode: 'InPlaceOrRecreate', policies: null })],
      proposal: false,
      advice: "VPA api-vpa manages this workload's memory (updateMode InPlaceOrRecreate)",
      reason: 'updateMode InPlaceOrRecreate',
    },
    {
      name: 'a policy for another container only: no cap applies',
      vpas: [vpa({ policies: [{ containerName: 'cache', maxAllowed: { memory: '64Mi' } }] })],
      proposal: false,
      advice: "VPA api-vpa manages this workload's memory",
    },
    {
      name: 'Off: the raise stays, the VPA is mentioned',
      vpas: [vpa({ mode: 'Off' })],
      proposal: true,
      advice: 'VPA api-vpa targets this workload in Off mode',
    },
    {
      name: 'Initial: the raise stays, the VPA is mentioned',
      vpas: [vpa({ mode: 'Initial' })],
      proposal: true,
      advice: 'VPA api-vpa targets this workload in Initial mode',
    },
    { name: 'a VPA of another Deployment does not count', vpas: [vpa({ target: 'web' })], proposal: true },
    { name: 'no VPA support in the cluster', vpas: undefined, proposal: true },
    { name: 'an Off VPA next to an Auto one: the Auto one decides', vpas: [vpa({ mode: 'Off' }), vpa()], proposal: false, advice: 'caps memory at 512Mi' },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const d = diagnosed(c.pod ?? apiFixture('pod-oom'), c.vpas);
      expect(d.cause).toBe('limit-too-low');
      if (c.proposal) {
        expect(d.proposal?.target).toBe('limit');
        expect(d.noProposalReason).toBeUndefined();
      } else {
        expect(d.proposal).toBeUndefined();
        expect(d.noProposalReason).toContain('VPA api-vpa');
      }
      if (c.advice) expect(d.advice[0]).toContain(c.advice);
      else expect(d.advice.join(' ')).not.toContain('VPA');
      // Raising the template is not the advice while the VPA rewrites it.
      if (!c.proposal) expect(d.advice.join(' ')).not.toContain('Raise the memory limit');
      if (c.reason) expect(d.noProposalReason).toContain(c.reason);
    });
  }

  it('cites the VPA as evidence', () => {
    const d = diagnosed(apiFixture('pod-oom'), [vpa()]);
    expect(d.evidence).toContainEqual({ text: 'VerticalPodAutoscaler api-vpa targets the workload (updateMode Auto, maxAllowed memory 512Mi)', source: 'vpa' });
  });
});

describe('pod-level resources (spec.resources)', () => {
  it('a container without its own limit under a pod-level limit is not "no memory limit"; the proposal raises the pod-level limit', () => {
    const d = diagnosed(apiFixture('pod-oom-pod-level'), undefined);
    expect(d.cause).toBe('limit-too-low');
    expect(d.headline).toContain('1Gi');
    expect(d.headline).not.toContain('no memory limit');
    expect(d.raisingIsWrongFix).toBeUndefined();
    expect(d.evidence.map((e) => e.text)).toContain('Pod-level memory limit 1Gi (spec.resources), shared by all containers: the limit this kill hit');
    expect(d.evidence.map((e) => e.text).join(' ')).toContain('No memory limit of its own, request 256Mi');
    // The pod-level request (512Mi) is below the limit: it stays, and the note says so.
    expect(d.proposal).toMatchObject({
      target: 'limit',
      scope: 'pod',
      fromLimit: '1Gi',
      toLimit: '1280Mi',
      fromRequest: '512Mi',
      owner: { kind: 'Deployment', name: 'api' },
    });
    expect(d.proposal?.toRequest).toBeUndefined();
    expect(d.proposal?.requestNote).toContain('The pod-level request stays at 512Mi');
    expect(d.noProposalReason).toBeUndefined();
  });

  it('a pod-level request equal to the pod-level limit is raised with it', () => {
    const pod = apiFixture('pod-oom-pod-level');
    pod.spec.resources.requests.memory = '1Gi';
    const d = diagnosed(pod, undefined);
    expect(d.proposal).toMatchObject({ scope: 'pod', fromLimit: '1Gi', toLimit: '1280Mi', fromRequest: '1Gi', toRequest: '1280Mi' });
  });

  it('the pod-level proposal is capped like every proposal (OOMBOT_MAX_MEMORY_LIMIT)', () => {
    const capped = diagnose(enrichedOf(apiFixture('pod-oom-pod-level'), undefined), { maxMemoryLimitBytes: 1152 * 2 ** 20 });
    expect(capped.proposal).toMatchObject({ scope: 'pod', toLimit: '1152Mi', cappedBy: 'policy' });
    const atCap = diagnose(enrichedOf(apiFixture('pod-oom-pod-level'), undefined), { maxMemoryLimitBytes: 2 ** 30 });
    expect(atCap.proposal).toBeUndefined();
    expect(atCap.noProposalReason).toContain('No higher limit fits');
  });

  it('a container limit above the pod-level one: the pod-level limit is what was hit', () => {
    const pod = apiFixture('pod-oom-pod-level');
    pod.spec.containers[0].resources.limits = { memory: '2Gi' };
    const d = diagnosed(pod, undefined);
    expect(d.proposal).toMatchObject({ scope: 'pod', fromLimit: '1Gi' });
    expect(d.evidence.map((e) => e.text)).toContain('Memory limit 2Gi, request 256Mi (QoS Burstable)');
  });

  it('a tighter container limit is the one hit; the pod-level limit is shown as a fact', () => {
    const pod = apiFixture('pod-oom-pod-level');
    pod.spec.containers[0].resources.limits = { memory: '512Mi' };
    const d = diagnosed(pod, undefined);
    expect(d.proposal).toMatchObject({ target: 'limit', fromLimit: '512Mi' });
    expect(d.evidence.map((e) => e.text)).toContain('Pod-level memory limit 1Gi (spec.resources), shared by all containers');
  });

  it('a container without any limit, pod or own, is still "no memory limit"', () => {
    const pod = apiFixture('pod-oom-pod-level');
    delete pod.spec.resources;
    const d = diagnosed(pod, undefined);
    expect(d.cause).toBe('node-pressure');
    expect(d.headline).toContain('has no memory limit');
  });

  it('an active VPA comes before the pod-level limit', () => {
    const d = diagnosed(apiFixture('pod-oom-pod-level'), [vpa({ policies: null })]);
    expect(d.proposal).toBeUndefined();
    expect(d.noProposalReason).toContain('VPA api-vpa');
  });
});

describe('a memory eviction of a workload a VPA sizes', () => {
  const message = 'The node was low on resource: memory. Container api was using 2Gi, request is 1.5Gi, has larger consumption of memory.';
  const evicted = (mode: string): Diagnosis => {
    const e = createEnriched({ kind: 'evicted' }, { vpa: { name: 'api-vpa', mode } });
    delete e.incident.termination;
    e.incident.eviction = { containers: [], source: 'message', message };
    return diagnose(e, POLICY);
  };

  it('Auto: no request raise in the template, the reason names the VPA', () => {
    const d = evicted('Auto');
    expect(d.cause).toBe('eviction-memory');
    expect(d.proposal).toBeUndefined();
    expect(d.noProposalReason).toContain('VPA api-vpa (updateMode Auto)');
    expect(d.advice[0]).toContain("VPA api-vpa sets this workload's memory requests");
  });

  it('Off: decided as without a VPA', () => {
    const d = evicted('Off');
    expect(d.noProposalReason ?? '').not.toContain('VPA');
    expect(d.advice.join(' ')).not.toContain('VPA');
  });
});

describe('pod-level limits on the node', () => {
  it("count instead of the pod's containers in the node's sum of limits", () => {
    const pod = apiFixture('pod-oom-pod-level');
    const plain = apiFixture('pod-oom');
    const g: Gathered = {
      incident: incidentOf(pod),
      pod: pod as V1Pod,
      events: [],
      owners: OWNERS,
      node: { metadata: { name: 'worker-3' }, status: { allocatable: { memory: '16Gi' } } },
      nodePods: [pod as V1Pod, plain as V1Pod],
      nodes: [],
      metricsAvailable: true,
      limitRanges: [],
      apiCalls: 0,
      gaps: [],
    };
    const node = toEnriched(g, [], new Date('2026-11-23T10:16:00Z')).node;
    // 1Gi (pod-level) + 512Mi (container); requests 512Mi (pod-level) + 256Mi.
    expect(node).toMatchObject({ sumLimitsBytes: 1536 * 2 ** 20, sumRequestsBytes: 768 * 2 ** 20, podCount: 2 });
  });
});
