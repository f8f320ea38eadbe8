import type { RecordedCall } from '../sim/slack/types.js';
import type { KillRecord } from './procs/sim-protocol.js';

/** The `p`th percentile of ascending `sorted` (nearest rank); NaN when empty. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** A top-level alert posted to Slack (not a thread reply). */
export const isAlert = (c: RecordedCall): boolean => c.method === 'chat.postMessage' && c.ok && !c.args.thread_ts;

/**
 * Time from each kill to the alert whose text names it (`key`: the pod by default), ascending: one
 * figure per kill that reached Slack, each alert counted for one kill.
 */
export function alertLatencies(calls: RecordedCall[], killed: KillRecord[], key: (k: KillRecord) => string = (k) => k.pod): number[] {
  const killedAt = new Map(killed.map((k) => [key(k), k.at]));
  const latencies: number[] = [];
  for (const call of calls.filter(isAlert)) {
    const text = String(call.args.text ?? '');
    for (const [name, at] of killedAt) {
      if (!text.includes(name)) continue;
      latencies.push(call.at - at);
      killedAt.delete(name);
      break;
    }
  }
  return latencies.sort((a, b) => a - b);
}
