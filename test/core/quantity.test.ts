import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  GiB,
  MiB,
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
} from '../../core/quantity.js';

const bytes = (s: string) => memoryBytes(parseQuantity(s));

describe('parseQuantity', () => {
  it.each([
    ['0', 0],
    ['1', 1],
    ['128974848', 128974848],
    ['1Ki', 1024],
    ['512Mi', 512 * MiB],
    ['1Gi', GiB],
    ['1.5Gi', 1.5 * GiB],
    ['2Ti', 2 * 1024 ** 4],
    ['1Pi', 1024 ** 5],
    ['1k', 1000],
    ['129M', 129_000_000],
    ['1G', 1e9],
    ['2T', 2e12],
    ['1P', 1e15],
    ['1e3', 1000],
    ['1E6', 1_000_000],
    ['1.5e3', 1500],
    ['12e-1', 2],
    ['+1Ki', 1024],
    ['.5Ki', 512],
    ['1.Ki', 1024],
    ['0.5', 1],
    ['912340Ki', 912340 * 1024],
  ])('%s is %d bytes', (text, expected) => {
    expect(bytes(text)).toBe(expected);
  });

  it('keeps 400m of memory as 0.4 bytes and rounds it UP to 1 byte, like the kubelet', () => {
    const q = parseQuantity('400m');
    expect(q.num).toBe(2n);
    expect(q.den).toBe(5n);
    expect(memoryBytes(q)).toBe(1);
    expect(memoryBytes(parseQuantity('1m'))).toBe(1);
    expect(memoryBytes(parseQuantity('1000m'))).toBe(1);
    expect(memoryBytes(parseQuantity('1001m'))).toBe(2);
    expect(memoryBytes(parseQuantity('500n'))).toBe(1);
    expect(memoryBytes(parseQuantity('3u'))).toBe(1);
  });

  it('handles signs exactly', () => {
    expect(parseQuantity('-1Ki').num).toBe(-1024n);
    expect(memoryBytes(parseQuantity('-400m'))).toBe(0);
    expect(memoryBytes(parseQuantity('-1.5'))).toBe(-1);
  });

  it('exa suffixes are exact beyond Number precision', () => {
    expect(memoryBytesBig(parseQuantity('1E'))).toBe(10n ** 18n);
    expect(memoryBytesBig(parseQuantity('1Ei'))).toBe(1n << 60n);
    expect(() => memoryBytes(parseQuantity('1Ei'))).toThrow(RangeError);
  });

  it('tells the format', () => {
    expect(parseQuantity('1Gi').format).toBe('BinarySI');
    expect(parseQuantity('1G').format).toBe('DecimalSI');
    expect(parseQuantity('1e9').format).toBe('DecimalExponent');
  });

  it.each(['', ' 1Gi', '1Gi ', '1GB', '1gi', 'Gi', '1.2.3', '--1', '1e', '1e1.5', '1Ki2', 'abc', '1 Gi', '0x10', 'NaN', 'Infinity', '1e999'])(
    'refuses %j with a clear error',
    (text) => {
      expect(() => parseQuantity(text)).toThrow(QuantityError);
      expect(() => parseQuantity(text)).toThrow(/quantity/);
      expect(tryParseQuantity(text)).toBeUndefined();
    },
  );

  it('refuses non-strings with a clear error, never a crash', () => {
    fc.assert(
      fc.property(
        fc.anything().filter((v) => typeof v !== 'string'),
        (v) => {
          expect(() => parseQuantity(v as never)).toThrow(QuantityError);
          expect(tryParseQuantity(v)).toBeUndefined();
        },
      ),
    );
  });

  it('never throws anything but a QuantityError on arbitrary strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 80 }), (s) => {
        try {
          parseQuantity(s);
        } catch (err) {
          expect(err).toBeInstanceOf(QuantityError);
        }
      }),
    );
  });

  it('refuses very long input before doing work', () => {
    expect(() => parseQuantity('1'.repeat(100_000))).toThrow(/longer than/);
  });
});

describe('comparisons', () => {
  it('compares exactly across suffixes', () => {
    const q = parseQuantity;
    expect(quantitiesEqual(q('1Gi'), q('1024Mi'))).toBe(true);
    expect(quantitiesEqual(q('1000m'), q('1'))).toBe(true);
    expect(quantitiesEqual(q('1e3'), q('1k'))).toBe(true);
    expect(compareQuantities(q('1Gi'), q('1G'))).toBe(1);
    expect(compareQuantities(q('999Mi'), q('1Gi'))).toBe(-1);
    expect(compareQuantities(q('400m'), q('1'))).toBe(-1);
  });

  it('is antisymmetric', () => {
    const arb = fc.tuple(fc.integer({ min: -1e6, max: 1e6 }), fc.constantFrom('', 'm', 'k', 'Ki', 'Mi', 'M', 'Gi'));
    fc.assert(
      fc.property(arb, arb, ([a, sa], [b, sb]) => {
        const qa = parseQuantity(`${a}${sa}`);
        const qb = parseQuantity(`${b}${sb}`);
        expect(compareQuantities(qa, qb)).toBe(-compareQuantities(qb, qa) || 0);
      }),
    );
  });
});

describe('formatMemory', () => {
  it.each([
    [0, '0'],
    [1, '1'],
    [1000, '1k'],
    [1024, '1Ki'],
    [1536, '1.5Ki'],
    [512 * MiB, '512Mi'],
    [GiB, '1Gi'],
    [1.5 * GiB, '1.5Gi'],
    [1280 * MiB, '1280Mi'],
    [1.4 * GiB - ((1.4 * GiB) % 1024), '1468006Ki'],
    [2816 * MiB, '2816Mi'],
    [1e9, '1G'],
    [250_000_000, '250M'],
    [1001, '1001'],
    [-512 * MiB, '-512Mi'],
  ])('%d bytes is %s', (b, text) => {
    expect(formatMemory(b)).toBe(text);
  });

  it('round-trips: parse(format(b)) is exactly b', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.nat({ max: Number.MAX_SAFE_INTEGER }),
          fc.integer({ min: 0, max: 1 << 20 }).map((n) => n * MiB),
          fc.integer({ min: 0, max: 64 }).map((n) => n * 512 * MiB),
        ),
        (b) => {
          expect(memoryBytes(parseQuantity(formatMemory(b)))).toBe(b);
        },
      ),
    );
    fc.assert(
      fc.property(fc.bigInt({ min: -(1n << 70n), max: 1n << 70n }), (b) => {
        expect(memoryBytesBig(parseQuantity(formatMemory(b)))).toBe(b);
      }),
    );
  });

  it('parse then format keeps the value of binary quantities', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100_000 }), fc.constantFrom('Ki', 'Mi', 'Gi'), (n, unit) => {
        const b = bytes(`${n}${unit}`);
        expect(bytes(formatMemory(b))).toBe(b);
      }),
    );
  });

  it('refuses fractions of bytes', () => {
    expect(() => formatMemory(0.5)).toThrow(RangeError);
  });
});

describe('formatMemoryApprox', () => {
  it('is exact when short, approximate otherwise', () => {
    expect(formatMemoryApprox(512 * MiB)).toBe('512Mi');
    expect(formatMemoryApprox(1.5 * GiB)).toBe('1.5Gi');
    expect(formatMemoryApprox(912340 * 1024)).toBe('~891Mi');
    expect(formatMemoryApprox(1.46 * GiB)).toBe('~1.46Gi');
    expect(formatMemoryApprox(614.4 * MiB)).toBe('~614Mi');
  });
});

describe('roundUpMemory', () => {
  it.each([
    [100 * MiB, 128 * MiB],
    [614.4 * MiB, 640 * MiB],
    [640 * MiB, 640 * MiB],
    [1.2 * GiB, 1280 * MiB],
    [2730 * MiB, 2816 * MiB],
    [9.3 * GiB, 10 * GiB],
    [33 * GiB, 36 * GiB],
  ])('%d → %d', (b, expected) => {
    expect(roundUpMemory(b)).toBe(expected);
  });

  it('never rounds down, and adds less than one step', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 2 ** 45 }), (b) => {
        const r = roundUpMemory(b);
        expect(r).toBeGreaterThanOrEqual(b);
        expect(r - b).toBeLessThan(Math.max(64 * MiB, r * 0.15));
        expect(formatMemory(r)).toMatch(/^\d+(\.5)?(Mi|Gi|Ti)$/);
        expect(roundDownMemory(b)).toBeLessThanOrEqual(b);
      }),
    );
  });

  it('takes an explicit step', () => {
    expect(roundUpMemory(100 * MiB, 256 * MiB)).toBe(256 * MiB);
  });
});

describe('parseMemoryBytes', () => {
  it('is undefined for missing, invalid or absurd input', () => {
    expect(parseMemoryBytes(undefined)).toBeUndefined();
    expect(parseMemoryBytes('lots')).toBeUndefined();
    expect(parseMemoryBytes('8Ei')).toBeUndefined();
    expect(parseMemoryBytes('256Mi')).toBe(256 * MiB);
  });
});
