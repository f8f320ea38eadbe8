/**
 * What a cluster's agent refuses: every write that is not a sealed proposal of its cluster, claimed by
 * this very request, on the proposal's own object, changing only its memory; every read outside its
 * namespaces or outside what oombot reads. Each refusal says why, is logged, and nothing reaches the API
 * server.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { QueueEvents } from 'bullmq';
import { AGENT_PROTOCOL_VERSION, agentQueue, agentQueueName, requestMac, type AgentRequest } from '../../core/agent-link.js';
import type { KubeApi, SendOptions } from '../../core/kube-api.js';
import { KEY_PREFIX } from '../../core/queue.js';
import { seal } from '../../stores/sealed.js';
import { sampleProposal } from '../helpers/proposals.js';
import { PROPOSAL_KEY, startAgentWorld, thrown, type AgentWorld } from './agent-harness.js';

const STRATEGIC = 'application/strategic-merge-patch+json';
const DEPLOYMENT = '/apis/apps/v1/namespaces/shop/deployments/api';
const PATCH: SendOptions = { contentType: STRATEGIC, query: { fieldManager: 'oombot' } };

let w: AgentWorld;
let beta: KubeApi;

beforeEach(async () => {
  w = await startAgentWorld();
  beta = w.hub.kube('beta');
});
afterEach(async () => {
  await w.close();
});

const raise = (memory = '640Mi', extra: Record<string, unknown> = {}) => ({
  spec: { template: { spec: { containers: [{ name: 'api', resources: { limits: { memory } }, ...extra }] } } },
});

async function proposalFor(overrides: { cluster?: string; proposal?: Parameters<typeof sampleProposal>[0] } = {}) {
  const stored = await w.proposals.create({ incidentId: 'i-1', cluster: overrides.cluster ?? 'beta', proposal: sampleProposal(overrides.proposal) });
  const claim = (await w.proposals.claim(stored.id, 'U0APPROVER'))!;
  return { id: stored.id, claim: claim.token };
}

/** No write, dry run or not, reached the API server. */
function writesSeen(): number {
  return w.server.requests().filter((r) => r.method !== 'GET').length;
}

async function refusedWith(call: Promise<unknown>, why: RegExp): Promise<void> {
  const e = await thrown(call);
  expect(e.code).toBe('AGENT_REFUSED');
  expect(e.retryable).toBe(false);
  expect(e.message).toMatch(/^cluster beta's agent refused /);
  expect(e.message).toMatch(why);
}

describe('writes', () => {
  beforeEach(async () => {
    await w.startAgent();
  });

  it('an approved raise goes through; the same patch without its proposal, or with a forged or altered one, does not', async () => {
    await refusedWith(beta.send('PATCH', DEPLOYMENT, raise(), PATCH), /must carry the fix proposal/);
    await refusedWith(
      beta.send('PATCH', DEPLOYMENT, raise(), { ...PATCH, proposal: { id: 'p_AAAAAAAAAAAAAAAAAAAAAA', claim: 'x' } }),
      /unknown, expired, or not sealed/,
    );

    // Written into Redis by someone without the key.
    const forged = await proposalFor();
    const key = `${KEY_PREFIX}:${w.queueName}:proposal:${forged.id}`;
    const record = JSON.parse((await w.redis.get(key))!.split('.').slice(2).join('.')) as Record<string, unknown>;
    await w.redis.set(key, seal('another key of someone else, long enough to pass', record));
    await refusedWith(beta.send('PATCH', DEPLOYMENT, raise(), { ...PATCH, proposal: forged }), /unknown, expired, or not sealed/);
    // Altered in place: a bigger limit, the signature kept.
    const altered = await proposalFor();
    const akey = `${KEY_PREFIX}:${w.queueName}:proposal:${altered.id}`;
    await w.redis.set(akey, (await w.redis.get(akey))!.replace('"toLimit":"640Mi"', '"toLimit":"64Gi"'));
    await refusedWith(beta.send('PATCH', DEPLOYMENT, raise('64Gi'), { ...PATCH, proposal: altered }), /not sealed/);
    expect(writesSeen()).toBe(0);
    expect(w.agentLogs.lines().filter((l) => l.msg === 'request refused')).toHaveLength(4);
    expect(w.agentLogs.lines().some((l) => String(l.msg).includes('stored proposal refused'))).toBe(true);

    const ok = await proposalFor();
    await beta.send('PATCH', DEPLOYMENT, raise(), { ...PATCH, proposal: ok });
    expect(writesSeen()).toBe(1);
  });

  it('refuses a proposal not claimed by this request: unclaimed, claimed by another click, released', async () => {
    const stored = await w.proposals.create({ incidentId: 'i-1', cluster: 'beta', proposal: sampleProposal() });
    await refusedWith(
      beta.send('PATCH', DEPLOYMENT, raise(), { ...PATCH, proposal: { id: stored.id, claim: 'U0APPROVER guessed' } }),
      /not claimed by this request/,
    );
    const claim = (await w.proposals.claim(stored.id, 'U0OTHER'))!;
    await refusedWith(
      beta.send('PATCH', DEPLOYMENT, raise(), { ...PATCH, proposal: { id: stored.id, claim: `${claim.token}x` } }),
      /not claimed by this request/,
    );
    await w.proposals.release(claim);
    await refusedWith(beta.send('PATCH', DEPLOYMENT, raise(), { ...PATCH, proposal: { id: stored.id, claim: claim.token } }), /not claimed by this request/);
    expect(writesSeen()).toBe(0);
  });

  it("refuses another cluster's proposal, another object, another namespace, and a body that changes more than memory", async () => {
    await refusedWith(
      beta.send('PATCH', DEPLOYMENT, raise(), { ...PATCH, proposal: await proposalFor({ cluster: 'alpha' }) }),
      /its proposal is for cluster alpha/,
    );
    const p = await proposalFor();
    await refusedWith(
      beta.send('PATCH', '/apis/apps/v1/namespaces/shop/deployments/web', raise(), { ...PATCH, proposal: p }),
      /proposal is for Deployment shop\/api, not this object/,
    );
    await refusedWith(beta.send('PATCH', '/apis/apps/v1/namespaces/shop/statefulsets/api', raise(), { ...PATCH, proposal: p }), /not this object/);
    await refusedWith(
      beta.send('PATCH', '/apis/apps/v1/namespaces/payments/deployments/api', raise(), { ...PATCH, proposal: p }),
      /proposal is for namespace shop, not payments/,
    );
    for (const body of [
      raise('64Gi'),
      raise('640Mi', { image: 'evil:latest' }),
      raise('640Mi', { command: ['sh'] }),
      { spec: { template: { spec: { containers: [{ name: 'api', resources: { limits: { memory: '640Mi', cpu: '8' } } }] } } } },
      { spec: { template: { spec: { containers: [{ name: 'sidecar', resources: { limits: { memory: '640Mi' } } }] } } } },
      { ...raise(), spec: { ...raise().spec, replicas: 50 } },
      { ...raise(), metadata: { resourceVersion: '5', labels: { owned: 'yes' } } },
    ]) {
      await refusedWith(beta.send('PATCH', DEPLOYMENT, body, { ...PATCH, proposal: p }), /changes (more than container api's memory|metadata)/);
    }
    for (const method of ['PUT', 'DELETE'] as const) await refusedWith(beta.send(method, DEPLOYMENT, raise(), { ...PATCH, proposal: p }), /oombot never sends/);
    await refusedWith(beta.send('PATCH', DEPLOYMENT, raise(), { proposal: p }), /strategic merge patch/);
    await refusedWith(beta.send('POST', '/api/v1/namespaces/shop/secrets', {}, { proposal: p }), /creates only Events/);
    expect(writesSeen()).toBe(0);
    // The right body, with the precondition the bot sends, is carried out.
    const rv = (await w.local.getJson<{ metadata: { resourceVersion: string } }>(DEPLOYMENT)).metadata.resourceVersion;
    await beta.send('PATCH', DEPLOYMENT, { ...raise(), metadata: { resourceVersion: rv } }, { ...PATCH, proposal: p });
    expect(writesSeen()).toBe(1);
  });

  it("resizes only the proposal's own pods, and records Events only about its workload", async () => {
    const p = await proposalFor();
    const pods = await w.local.getJson<{ items: { metadata: { name: string } }[] }>('/api/v1/namespaces/shop/pods');
    const resize = { spec: { containers: [{ name: 'api', resources: { limits: { memory: '640Mi' } } }] } };
    const own = `/api/v1/namespaces/shop/pods/${pods.items[0]!.metadata.name}/resize`;
    w.cluster.createPod({ name: 'stranger', namespace: 'shop', memoryLimit: '512Mi' });
    await refusedWith(
      beta.send('PATCH', '/api/v1/namespaces/shop/pods/stranger/resize', resize, { ...PATCH, proposal: p }),
      /is not one of Deployment shop\/api's/,
    );
    await refusedWith(
      beta.send('PATCH', own, { spec: { containers: [{ name: 'api', resources: { limits: { memory: '640Mi', cpu: '4' } } }] } }, { ...PATCH, proposal: p }),
      /resize changes more than/,
    );
    await beta.send('PATCH', own, resize, { ...PATCH, proposal: p });

    const event = (name: string) => ({
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${name}.1`, namespace: 'shop' },
      involvedObject: { apiVersion: 'apps/v1', kind: 'Deployment', name, namespace: 'shop' },
      reason: 'OombotLimitRaised',
      message: 'Memory raised from Slack',
      type: 'Normal',
    });
    await refusedWith(beta.send('POST', '/api/v1/namespaces/shop/events', event('web'), { proposal: p }), /Event is not about Deployment shop\/api/);
    await beta.send('POST', '/api/v1/namespaces/shop/events', event('api'), { proposal: p });
    expect(w.server.requests().filter((r) => r.method !== 'GET')).toEqual([
      expect.objectContaining({ method: 'PATCH', path: own }),
      expect.objectContaining({ method: 'POST', path: '/api/v1/namespaces/shop/events' }),
    ]);
  });
});

describe('an agent limited to some namespaces', () => {
  beforeEach(async () => {
    w.cluster.addNamespace('kube-system');
    w.cluster.createPod({ name: 'dns', namespace: 'kube-system', memoryLimit: '170Mi' });
    await w.startAgent({ namespaces: ['shop'] });
  });

  it("reads only its namespaces and what oombot reads; a cluster-wide list keeps only its namespaces' items", async () => {
    await refusedWith(beta.getJson('/api/v1/namespaces/kube-system/pods'), /namespace kube-system is not one this agent watches \(WATCH_NAMESPACES: shop\)/);
    await refusedWith(beta.getText('/api/v1/namespaces/kube-system/pods/dns/log'), /not one this agent watches/);
    await refusedWith(beta.getJson('/api/v1/namespaces/shop/secrets'), /oombot does not read secrets/);
    await refusedWith(beta.getJson('/api/v1/namespaces/shop/configmaps/app'), /does not read configmaps/);
    await refusedWith(beta.getJson('/api/v1/secrets'), /does not read secrets/);
    await refusedWith(beta.getJson('/api/v1/namespaces/shop/pods/../../kube-system/pods'), /not a plain API path/);
    await refusedWith(beta.getJson('/api/v1/namespaces/shop/pods/%2e%2e'), /not a plain API path/);
    await refusedWith(beta.getJson('/api/v1/namespaces/shop/pods', { watch: true }), /query parameter "watch"/);
    await refusedWith(beta.getText('/api/v1/namespaces/shop/pods'), /only pod logs/);
    expect(w.server.requests().filter((r) => r.path.includes('kube-system') || r.path.includes('secrets'))).toEqual([]);

    const all = await beta.getJson<{ items: { metadata: { namespace: string } }[] }>('/api/v1/pods');
    expect(new Set(all.items.map((p) => p.metadata.namespace))).toEqual(new Set(['shop']));
    expect((await w.local.getJson<{ items: unknown[] }>('/api/v1/pods')).items.length).toBe(all.items.length + 1);
    const paged: string[] = [];
    await beta.eachListItem<{ metadata: { namespace: string } }>('/api/v1/pods', {}, (p) => paged.push(p.metadata.namespace), 2);
    expect(new Set(paged)).toEqual(new Set(['shop']));
    expect((await beta.getJson<{ items: unknown[] }>('/api/v1/nodes')).items.length).toBe(2);
  });

  it('refuses a write for a proposal in a namespace it does not watch', async () => {
    const p = await proposalFor({ proposal: { owner: { kind: 'Deployment', name: 'dns', namespace: 'kube-system' } } });
    await refusedWith(
      beta.send('PATCH', '/apis/apps/v1/namespaces/kube-system/deployments/dns', raise(), { ...PATCH, proposal: p }),
      /namespace kube-system is not one this agent watches/,
    );
    expect(writesSeen()).toBe(0);
  });
});

describe('requests not sent by the hub', () => {
  it('are refused unless signed with the shared key for this cluster: a Redis writer cannot read through the agent', async () => {
    await w.startAgent();
    const queue = agentQueue(w.redis, w.queueName, 'beta');
    const events = new QueueEvents(agentQueueName(w.queueName, 'beta'), { connection: w.redis, prefix: KEY_PREFIX });
    try {
      await events.waitUntilReady();
      const read: AgentRequest = { v: AGENT_PROTOCOL_VERSION, op: 'getText', path: '/api/v1/namespaces/shop/pods/x/log', deadline: Date.now() + 5_000 };
      const forAlpha = { ...read, mac: requestMac(PROPOSAL_KEY, 'alpha', read) };
      const otherKey = { ...read, mac: requestMac('someone else entirely, long enough to be a key', 'beta', read) };
      const widened = { ...read, mac: requestMac(PROPOSAL_KEY, 'beta', read), path: '/api/v1/namespaces/shop/pods/y/log' };
      for (const data of [read, forAlpha, otherKey, widened]) {
        const answer = await (await queue.add('getText', data)).waitUntilFinished(events, 5_000);
        expect(answer).toMatchObject({
          ok: false,
          error: { code: 'AGENT_REFUSED', message: expect.stringContaining('not signed with the OOMBOT_PROPOSAL_KEY') },
        });
      }
      expect(w.server.requests().filter((r) => r.path.endsWith('/log'))).toEqual([]);
      // Signed by the hub: served.
      const signed = { ...read, mac: requestMac(PROPOSAL_KEY, 'beta', read) };
      const answer = await (await queue.add('getText', signed)).waitUntilFinished(events, 5_000);
      expect(answer).toMatchObject({ ok: false, error: { code: 'KUBE_NOT_FOUND' } });
      expect(w.server.requests().filter((r) => r.path.endsWith('/log'))).toHaveLength(1);
    } finally {
      await events.close();
      await queue.close();
    }
  });
});

it('an agent without OOMBOT_PROPOSAL_KEY refuses every write and says so at start', async () => {
  await w.startAgent({ proposalKey: null });
  expect((await beta.getJson<{ items: unknown[] }>('/api/v1/nodes')).items).toHaveLength(2);
  expect(w.agentLogs.lines().some((l) => String(l.msg).startsWith('OOMBOT_PROPOSAL_KEY is not set: this agent refuses every write'))).toBe(true);
  const e = await thrown(beta.send('PATCH', DEPLOYMENT, raise(), { ...PATCH, proposal: await proposalFor() }));
  expect(e).toMatchObject({ code: 'AGENT_REFUSED', hint: 'set the same OOMBOT_PROPOSAL_KEY on the agent as on the hub' });
  expect(writesSeen()).toBe(0);
});
