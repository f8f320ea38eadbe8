import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

/** A benchmark child process (compiled file beside this one) that talks to the parent over IPC. */
export class Child<Command extends object = object> {
  private readonly proc: ChildProcess;
  private readonly inbox: object[] = [];
  private waiters: (() => void)[] = [];

  constructor(
    private readonly script: string,
    args: string[],
    opts: { gc?: boolean; nodeFlags?: string[]; env?: NodeJS.ProcessEnv } = {},
  ) {
    const path = fileURLToPath(new URL(script, import.meta.url));
    this.proc = fork(path, args, {
      execArgv: [...(opts.gc ? ['--expose-gc'] : []), '--max-old-space-size=8192', ...(opts.nodeFlags ?? [])],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      ...(opts.env ? { env: opts.env } : {}),
    });
    const wake = () => {
      for (const w of this.waiters.splice(0)) w();
    };
    this.proc.on('message', (m) => {
      if (typeof m === 'object' && m !== null) this.inbox.push(m);
      wake();
    });
    this.proc.on('exit', wake);
  }

  send(msg: Command): void {
    this.proc.send(msg);
  }

  /** Sends `msg` and waits for the answer that has `key`. */
  async ask<T extends object>(msg: Command, key: keyof T & string, timeoutMs?: number): Promise<T> {
    this.send(msg);
    return this.next<T>(key, timeoutMs);
  }

  /** The next message that has `key`, waiting up to `timeoutMs`. */
  async next<T extends object>(key: keyof T & string, timeoutMs = 600_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.inbox.findIndex((m) => key in m);
      if (i >= 0) return this.inbox.splice(i, 1)[0] as T;
      if (this.proc.exitCode !== null || this.proc.signalCode !== null) {
        throw new Error(`${this.script} exited (${this.proc.exitCode ?? this.proc.signalCode}) before sending "${key}"`);
      }
      if (Date.now() > deadline) throw new Error(`${this.script} sent no "${key}" within ${timeoutMs / 1000} s`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 1_000);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async kill(): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) return;
    const exited = once(this.proc, 'exit');
    this.proc.kill('SIGKILL');
    await exited;
  }
}
