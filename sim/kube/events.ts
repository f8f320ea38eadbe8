/**
 * core/v1 Events as client-go's recorder writes them, with its correlator: an identical event (same
 * source, object, reason, message) bumps `count` and `lastTimestamp` of the existing Event; ten similar
 * events with different messages within ten minutes are combined into one
 * "(combined from similar events): ..." Event.
 */
import type { KubeObject } from './types.js';
import type { SimCluster } from './cluster.js';
import { rfc3339 } from './clock.js';
import { objectKey } from './store.js';
import { eventObject, involvedObjectJson, type InvolvedObject } from './build/events.js';

export { podRef, nodeRef, type InvolvedObject } from './build/events.js';

export interface RecordEventInput {
  involved: InvolvedObject;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  component: string;
  host?: string;
  /** Defaults to host (kubelet) or `<component>` for controllers. */
  reportingInstance?: string;
  annotations?: Record<string, string>;
}

const AGGREGATE_MAX = 10;
const AGGREGATE_WINDOW_MS = 10 * 60 * 1000;

export class EventRecorder {
  /** dedupe key -> event store key */
  private byKey = new Map<string, string>();
  private similar = new Map<string, { messages: Set<string>; first: number }>();
  private seq = 0;

  constructor(private cluster: SimCluster) {}

  record(input: RecordEventInput): KubeObject {
    const c = this.cluster;
    const now = c.now();
    const ts = rfc3339(now);
    const inv = input.involved;
    const namespace = inv.namespace || 'default';
    const reportingInstance = input.reportingInstance ?? input.host ?? '';
    const aggregateKey = [
      input.component,
      input.host ?? '',
      inv.kind,
      inv.namespace ?? '',
      inv.name,
      inv.uid ?? '',
      inv.apiVersion ?? '',
      input.type,
      input.reason,
      input.component,
      reportingInstance,
    ].join('\u0000');

    let message = input.message;
    let dedupeKey = `${aggregateKey}\u0000${inv.fieldPath ?? ''}\u0000${message}`;
    const sim = this.similar.get(aggregateKey);
    if (!sim || now.getTime() - sim.first > AGGREGATE_WINDOW_MS) {
      this.similar.set(aggregateKey, { messages: new Set([message]), first: now.getTime() });
    } else {
      sim.messages.add(message);
      if (sim.messages.size >= AGGREGATE_MAX) {
        message = `(combined from similar events): ${message}`;
        dedupeKey = `${aggregateKey}\u0000combined`;
      }
    }

    const existingKey = this.byKey.get(dedupeKey);
    const existing = existingKey ? c.peek('events', namespace, existingKey.slice(namespace.length + 1)) : undefined;
    if (existing && existingKey) {
      return c.update('events', namespace, existing.metadata.name, (ev) => {
        ev.count = (ev.count ?? 1) + 1;
        ev.lastTimestamp = ts;
        ev.message = message;
        ev.involvedObject = { ...ev.involvedObject, ...(inv.resourceVersion ? { resourceVersion: inv.resourceVersion } : {}) };
      });
    }

    const nanos = BigInt(now.getTime()) * 1_000_000n + BigInt(this.seq++ % 1_000_000);
    const name = `${inv.name}.${nanos.toString(16)}`;
    const ev = eventObject({
      metadata: { name, namespace, ...(input.annotations ? { annotations: { ...input.annotations } } : {}) },
      involvedObject: involvedObjectJson(inv),
      type: input.type,
      reason: input.reason,
      message,
      component: input.component,
      host: input.host,
      reportingInstance,
      firstTimestamp: ts,
    });
    const stored = c.create('events', ev);
    this.byKey.set(dedupeKey, objectKey(namespace, name));
    return stored;
  }
}
