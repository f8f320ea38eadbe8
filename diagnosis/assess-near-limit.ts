/**
 * Is a container heading for its memory limit? Pure: the last few working-set samples and the limit in,
 * a verdict out. A container is "rising" when its last `minPoints` samples are all at or above `warnAt`
 * of the limit and the least-squares slope over the trailing points at or above it (of the last 8 the sampler
 * gives) is positive; the time to the limit is projected
 * from that slope.
 */

export interface NearLimitPoint {
  /** Epoch seconds. */
  at: number;
  bytes: number;
}

export interface NearLimitVerdict {
  state: 'rising' | 'high' | 'below';
  /** Latest working set as a share of the limit (0..1+). */
  share: number;
  bytes: number;
  /** Bytes per second over the recent points (least squares). */
  slope: number;
  /** Seconds until the limit at that slope; absent when not rising. */
  etaSeconds?: number;
}

/** Least-squares slope of bytes over seconds; 0 with fewer than two distinct times. */
export function slopeOf(points: readonly NearLimitPoint[]): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((s, p) => s + p.at, 0) / n;
  const my = points.reduce((s, p) => s + p.bytes, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.at - mx) * (p.bytes - my);
    den += (p.at - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

export function assessNearLimit(points: readonly NearLimitPoint[], limitBytes: number, warnAt: number, minPoints = 3): NearLimitVerdict {
  const last = points[points.length - 1];
  if (!last || limitBytes <= 0) return { state: 'below', share: 0, bytes: last?.bytes ?? 0, slope: 0 };
  const share = last.bytes / limitBytes;
  const threshold = warnAt * limitBytes;
  const recent = points.slice(-minPoints);
  const high = recent.length >= minPoints && recent.every((p) => p.bytes >= threshold);
  // The slope of the climb above the threshold only: a jump from far below would inflate it.
  let from = points.length - 1;
  while (from > 0 && points[from - 1]!.bytes >= threshold) from--;
  const slope = slopeOf(high ? points.slice(from) : recent);
  if (!high) return { state: 'below', share, bytes: last.bytes, slope };
  // Rising means more than noise: at least 0.1% of the limit per minute.
  if (slope * 60 <= limitBytes * 0.001) return { state: 'high', share, bytes: last.bytes, slope };
  return { state: 'rising', share, bytes: last.bytes, slope, etaSeconds: Math.max(0, (limitBytes - last.bytes) / slope) };
}
