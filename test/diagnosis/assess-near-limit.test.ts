import { describe, expect, it } from 'vitest';
import { assessNearLimit, slopeOf } from '../../diagnosis/assess-near-limit.js';

const Mi = 2 ** 20;
const LIMIT = 512 * Mi;
const series = (start: number, perSecond: number, n = 8, every = 30) =>
  Array.from({ length: n }, (_, i) => ({ at: 1_000_000 + i * every, bytes: Math.round(start + i * every * perSecond) }));

describe('assessNearLimit', () => {
  it('calls a container climbing past 90% rising, with the time to the limit from the slope', () => {
    // 450Mi climbing 0.1Mi/s (3Mi a sample): the last three samples are above 460.8Mi.
    const points = series(450 * Mi, 0.1 * Mi);
    const v = assessNearLimit(points, LIMIT, 0.9);
    expect(v.state).toBe('rising');
    expect(v.slope).toBeCloseTo(0.1 * Mi, 0);
    const last = points[points.length - 1]!.bytes;
    expect(v.etaSeconds).toBeCloseTo((LIMIT - last) / (0.1 * Mi), 0);
  });

  it('says nothing of a container steady at 60%, nor of one steady at 95%', () => {
    expect(assessNearLimit(series(0.6 * LIMIT, 0), LIMIT, 0.9).state).toBe('below');
    const steady = assessNearLimit(series(0.95 * LIMIT, 0), LIMIT, 0.9);
    expect(steady.state).toBe('high');
    expect(steady.etaSeconds).toBeUndefined();
  });

  it('needs the last three samples at or above the threshold: one sample over it is not yet a warning', () => {
    const points = series(430 * Mi, 0.1 * Mi, 7);
    points.push({ at: points[6]!.at + 30, bytes: 470 * Mi });
    expect(assessNearLimit(points, LIMIT, 0.9).state).toBe('below');
  });

  it('is below when the working set fell under the threshold, whatever came before', () => {
    const points = series(470 * Mi, 0.05 * Mi, 7);
    points.push({ at: points[6]!.at + 30, bytes: 200 * Mi });
    expect(assessNearLimit(points, LIMIT, 0.9).state).toBe('below');
  });

  it('slopeOf is the least-squares slope', () => {
    expect(slopeOf([{ at: 0, bytes: 0 }])).toBe(0);
    expect(
      slopeOf([
        { at: 0, bytes: 0 },
        { at: 10, bytes: 10 },
        { at: 20, bytes: 26 },
      ]),
    ).toBeCloseTo(1.3, 5);
  });
});
