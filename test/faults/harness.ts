/**
 * Whole oombot processes for fault tests: builds dist/ once, spawns `oombot start --roles ...` as child
 * processes, keeps their logs (printed when a test fails), runs private redis-servers that can be killed
 * and restarted on the same port, and stops everything after each test.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, redisAnswers } from '../../sim/private-redis.js';

export { freePort };

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CLI = join(ROOT, 'dist', 'bin', 'oombot.js');
const BUILT = join(ROOT, 'dist', '.built');
const SOURCES = ['bin', 'core', 'watchers', 'handlers', 'bot', 'sim', 'bench'];

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

function stale(): boolean {
  if (!existsSync(CLI) || !existsSync(BUILT)) return true;
  const built = statSync(BUILT).mtimeMs;
  return SOURCES.some((dir) => existsSync(join(ROOT, dir)) && newestSource(join(ROOT, dir)) > built);
}

/**
 * Compiles the sources to dist/ when any is newer than the last build (CI has built already through
 * `npm ci`). Test files running side by side build once: the first takes a lock, the others wait for it.
 */
export async function ensureBuilt(): Promise<void> {
  const lock = join(ROOT, 'dist', '.build-lock');
  mkdirSync(join(ROOT, 'dist'), { recursive: true });
  const deadline = Date.now() + 120_000;
  while (stale()) {
    try {
      mkdirSync(lock);
    } catch {
      // Someone else is building; a lock older than two minutes was left by a build that died.
      const held = statSync(lock, { throwIfNoEntry: false });
      if (held && Date.now() - held.mtimeMs > 120_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error('dist/ is being built by another run for over two minutes');
      await sleep(200);
      continue;
    }
    try {
      const started = Date.now();
      const tsc = spawnSync(join(ROOT, 'node_modules', '.bin', 'tsc'), ['-p', 'tsconfig.json'], { cwd: ROOT, encoding: 'utf8' });
      // Type errors still emit JavaScript; only a build that produced no CLI is fatal here (the type
      // check is its own CI step).
      if (!existsSync(CLI)) throw new Error(`npm run build failed:\n${tsc.stdout}${tsc.stderr}`);
      writeFileSync(BUILT, new Date(started).toISOString());
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
}

/** Polls `check` until it returns a truthy value; fails after `timeoutMs` saying what it waited for. */
export async function until<T>(
  what: string,
  check: () => T | undefined | null | false | Promise<T | undefined | null | false>,
  timeoutMs = 20_000,
  everyMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

export type LogLine = Record<string, unknown> & { msg?: string; level?: string };

/** One `oombot start` child process with its HTTP port and its logs. */
export class OombotProcess {
  readonly logs: LogLine[] = [];
  readonly stderr: string[] = [];
  private readonly raw: string[] = [];
  private readonly proc: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private partial = '';

  constructor(
    readonly name: string,
    readonly roles: string,
    readonly port: number,
    env: Record<string, string>,
  ) {
    this.proc = spawn(process.execPath, [CLI, 'start', '--roles', roles], {
      cwd: ROOT,
      env: { ...process.env, ...env, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.proc.stdout!.setEncoding('utf8').on('data', (chunk: string) => this.take(chunk));
    this.proc.stderr!.setEncoding('utf8').on('data', (chunk: string) => this.stderr.push(chunk));
    this.exited = new Promise((resolve) => this.proc.once('exit', (code, signal) => resolve({ code, signal })));
  }

  get pid(): number {
    return this.proc.pid ?? -1;
  }

  get running(): boolean {
    return this.proc.exitCode === null && this.proc.signalCode === null;
  }

  private take(chunk: string): void {
    const lines = (this.partial + chunk).split('\n');
    this.partial = lines.pop() ?? '';
    for (const line of lines) {
      if (line.trim() === '') continue;
      this.raw.push(line);
      try {
        this.logs.push(JSON.parse(line) as LogLine);
      } catch {
        /* console output of alerts, kept in `raw` only */
      }
    }
  }

  /** Log lines whose message contains `text` (and match `where`, if given). */
  logged(text: string, where: (l: LogLine) => boolean = () => true): LogLine[] {
    return this.logs.filter((l) => typeof l.msg === 'string' && l.msg.includes(text) && where(l));
  }

  /** Waits until GET /readyz answers 200: Redis reachable, every watch synced, the worker running. */
  async ready(timeoutMs = 20_000): Promise<void> {
    await until(
      `${this.name} to be ready`,
      async () => {
        if (!this.running) throw new Error(`${this.name} exited before it was ready`);
        try {
          const res = await fetch(`http://127.0.0.1:${this.port}/readyz`);
          await res.arrayBuffer();
          return res.status === 200;
        } catch {
          return false;
        }
      },
      timeoutMs,
      100,
    );
  }

  /** Sends the signal at once (synchronously) and returns the wait for the exit. */
  kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.running) this.proc.kill(signal);
    return this.exited;
  }

  /** The last `n` lines of its output, for a failure report. */
  tail(n = 150): string {
    const out = this.raw.slice(-n).map((line) => {
      try {
        const { level, msg, time, app: _app, pid: _pid, hostname: _host, ...rest } = JSON.parse(line) as LogLine;
        const fields = Object.keys(rest).length > 0 ? ` ${JSON.stringify(rest)}` : '';
        return `${String(time ?? '').slice(11, 23)} ${String(level ?? '').padEnd(5)} ${String(msg ?? '')}${fields}`;
      } catch {
        return line;
      }
    });
    const err = this.stderr.join('').trim();
    return `${out.join('\n')}${err ? `\n--- stderr ---\n${err}` : ''}`;
  }
}

/**
 * A private redis-server on a free port that can be killed and started again on the same port.
 * With `persistent`, it writes an append-only file fsynced on every write, as production Redis should.
 */
export class PrivateRedis {
  private proc: ChildProcess | undefined;
  private constructor(
    readonly port: number,
    readonly dir: string,
    private readonly persistent: boolean,
  ) {}

  static async start(opts: { persistent?: boolean } = {}): Promise<PrivateRedis> {
    const redis = new PrivateRedis(await freePort(), mkdtempSync(join(tmpdir(), 'oombot-fault-redis-')), opts.persistent ?? false);
    await redis.restart();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null;
  }

  /** Starts it (again) on its port and waits until it answers. */
  async restart(): Promise<void> {
    if (this.running) return;
    const persistence = this.persistent ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no'];
    this.proc = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', ...persistence, '--dir', this.dir, '--maxmemory-policy', 'noeviction'],
      { stdio: 'ignore' },
    );
    await until(`redis-server on port ${this.port}`, () => redisAnswers(this.url), 10_000, 50);
  }

  /** SIGKILL: no shutdown save, only what the append-only file already holds survives. */
  async kill(): Promise<void> {
    const proc = this.proc;
    if (!proc || !this.running) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGKILL');
    await exited;
  }

  async remove(): Promise<void> {
    await this.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * Everything a fault test started: processes and private Redis servers. `cleanup` kills them all
 * (call it in afterEach) and, when the test failed, prints every process's last log lines.
 */
export class Faults {
  private readonly procs: OombotProcess[] = [];
  private readonly redises: PrivateRedis[] = [];
  private readonly cleanups: (() => Promise<void> | void)[] = [];

  /** Starts `oombot start --roles <roles>` with `env` on a free HTTP port. */
  async spawn(name: string, roles: string, env: Record<string, string>): Promise<OombotProcess> {
    const proc = new OombotProcess(name, roles, await freePort(), env);
    this.procs.push(proc);
    return proc;
  }

  async redis(opts: { persistent?: boolean } = {}): Promise<PrivateRedis> {
    const redis = await PrivateRedis.start(opts);
    this.redises.push(redis);
    return redis;
  }

  /** Runs `fn` at cleanup, after the processes are gone (close servers, delete queue data). */
  onCleanup(fn: () => Promise<void> | void): void {
    this.cleanups.push(fn);
  }

  /** Processes started so far, in order. */
  get processes(): readonly OombotProcess[] {
    return this.procs;
  }

  report(): string {
    return this.procs.map((p) => `=== ${p.name} (${p.roles}, pid ${p.pid}, ${p.running ? 'running' : 'exited'}) ===\n${p.tail()}`).join('\n\n');
  }

  async cleanup(failed: boolean): Promise<void> {
    if (failed) process.stderr.write(`\n${this.report()}\n\n`);
    await Promise.all(this.procs.splice(0).map((p) => p.kill('SIGKILL')));
    for (const fn of this.cleanups.splice(0).reverse()) await fn();
    await Promise.all(this.redises.splice(0).map((r) => r.remove()));
  }
}
