/** One open watch stream: filters changes by namespace and selectors and writes JSON lines. */
import type { ServerResponse } from 'node:http';
import type { Change, KubeObject } from './types.js';
import type { Matcher } from './selectors.js';
import { apiVersionOf, type ResourceDef } from './resources.js';

let last: { obj: KubeObject; json: string } | undefined;

/**
 * JSON of a stored object with kind and apiVersion first, as single GETs and watch events carry it.
 * The last result is kept, so one change fanned out to many watches is serialised once.
 */
export function objectJson(def: ResourceDef, obj: KubeObject): string {
  if (last?.obj === obj) return last.json;
  const json = JSON.stringify({ kind: def.kind, apiVersion: apiVersionOf(def), ...obj });
  last = { obj, json };
  return json;
}

export class WatchConn {
  closed = false;
  private timers: NodeJS.Timeout[] = [];

  constructor(
    readonly def: ResourceDef,
    readonly res: ServerResponse,
    readonly namespace: string | undefined,
    private readonly label: Matcher,
    private readonly field: Matcher,
    readonly bookmarks: boolean,
  ) {}

  matches(obj: KubeObject): boolean {
    if (this.namespace && obj.metadata.namespace !== this.namespace) return false;
    return this.label(obj) && this.field(obj);
  }

  write(text: string): void {
    if (!this.closed) this.res.write(text);
  }

  line(type: string, obj: KubeObject): string {
    return `{"type":"${type}","object":${objectJson(this.def, obj)}}\n`;
  }

  /** The event this watch sees for a change, following selector transitions as the API server does. */
  deliver(change: Change): void {
    if (this.closed || change.resource !== this.def.plural) return;
    const now = this.matches(change.object);
    if (change.type === 'MODIFIED' && change.previous) {
      const before = this.matches(change.previous);
      if (now && before) this.write(this.line('MODIFIED', change.object));
      else if (now) this.write(this.line('ADDED', change.object));
      else if (before) this.write(this.line('DELETED', change.object));
      return;
    }
    if (now) this.write(this.line(change.type, change.object));
  }

  bookmark(resourceVersion: string, initialEventsEnd = false): void {
    const metadata: Record<string, unknown> = { resourceVersion };
    if (initialEventsEnd) metadata.annotations = { 'k8s.io/initial-events-end': 'true' };
    this.write(`${JSON.stringify({ type: 'BOOKMARK', object: { kind: this.def.kind, apiVersion: apiVersionOf(this.def), metadata } })}\n`);
  }

  addTimer(t: NodeJS.Timeout): void {
    t.unref();
    this.timers.push(t);
  }

  /** Clean end of the stream (as at timeoutSeconds). */
  end(): void {
    if (this.closed) return;
    this.dispose();
    this.res.end();
  }

  /** Abrupt end: the TCP connection is reset. */
  destroy(): void {
    if (this.closed) return;
    this.dispose();
    this.res.socket?.destroy();
    this.res.destroy();
  }

  dispose(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers = [];
  }
}
