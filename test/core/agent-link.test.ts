/**
 * The hub's RemoteKube against a cluster's agent over a real Redis, the agent against the simulated API
 * server: every call answers what the local client answers, every error is the one the local client
 * throws, and an agent that is away, unknown or restarting gives a clear answer instead of a hang.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  AGENT_PROTOCOL_VERSION,
  AgentClusters,
  AgentLink,
  agentQueue,
  agentsKey,
  readAgentRecords,
  requestMac,
  type AgentRequest,
} from '../../core/agent-link.js';
import { connectRedis } from '../../core/queue.js';
import { KubeHttp, loadKubeTarget } from '../../core/kube.js';
import type { KubeApi } from '../../core/kube-api.js';
import { sampleProposal } from '../helpers/proposals.js';
import { waitFor } from '../helpers/sim-kube.js';
import { PROPOSAL_KEY, startAgentWorld, thrown, type AgentWorld } from '../agent/agent-harness.js';

const STRATEGIC = 'application/strategic-merge-patch+json';
const DEPLOYMENT = '/apis/apps/v1/namespaces/shop/deployments/api';

let w: AgentWorld;
let remote: KubeApi;

beforeEach(async () => {
  w = await startAgentWorld();
  await w.startAgent();
  remote = w.hub.kube('beta');
});
afterEach(async () => {
  await w.close();
});

async function claimedProposal() {
  const stored = await w.proposals.create({ incidentId: 'i-1', cluster: 'beta', proposal: sampleProposal() });
  const claim = (await w.proposals.claim(stored.id, 'U0APPROVER'))!;
  return { id: stored.id, claim: claim.token };
}

const raiseBody = (resourceVersion?: string) => ({
  spec: { template: { spec: { containers: [{ name: 'api', resources: { limits: { memory: '640Mi' } } }] } } },
  ...(resourceVersion ? { metadata: { resourceVersion } } : {}),
});

function podNames(list: unknown): string[] {
  return ((list as { items?: { metadata: { name: string } }[] }).items ?? []).map((p) => p.metadata.name).sort();
}

describe('RemoteKube through an agent', () => {
  it('answers every read exactly as the local client does', async () => {
    const pods = '/api/v1/namespaces/shop/pods';
    expect(await remote.getJson(pods)).toEqual(await w.local.getJson(pods));
    expect(podNames(await remote.getJson(pods))).toHaveLength(3);
    const selected = await remote.getJson(pods, { labelSelector: 'app=api' });
    expect(podNames(selected)).toEqual(podNames(await w.local.getJson(pods, { labelSelector: 'app=api' })));
    expect(await remote.getJson('/api/v1/nodes')).toEqual(await w.local.getJson('/api/v1/nodes'));
    expect(await remote.getJson('/version')).toEqual(await w.local.getJson('/version'));

    const meta = await remote.getMetadata<{ kind: string; metadata: { name: string } }>(DEPLOYMENT);
    expect(meta).toEqual(await w.local.getMetadata(DEPLOYMENT));
    expect(meta.metadata.name).toBe('api');

    const pod = podNames(await w.local.getJson(pods))[0]!;
    w.cluster.setLogs('shop', pod, 'api', { current: 'starting\nout of memory\n' });
    const logPath = `${pods}/${pod}/log`;
    expect(await remote.getText(logPath, { container: 'api' })).toBe('starting\nout of memory\n');
    expect(await remote.getText(logPath, { container: 'api' })).toBe(await w.local.getText(logPath, { container: 'api' }));
  });

  it('pages through a collection with listPage, eachListItem and listPages', async () => {
    const pods = '/api/v1/namespaces/shop/pods';
    const first: string[] = [];
    const page = await remote.listPage<{ metadata: { name: string } }>(pods, {}, (p) => first.push(p.metadata.name), 2);
    expect(first).toHaveLength(2);
    expect(page.continue).toBeTruthy();

    const all: string[] = [];
    await remote.eachListItem<{ metadata: { name: string } }>(pods, {}, (p) => all.push(p.metadata.name), 1);
    expect(all.sort()).toEqual(podNames(await w.local.getJson(pods)));

    const sizes: number[] = [];
    for await (const items of remote.listPages(pods, {}, 1)) sizes.push(items.length);
    expect(sizes).toEqual([1, 1, 1]);
    // Answers travel in the queue's events stream too: it is kept short.
    expect(await w.redis.hget(`oombot:${w.queueName}-agent-beta:meta`, 'opts.maxLenEvents')).toBe('500');
    expect(await w.redis.xlen(`oombot:${w.queueName}-agent-beta:events`)).toBeLessThanOrEqual(600);
    // One request per page: three pages of one pod, the continue tokens carried over.
    expect(w.server.requests({ path: pods }).filter((r) => r.query.limit === '1').length).toBe(6);
  });

  it('sends an approved write and returns what the API server answered', async () => {
    const proposal = await claimedProposal();
    const dry = await remote.send<{ spec: unknown }>('PATCH', DEPLOYMENT, raiseBody(), {
      contentType: STRATEGIC,
      query: { dryRun: 'All', fieldManager: 'oombot' },
      proposal,
    });
    expect(JSON.stringify(dry.spec)).toContain('640Mi');
    const live = await w.local.getJson<{ spec: unknown }>(DEPLOYMENT);
    expect(JSON.stringify(live.spec)).toContain('512Mi');
    await remote.send('PATCH', DEPLOYMENT, raiseBody(), { contentType: STRATEGIC, query: { fieldManager: 'oombot' }, proposal });
    expect(JSON.stringify((await w.local.getJson<{ spec: unknown }>(DEPLOYMENT)).spec)).toContain('640Mi');
  });
});

describe('errors through an agent', () => {
  it('are the errors the local client throws: 404, 409, 403, 422, 410', async () => {
    // 404
    const missing = '/api/v1/namespaces/shop/pods/nope';
    const local404 = await thrown(w.local.getJson(missing));
    expect(local404.code).toBe('KUBE_NOT_FOUND');
    expect(await thrown(remote.getJson(missing))).toEqual(local404);

    // 409: a patch with a resourceVersion the object has moved past.
    const proposal = await claimedProposal();
    const stale = raiseBody('1');
    const opts = { contentType: STRATEGIC, query: { fieldManager: 'oombot' } };
    const local409 = await thrown(w.local.send('PATCH', DEPLOYMENT, stale, opts));
    expect(local409).toMatchObject({ code: 'KUBE_CONFLICT', status: 409 });
    expect(await thrown(remote.send('PATCH', DEPLOYMENT, stale, { ...opts, proposal }))).toEqual(local409);

    // 403, 422 (a dry run refused by admission), 410 (an expired continue), as the API server says them.
    for (const [status, call] of [
      [403, (k: KubeApi) => k.getJson('/api/v1/nodes')],
      [422, (k: KubeApi) => k.send('PATCH', DEPLOYMENT, raiseBody(), { ...opts, query: { dryRun: 'All', fieldManager: 'oombot' }, proposal })],
      [410, (k: KubeApi) => k.listPage('/api/v1/namespaces/shop/pods', { continue: 'x' }, () => undefined, 1)],
    ] as const) {
      w.server.intercept(
        () => true,
        () => ({ status, message: `refused with ${status}` }),
        2,
      );
      const local = await thrown(call(w.local));
      expect(local.status).toBe(status);
      expect(await thrown(call(remote))).toEqual(local);
    }
  });

  it('a slow API server: the hub gives up at its time limit with a retryable error naming the agent', async () => {
    await w.close();
    w = await startAgentWorld({ hubTimeoutMs: 500 });
    await w.startAgent();
    w.server.latencyMs = 1_500;
    const slowLocal = new KubeHttp(
      loadKubeTarget({ kubeconfig: w.server.writeKubeconfig(`${process.env.TMPDIR ?? '/tmp'}/agent-slow-${Date.now()}`), clusterName: 'beta' }),
      {
        timeoutMs: 500,
      },
    );
    try {
      const local = await thrown(slowLocal.getJson('/api/v1/nodes'));
      const started = Date.now();
      const e = await thrown(w.hub.kube('beta').getJson('/api/v1/nodes'));
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(e).toMatchObject({ code: local.code, retryable: local.retryable });
      expect(e.message).toBe("cluster beta's API server did not answer GET /api/v1/nodes within 0.5 s (through its agent)");
      expect(e.hint).toBe(local.hint);
    } finally {
      await slowLocal.close();
    }
  });
});

describe('an agent away, unknown or restarting', () => {
  it('a cluster no agent ever announced: UNKNOWN_CLUSTER at once, naming the known ones', async () => {
    const e = await thrown(w.hub.kube('gamma').getJson('/api/v1/nodes'));
    expect(e).toMatchObject({ code: 'UNKNOWN_CLUSTER', message: 'no cluster named "gamma" is connected (known: beta)' });
    expect(e.hint).toContain('--roles agent');
  });

  it('an agent whose heartbeat is old: AGENT_AWAY saying when it was last seen, and nothing queued', async () => {
    await w.stopAgent();
    const [record] = (await readAgentRecords(w.redis, w.queueName)).values();
    await w.redis.hset(agentsKey(w.queueName), 'beta', JSON.stringify({ ...record, lastSeen: Date.now() - 3 * 60_000 }));
    const e = await thrown(w.hub.kube('beta').getJson('/api/v1/nodes'));
    expect(e).toMatchObject({ code: 'AGENT_AWAY', retryable: true, message: "cluster beta's agent was last seen 3 min ago" });
    const queue = agentQueue(w.redis, w.queueName, 'beta');
    expect(await queue.count()).toBe(0);
    await queue.close();
    const listed = await w.hub.list();
    expect(listed).toEqual([expect.objectContaining({ name: 'beta', via: 'agent', away: true, version: expect.any(String), kubernetesVersion: 'v1.35.0' })]);
  });

  it('an agent that stops mid-request and comes back: the hub is told, and the request never runs late', async () => {
    await w.close();
    w = await startAgentWorld({ hubTimeoutMs: 700 });
    await w.startAgent();
    await w.stopAgent();
    // Its heartbeat is still fresh: the hub sends, and waits its time limit for an answer.
    const path = '/api/v1/namespaces/shop/pods/restart-probe';
    const e = await thrown(w.hub.kube('beta').getJson(path));
    expect(e).toMatchObject({ code: 'KUBE_UNREACHABLE', retryable: true });
    expect(e.message).toMatch(/^cluster beta's agent \(last seen \d+ s ago\) did not answer GET .*restart-probe within 0\.7 s$/);
    await w.startAgent();
    expect(podNames(await w.hub.kube('beta').getJson('/api/v1/namespaces/shop/pods'))).toHaveLength(3);
    await new Promise((r) => setTimeout(r, 300));
    expect(w.server.requestCount({ path })).toBe(0);
  });

  it("the caller's signal ends the wait at once, and the request is taken back", async () => {
    await w.stopAgent();
    const controller = new AbortController();
    const started = Date.now();
    const call = thrown(w.hub.kube('beta').getJson('/api/v1/nodes', undefined, controller.signal));
    setTimeout(() => controller.abort(), 200);
    expect((await call).name).toBe('AbortError');
    expect(Date.now() - started).toBeLessThan(1_500);
    const queue = agentQueue(w.redis, w.queueName, 'beta');
    await expect.poll(() => queue.count()).toBe(0);
    await queue.close();
    await w.startAgent();
    await new Promise((r) => setTimeout(r, 300));
    expect(w.server.requestCount({ path: '/api/v1/nodes' })).toBe(0);
  });

  it('a Redis that does not answer: the hub gives up at its time limit, naming Redis', async () => {
    const dead = connectRedis('redis://127.0.0.1:1');
    dead.on('error', () => undefined);
    const hub = new AgentClusters(new AgentLink(dead, w.queueName), undefined, { timeoutMs: 300 });
    try {
      const started = Date.now();
      const e = await thrown(hub.kube('beta').getJson('/api/v1/nodes'));
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(e).toMatchObject({ code: 'REDIS_UNREACHABLE', retryable: true, message: expect.stringContaining("cannot read the agents' registry in Redis") });
    } finally {
      await hub.close();
      dead.disconnect();
    }
  });

  it('a request past its deadline is not executed, even a write', async () => {
    await w.stopAgent();
    const proposal = await claimedProposal();
    const queue = agentQueue(w.redis, w.queueName, 'beta');
    const late: AgentRequest = {
      v: AGENT_PROTOCOL_VERSION,
      op: 'send',
      method: 'PATCH',
      path: DEPLOYMENT,
      body: raiseBody(),
      contentType: STRATEGIC,
      proposal,
      deadline: Date.now() - 1,
    };
    late.mac = requestMac(PROPOSAL_KEY, 'beta', late);
    const job = await queue.add('send', late);
    await w.startAgent();
    await waitFor(() => w.agent!.stats.late === 1, 5_000, 'the late request taken');
    await expect.poll(async () => (await queue.getJob(job.id!))?.returnvalue).toBeTruthy();
    const answer = (await queue.getJob(job.id!))?.returnvalue;
    expect(answer).toMatchObject({ ok: false, error: { code: 'KUBE_UNREACHABLE', message: expect.stringContaining('after its deadline: not executed') } });
    expect(w.server.requestCount({ method: 'PATCH' })).toBe(0);
    await queue.close();
  });
});
