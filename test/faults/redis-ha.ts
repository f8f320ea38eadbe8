/**
 * Redis beyond one node, as real processes for fault tests: a Sentinel master set (one master, one
 * replica, three sentinels) and a Redis Cluster (three masters), each on free ports in a temporary folder
 * removed afterwards. Both run on the plain `redis-server` binary (`--sentinel`, `--cluster-enabled yes`)
 * and `redis-cli` (`--cluster create`), which Debian's redis-server package brings.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { until } from './harness.js';
import { redisAnswers } from '../../sim/private-redis.js';

/** Why Sentinel and Cluster tests cannot run here, or undefined when they can. */
export function missingRedisBinaries(): string | undefined {
  const server = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  const cli = spawnSync('redis-cli', ['--version'], { encoding: 'utf8' });
  if (server.status !== 0 || cli.status !== 0) {
    return 'redis-server and redis-cli are not installed (apt-get install -y redis-server; .ci/run does it)';
  }
  return undefined;
}

/** `n` distinct free ports (each held open until all are found, so none is handed out twice). */
async function freePorts(n: number, ok: (port: number) => Promise<boolean> = async () => true): Promise<number[]> {
  const held: ReturnType<typeof createServer>[] = [];
  const ports: number[] = [];
  try {
    while (ports.length < n) {
      const server = createServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
      });
      held.push(server);
      const port = (server.address() as { port: number }).port;
      if (await ok(port)) ports.push(port);
    }
  } finally {
    await Promise.all(held.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
  }
  return ports;
}

/** One redis-server process (data node or sentinel) that can be SIGKILLed and started again. */
class ServerProcess {
  private proc: ChildProcess | undefined;
  constructor(
    readonly port: number,
    private readonly args: string[],
  ) {}

  get running(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.proc = spawn('redis-server', this.args, { stdio: 'ignore' });
    // Its own answer, not another server's on a port taken meanwhile: it must still be running.
    await until(`redis-server on port ${this.port}`, async () => (await ping(this.port)) && this.running, 10_000, 50);
    if (!this.running) throw new Error(`redis-server on port ${this.port} exited (port taken?)`);
  }

  async kill(): Promise<void> {
    const proc = this.proc;
    if (!proc || !this.running) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGKILL');
    await exited;
  }
}

/** The password of the server on a port, for the helper's own connections. */
const passwords = new Map<number, string>();

async function ping(port: number): Promise<boolean> {
  const password = passwords.get(port);
  return redisAnswers(`redis://${password ? `:${encodeURIComponent(password)}@` : ''}127.0.0.1:${port}`);
}

async function command(port: number, ...args: string[]): Promise<unknown> {
  const redis = new Redis({ port, host: '127.0.0.1', password: passwords.get(port), maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    return await redis.call(args[0]!, ...args.slice(1));
  } finally {
    redis.disconnect();
  }
}

const DATA_NODE = ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always', '--maxmemory-policy', 'noeviction'];

/**
 * A master set named `mymaster`: a master, a replica of it and three sentinels (quorum 2) that call the
 * master down after a second without an answer.
 */
export class SentinelSet {
  readonly name = 'mymaster';
  private constructor(
    private readonly dir: string,
    readonly nodes: ServerProcess[],
    readonly sentinels: ServerProcess[],
  ) {}

  /** With `password`, the servers require it (`requirepass`, `masterauth`); with `sentinelPassword`, the sentinels require theirs. */
  static async start(opts: { password?: string; sentinelPassword?: string } = {}): Promise<SentinelSet> {
    const dir = mkdtempSync(join(tmpdir(), 'oombot-sentinel-'));
    const [masterPort, replicaPort, ...sentinelPorts] = (await freePorts(5)) as [number, number, ...number[]];
    const auth = opts.password ? ['--requirepass', opts.password, '--masterauth', opts.password] : [];
    const node = (port: number, extra: string[]) => {
      const nodeDir = mkdtempSync(join(dir, 'node-'));
      if (opts.password) passwords.set(port, opts.password);
      return new ServerProcess(port, ['--port', String(port), ...DATA_NODE, ...auth, '--dir', nodeDir, ...extra]);
    };
    const nodes = [node(masterPort, []), node(replicaPort, ['--replicaof', '127.0.0.1', String(masterPort)])];
    const sentinels: ServerProcess[] = [];
    for (const [i, port] of sentinelPorts.entries()) {
      const conf = join(dir, `sentinel-${i}.conf`);
      // A sentinel rewrites its own file (what it learned about replicas and other sentinels).
      writeFileSync(
        conf,
        [
          `port ${port}`,
          'bind 127.0.0.1',
          `dir ${dir}`,
          `sentinel monitor mymaster 127.0.0.1 ${masterPort} 2`,
          'sentinel down-after-milliseconds mymaster 1000',
          'sentinel failover-timeout mymaster 10000',
          'sentinel parallel-syncs mymaster 1',
          ...(opts.password ? [`sentinel auth-pass mymaster ${opts.password}`] : []),
          ...(opts.sentinelPassword ? [`requirepass ${opts.sentinelPassword}`] : []),
          '',
        ].join('\n'),
      );
      if (opts.sentinelPassword) passwords.set(port, opts.sentinelPassword);
      sentinels.push(new ServerProcess(port, [conf, '--sentinel']));
    }
    const set = new SentinelSet(dir, nodes, sentinels);
    try {
      for (const p of [...nodes, ...sentinels]) await p.start();
      await until('the replica in sync', async () => /master_link_status:up/.test(String(await command(replicaPort, 'INFO', 'replication'))), 15_000, 100);
      await until(
        'every sentinel knowing the replica and the other sentinels',
        async () => {
          for (const s of sentinels) {
            const info = (await command(s.port, 'SENTINEL', 'MASTER', 'mymaster')) as string[];
            const field = (k: string) => Number(info[info.indexOf(k) + 1]);
            if (field('num-slaves') < 1 || field('num-other-sentinels') < 2) return false;
          }
          return true;
        },
        20_000,
        200,
      );
    } catch (err) {
      await set.remove();
      throw err;
    }
    return set;
  }

  /** `redis-sentinel://…#mymaster`, as REDIS_URL. */
  get url(): string {
    return `redis-sentinel://${this.sentinels.map((s) => `127.0.0.1:${s.port}`).join(',')}#${this.name}`;
  }

  /** The port of the master as the sentinels see it now. */
  async masterPort(): Promise<number> {
    for (const s of this.sentinels.filter((x) => x.running)) {
      const addr = (await command(s.port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.name).catch(() => null)) as string[] | null;
      if (addr) return Number(addr[1]);
    }
    throw new Error('no sentinel answers');
  }

  /** SIGKILLs the master: no shutdown, what it had not passed on is gone with it. Returns its port. */
  async killMaster(): Promise<number> {
    const port = await this.masterPort();
    await this.nodes.find((n) => n.port === port)!.kill();
    return port;
  }

  /**
   * Waits until every sentinel names another node as the master, and it answers as one. (A sentinel
   * that has not heard of the failover yet still names the old master: were that one back already, a
   * client asking it would write to the old master, and the sentinels would then make it a replica and
   * drop those writes. Production sets guard against it with `min-replicas-to-write`.)
   */
  async failedOver(from: number, timeoutMs = 30_000): Promise<number> {
    let to = from;
    await until(
      'a failover to the replica, known to every sentinel',
      async () => {
        const named = new Set<number>();
        for (const s of this.sentinels) {
          const addr = (await command(s.port, 'SENTINEL', 'GET-MASTER-ADDR-BY-NAME', this.name).catch(() => null)) as string[] | null;
          named.add(addr ? Number(addr[1]) : from);
        }
        to = [...named][0]!;
        return named.size === 1 && to !== from && /role:master/.test(String(await command(to, 'INFO', 'replication').catch(() => '')));
      },
      timeoutMs,
      100,
    );
    return to;
  }

  /** Starts a killed node again: the sentinels make it a replica of the new master. */
  async restart(port: number): Promise<void> {
    await this.nodes.find((n) => n.port === port)!.start();
  }

  async remove(): Promise<void> {
    await Promise.all([...this.sentinels, ...this.nodes].map((p) => p.kill()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** True when the cluster bus port (port + 10000) is free too. */
async function busPortFree(port: number): Promise<boolean> {
  if (port + 10_000 > 65_535) return false;
  const bus = createServer();
  const ok = await new Promise<boolean>((resolve) => {
    bus.once('error', () => resolve(false));
    bus.listen(port + 10_000, '127.0.0.1', () => resolve(true));
  });
  if (ok) await new Promise<void>((resolve) => bus.close(() => resolve()));
  return ok;
}

/** A Redis Cluster of three masters (no replicas), the 16384 slots split between them. */
export class RedisCluster {
  private constructor(
    private readonly dir: string,
    readonly nodes: ServerProcess[],
  ) {}

  static async start(): Promise<RedisCluster> {
    const dir = mkdtempSync(join(tmpdir(), 'oombot-cluster-'));
    const nodes: ServerProcess[] = [];
    for (const port of await freePorts(3, busPortFree)) {
      const nodeDir = mkdtempSync(join(dir, 'node-'));
      nodes.push(
        new ServerProcess(port, [
          '--port',
          String(port),
          ...DATA_NODE,
          '--dir',
          nodeDir,
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          join(nodeDir, 'nodes.conf'),
          '--cluster-node-timeout',
          '2000',
        ]),
      );
    }
    const cluster = new RedisCluster(dir, nodes);
    try {
      for (const n of nodes) await n.start();
      const create = spawnSync('redis-cli', ['--cluster', 'create', ...nodes.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '0', '--cluster-yes'], {
        encoding: 'utf8',
        timeout: 30_000,
      });
      if (create.status !== 0) throw new Error(`redis-cli --cluster create failed:\n${create.stdout}${create.stderr}`);
      await until(
        'cluster_state:ok on every node',
        async () => {
          for (const n of nodes) if (!/cluster_state:ok/.test(String(await command(n.port, 'CLUSTER', 'INFO')))) return false;
          return true;
        },
        20_000,
        100,
      );
    } catch (err) {
      await cluster.remove();
      throw err;
    }
    return cluster;
  }

  /** `redis-cluster://…` with every node as a seed, as REDIS_URL. */
  get url(): string {
    return `redis-cluster://${this.nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}`;
  }

  /** Every key matching `pattern`, by the port of the node that holds it. */
  async keysByNode(pattern: string): Promise<Map<number, string[]>> {
    const out = new Map<number, string[]>();
    for (const n of this.nodes) {
      const keys = (await command(n.port, 'KEYS', pattern)) as string[];
      if (keys.length > 0) out.set(n.port, keys);
    }
    return out;
  }

  async remove(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.kill()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
