/**
 * Defensive readers for objects that come off the wire. The client's types say a field is a string or a
 * Date, but a watch delivers raw JSON (dates as strings) and a broken object may hold null or anything.
 * Every reader returns undefined (or an empty array) instead of throwing.
 */

export type JsonRecord = Readonly<Record<string, unknown>>;

export function asRecord(value: unknown): JsonRecord | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as JsonRecord) : undefined;
}

/** An own property of an object (never one inherited from Object.prototype). */
export function field(value: unknown, key: string): unknown {
  const record = asRecord(value);
  return record !== undefined && Object.hasOwn(record, key) ? record[key] : undefined;
}

export function fieldAt(value: unknown, ...keys: readonly string[]): unknown {
  let current = value;
  for (const key of keys) current = field(current, key);
  return current;
}

export function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** A string with at least one non-blank character. */
export function asText(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

export function asInt(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isSafeInteger(value) ? value : undefined;
}

export function asArray(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

/** Kubernetes writes times as RFC 3339 (`2024-05-01T10:00:00Z`, MicroTime with fractions); Date.parse takes far more. */
const RFC3339_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

/** A Kubernetes time (Date from a list, RFC 3339 string from a watch) as ISO 8601, or undefined. */
export function toIso(value: unknown): string | undefined {
  let ms: number;
  if (value instanceof Date) ms = value.getTime();
  else if (typeof value === 'string' && value.length <= 64 && RFC3339_DATE.test(value)) ms = Date.parse(value);
  else return undefined;
  return Number.isNaN(ms) ? undefined : new Date(ms).toISOString();
}

/** The string values of a string map (labels, annotations); other values are dropped. */
export function stringMap(value: unknown): Readonly<Record<string, string>> {
  const record = asRecord(value);
  const out: Record<string, string> = {};
  if (record === undefined) return out;
  for (const [key, entry] of Object.entries(record)) {
    if (typeof entry === 'string') out[key] = entry;
  }
  return out;
}

/** Looks a key up in a map built by stringMap, ignoring inherited properties. */
export function lookup(map: Readonly<Record<string, string>>, key: string): string | undefined {
  return Object.hasOwn(map, key) ? map[key] : undefined;
}
