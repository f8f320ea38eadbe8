/** Objects of one resource, with a bounded change history so watches can resume from a resourceVersion. */
import type { Change, KubeObject } from './types.js';

export function objectKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

export class ResourceStore {
  readonly objects = new Map<string, KubeObject>();
  private ring: (Change | undefined)[];
  private head = 0; // next write position
  private size = 0;
  /** Watches from a resourceVersion below this answer 410 Gone. */
  floorRv = 0;
  private sorted: string[] | null = null;

  constructor(
    readonly resource: string,
    private capacity: number,
  ) {
    this.ring = new Array(capacity);
  }

  record(change: Change): void {
    if (this.capacity <= 0) {
      this.floorRv = change.rv;
      return;
    }
    if (this.size === this.capacity) {
      const evicted = this.ring[this.head]!;
      this.floorRv = evicted.rv;
    } else this.size++;
    this.ring[this.head] = change;
    this.head = (this.head + 1) % this.capacity;
  }

  /** Changes after `rv`, oldest first; undefined when that history is gone. */
  since(rv: number): Change[] | undefined {
    if (rv < this.floorRv) return undefined;
    const out: Change[] = [];
    const start = (this.head - this.size + this.capacity) % this.capacity;
    for (let i = 0; i < this.size; i++) {
      const c = this.ring[(start + i) % this.capacity]!;
      if (c.rv > rv) out.push(c);
    }
    return out;
  }

  /** Oldest resourceVersion still in the history (for the 410 message). */
  oldestRv(currentRv: number): number {
    if (this.size === 0) return Math.max(this.floorRv, currentRv);
    const start = (this.head - this.size + this.capacity) % this.capacity;
    return this.ring[start]!.rv;
  }

  compact(rv: number): void {
    this.ring = new Array(this.capacity);
    this.head = 0;
    this.size = 0;
    this.floorRv = rv;
  }

  set(key: string, obj: KubeObject): void {
    if (!this.objects.has(key)) this.sorted = null;
    this.objects.set(key, obj);
  }

  delete(key: string): void {
    if (this.objects.delete(key)) this.sorted = null;
  }

  /** Keys in the order etcd returns them (by key), cached until an add or delete. */
  sortedKeys(): string[] {
    if (!this.sorted) this.sorted = [...this.objects.keys()].sort();
    return this.sorted;
  }
}
