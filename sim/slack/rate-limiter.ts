import type { RateLimitRule } from './types.js';

/** Slack's published limits, as the simulated workspace enforces them by default. */
export const DEFAULT_RATE_LIMITS: Record<string, RateLimitRule> = {
  // "about 1 message per second per channel, short bursts tolerated"
  'chat.postMessage': { perSecond: 1, burst: 3, scope: 'channel' },
  // tier 3: about 50 per minute
  'chat.update': { perSecond: 50 / 60, burst: 50, scope: 'workspace' },
  // tier 2: about 20 per minute
  'conversations.list': { perSecond: 20 / 60, burst: 20, scope: 'workspace' },
  // tier 3 for an internal app (see NON_MARKETPLACE_RATE_LIMITS for distributed apps)
  'conversations.history': { perSecond: 50 / 60, burst: 50, scope: 'workspace' },
  'conversations.replies': { perSecond: 50 / 60, burst: 50, scope: 'workspace' },
};

/** Since 2025, apps distributed outside the Marketplace read history at tier 1: 1 request per minute. */
export const NON_MARKETPLACE_RATE_LIMITS: Record<string, RateLimitRule> = {
  'conversations.history': { perSecond: 1 / 60, burst: 1, scope: 'workspace' },
  'conversations.replies': { perSecond: 1 / 60, burst: 1, scope: 'workspace' },
};

interface Bucket {
  tokens: number;
  updatedAt: number;
}

/** Token buckets keyed by method (and channel when the rule says so). */
export class RateLimiter {
  private readonly rules = new Map<string, RateLimitRule>();
  private readonly buckets = new Map<string, Bucket>();
  limitedCount = 0;

  constructor(
    private readonly now: () => number,
    overrides: Record<string, Partial<RateLimitRule> | null> = {},
  ) {
    for (const [method, rule] of Object.entries(DEFAULT_RATE_LIMITS)) this.rules.set(method, rule);
    for (const [method, rule] of Object.entries(overrides)) this.set(method, rule);
  }

  /** Replaces the rule for a method (merged over its current rule); `null` removes the limit. */
  set(method: string, rule: Partial<RateLimitRule> | null): void {
    for (const key of this.buckets.keys()) if (key.startsWith(`${method}|`)) this.buckets.delete(key);
    if (rule === null) {
      this.rules.delete(method);
      return;
    }
    const base = this.rules.get(method) ?? { perSecond: 1, burst: 1, scope: 'workspace' as const };
    this.rules.set(method, { ...base, ...rule });
  }

  rule(method: string): RateLimitRule | undefined {
    return this.rules.get(method);
  }

  /**
   * Takes one call from the bucket. Returns undefined when allowed, or the Retry-After in whole seconds
   * (at least 1, or the rule's fixed value) when the call must be answered with 429.
   */
  take(method: string, channel: string | undefined): number | undefined {
    const rule = this.rules.get(method);
    if (!rule) return undefined;
    const key = `${method}|${rule.scope === 'channel' ? (channel ?? '') : '*'}`;
    const now = this.now();
    const bucket = this.buckets.get(key) ?? { tokens: rule.burst, updatedAt: now };
    bucket.tokens = Math.min(rule.burst, bucket.tokens + ((now - bucket.updatedAt) / 1000) * rule.perSecond);
    bucket.updatedAt = now;
    this.buckets.set(key, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return undefined;
    }
    this.limitedCount += 1;
    if (rule.retryAfterSeconds !== undefined) return rule.retryAfterSeconds;
    return Math.max(1, Math.ceil((1 - bucket.tokens) / rule.perSecond));
  }

  reset(): void {
    this.buckets.clear();
    this.limitedCount = 0;
  }
}
