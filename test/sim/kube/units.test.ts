import { describe, expect, it } from 'vitest';
import { canonicalQuantity, formatBytes } from '../../../sim/kube/index.js';
import { bytesOf, compareValues, nanoOf, quantityValue } from '../../../sim/kube/units.js';

describe('quantities in the simulated cluster', () => {
  it('prints quantities the way resource.Quantity String() does', () => {
    expect(canonicalQuantity('200Mi')).toBe('200Mi');
    expect(canonicalQuantity('0.5Gi')).toBe('512Mi');
    expect(canonicalQuantity('1.5Gi')).toBe('1536Mi');
    expect(canonicalQuantity('2048Mi')).toBe('2Gi');
    expect(canonicalQuantity('1G')).toBe('1G');
    expect(canonicalQuantity('1.5G')).toBe('1500M');
    expect(canonicalQuantity('1000M')).toBe('1G');
    expect(canonicalQuantity('0.1')).toBe('100m');
    expect(canonicalQuantity('1000m')).toBe('1');
    expect(canonicalQuantity('0.5Ki')).toBe('512');
    expect(canonicalQuantity('1e9')).toBe('1e9');
    expect(canonicalQuantity(512)).toBe('512');
    expect(canonicalQuantity('0')).toBe('0');
    expect(canonicalQuantity('nonsense')).toBe('nonsense');
  });

  it('formats bytes as BinarySI', () => {
    expect(formatBytes(912340 * 1024)).toBe('912340Ki');
    expect(formatBytes(1280 * 2 ** 20)).toBe('1280Mi');
    expect(formatBytes(2 ** 30)).toBe('1Gi');
    expect(formatBytes(1000)).toBe('1k');
    expect(formatBytes(1025)).toBe('1025');
    expect(formatBytes(0)).toBe('0');
  });

  it('reads values exactly, with memory rounded up to whole bytes', () => {
    expect(bytesOf('400m')).toBe(1);
    expect(bytesOf('1Gi')).toBe(2 ** 30);
    expect(bytesOf(undefined)).toBeUndefined();
    expect(quantityValue('250m')).toBe(0.25);
    expect(compareValues('1Gi', '1024Mi')).toBe(0);
    expect(compareValues('1Gi', '1G')).toBe(1);
    expect(compareValues('1Gi', 'x')).toBeUndefined();
    expect(nanoOf('100m')).toBe(100_000_000n);
  });
});
