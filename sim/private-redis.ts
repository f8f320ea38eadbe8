import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { redactUrl } from '../core/redact.js';
import { connectRedis, type RedisClient } from '../core/queue.js';

/** True when a Redis (one server, a Sentinel master set or a Cluster) answers PING at `url` within a second or so. */
export async function redisAnswers(url: string): Promise<boolean> {
  let redis: RedisClient;
  try {
    redis = connectRedis(url, { lazyConnect: true, failFast: true });
  } catch {
    return false;
  }
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface FoundRedis {
  url: string;
  /** Set when a private redis-server was started: stops it and removes its folder. */
  stop?: () => void;
}

/**
 * The Redis at `url` when it answers; else a private, throw-away redis-server on a free port when one is
 * installed; else an error that says how to get one. `url` is the user's REDIS_URL or the default.
 */
export async function findOrStartRedis(url: string, opts: { explicit: boolean; rerun: string }): Promise<FoundRedis> {
  if (await redisAnswers(url)) return { url };
  if (opts.explicit) throw new Error(`REDIS_URL (${redactUrl(url)}) does not answer: start that Redis, or unset REDIS_URL to use a local one`);
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status !== 0) {
    throw new Error(
      `no Redis at ${redactUrl(url)} and no redis-server installed.\n` +
        `  Get one with:  sudo apt-get install -y redis-server   (then run ${opts.rerun} again)\n` +
        '  or:            docker run -d -p 6379:6379 redis:7\n' +
        '  or set REDIS_URL to a Redis you have.',
    );
  }
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'oombot-redis-'));
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--maxmemory-policy', 'noeviction'],
    { stdio: 'ignore' },
  );
  const privateUrl = `redis://127.0.0.1:${port}`;
  const stop = () => {
    child.kill();
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; i < 100 && !(await redisAnswers(privateUrl)); i++) await sleep(50);
  if (!(await redisAnswers(privateUrl))) {
    stop();
    throw new Error(`started redis-server on 127.0.0.1:${port}, but it does not answer`);
  }
  return { url: privateUrl, stop };
}
