import { constants } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import { Backoff } from '../../core/backoff.js';
import { errorMessage } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';

export interface FollowKmsgOptions {
  /** /dev/kmsg, or a file or FIFO holding records in its format (one a line). */
  path: string;
  /** Text as read: whole records from /dev/kmsg, any chunk from a file or FIFO. */
  onText(text: string): void | Promise<void>;
  /** Told once when the log can be read, and when it cannot (with why). */
  onHealth?(ok: boolean, detail?: string): void;
  signal: AbortSignal;
  log: Logger;
  /** How long to wait when nothing is left to read (default 100 ms). */
  pollMs?: number;
}

/** Each read() of /dev/kmsg returns one record; records are under 1 kB, with the dictionary under 8 kB. */
const READ_SIZE = 16 * 1024;

/**
 * Follows a kernel log like `dmesg --follow`: opens it without blocking (so no thread of Node's pool is
 * held waiting), reads what there is, then waits `pollMs` and reads again. On /dev/kmsg a read that
 * finds its next record overwritten (the ring buffer wrapped) fails with EPIPE, and the next read returns
 * the oldest record still there: the loop goes on. A file or FIFO at its end (no writer yet) is polled
 * the same way. A log that cannot be opened (missing, no CAP_SYSLOG) is retried with backoff and said once.
 */
export async function followKmsg(opts: FollowKmsgOptions): Promise<void> {
  const { path, signal, log } = opts;
  const pollMs = opts.pollMs ?? 100;
  const backoff = new Backoff(500, 30_000);
  let failing = false;
  while (!signal.aborted) {
    let fh: FileHandle | undefined;
    try {
      fh = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
      if (failing || !fh) log.info({ path }, 'reading the kernel log');
      failing = false;
      opts.onHealth?.(true);
      backoff.reset();
      const buf = Buffer.allocUnsafe(READ_SIZE);
      while (!signal.aborted) {
        let n: number;
        try {
          n = (await fh.read(buf, 0, buf.length, null)).bytesRead;
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'EAGAIN' || code === 'EWOULDBLOCK') {
            await backoff.sleep(pollMs, signal);
            continue;
          }
          if (code === 'EPIPE') {
            log.warn({ path }, 'kernel log records were overwritten before they were read (the ring buffer wrapped): going on with the oldest left');
            continue;
          }
          throw err;
        }
        if (n === 0) {
          await backoff.sleep(pollMs, signal);
          continue;
        }
        await opts.onText(buf.toString('utf8', 0, n));
      }
    } catch (err) {
      if (signal.aborted) break;
      const code = (err as NodeJS.ErrnoException).code;
      const detail = `${path}: ${errorMessage(err)}`;
      if (!failing) {
        log.error(
          { path, err: errorMessage(err), code },
          code === 'EPERM' || code === 'EACCES'
            ? 'cannot read the kernel log: mount /dev/kmsg read-only and add the SYSLOG capability (kernel.dmesg_restrict=1 needs it); retrying'
            : 'cannot read the kernel log: retrying',
        );
      }
      failing = true;
      opts.onHealth?.(false, detail);
      await backoff.sleep(backoff.next(), signal);
    } finally {
      await fh?.close().catch(() => undefined);
    }
  }
}
