import { Writable } from 'node:stream';
import { createLogger, type Logger } from '../../core/logger.js';

export interface CapturedLogger {
  log: Logger;
  lines: () => Record<string, unknown>[];
}

/** A real logger writing JSON lines into memory, so tests can assert what an operator would read. */
export function captureLogger(level: 'debug' | 'info' = 'debug'): CapturedLogger {
  const chunks: string[] = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, cb) {
      chunks.push(chunk.toString());
      cb();
    },
  });
  const log = createLogger(level, dest);
  return {
    log,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}
