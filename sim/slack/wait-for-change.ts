import type { EventEmitter } from 'node:events';

/**
 * Resolves with the predicate's first truthy value, checking at once, on every `change` event of the emitter
 * and every 20 ms; rejects after `timeoutMs` with `describeState()` in the message.
 */
export function waitForChange<T>(
  emitter: EventEmitter,
  predicate: () => T | undefined | null | false,
  timeoutMs: number,
  describeState: () => string,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const check = () => {
      const value = predicate();
      if (!value) return;
      cleanup();
      resolve(value);
    };
    const timer = setInterval(check, 20);
    const deadline = setTimeout(() => {
      cleanup();
      reject(new Error(`waitFor: condition not met within ${timeoutMs} ms (${describeState()})`));
    }, timeoutMs);
    const cleanup = () => {
      clearInterval(timer);
      clearTimeout(deadline);
      emitter.off('change', check);
    };
    emitter.on('change', check);
    check();
  });
}
