import type { DestinationStream } from 'pino';
import type { Spread } from './figures.js';

/**
 * A log destination for oombot under benchmark: instead of printing, it keeps the Kubernetes API calls
 * each processed incident reports ("alert posted" / "incident recorded" lines carry `apiCalls`), and
 * counts warning and error lines by message.
 */
export class LogTally implements DestinationStream {
  readonly apiCalls: number[] = [];
  readonly problems: Record<string, number> = {};

  write(line: string): void {
    let entry: { level?: string; msg?: string; apiCalls?: unknown; err?: unknown };
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      return;
    }
    if (typeof entry.apiCalls === 'number' && (entry.msg === 'alert posted' || entry.msg === 'incident recorded')) {
      this.apiCalls.push(entry.apiCalls);
    }
    if (entry.level === 'warn' || entry.level === 'error' || entry.level === 'fatal') {
      const key = `${entry.level}: ${entry.msg ?? ''}${typeof entry.err === 'string' ? ` (${shorten(entry.err)})` : ''}`;
      this.problems[key] = (this.problems[key] ?? 0) + 1;
    }
  }

  /** Min/avg/max of the API calls per incident seen since `from` (an index into `apiCalls`). */
  spread(from = 0): Spread {
    const calls = this.apiCalls.slice(from);
    if (calls.length === 0) return { min: NaN, avg: NaN, max: NaN };
    return { min: Math.min(...calls), avg: calls.reduce((a, b) => a + b, 0) / calls.length, max: Math.max(...calls) };
  }
}

/** Error texts name ports, pods and ids: keep what tells one kind of failure from another. */
function shorten(err: string): string {
  return err
    .replace(/127\.0\.0\.1:\d+/g, '127.0.0.1:<port>')
    .replace(/[0-9a-f]{16,}/g, '<id>')
    .slice(0, 160);
}
