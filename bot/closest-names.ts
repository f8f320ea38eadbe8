/** Levenshtein distance, giving up (returning max + 1) once it is sure to exceed `max`. */
export function editDistance(a: string, b: string, max = Infinity): number {
  if (a === b) return 0;
  if (Math.abs(a.length - b.length) > max) return max + 1;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      const v = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
      cur.push(v);
      if (v < rowMin) rowMin = v;
    }
    if (rowMin > max) return max + 1;
    prev = cur;
  }
  return prev[b.length] ?? max + 1;
}

/**
 * The names closest to `wanted` by edit distance, offered one at a time: keeps only the `limit` best, so
 * a cluster's worth of names can be looked through without being held. Only names a typo away count (a
 * third of the name's length, at least 2). The part after a "/" is compared too, so "api" finds
 * "shop/api-7f9c".
 */
export class ClosestNames {
  private readonly w: string;
  private readonly max: number;
  private readonly best: { name: string; d: number }[] = [];

  constructor(
    wanted: string,
    private readonly limit = 3,
  ) {
    this.w = wanted.toLowerCase().slice(0, 253);
    this.max = Math.max(2, Math.floor(this.w.length / 3));
  }

  offer(name: string): void {
    if (this.best.some((b) => b.name === name)) return;
    const n = name.toLowerCase();
    const tail = n.slice(n.lastIndexOf('/') + 1);
    const d = Math.min(
      editDistance(this.w, n, this.max),
      editDistance(this.w, tail, this.max),
      tail.startsWith(this.w) || this.w.startsWith(tail) ? Math.abs(tail.length - this.w.length) : Infinity,
    );
    if (d > this.max) return;
    const before = (x: { name: string; d: number }) => d < x.d || (d === x.d && name.localeCompare(x.name) < 0);
    const at = this.best.findIndex(before);
    if (at === -1) {
      if (this.best.length < this.limit) this.best.push({ name, d });
      return;
    }
    this.best.splice(at, 0, { name, d });
    if (this.best.length > this.limit) this.best.pop();
  }

  /** Closest first. */
  names(): string[] {
    return this.best.map((b) => b.name);
  }
}

/** The names closest to `wanted` by edit distance, closest first: at most `limit` (see ClosestNames). */
export function closestNames(wanted: string, names: Iterable<string>, limit = 3): string[] {
  const closest = new ClosestNames(wanted, limit);
  for (const name of names) closest.offer(name);
  return closest.names();
}
