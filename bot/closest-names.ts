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
 * The names closest to `wanted` by edit distance, closest first: at most `limit`, and only those a typo
 * away (a third of the name's length, at least 2). The part after a "/" is compared too, so "api" finds
 * "shop/api-7f9c".
 */
export function closestNames(wanted: string, names: Iterable<string>, limit = 3): string[] {
  const w = wanted.toLowerCase().slice(0, 253);
  const max = Math.max(2, Math.floor(w.length / 3));
  const scored: { name: string; d: number }[] = [];
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) continue;
    seen.add(name);
    const n = name.toLowerCase();
    const tail = n.slice(n.lastIndexOf('/') + 1);
    const d = Math.min(
      editDistance(w, n, max),
      editDistance(w, tail, max),
      tail.startsWith(w) || w.startsWith(tail) ? Math.abs(tail.length - w.length) : Infinity,
    );
    if (d <= max) scored.push({ name, d });
  }
  return scored
    .sort((x, y) => x.d - y.d || x.name.localeCompare(y.name))
    .slice(0, limit)
    .map((s) => s.name);
}
