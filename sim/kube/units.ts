/**
 * Quantities as the simulated API server and kubelet use them, on top of the exact parser in
 * core/quantity.ts: values for sums and defaults, exact comparison, and the canonical text that
 * resource.Quantity's String() prints (what the API server and kubelet write into messages).
 */
import { BINARY_UNITS, compareQuantities, memoryBytesBig, tryParseQuantity, type Quantity } from '../../core/quantity.js';

/** A quantity from JSON: Kubernetes accepts both `"512Mi"` and a plain number. */
export function quantityOf(v: unknown): Quantity | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return tryParseQuantity(String(v));
  return tryParseQuantity(v);
}

/** Value in base units (bytes, cores) as a float, for sums and defaults; undefined when absent or invalid. */
export function quantityValue(v: unknown): number | undefined {
  const q = quantityOf(v);
  return q ? Number(q.num) / Number(q.den) : undefined;
}

/** Whole bytes, rounded up as the kubelet does (`400m` is 1 byte); undefined when absent or invalid. */
export function bytesOf(v: unknown): number | undefined {
  const q = quantityOf(v);
  return q ? Number(memoryBytesBig(q)) : undefined;
}

/** Exact comparison of two quantity values (-1, 0, 1); undefined when either is absent or invalid. */
export function compareValues(a: unknown, b: unknown): -1 | 0 | 1 | undefined {
  const qa = quantityOf(a);
  const qb = quantityOf(b);
  return qa && qb ? compareQuantities(qa, qb) : undefined;
}

/** Value scaled to nano units as an exact bigint (rounded up below 1n), for exact sums. */
export function nanoOf(v: unknown): bigint | undefined {
  const q = quantityOf(v);
  if (!q) return undefined;
  const n = q.num * 1_000_000_000n;
  const r = n / q.den;
  return n % q.den !== 0n && n > 0n ? r + 1n : r;
}

const DECIMAL_SUFFIX: Record<number, string> = { [-9]: 'n', [-6]: 'u', [-3]: 'm', 0: '', 3: 'k', 6: 'M', 9: 'G', 12: 'T', 15: 'P', 18: 'E' };

function decimalText(num: bigint, den: bigint, exponentStyle: boolean): string {
  if (num === 0n) return '0';
  const sign = num < 0n ? '-' : '';
  const n = num < 0n ? -num : num;
  // The largest power 10^(3k) that leaves a whole mantissa; below nano, round up to nano.
  for (let e = 18; e >= -9; e -= 3) {
    const scaledNum = e >= 0 ? n : n * 10n ** BigInt(-e);
    const scaledDen = e >= 0 ? den * 10n ** BigInt(e) : den;
    if (scaledNum % scaledDen === 0n) {
      const mantissa = scaledNum / scaledDen;
      if (exponentStyle) return `${sign}${mantissa}${e === 0 ? '' : `e${e}`}`;
      return `${sign}${mantissa}${DECIMAL_SUFFIX[e]}`;
    }
  }
  const nanos = (n * 1_000_000_000n + den - 1n) / den;
  return exponentStyle ? `${sign}${nanos}e-9` : `${sign}${nanos}n`;
}

/** resource.Quantity String() of a parsed quantity: `0.5Gi` → `512Mi`, `1.5G` → `1500M`, `0.1` → `100m`. */
export function canonical(q: Quantity): string {
  if (q.format === 'BinarySI' && q.den === 1n) {
    const abs = q.num < 0n ? -q.num : q.num;
    if (abs >= 1024n) {
      for (const [unit, size] of BINARY_UNITS) if (abs % size === 0n) return `${q.num / size}${unit}`;
      return String(q.num);
    }
  }
  return decimalText(q.num, q.den, q.format === 'DecimalExponent');
}

/** Canonical text of a quantity string (or number); the input unchanged when it does not parse. */
export function canonicalQuantity(v: unknown): string {
  const q = quantityOf(v);
  return q ? canonical(q) : String(v);
}

/** Whole bytes as a BinarySI quantity prints them: `912340Ki`, `200Mi`, `1536Mi`, `0`. */
export function formatBytes(bytes: number | bigint): string {
  const b = typeof bytes === 'bigint' ? bytes : BigInt(Math.round(bytes));
  return canonical({ num: b, den: 1n, format: 'BinarySI', text: String(b) });
}

/** metrics-server style memory usage: whole Ki. */
export function formatKi(bytes: number): string {
  return `${Math.round(bytes / 1024)}Ki`;
}
