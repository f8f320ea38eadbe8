/**
 * Exact Kubernetes resource quantities (`512Mi`, `1.5Gi`, `400m`, `1e9`, `-2k`).
 *
 * A quantity is kept as an exact fraction `num / den` of base units (bytes for memory), so nothing is
 * lost to floating point: `400m` of memory is 2/5 of a byte, and `memoryBytes` rounds it UP to 1 byte
 * as the kubelet does. Grammar (as in k8s.io/apimachinery `resource.Quantity`):
 *
 *   quantity ::= [+-] number suffix
 *   number   ::= digits | digits "." digits? | "." digits
 *   suffix   ::= "" | n | u | m | k | M | G | T | P | E          (powers of 1000)
 *              | Ki | Mi | Gi | Ti | Pi | Ei                    (powers of 1024)
 *              | (e | E) [+-] digits                            (powers of 10; "1E" alone is exa)
 */

export type QuantityFormat = 'BinarySI' | 'DecimalSI' | 'DecimalExponent';

export interface Quantity {
  /** Numerator of the exact value in base units; carries the sign. */
  readonly num: bigint;
  /** Denominator, always > 0; the fraction is reduced. */
  readonly den: bigint;
  readonly format: QuantityFormat;
  /** The text it was parsed from. */
  readonly text: string;
}

export class QuantityError extends Error {
  override readonly name = 'QuantityError';
}

export const KiB = 1024;
export const MiB = 1024 ** 2;
export const GiB = 1024 ** 3;
export const TiB = 1024 ** 4;

const BINARY: Record<string, bigint> = {
  Ki: 1n << 10n,
  Mi: 1n << 20n,
  Gi: 1n << 30n,
  Ti: 1n << 40n,
  Pi: 1n << 50n,
  Ei: 1n << 60n,
};
/** Decimal SI suffixes as powers of ten. */
const DECIMAL: Record<string, number> = { n: -9, u: -6, m: -3, '': 0, k: 3, M: 6, G: 9, T: 12, P: 15, E: 18 };

const QUANTITY = /^([+-]?)(\d+(?:\.\d*)?|\.\d+)(?:(Ki|Mi|Gi|Ti|Pi|Ei)|[eE]([+-]?\d+)|(n|u|m|k|M|G|T|P|E)?)$/;
/** Longer input is refused before any regex or bigint work (Kubernetes' own quantities are short). */
const MAX_TEXT = 64;
/** `1e99999999` would make a number with a hundred million digits. */
const MAX_EXPONENT = 64;

const EXAMPLES = 'use a number with an optional suffix like 512Mi, 1.5Gi, 400m, 2G or 1e9';

function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > MAX_TEXT ? `${value.slice(0, MAX_TEXT)}…` : value);
  if (value === null) return 'null';
  return `a ${typeof value}`;
}

function gcd(a: bigint, b: bigint): bigint {
  a = a < 0n ? -a : a;
  b = b < 0n ? -b : b;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

function make(num: bigint, den: bigint, format: QuantityFormat, text: string): Quantity {
  const g = gcd(num, den) || 1n;
  return { num: num / g, den: den / g, format, text };
}

/** Parses a Kubernetes quantity exactly. Throws a QuantityError that says what is wrong and what to write. */
export function parseQuantity(s: string): Quantity {
  if (typeof s !== 'string') {
    throw new QuantityError(`${describe(s)} is not a Kubernetes quantity: expected a string; ${EXAMPLES}`);
  }
  if (s.length === 0) throw new QuantityError(`"" is not a Kubernetes quantity: it is empty; ${EXAMPLES}`);
  if (s.length > MAX_TEXT) {
    throw new QuantityError(`${describe(s)} is not a Kubernetes quantity: longer than ${MAX_TEXT} characters`);
  }
  const m = QUANTITY.exec(s);
  if (!m) throw new QuantityError(`${describe(s)} is not a Kubernetes quantity: ${EXAMPLES}`);
  const [, sign, number, binary, exponent, decimal] = m as unknown as [string, string, string, string?, string?, string?];
  const [intPart = '', fracPart = ''] = number.split('.');
  let num = BigInt((intPart + fracPart).replace(/^0+(?=\d)/, '') || '0');
  let den = 10n ** BigInt(fracPart.length);
  if (sign === '-') num = -num;

  let format: QuantityFormat;
  if (binary !== undefined) {
    format = 'BinarySI';
    num *= BINARY[binary] as bigint;
  } else {
    let pow: number;
    if (exponent !== undefined) {
      format = 'DecimalExponent';
      pow = Number(exponent);
      if (!Number.isSafeInteger(pow) || Math.abs(pow) > MAX_EXPONENT) {
        throw new QuantityError(`${describe(s)} is not a usable quantity: exponent ${exponent} is out of range (at most ±${MAX_EXPONENT})`);
      }
    } else {
      format = 'DecimalSI';
      pow = DECIMAL[decimal ?? ''] as number;
    }
    if (pow >= 0) num *= 10n ** BigInt(pow);
    else den *= 10n ** BigInt(-pow);
  }
  return make(num, den, format, s);
}

/** Like parseQuantity, but undefined instead of an error (for optional, untrusted fields). */
export function tryParseQuantity(s: unknown): Quantity | undefined {
  if (typeof s !== 'string') return undefined;
  try {
    return parseQuantity(s);
  } catch {
    return undefined;
  }
}

/** -1, 0 or 1, exactly (`1Gi` > `1G`, `1024Mi` == `1Gi`, `1000m` == `1`). */
export function compareQuantities(a: Quantity, b: Quantity): -1 | 0 | 1 {
  const l = a.num * b.den;
  const r = b.num * a.den;
  return l < r ? -1 : l > r ? 1 : 0;
}

export function quantitiesEqual(a: Quantity, b: Quantity): boolean {
  return compareQuantities(a, b) === 0;
}

/** Smallest integer >= num/den. */
function ceilDiv(num: bigint, den: bigint): bigint {
  const q = num / den;
  return num % den !== 0n && num > 0n ? q + 1n : q;
}

/** Whole bytes, rounded UP as the kubelet does (`400m` → 1n, `1.5` → 2n). */
export function memoryBytesBig(q: Quantity): bigint {
  return ceilDiv(q.num, q.den);
}

/** Whole bytes as a number, rounded up; throws a RangeError above Number.MAX_SAFE_INTEGER (8 PiB). */
export function memoryBytes(q: Quantity): number {
  const b = memoryBytesBig(q);
  if (b > BigInt(Number.MAX_SAFE_INTEGER) || b < -BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new RangeError(`memory quantity "${q.text}" is too large to handle as bytes`);
  }
  return Number(b);
}

/** Bytes of a memory quantity string, or undefined when absent, invalid or absurdly large. */
export function parseMemoryBytes(s: unknown): number | undefined {
  const q = tryParseQuantity(s);
  if (!q) return undefined;
  try {
    return memoryBytes(q);
  } catch {
    return undefined;
  }
}

/** Binary suffixes, largest first, with their size in bytes. */
export const BINARY_UNITS: readonly [string, bigint][] = [
  ['Ei', 1n << 60n],
  ['Pi', 1n << 50n],
  ['Ti', 1n << 40n],
  ['Gi', 1n << 30n],
  ['Mi', 1n << 20n],
  ['Ki', 1n << 10n],
];
const DECIMAL_UNITS: readonly [string, bigint][] = [
  ['E', 10n ** 18n],
  ['P', 10n ** 15n],
  ['T', 10n ** 12n],
  ['G', 10n ** 9n],
  ['M', 10n ** 6n],
  ['k', 10n ** 3n],
];

function toBig(bytes: number | bigint): bigint {
  if (typeof bytes === 'bigint') return bytes;
  if (!Number.isSafeInteger(bytes)) throw new RangeError(`${bytes} is not a whole number of bytes`);
  return BigInt(bytes);
}

/**
 * A whole number of bytes as a human, exact Kubernetes quantity:
 * - the largest binary unit that divides it: `512Mi`, `3Gi`, `1536Ki`... but first
 * - one decimal in the largest unit not above it, only when exact: `1.5Gi` (never `1.4Gi` for 1.4 GiB);
 * - otherwise the largest binary unit that divides it (`1280Mi`, not `1.25Gi`);
 * - a value that no binary unit divides but a decimal one does: `1G`, `250M`;
 * - else plain bytes.
 * `parseQuantity(formatMemory(b))` is always exactly b.
 */
export function formatMemory(bytes: number | bigint): string {
  let b = toBig(bytes);
  if (b === 0n) return '0';
  const sign = b < 0n ? '-' : '';
  if (b < 0n) b = -b;
  const top = BINARY_UNITS.find(([, size]) => b >= size);
  if (top) {
    const [unit, size] = top;
    if (b % size === 0n) return `${sign}${b / size}${unit}`;
    if ((b * 2n) % size === 0n) return `${sign}${b / size}.5${unit}`;
  }
  for (const [unit, size] of BINARY_UNITS) {
    if (b >= size && b % size === 0n) return `${sign}${b / size}${unit}`;
  }
  for (const [unit, size] of DECIMAL_UNITS) {
    if (b >= size && b % size === 0n) return `${sign}${b / size}${unit}`;
  }
  return `${sign}${b}`;
}

/**
 * For reading, not for patching: `891Mi` → `891Mi`, 912340Ki → `~891Mi`, 1.46 GiB → `~1.46Gi`.
 * Exact values come out as formatMemory would write them when that is short.
 */
export function formatMemoryApprox(bytes: number): string {
  if (!Number.isFinite(bytes)) return String(bytes);
  const exact = Number.isSafeInteger(bytes) ? formatMemory(bytes) : '';
  if (/^-?\d{1,4}(\.5)?[KMGTPE]i$/.test(exact) || /^-?\d{1,4}$/.test(exact)) return exact;
  const abs = Math.abs(bytes);
  const units: [string, number][] = [
    ['Ei', 2 ** 60],
    ['Pi', 2 ** 50],
    ['Ti', 2 ** 40],
    ['Gi', 2 ** 30],
    ['Mi', 2 ** 20],
    ['Ki', 2 ** 10],
  ];
  const found = units.find(([, size]) => abs >= size);
  if (!found) return `~${Math.round(bytes)}`;
  const [unit, size] = found;
  const v = abs / size;
  const digits = v >= 100 ? 0 : v >= 10 ? 1 : 2;
  const text = Number(v.toFixed(digits)).toString();
  return `~${bytes < 0 ? '-' : ''}${text}${unit}`;
}

/**
 * The step proposals are rounded to, so a new limit reads like one a person would write:
 * below 1Gi: 64Mi; 1Gi to 2Gi: 128Mi; 2Gi to 8Gi: 256Mi; 8Gi to 32Gi: 1Gi; above: 4Gi.
 * Each step is at most about 12% of the value, well under the 20% bump a proposal adds.
 */
export function memoryStep(bytes: number): number {
  if (bytes < GiB) return 64 * MiB;
  if (bytes < 2 * GiB) return 128 * MiB;
  if (bytes < 8 * GiB) return 256 * MiB;
  if (bytes < 32 * GiB) return GiB;
  return 4 * GiB;
}

/** Rounds bytes up to a multiple of `step` (default memoryStep(bytes)); a multiple stays as is. */
export function roundUpMemory(bytes: number, step: number = memoryStep(bytes)): number {
  if (!Number.isFinite(bytes) || !(step > 0)) throw new RangeError(`cannot round ${bytes} to a step of ${step}`);
  return Math.ceil(bytes / step) * step;
}

/** Rounds bytes down to a multiple of `step` (default memoryStep(bytes)); used under a cap. */
export function roundDownMemory(bytes: number, step: number = memoryStep(bytes)): number {
  if (!Number.isFinite(bytes) || !(step > 0)) throw new RangeError(`cannot round ${bytes} to a step of ${step}`);
  return Math.floor(bytes / step) * step;
}
