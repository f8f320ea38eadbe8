/**
 * The node agent in the chart (nodeAgent.enabled): a DaemonSet that fits the API schema, runs with least
 * privilege (read-only /dev/kmsg, CAP_SYSLOG and nothing more, no host network or PID, tight resources),
 * and whose RBAC is exactly the calls the node-agent role makes: it runs behind a proxy that records its
 * requests and refuses those its rendered bindings do not grant, while a kernel OOM kill is written into
 * its kernel log (a FIFO), in both RBAC modes (every namespace; some watched namespaces).
 */
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir, uptime } from 'node:os';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.js';
import { startOombot, type Oombot } from '../../bin/start.js';
import { connectRedis, createIncidentQueue } from '../../core/queue.js';
import { REDIS_URL, removeQueueData, uniqueQueueName } from '../helpers/redis.js';
import { captureLogger } from '../helpers/silent-logger.js';
import { startSimCluster } from '../helpers/watcher-harness.js';
import { authorizes, discoveryAllows, grantsTo, requestInfo, ruleResource, type Grant, type RequestInfo } from './authorize-request.js';
import { find, podSpecOf, readPlainManifests, renderChartObjects, type Json } from './deploy-files.js';
import { startRecordingProxy, type RecordingProxy } from './recording-proxy.js';
import { validateObject, validateTogether } from './validate-kube-object.js';

const allProblems = (docs: Json[]) => [...docs.flatMap(validateObject), ...validateTogether(docs)];
const ENABLED = { nodeAgent: { enabled: true } };

interface ContainerSpec {
  args?: string[];
  securityContext?: Json;
  env?: { name: string; value?: string; valueFrom?: Json }[];
  volumeMounts?: { name: string; mountPath: string; readOnly?: boolean }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
}

function agentOf(docs: Json[]): { pod: Json; container: ContainerSpec } {
  const pod = podSpecOf(find(docs, 'DaemonSet', 'oombot-node-agent')) as unknown as Json;
  return { pod, container: (pod.containers as ContainerSpec[])[0]! };
}

/** What a Role or ClusterRole grants, as `verb resource[.group]`. */
function granted(grants: Grant[]): string[] {
  return [
    ...new Set(
      grants
        .flatMap((g) => g.rules)
        .flatMap((rule) =>
          (rule.apiGroups ?? []).flatMap((g) => (rule.resources ?? []).flatMap((res) => rule.verbs.map((v) => `${v} ${res}${g ? `.${g}` : ''}`))),
        ),
    ),
  ].sort();
}

function describeInfo(info: RequestInfo): string {
  return info.isResource ? `${info.verb} ${ruleResource(info)}${info.apiGroup ? `.${info.apiGroup}` : ''}` : `${info.verb} ${info.path}`;
}

describe('the node agent in the chart', () => {
  it('is off by default: the default render has no node agent', () => {
    const names = readPlainManifests().map((d) => `${String(d.kind)}/${String((d.metadata as Json).name)}`);
    expect(names.filter((n) => n.includes('node-agent'))).toEqual([]);
  });

  it.each([
    ['nodeAgent.enabled', ENABLED],
    ['nodeAgent.enabled and privileged', { nodeAgent: { enabled: true, privileged: true } }],
    ['nodeAgent.enabled, watching two namespaces', { nodeAgent: { enabled: true }, config: { watchNamespaces: 'shop,payments' } }],
  ])('rendered with %s, fits the API schema', (_name, values) => {
    const docs = renderChartObjects(values);
    expect(allProblems(docs)).toEqual([]);
    // The API server refuses a privileged container that forbids privilege escalation.
    const sc = agentOf(docs).container.securityContext ?? {};
    expect(sc.privileged === true && sc.allowPrivilegeEscalation === false).toBe(false);
  });

  it('the schema check reads the DaemonSet: a misspelled field is caught', () => {
    const docs = renderChartObjects(ENABLED);
    const { pod } = agentOf(docs);
    pod.hostNetwrok = false;
    expect(allProblems(docs).join('\n')).toMatch(/DaemonSet\/oombot-node-agent: .*hostNetwrok/);
  });

  it('runs one pod per node with least privilege: /dev/kmsg read-only, CAP_SYSLOG only, no host namespaces, tight resources', () => {
    const docs = renderChartObjects(ENABLED);
    const { pod, container } = agentOf(docs);
    expect(container.args).toEqual(['start', '--roles', 'node-agent']);
    expect(pod.serviceAccountName).toBe('oombot-node-agent');
    expect([pod.hostNetwork, pod.hostPID, pod.hostIPC]).toEqual([false, false, false]);
    expect(container.securityContext).toEqual({
      readOnlyRootFilesystem: true,
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'], add: ['SYSLOG'] },
    });
    const volumes = pod.volumes as { name: string; hostPath?: Json }[];
    // The only host path is the kernel log device, mounted read-only.
    expect(volumes.filter((v) => v.hostPath)).toEqual([{ name: 'kmsg', hostPath: { path: '/dev/kmsg', type: 'CharDevice' } }]);
    expect(container.volumeMounts).toContainEqual({ name: 'kmsg', mountPath: '/dev/kmsg', readOnly: true });
    // Its node from the downward API, its kernel log, and no Slack token or proposal key.
    const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value ?? e.valueFrom]));
    expect(env.NODE_NAME).toEqual({ fieldRef: { fieldPath: 'spec.nodeName' } });
    expect(env.OOMBOT_KMSG).toBe('/dev/kmsg');
    expect(Object.keys(env).filter((n) => ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'SLACK_APP_TOKEN', 'OOMBOT_PROPOSAL_KEY'].includes(n))).toEqual([]);
    expect(container.resources).toEqual({ requests: { cpu: '10m', memory: '192Mi' }, limits: { memory: '256Mi' } });
    // It reaches the bundled Redis through its NetworkPolicy.
    const policy = find(docs, 'NetworkPolicy', 'oombot-redis').spec as {
      ingress: { from: { podSelector: { matchExpressions: { key: string; values: string[] }[] } }[] }[];
    };
    const components = policy.ingress[0]!.from[0]!.podSelector.matchExpressions.find((e) => e.key === 'app.kubernetes.io/component')!.values;
    expect(components).toContain('node-agent');
    // Its ServiceAccount may only list and watch pods.
    expect(granted(grantsTo(docs, { namespace: 'oombot', name: 'oombot-node-agent' }))).toEqual(['list pods', 'watch pods']);
  });
});

const MODES = [
  { name: 'every namespace', watchNamespaces: '' },
  { name: 'shop,payments', watchNamespaces: 'shop,payments' },
];

describe.each(MODES)('the node agent role and its RBAC, watching $name', (mode) => {
  let proxy: RecordingProxy;
  let app: Oombot;
  let grants: Grant[];
  let queueName: string;
  let closeSim: () => Promise<void>;
  let dir: string;
  let queued: string[] = [];

  beforeAll(async () => {
    const sim = await startSimCluster({ replicas: 2 });
    closeSim = () => sim.server.close();
    const docs = renderChartObjects({ nodeAgent: { enabled: true }, config: { watchNamespaces: mode.watchNamespaces } });
    grants = grantsTo(docs, { namespace: 'oombot', name: 'oombot-node-agent' });
    proxy = await startRecordingProxy(sim.server.url, { authorize: (q) => discoveryAllows(requestInfo(q)) || authorizes(grants, requestInfo(q)) });
    queueName = uniqueQueueName('agent-rbac');
    dir = mkdtempSync(join(tmpdir(), 'oombot-kmsg-'));
    const fifo = join(dir, 'kmsg');
    execFileSync('mkfifo', [fifo]);
    const config = loadConfig({
      REDIS_URL,
      OOMBOT_QUEUE: queueName,
      PORT: '0',
      NODE_NAME: 'node-a',
      OOMBOT_KMSG: fifo,
      OOMBOT_BOOT_ID: randomUUID(),
      WATCH_NAMESPACES: mode.watchNamespaces,
    });
    app = await startOombot({ config, roles: ['node-agent'], log: captureLogger('info').log, kubeTarget: proxy.target, host: '127.0.0.1' });
    const deadline = Date.now() + 10_000;
    while (!(await app.http.readiness()).ok && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const pod = sim.cluster.list('pods', 'shop').find((p) => p.spec.nodeName === 'node-a')!;
    const cid = String(pod.status.containerStatuses[0].containerID).replace('containerd://', '');
    const cgroup = `/kubepods/burstable/pod${pod.metadata.uid}/${cid}`;
    const t = Math.round(uptime() * 1e6);
    const writer = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    writeSync(
      writer,
      [
        `6,10,${t},-;oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=${cid},mems_allowed=0,oom_memcg=${cgroup},task_memcg=${cgroup},task=gunicorn,pid=4321,uid=1000`,
        `3,11,${t + 50},-;Memory cgroup out of memory: Killed process 4321 (gunicorn) total-vm:395060kB, anon-rss:261120kB, file-rss:5024kB, shmem-rss:0kB, UID:1000 pgtables:592kB oom_score_adj:994`,
        '',
      ].join('\n'),
    );
    closeSync(writer);
    const redis = connectRedis(REDIS_URL);
    const queue = createIncidentQueue(redis, queueName);
    const until = Date.now() + 10_000;
    while (queued.length === 0 && Date.now() < until) {
      queued = (await queue.getJobs(['waiting'])).map(
        (j) => `${j.data.kind} ${j.data.pod?.namespace}/${j.data.processOom?.container}/${j.data.processOom?.process}`,
      );
      await new Promise((r) => setTimeout(r, 50));
    }
    await queue.close();
    redis.disconnect();
  }, 60_000);

  afterAll(async () => {
    await app?.stop();
    await proxy?.close();
    await closeSim?.();
    await removeQueueData(queueName);
    rmSync(dir, { recursive: true, force: true });
  });

  it('queued the kill it read in the kernel log', () => {
    expect(queued).toEqual(['process-oom shop/api/gunicorn']);
  });

  it('every call it made is allowed by what its ServiceAccount is granted', () => {
    expect(proxy.requests.filter((q) => q.forbidden).map((q) => `${q.method} ${q.path}`)).toEqual([]);
    // Only the pods on its own node.
    const pods = proxy.requests.filter((q) => q.path.endsWith('/pods'));
    expect(pods.length).toBeGreaterThan(0);
    for (const q of pods) expect(q.query.fieldSelector).toBe('spec.nodeName=node-a');
  });

  it('every permission granted is used', () => {
    const used = new Set(
      proxy.requests
        .filter((q) => !q.forbidden)
        .map(requestInfo)
        .filter((i) => i.isResource)
        .map(describeInfo),
    );
    expect(granted(grants).filter((g) => !used.has(g))).toEqual([]);
  });
});
