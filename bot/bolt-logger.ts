import { LogLevel, type Logger as BoltLogger } from '@slack/bolt';
import type { Logger } from '../core/logger.js';

/** Bolt's logger interface over oombot's pino logger (one log stream, same redaction). */
export function boltLogger(log: Logger): BoltLogger {
  let level: LogLevel = LogLevel.INFO;
  const text = (msg: unknown[]) => msg.map((m) => (typeof m === 'string' ? m : m instanceof Error ? m.message : JSON.stringify(m))).join(' ');
  return {
    debug: (...msg: unknown[]) => log.debug({ component: 'bolt' }, text(msg)),
    info: (...msg: unknown[]) => log.info({ component: 'bolt' }, text(msg)),
    warn: (...msg: unknown[]) => log.warn({ component: 'bolt' }, text(msg)),
    error: (...msg: unknown[]) => log.error({ component: 'bolt' }, text(msg)),
    setLevel: (l: LogLevel) => {
      level = l;
    },
    getLevel: () => level,
    setName: () => undefined,
  };
}
