/**
 * Makes `npm test` work on a machine with nothing running: when REDIS_URL is unset and no Redis answers
 * on 127.0.0.1:6379, a private redis-server is started for the run (if one is installed), and the tests
 * are pointed at it through REDIS_URL. Without either, the run stops at once with the command to fix it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';

const DEFAULT_URL = 'redis://127.0.0.1:6379';

async function answers(url: string): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 1_000 });
  redis.on('error', () => {});
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

let child: ChildProcess | undefined;
let dir: string | undefined;

export async function setup(): Promise<void> {
  const url = process.env.REDIS_URL || DEFAULT_URL;
  if (await answers(url)) return;
  if (process.env.REDIS_URL) throw new Error(`the tests need Redis, and REDIS_URL (${url}) does not answer`);
  if (spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status !== 0) {
    throw new Error(
      'the tests need Redis: none answers on 127.0.0.1:6379 and redis-server is not installed.\n' +
        '  Install it (sudo apt-get install -y redis-server), or set REDIS_URL to a Redis you have.',
    );
  }
  const port = await freePort();
  dir = mkdtempSync(join(tmpdir(), 'oombot-test-redis-'));
  child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  const privateUrl = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 100 && !(await answers(privateUrl)); i++) await sleep(50);
  if (!(await answers(privateUrl))) throw new Error(`started redis-server on port ${port}, but it does not answer`);
  process.env.REDIS_URL = privateUrl;
  process.stdout.write(`no Redis on 127.0.0.1:6379: the tests use a private redis-server on port ${port}\n`);
}

export async function teardown(): Promise<void> {
  child?.kill();
  if (dir) rmSync(dir, { recursive: true, force: true });
}
