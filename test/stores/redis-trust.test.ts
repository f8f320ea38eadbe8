/**
 * Redis is a trust boundary: a proposal that oombot did not write (or that was altered) is never applied,
 * and records of the wrong shape (proposals, history, snoozes, queued jobs) are refused, not half-used.
 */
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ACTION_RAISE_LIMIT } from '../../alert/action-ids.js';
import { KEY_PREFIX } from '../../core/queue.js';
import { processIncident } from '../../handlers/process-incident.js';
import { IncidentHistory } from '../../stores/incident-history.js';
import { ProposalStore } from '../../stores/proposal-store.js';
import { open, seal } from '../../stores/sealed.js';
import { SnoozeStore } from '../../stores/snooze-store.js';
import { APPROVER, startBotHarness, type BotHarness } from '../bot/bot-harness.js';
import { sampleProposal } from '../helpers/proposals.js';
import { REDIS_URL, removeQueueData, uniqueQueueName } from '../helpers/redis.js';
import { captureLogger } from '../helpers/silent-logger.js';

const KEY = 'k'.repeat(40);
const ID = 'p_AAAAAAAAAAAAAAAAAAAAAA';

describe('stored proposals', () => {
  let redis: Redis;
  const queue = uniqueQueueName('trust');
  const logs = captureLogger();
  let store: ProposalStore;
  beforeAll(() => {
    redis = new Redis(REDIS_URL);
    store = new ProposalStore(redis, queue, undefined, { key: KEY, log: logs.log });
  });
  afterAll(async () => {
    await removeQueueData(queue);
    redis.disconnect();
  });
  const put = (raw: string) => redis.set(`${KEY_PREFIX}:${queue}:proposal:${ID}`, raw, 'PX', 60_000);
  const record = (over: Record<string, unknown> = {}) => ({
    id: ID,
    incidentId: 'i1',
    cluster: 'sim',
    proposal: sampleProposal(),
    createdAt: new Date().toISOString(),
    expiresAt: new Date(Date.now() + 3600_000).toISOString(),
    ...over,
  });

  it('round-trip: what the store wrote, it reads', async () => {
    const created = await store.create({ incidentId: 'i1', cluster: 'sim', proposal: sampleProposal() });
    expect(await store.get(created.id)).toEqual(created);
  });

  it('refuses plain JSON written into Redis, and one sealed with another key', async () => {
    await put(JSON.stringify(record()));
    expect(await store.get(ID)).toBeUndefined();
    await put(seal('another-key-another-key-another-key!', record()));
    expect(await store.get(ID)).toBeUndefined();
    expect(logs.lines().filter((l) => l.msg === String(l.msg) && String(l.msg).startsWith('stored proposal refused')).length).toBe(2);
  });

  it('refuses a sealed record whose JSON was altered (another workload, a bigger value)', async () => {
    const sealed = seal(KEY, record());
    await put(sealed.replace('"toLimit":"640Mi"', '"toLimit":"64Gi"').replace('"name":"api"', '"name":"payments"'));
    expect(await store.get(ID)).toBeUndefined();
    expect(open(KEY, sealed).ok).toBe(true);
  });

  it('refuses a correctly sealed record of the wrong shape (names that are not Kubernetes names, odd values)', async () => {
    for (const bad of [
      record({ proposal: sampleProposal({ owner: { kind: 'Deployment', name: '../../secrets', namespace: 'shop' } }) }),
      record({ proposal: { ...sampleProposal(), toLimit: '1Gi; rm -rf' } }),
      record({ id: 'p_BBBBBBBBBBBBBBBBBBBBBB' }),
    ]) {
      await put(seal(KEY, bad));
      expect(await store.get(ID)).toBeUndefined();
    }
  });
});

describe('an approver clicking a proposal planted in Redis', () => {
  let h: BotHarness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('is told it is unknown, and nothing is patched', async () => {
    h = await startBotHarness();
    const planted = {
      id: ID,
      incidentId: 'i1',
      cluster: 'sim',
      proposal: sampleProposal({ toLimit: '64Gi', toLimitBytes: 64 * 2 ** 30 }),
      createdAt: new Date().toISOString(),
      expiresAt: new Date(Date.now() + 3600_000).toISOString(),
    };
    await h.app.redis.set(`${KEY_PREFIX}:${h.queueName}:proposal:${ID}`, JSON.stringify(planted), 'PX', 60_000);
    const answer = await h.answer(await h.click(ACTION_RAISE_LIMIT, ID, { user: APPROVER }));
    expect(answer).toContain('expired (proposals last 24 hours) or is unknown');
    expect(h.patches()).toEqual([]);
    expect(h.logs.lines().some((l) => String(l.msg).startsWith('stored proposal refused'))).toBe(true);
  });
});

describe('other records read from Redis', () => {
  let redis: Redis;
  const queue = uniqueQueueName('trust-records');
  beforeAll(() => {
    redis = new Redis(REDIS_URL);
  });
  afterAll(async () => {
    await removeQueueData(queue);
    redis.disconnect();
  });

  it('a history record of the wrong shape is skipped; a snooze of the wrong shape mutes nothing', async () => {
    const history = new IncidentHistory(redis, queue, 3600_000);
    await history.add({
      id: 'good',
      kind: 'container-oom',
      cluster: 'sim',
      namespace: 'shop',
      pod: 'api-1',
      workload: 'Deployment/api',
      occurredAt: new Date().toISOString(),
    });
    await redis.set(`${KEY_PREFIX}:${queue}:history:bad`, JSON.stringify({ id: 'bad', occurredAt: 'yesterday', alert: { channel: 42 } }));
    expect(await history.get('good')).toMatchObject({ id: 'good' });
    const keys = await redis.keys(`${KEY_PREFIX}:${queue}:*`);
    const recordKey = keys.find((k) => k.endsWith(':good') || k.includes('good'));
    expect(recordKey).toBeDefined();
    await redis.set(recordKey!, JSON.stringify({ id: 'good', occurredAt: 'not a time' }));
    expect(await history.get('good')).toBeUndefined();

    const snoozes = new SnoozeStore(redis, queue);
    await redis.set(`${KEY_PREFIX}:${queue}:snooze:sim/shop/Deployment/api`, JSON.stringify({ until: { $gt: 0 } }), 'PX', 60_000);
    expect(await snoozes.until('sim/shop/Deployment/api')).toBeUndefined();
  });

  it('a queued job that is not an incident is refused for good (no retry), before any read', async () => {
    const job = {
      v: 1,
      id: 'x',
      kind: 'container-oom',
      cluster: 'sim',
      occurredAt: 'now',
      detectedAt: 'now',
      pod: { namespace: { $ne: '' }, name: 'p', uid: '' },
    };
    await expect(processIncident(job as never, {} as never)).rejects.toMatchObject({ retryable: false, message: expect.stringContaining('job refused') });
  });
});
