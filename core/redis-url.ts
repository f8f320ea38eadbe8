/**
 * `REDIS_URL` in its three forms, parsed into what ioredis needs:
 *
 * - one server: `redis://[[user]:password@]host[:port][/db]`, `rediss://…` for TLS (handed to ioredis as is);
 * - Sentinel: `redis-sentinel://[[user]:password@]host1[:port1][,host2[:port2]…][/db][?sentinelPassword=…]#master`,
 *   `rediss-sentinel://…` for TLS to the sentinels and the servers (the URI form of Lettuce and Spring Data
 *   Redis; `?sentinelMasterId=master` may stand for `#master`). The password is the servers'; sentinels that
 *   want one of their own take `sentinelPassword`, else they get none;
 * - Cluster: `redis-cluster://[[user]:password@]host1[:port1][,host2[:port2]…]`, `rediss-cluster://…` for TLS.
 *
 * Ports default to 6379 (servers, cluster nodes) and 26379 (sentinels).
 */

export interface RedisHost {
  host: string;
  port: number;
}

interface Credentials {
  username?: string;
  password?: string;
  tls: boolean;
}

export type RedisTarget =
  | { mode: 'standalone'; url: string }
  | (Credentials & { mode: 'sentinel'; sentinels: RedisHost[]; name: string; db: number; sentinelPassword?: string })
  | (Credentials & { mode: 'cluster'; nodes: RedisHost[] });

export class RedisUrlError extends Error {
  override readonly name = 'RedisUrlError';
}

const FORMS =
  'set it like redis://127.0.0.1:6379, rediss://user:password@host:6380/0, ' +
  'redis-sentinel://:password@sentinel-1:26379,sentinel-2:26379/0#mymaster or redis-cluster://:password@node-1:6379,node-2:6379';

const HOSTNAME = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?)$/;
const MASTER_NAME = /^[A-Za-z0-9._-]{1,128}$/;

function decode(part: string, what: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new RedisUrlError(`its ${what} is not percent-encoded correctly (write %40 for @, %2C for ",", %2F for /)`);
  }
}

function hosts(list: string, defaultPort: number, what: string): RedisHost[] {
  const entries = list.split(',');
  return entries.map((entry, i) => {
    const m = /^(\[[^\]]*\]|[^:]*)(?::(\d{1,5}))?$/.exec(entry.trim());
    const host = m?.[1] ?? '';
    const port = m?.[2] === undefined ? defaultPort : Number(m[2]);
    if (!m || !HOSTNAME.test(host) || port < 1 || port > 65535) {
      // The entry is not shown: with a password that was not percent-encoded, it may hold part of it.
      throw new RedisUrlError(`${what} ${i + 1} of ${entries.length} is not host or host:port (separate them with ",")`);
    }
    return { host: host.startsWith('[') ? host.slice(1, -1) : host, port };
  });
}

function credentials(userinfo: string | undefined, tls: boolean): Credentials {
  if (userinfo === undefined) return { tls };
  const colon = userinfo.indexOf(':');
  const user = colon < 0 ? userinfo : userinfo.slice(0, colon);
  const password = colon < 0 ? undefined : userinfo.slice(colon + 1);
  return {
    tls,
    ...(user ? { username: decode(user, 'user name') } : {}),
    ...(password ? { password: decode(password, 'password') } : {}),
  };
}

/** Parses REDIS_URL. Throws RedisUrlError saying what is wrong; the message never holds a password. */
export function parseRedisUrl(url: string): RedisTarget {
  const scheme = /^([a-z+-]+):\/\//i.exec(url)?.[1]?.toLowerCase();
  if (scheme === 'redis' || scheme === 'rediss') {
    try {
      new URL(url);
    } catch {
      throw new RedisUrlError(`it is not a URL: ${FORMS}`);
    }
    return { mode: 'standalone', url };
  }
  const multi = /^(rediss?)-(sentinel|cluster)$/.exec(scheme ?? '');
  if (!multi) {
    throw new RedisUrlError(`its scheme is not redis, rediss, redis-sentinel, rediss-sentinel, redis-cluster or rediss-cluster: ${FORMS}`);
  }
  const tls = multi[1] === 'rediss';
  const m = /^[^:]+:\/\/(?:([^@/?#]*)@)?([^/?#]*)(\/[^?#]*)?(\?[^#]*)?(#.*)?$/.exec(url);
  if (!m) throw new RedisUrlError(`it is not a URL: ${FORMS}`);
  const [, userinfo, hostList = '', path = '', query = '', fragment = ''] = m;
  if (`${hostList}${path}${fragment}`.includes('@') || (userinfo === undefined && /[@]/.test(query))) {
    throw new RedisUrlError('its password holds a character to percent-encode: write %40 for @, %2F for /, %3F for ?, %23 for #, %2C for ","');
  }
  if (hostList === '') throw new RedisUrlError(`it names no host: ${FORMS}`);
  const creds = credentials(userinfo, tls);
  const params = new URLSearchParams(query.slice(1));

  if (multi[2] === 'cluster') {
    if (path !== '' && path !== '/') throw new RedisUrlError('Redis Cluster has only database 0: leave the /db out of a redis-cluster:// URL');
    if (fragment || [...params.keys()].length > 0) throw new RedisUrlError(`a redis-cluster:// URL takes no ?options or #name: ${FORMS}`);
    return { mode: 'cluster', nodes: hosts(hostList, 6379, 'cluster node'), ...creds };
  }

  const dbText = path.replace(/^\//, '');
  if (dbText !== '' && !/^\d{1,2}$/.test(dbText)) throw new RedisUrlError('its database is not a number: end it like /0#mymaster');
  for (const key of params.keys()) {
    if (key !== 'sentinelPassword' && key !== 'sentinelMasterId') {
      throw new RedisUrlError(`it has an option "${key}" oombot does not know: only sentinelPassword and sentinelMasterId are read`);
    }
  }
  const name = decode(fragment.slice(1) || params.get('sentinelMasterId') || '', 'master name');
  if (!name) throw new RedisUrlError("it names no master: end it with the master set's name the sentinels monitor, like #mymaster");
  if (!MASTER_NAME.test(name)) throw new RedisUrlError(`its master name "${name}" may hold only letters, digits, ".", "_" and "-"`);
  const sentinelPassword = params.get('sentinelPassword');
  return {
    mode: 'sentinel',
    sentinels: hosts(hostList, 26379, 'sentinel'),
    name,
    db: dbText === '' ? 0 : Number(dbText),
    ...creds,
    ...(sentinelPassword ? { sentinelPassword } : {}),
  };
}

/** The hash tag that keeps every key of one queue in one Redis Cluster slot (so its scripts and MULTI work). */
export function clusterQueueName(queueName: string): string {
  return `{${queueName}}`;
}
