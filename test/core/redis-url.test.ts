/**
 * REDIS_URL's three forms (one server, Sentinel, Cluster) as loadConfig and connectRedis read them, and
 * the start-up errors for a malformed one, which say what to write and never show the password.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../core/config.js';
import { redactUrl } from '../../core/redact.js';
import { parseRedisUrl, RedisUrlError } from '../../core/redis-url.js';

function problems(redisUrl: string): string[] {
  try {
    loadConfig({ REDIS_URL: redisUrl });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('REDIS_URL', () => {
  it('redis:// and rediss:// go to ioredis as written', () => {
    for (const url of ['redis://127.0.0.1:6379', 'rediss://user:p%40ss@redis.example:6380/2', 'redis://:secret@redis:6379/0']) {
      expect(parseRedisUrl(url)).toEqual({ mode: 'standalone', url });
      expect(problems(url)).toEqual([]);
    }
    expect(loadConfig({}).redisUrl).toBe('redis://127.0.0.1:6379');
  });

  it('redis-sentinel:// lists the sentinels, the master set after #, the database and the passwords', () => {
    expect(parseRedisUrl('redis-sentinel://:s3cret@sentinel-0:26379,sentinel-1,[::1]:26380/3#mymaster')).toEqual({
      mode: 'sentinel',
      sentinels: [
        { host: 'sentinel-0', port: 26379 },
        { host: 'sentinel-1', port: 26379 },
        { host: '::1', port: 26380 },
      ],
      name: 'mymaster',
      db: 3,
      password: 's3cret',
      tls: false,
    });
    expect(parseRedisUrl('rediss-sentinel://oombot:p%2Cw@s1:5000?sentinelMasterId=main&sentinelPassword=sp')).toEqual({
      mode: 'sentinel',
      sentinels: [{ host: 's1', port: 5000 }],
      name: 'main',
      db: 0,
      username: 'oombot',
      password: 'p,w',
      sentinelPassword: 'sp',
      tls: true,
    });
  });

  it('redis-cluster:// lists seed nodes; its queue keys carry one hash tag', () => {
    expect(parseRedisUrl('rediss-cluster://:pw@node-0:7000,node-1:7001,node-2')).toEqual({
      mode: 'cluster',
      nodes: [
        { host: 'node-0', port: 7000 },
        { host: 'node-1', port: 7001 },
        { host: 'node-2', port: 6379 },
      ],
      password: 'pw',
      tls: true,
    });
    expect(loadConfig({ REDIS_URL: 'redis-cluster://node-0:7000', OOMBOT_QUEUE: 'prod' }).queueName).toBe('{prod}');
    // One server and Sentinel keep the key names oombot always used: an upgrade keeps its data.
    expect(loadConfig({ REDIS_URL: 'redis-sentinel://s:26379#m', OOMBOT_QUEUE: 'prod' }).queueName).toBe('prod');
    expect(loadConfig({ REDIS_URL: 'redis://r:6379', OOMBOT_QUEUE: 'prod' }).queueName).toBe('prod');
  });

  it.each([
    ['http://:hunter2@redis:6379', 'its scheme is not redis'],
    ['redis-sentinel://:hunter2@s1:26379,s2:26379/0', 'names no master'],
    ['redis-sentinel://:hunter2@s1:26379/zero#m', 'database is not a number'],
    ['redis-sentinel://:hun/ter2@s1:26379#m', 'percent-encode'],
    ['redis-sentinel://oombot:hunter2@2@s1:26379#m', 'percent-encode'],
    ['redis-cluster://:hunter2@n1:7000,n2:x', 'cluster node 2 of 2 is not host or host:port'],
    ['redis-sentinel://:hunter2@s1:26379?timeout=5#m', 'option "timeout"'],
    ['redis-sentinel://:hunter2@s1:99999#m', 'sentinel 1 of 1 is not host or host:port'],
    ['redis-cluster://:hunter2@n1:7000,,n2:7001', 'cluster node 2 of 3 is not host'],
    ['redis-cluster://:hunter2@n1:7000/1', 'only database 0'],
    ['redis-cluster://:hunter2@/', 'names no host'],
    ['redis://:hunter2@re dis:6379', 'it is not a URL'],
  ])('%s stops start-up with what to write, and no password', (url, why) => {
    const [problem, ...more] = problems(url);
    expect(more).toEqual([]);
    expect(problem).toContain('REDIS_URL="');
    expect(problem).toContain(why);
    expect(problem).not.toContain('hunter2');
    expect(() => parseRedisUrl(url)).toThrow(RedisUrlError);
  });

  it('a scheme error shows every form to write', () => {
    const [problem] = problems('memcached://cache:11211');
    expect(problem).toContain('redis-sentinel://:password@sentinel-1:26379,sentinel-2:26379/0#mymaster');
    expect(problem).toContain('redis-cluster://:password@node-1:6379,node-2:6379');
  });

  it('the redactor hides the password before the host and a sentinelPassword option', () => {
    expect(redactUrl('redis-sentinel://u:pw@s1:26379,s2:26379/0?sentinelPassword=top&sentinelMasterId=m')).toBe(
      'redis-sentinel://***@s1:26379,s2:26379/0?sentinelPassword=***&sentinelMasterId=m',
    );
    expect(redactUrl('redis://:pw@r:6379')).toBe('redis://***@r:6379');
  });
});
