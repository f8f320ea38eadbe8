import { parseArgs } from 'node:util';

export const BENCHMARKS = ['watcher', 'latency', 'storm', 'head-of-line', 'scale', 'reads', 'bot', 'sampler', 'clusters'] as const;
export type BenchmarkName = (typeof BENCHMARKS)[number];

export interface BenchOptions {
  help: boolean;
  /** Cluster sizes (pods) of the watcher benchmark. */
  sizes: number[];
  /** Pods in the background cluster of the latency benchmark, one run each. */
  latencySizes: number[];
  /** Pods (one container with a limit each) of the sampler benchmark. */
  samplerSizes: number[];
  only: BenchmarkName[];
}

export const DEFAULT_SIZES = [10_000, 50_000, 100_000];
export const DEFAULT_LATENCY_SIZES = [1_000, 10_000, 50_000];
export const DEFAULT_SAMPLER_SIZES = [10_000, 50_000];

export const USAGE = `usage: npm run bench -- [--sizes 10000,50000,100000] [--latency-sizes 1000,10000,50000] [--only watcher,latency,storm,head-of-line,scale,reads,bot,sampler,clusters] [--sampler-sizes 10000,50000] [--help]

  --sizes N,...          pods in the cluster for the watcher benchmark (oombot against a naive informer)
  --latency-sizes N,...  pods in the background cluster, one end-to-end latency run for each
  --sampler-sizes N,...  pods (one container with a memory limit each) for the sampler benchmark
  --only NAME,...        run only these benchmarks: ${BENCHMARKS.join(', ')} (default: all)
  --help                 print this and exit

Writes bench/results/latest.md and bench/results/latest.svg. Needs Redis (REDIS_URL, default redis://127.0.0.1:6379).`;

/** A command line that cannot be run: the message says what is wrong, USAGE says what is right. */
export class UsageError extends Error {}

function parseSizes(option: string, value: string | undefined, fallback: number[]): number[] {
  if (value === undefined) return fallback;
  const sizes = value.split(',').map((s) => Number(s.trim().replace(/_/g, '')));
  if (sizes.length === 0 || sizes.some((n) => !Number.isInteger(n) || n < 1)) {
    throw new UsageError(`--${option} takes positive whole numbers separated by commas, e.g. 10000,50000 (got "${value}")`);
  }
  return sizes;
}

function parseOnly(value: string | undefined): BenchmarkName[] {
  if (value === undefined) return [...BENCHMARKS];
  const names = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const unknown = names.filter((n) => !(BENCHMARKS as readonly string[]).includes(n));
  if (names.length === 0 || unknown.length > 0) {
    throw new UsageError(`--only takes ${BENCHMARKS.join(', ')} (got "${value}")`);
  }
  return BENCHMARKS.filter((b) => names.includes(b));
}

export function parseBenchOptions(argv: string[]): BenchOptions {
  let values: { sizes?: string; 'latency-sizes'?: string; 'sampler-sizes'?: string; only?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        sizes: { type: 'string' },
        'latency-sizes': { type: 'string' },
        'sampler-sizes': { type: 'string' },
        only: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  return {
    help: values.help ?? false,
    sizes: parseSizes('sizes', values.sizes, DEFAULT_SIZES),
    latencySizes: parseSizes('latency-sizes', values['latency-sizes'], DEFAULT_LATENCY_SIZES),
    samplerSizes: parseSizes('sampler-sizes', values['sampler-sizes'], DEFAULT_SAMPLER_SIZES),
    only: parseOnly(values.only),
  };
}
