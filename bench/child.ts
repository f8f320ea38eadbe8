import { fork, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

/** A benchmark child process (compiled file beside this one) that talks to the parent over IPC. */
export class Child {
  private readonly proc: ChildProcess;
  private readonly inbox: Record<string, unknown>[] = [];
  private waiters: (() => void)[] = [];

  constructor(script: string, args: string[], opts: { gc?: boolean } = {}) {
    const path = fileURLToPath(new URL(script, import.meta.url));
    this.proc = fork(path, args, {
      execArgv: opts.gc ? ['--expose-gc', '--max-old-space-size=8192'] : ['--max-old-space-size=8192'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.proc.on('message', (m) => {
      this.inbox.push(m as Record<string, unknown>);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  send(msg: unknown): void {
    this.proc.send(msg as object);
  }

  /** The next message that has `key`, waiting up to `timeoutMs`. */
  async next<T extends Record<string, unknown>>(key: string, timeoutMs = 600_000): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.inbox.findIndex((m) => key in m);
      if (i >= 0) return this.inbox.splice(i, 1)[0] as T;
      if (this.proc.exitCode !== null) throw new Error(`benchmark child exited (${this.proc.exitCode}) before sending "${key}"`);
      if (Date.now() > deadline) throw new Error(`benchmark child sent no "${key}" within ${timeoutMs} ms`);
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
    this.proc.kill('SIGKILL');
    await once(this.proc, 'exit');
  }
}
