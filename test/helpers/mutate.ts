/**
 * A JSON tree with the value at one path replaced by `replacement`, or its key removed (`remove`, at the
 * last step of an object). Path steps index the entries of each level modulo their count, so any
 * generated path lands somewhere. The input is never changed.
 */
export function mutate(value: unknown, path: readonly number[], replacement: unknown, remove: boolean): unknown {
  if (path.length === 0 || typeof value !== 'object' || value === null) return replacement;
  const entries = Array.isArray(value) ? value.map((v, i) => [String(i), v] as const) : Object.entries(value);
  if (entries.length === 0) return replacement;
  const [step, ...rest] = path;
  const index = step! % entries.length;
  const copy: Record<string, unknown> | unknown[] = Array.isArray(value) ? [...value] : { ...(value as Record<string, unknown>) };
  const key = entries[index]![0];
  if (remove && rest.length === 0 && !Array.isArray(copy)) delete (copy as Record<string, unknown>)[key];
  else (copy as Record<string, unknown>)[key] = mutate(entries[index]![1], rest, replacement, remove);
  return copy;
}
