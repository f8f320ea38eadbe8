/** Seedable pseudo-random numbers, so a seeded cluster always produces the same names and ids. */

/** Characters Kubernetes uses for generated name suffixes (k8s.io/apimachinery utilrand). */
export const NAME_ALPHABET = 'bcdfghjklmnpqrstvwxz2456789';
/** Characters that are both hex digits and in NAME_ALPHABET: pod-template hashes look hex and are valid. */
const HASH_ALPHABET = '245679bcdf8';
const HEX = '0123456789abcdef';

export class Rand {
  private state: number;

  constructor(seed?: number) {
    this.state = (seed ?? Math.floor(Math.random() * 0xffffffff)) >>> 0 || 0x9e3779b9;
  }

  /** mulberry32: fast, good enough for names and ids. */
  next(): number {
    let t = (this.state = (this.state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }

  chars(alphabet: string, n: number): string {
    let s = '';
    for (let i = 0; i < n; i++) s += alphabet[this.int(alphabet.length)];
    return s;
  }

  hex(n: number): string {
    let s = '';
    while (s.length < n) {
      const v = (this.next() * 0x100000000) >>> 0;
      s += v.toString(16).padStart(8, '0');
    }
    return s.slice(0, n);
  }

  /** Random (version 4) UUID. */
  uuid(): string {
    const h = this.hex(32);
    const variant = HEX[8 + this.int(4)];
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
  }

  /** The 5-character suffix of generated names (`api-7f9c6d5b8c-x2k9q`). */
  suffix(): string {
    return this.chars(NAME_ALPHABET, 5);
  }
}

/** FNV-1a over a string, 32 bits. */
export function fnv32a(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Deterministic 10-character pod-template hash of a template (same template, same hash). */
export function templateHash(template: unknown): string {
  const json = JSON.stringify(template ?? {});
  let a = fnv32a(json);
  let b = fnv32a(json, 0x01000193 ^ a);
  let s = '';
  for (let i = 0; i < 10; i++) {
    const src = i < 5 ? a : b;
    s += HASH_ALPHABET[src % HASH_ALPHABET.length];
    if (i < 5) a = Math.floor(a / HASH_ALPHABET.length);
    else b = Math.floor(b / HASH_ALPHABET.length);
  }
  return s;
}

/** Deterministic 64-hex digest of a string (image digests). */
export function digest64(text: string): string {
  let s = '';
  for (let i = 0; s.length < 64; i++)
    s += fnv32a(text, 0x811c9dc5 ^ Math.imul(i + 1, 0x9e3779b1))
      .toString(16)
      .padStart(8, '0');
  return s.slice(0, 64);
}
