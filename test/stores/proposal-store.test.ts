import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { ProposalStore } from '../../stores/proposal-store.js';
import { sampleProposal } from '../helpers/proposals.js';
import { REDIS_URL, removeQueueData, uniqueQueueName } from '../helpers/redis.js';

const proposal = sampleProposal();

describe('ProposalStore', () => {
  const redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  let queueName = uniqueQueueName('proposals');
  afterEach(async () => {
    await removeQueueData(queueName);
    queueName = uniqueQueueName('proposals');
  });
  afterAll(() => redis.disconnect());

  it('ids are unguessable tokens; anything else is not looked up', async () => {
    const store = new ProposalStore(redis, queueName);
    const a = await store.create({ incidentId: 'inc-1', cluster: 'sim', proposal });
    const b = await store.create({ incidentId: 'inc-1', cluster: 'sim', proposal });
    expect(a.id).toMatch(/^p_[A-Za-z0-9_-]{22}$/);
    expect(a.id).not.toBe(b.id);
    expect(ProposalStore.isId('{"toLimit":"64Gi"}')).toBe(false);
    expect(await store.get('p_../../etc')).toBeUndefined();
    expect((await store.get(a.id))?.proposal).toEqual(proposal);
  });

  it('an incident gets one proposal however often its job runs, a new one only after the first expired', async () => {
    const store = new ProposalStore(redis, queueName, 300);
    const first = await store.createForIncident({ incidentId: 'inc-9', cluster: 'sim', proposal });
    const again = await Promise.all([1, 2, 3].map(() => store.createForIncident({ incidentId: 'inc-9', cluster: 'sim', proposal })));
    expect(again.map((p) => p.id)).toEqual([first.id, first.id, first.id]);
    expect((await redis.keys(`oombot:${queueName}:proposal:p_*`)).filter((k) => !k.endsWith(':claimed'))).toHaveLength(1);
    const other = await store.createForIncident({ incidentId: 'inc-10', cluster: 'sim', proposal });
    expect(other.id).not.toBe(first.id);
    await new Promise((r) => setTimeout(r, 400));
    const later = await store.createForIncident({ incidentId: 'inc-9', cluster: 'sim', proposal });
    expect(later.id).not.toBe(first.id);
    expect(await store.get(later.id)).toBeDefined();
  });

  it('a proposal is claimed once; a released claim can be taken again, a stale token releases nothing', async () => {
    const store = new ProposalStore(redis, queueName);
    const { id } = await store.create({ incidentId: 'inc-1', cluster: 'sim', proposal });
    const [first, second] = await Promise.all([store.claim(id, 'U1'), store.claim(id, 'U1')]);
    const claim = first ?? second;
    expect([first, second].filter(Boolean)).toHaveLength(1);
    expect(await store.claimedBy(id)).toBe('U1');
    expect(await store.release({ id, token: 'U1 forged' })).toBe(false);
    expect(await store.claim(id, 'U2')).toBeUndefined();
    expect(await store.release(claim!)).toBe(true);
    expect(await store.release(claim!)).toBe(false);
    const again = await store.claim(id, 'U2');
    expect(again?.stored.id).toBe(id);
    // The first claimer's late release does not free the second claim.
    expect(await store.release(claim!)).toBe(false);
    expect(await store.claimedBy(id)).toBe('U2');
  });

  it('an expired proposal cannot be claimed, and leaves no claim behind', async () => {
    const store = new ProposalStore(redis, queueName, 50);
    const { id } = await store.create({ incidentId: 'inc-1', cluster: 'sim', proposal });
    await new Promise((r) => setTimeout(r, 120));
    expect(await store.claim(id, 'U1')).toBeUndefined();
    expect(await store.claimedBy(id)).toBeUndefined();
  });

  it('attachMessage records the alert and keeps the expiry; an expired proposal is not brought back', async () => {
    const store = new ProposalStore(redis, queueName, 60_000);
    const { id } = await store.create({ incidentId: 'inc-1', cluster: 'sim', proposal });
    expect(await store.attachMessage(id, 'C0ALERTS', '1700000000.000200')).toBe(true);
    expect(await store.attachMessage(id, 'C0ALERTS', '1700000000.000200')).toBe(false);
    expect(await store.get(id)).toMatchObject({ channel: 'C0ALERTS', ts: '1700000000.000200', proposal });
    const key = (await redis.keys(`*${queueName}:proposal:${id}`))[0]!;
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(50_000);
    expect(ttl).toBeLessThanOrEqual(60_000);

    const short = new ProposalStore(redis, queueName, 50);
    const gone = await short.create({ incidentId: 'inc-2', cluster: 'sim', proposal });
    await new Promise((r) => setTimeout(r, 120));
    expect(await short.attachMessage(gone.id, 'C0ALERTS', '1700000000.000300')).toBe(false);
    expect(await redis.exists(`${key.slice(0, key.lastIndexOf(':') + 1)}${gone.id}`)).toBe(0);
  });
});
