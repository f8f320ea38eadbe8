/**
 * Makes `npm test` work on a machine with nothing running: when REDIS_URL is unset and no Redis answers
 * on 127.0.0.1:6379, a private redis-server is started for the run (if one is installed), and the tests
 * are pointed at it through REDIS_URL. Without either, the run stops at once with the command to fix it.
 */
import { findOrStartRedis, type FoundRedis } from '../sim/private-redis.js';

let redis: FoundRedis | undefined;

export async function setup(): Promise<void> {
  const explicit = Boolean(process.env.REDIS_URL);
  redis = await findOrStartRedis(process.env.REDIS_URL || 'redis://127.0.0.1:6379', { explicit, rerun: 'npm test' });
  if (redis.stop) {
    process.env.REDIS_URL = redis.url;
    process.stdout.write(`no Redis on 127.0.0.1:6379: the tests use a private redis-server at ${redis.url}\n`);
  }
}

export function teardown(): void {
  redis?.stop?.();
}
