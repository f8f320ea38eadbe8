/**
 * Property tests of Kubernetes quantities beyond the examples in test/core/quantity.test.ts: every
 * suffix against an independent exact oracle, sub-byte memory (`400m`), parse → format → parse, and
 * hostile or huge values that may only ever produce the documented errors.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  QuantityError,
  compareQuantities,
  formatMemory,
  formatMemoryApprox,
  memoryBytes,
  memoryBytesBig,
  parseMemoryBytes,
  parseQuantity,
  quantitiesEqual,
  roundDownMemory,
  roundUpMemory,
  tryParseQuantity,
  type Quantity,
} from '../../core/quantity.js';

/** Every suffix the grammar has, with its exact multiplier as a fraction. */
const SUFFIXES: Record<string, { num: bigint; den: bigint; format: Quantity['format'] }> = {
  n: { num: 1n, den: 10n ** 9n, format: 'DecimalSI' },
  u: { num: 1n, den: 10n ** 6n, format: 'DecimalSI' },
  m: { num: 1n, den: 10n ** 3n, format: 'DecimalSI' },
  '': { num: 1n, den: 1n, format: 'DecimalSI' },
  k: { num: 10n ** 3n, den: 1n, format: 'DecimalSI' },
  M: { num: 10n ** 6n, den: 1n, format: 'DecimalSI' },
  G: { num: 10n ** 9n, den: 1n, format: 'DecimalSI' },
  T: { num: 10n ** 12n, den: 1n, format: 'DecimalSI' },
  P: { num: 10n ** 15n, den: 1n, format: 'DecimalSI' },
  E: { num: 10n ** 18n, den: 1n, format: 'DecimalSI' },
  Ki: { num: 1n << 10n, den: 1n, format: 'BinarySI' },
  Mi: { num: 1n << 20n, den: 1n, format: 'BinarySI' },
  Gi: { num: 1n << 30n, den: 1n, format: 'BinarySI' },
  Ti: { num: 1n << 40n, den: 1n, format: 'BinarySI' },
  Pi: { num: 1n << 50n, den: 1n, format: 'BinarySI' },
  Ei: { num: 1n << 60n, den: 1n, format: 'BinarySI' },
};

interface Written {
  text: string;
  /** The exact value as a fraction, computed without the parser. */
  num: bigint;
  den: bigint;
  format: Quantity['format'];
}

const digits = (min: number, max: number) => fc.string({ unit: fc.constantFrom(...'0123456789'), minLength: min, maxLength: max });

/** A quantity as a person or the API server could write it, with its value worked out independently. */
const written: fc.Arbitrary<Written> = fc
  .record({
    sign: fc.constantFrom('', '+', '-'),
    int: digits(0, 12),
    dot: fc.boolean(),
    frac: digits(0, 6),
    suffix: fc.oneof(
      fc.constantFrom(...Object.keys(SUFFIXES)).map((s) => ({ kind: 'si' as const, s })),
      fc
        .record({ e: fc.constantFrom('e', 'E'), sign: fc.constantFrom('', '+', '-'), exp: fc.integer({ min: 0, max: 30 }) })
        .map((x) => ({ kind: 'exp' as const, ...x })),
    ),
  })
  .filter(({ int, dot, frac }) => int.length > 0 || (dot && frac.length > 0))
  .map(({ sign, int, dot, frac, suffix }) => {
    const number = dot ? `${int}.${frac}` : int;
    const mantissa = BigInt(int + (dot ? frac : '') || '0') * (sign === '-' ? -1n : 1n);
    const scale = 10n ** BigInt(dot ? frac.length : 0);
    if (suffix.kind === 'si') {
      const m = SUFFIXES[suffix.s]!;
      return { text: `${sign}${number}${suffix.s}`, num: mantissa * m.num, den: scale * m.den, format: m.format };
    }
    const exp = suffix.sign === '-' ? -suffix.exp : suffix.exp;
    const num = exp >= 0 ? mantissa * 10n ** BigInt(exp) : mantissa;
    const den = exp >= 0 ? scale : scale * 10n ** BigInt(-exp);
    return { text: `${sign}${number}${suffix.e}${suffix.sign}${suffix.exp}`, num, den, format: 'DecimalExponent' as const };
  });

function gcd(a: bigint, b: bigint): bigint {
  a = a < 0n ? -a : a;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
}

function ceilDiv(num: bigint, den: bigint): bigint {
  const q = num / den;
  return num % den !== 0n && num > 0n ? q + 1n : q;
}

/** The same value written another way: as an exponent of ten over its exact decimal expansion where short. */
function equalText(w: Written): string {
  // num/den in lowest terms; den is a product of 2s and 5s only when a decimal form exists.
  const g = gcd(w.num, w.den);
  const num = w.num / g;
  let den = w.den / g;
  let scale = 0n;
  let top = num;
  while (den % 10n === 0n) {
    den /= 10n;
    scale++;
  }
  while (den % 2n === 0n) {
    den /= 2n;
    top *= 5n;
    scale++;
  }
  while (den % 5n === 0n) {
    den /= 5n;
    top *= 2n;
    scale++;
  }
  const text = `${top}e-${scale}`;
  return den === 1n && scale <= 60n && text.length <= 64 ? text : w.text;
}

describe('parseQuantity, every suffix', () => {
  it('reads every suffix, sign and decimal form exactly, as a reduced fraction', () => {
    fc.assert(
      fc.property(written, (w) => {
        const q = parseQuantity(w.text);
        expect(q.num * w.den).toBe(w.num * q.den);
        expect(q.den > 0n).toBe(true);
        expect(gcd(q.num, q.den) === 1n || q.num === 0n).toBe(true);
        expect(q.format).toBe(w.format);
        expect(q.text).toBe(w.text);
        expect(tryParseQuantity(w.text)).toEqual(q);
      }),
      { numRuns: 2000 },
    );
  });

  it('"1E" alone is exa, "1E3" is an exponent: the one ambiguity of the grammar', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 0, max: 20 }), (n, exp) => {
        expect(memoryBytesBig(parseQuantity(`${n}E`))).toBe(BigInt(n) * 10n ** 18n);
        expect(memoryBytesBig(parseQuantity(`${n}E${exp}`))).toBe(BigInt(n) * 10n ** BigInt(exp));
      }),
    );
  });

  it('memory below one byte rounds UP, as the kubelet does (400m is one byte, never zero)', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: -(10n ** 15n), max: 10n ** 15n }),
        fc.constantFrom(['m', 10n ** 3n], ['u', 10n ** 6n], ['n', 10n ** 9n]),
        (n, [suffix, per]) => {
          const bytes = memoryBytesBig(parseQuantity(`${n}${suffix as string}`));
          expect(bytes).toBe(ceilDiv(n, per as bigint));
          if (n > 0n) expect(bytes >= 1n).toBe(true);
        },
      ),
    );
    expect(memoryBytes(parseQuantity('400m'))).toBe(1);
    expect(parseMemoryBytes('400m')).toBe(1);
  });

  it('compares like the exact values do', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.tuple(written, written),
          written.map((w) => [w, w] as const),
          written.map((w) => [w, { ...w, text: equalText(w) }] as const),
        ),
        ([a, b]) => {
          const l = a.num * b.den;
          const r = b.num * a.den;
          expect(compareQuantities(parseQuantity(a.text), parseQuantity(b.text))).toBe(l < r ? -1 : l > r ? 1 : 0);
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('parse → format → parse', () => {
  it('formatting the bytes of any quantity gives a short quantity of exactly those bytes', () => {
    fc.assert(
      fc.property(written, (w) => {
        const bytes = memoryBytesBig(parseQuantity(w.text));
        fc.pre(bytes < 1n << 80n && bytes > -(1n << 80n));
        const text = formatMemory(bytes);
        expect(text.length).toBeLessThanOrEqual(64);
        expect(text).toMatch(/^-?\d+(\.5)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$/);
        const again = parseQuantity(text);
        expect(memoryBytesBig(again)).toBe(bytes);
        // A whole number of bytes survives the trip as the very same quantity.
        if (w.num % w.den === 0n) expect(quantitiesEqual(again, parseQuantity(w.text))).toBe(true);
        // And formatting is stable: the formatted text formats to itself.
        expect(formatMemory(memoryBytesBig(again))).toBe(text);
      }),
      { numRuns: 2000 },
    );
  });

  it('memoryBytes agrees with memoryBytesBig inside the safe range and says RangeError outside it', () => {
    fc.assert(
      fc.property(written, (w) => {
        const q = parseQuantity(w.text);
        const big = memoryBytesBig(q);
        const safe = big <= BigInt(Number.MAX_SAFE_INTEGER) && big >= -BigInt(Number.MAX_SAFE_INTEGER);
        if (safe) {
          expect(memoryBytes(q)).toBe(Number(big));
          expect(parseMemoryBytes(w.text)).toBe(Number(big));
        } else {
          expect(() => memoryBytes(q)).toThrow(RangeError);
          expect(parseMemoryBytes(w.text)).toBeUndefined();
        }
      }),
      { numRuns: 1000 },
    );
  });
});

/** Text near the grammar: valid pieces glued in the wrong order, huge exponents, lookalike characters. */
const nearQuantity = fc
  .array(
    fc.oneof(
      fc.constantFrom(
        '0',
        '1',
        '9',
        '.',
        '+',
        '-',
        'e',
        'E',
        'e+',
        'e-',
        'Ki',
        'Mi',
        'Gi',
        'Ei',
        'm',
        'n',
        'u',
        'k',
        'K',
        'i',
        ' ',
        '\u0660',
        '１',
        '\u00a0',
        'Infinity',
        'NaN',
        '0x',
        '_',
        ',',
      ),
      digits(1, 70),
    ),
    { maxLength: 8 },
  )
  .map((parts) => parts.join(''));

describe('huge and invalid values', () => {
  it('parseQuantity throws only a QuantityError that quotes a bounded prefix and says what to write', () => {
    fc.assert(
      fc.property(fc.oneof(nearQuantity, fc.string({ maxLength: 200 }), fc.string({ unit: 'grapheme', maxLength: 100 })), (s) => {
        let q: Quantity | undefined;
        try {
          q = parseQuantity(s);
        } catch (err) {
          expect(err).toBeInstanceOf(QuantityError);
          const message = (err as Error).message;
          expect(message).toMatch(/quantity/);
          expect(message.length).toBeLessThan(400);
          expect(tryParseQuantity(s)).toBeUndefined();
          return;
        }
        expect(tryParseQuantity(s)).toEqual(q);
        expect(s.length).toBeLessThanOrEqual(64);
      }),
      { numRuns: 3000 },
    );
  });

  it('parseMemoryBytes never throws, whatever it is given, and answers a safe integer or undefined', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.anything(),
          nearQuantity,
          written.map((w) => w.text),
        ),
        (v) => {
          const b = parseMemoryBytes(v);
          if (b !== undefined) expect(Number.isSafeInteger(b)).toBe(true);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('exponents and exa suffixes at the edge are exact or refused, never slow', () => {
    expect(memoryBytesBig(parseQuantity('9e64'))).toBe(9n * 10n ** 64n);
    expect(() => parseQuantity('9e65')).toThrow(QuantityError);
    expect(() => parseQuantity('1e-65')).toThrow(QuantityError);
    expect(() => parseQuantity(`1e${'9'.repeat(60)}`)).toThrow(QuantityError);
    const biggest = `${'9'.repeat(62)}Ei`;
    expect(memoryBytesBig(parseQuantity(biggest))).toBe(BigInt('9'.repeat(62)) << 60n);
    expect(parseMemoryBytes(biggest)).toBeUndefined();
  });

  it('formatMemory refuses what is not a whole number of bytes with a RangeError only', () => {
    fc.assert(
      fc.property(fc.oneof(fc.double(), fc.constantFrom(Number.NaN, Infinity, -Infinity, 2 ** 53, -(2 ** 53), 0.5, -0)), (n) => {
        try {
          const text = formatMemory(n);
          expect(Number.isSafeInteger(n)).toBe(true);
          expect(memoryBytes(parseQuantity(text))).toBe(n === 0 ? 0 : n);
        } catch (err) {
          expect(err).toBeInstanceOf(RangeError);
          expect(Number.isSafeInteger(n)).toBe(false);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('formatMemoryApprox and rounding never throw anything but a RangeError, and print no garbage', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.double(), fc.integer(), fc.constantFrom(Number.NaN, Infinity, -Infinity, Number.MAX_VALUE, Number.MIN_VALUE, 2 ** 70, -(2 ** 70))),
        (n) => {
          const text = formatMemoryApprox(n);
          expect(typeof text).toBe('string');
          if (Number.isFinite(n)) expect(text).not.toMatch(/NaN|undefined/);
          for (const round of [roundUpMemory, roundDownMemory]) {
            try {
              const r = round(n);
              expect(Number.isNaN(r)).toBe(false);
            } catch (err) {
              expect(err).toBeInstanceOf(RangeError);
              expect(Number.isFinite(n)).toBe(false);
            }
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
