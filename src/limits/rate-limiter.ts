/**
 * Rate limiting per caller: a token bucket per user (whatever credential they use) and, for calls
 * without a user, per client address. Every request costs one token, every part of a `$batch` one.
 * Answers carry the IETF RateLimit fields (draft-ietf-httpapi-ratelimit-headers-09):
 * `RateLimit-Policy: "default";q=<burst>;w=<seconds to refill it>` and
 * `RateLimit: "default";r=<tokens left>;t=<seconds until the bucket is full again>`.
 */
import { ODataError } from '../errors/odata-error';
import type { RequestUser } from '../plan/request-context';
import type { BucketStore, BucketPolicy } from './bucket-store';

export interface RateLimitSettings extends BucketPolicy {
  readonly enabled: boolean;
}

export type RateDecision =
  | { readonly kind: 'off' }
  | { readonly kind: 'granted'; readonly headers: Readonly<Record<string, string>> }
  | { readonly kind: 'refused'; readonly error: ODataError; readonly headers: Readonly<Record<string, string>> };

export class RateLimiter {
  /** requests refused since the start (read by the metrics) */
  refusals = 0;

  /**
   * `failed` hears of a bucket that could not be read or written; the request then goes on
   * uncounted (a limiter that cannot count protects nothing by refusing service).
   */
  constructor(
    readonly settings: RateLimitSettings, private readonly store: BucketStore | undefined,
    private readonly failed: (err: unknown) => void = () => undefined, private readonly clock: () => number = Date.now,
  ) {}

  close(): void {
    this.store?.close();
  }

  /** Takes `cost` tokens from the caller's bucket. */
  async take(key: string, cost: number): Promise<RateDecision> {
    if (!this.settings.enabled || this.store === undefined || cost <= 0) return { kind: 'off' };
    let state: { granted: boolean; level: number };
    try {
      state = await this.store.take(key, cost, this.clock());
    } catch (err) {
      this.failed(err);
      return { kind: 'off' };
    }
    const { granted, level } = state;
    const { burst, ratePerSecond } = this.settings;
    const policy = `"default";q=${burst};w=${Math.ceil(burst / ratePerSecond)}`;
    const untilFull = Math.max(0, Math.ceil((burst - level) / ratePerSecond));
    if (granted) {
      return { kind: 'granted', headers: { 'RateLimit-Policy': policy, RateLimit: `"default";r=${Math.max(0, Math.floor(level))};t=${untilFull}` } };
    }
    this.refusals += 1;
    const retryAfter = Math.max(1, Math.ceil((Math.min(cost, burst) - level) / ratePerSecond));
    const what = cost === 1 ? 'this request' : `these ${cost} requests`;
    const error = new ODataError('TOO_MANY_REQUESTS',
      `Rate limit exceeded: ${ratePerSecond} requests per second, bursts of ${burst} (ODATA_RATE_LIMIT_PER_SECOND, ODATA_RATE_LIMIT_BURST); ${what} can be sent again in ${retryAfter} s`,
      { target: 'RateLimit' });
    return {
      kind: 'refused', error,
      headers: { 'Retry-After': String(retryAfter), 'RateLimit-Policy': policy, RateLimit: `"default";r=0;t=${retryAfter}` },
    };
  }
}

/** The bucket a request draws on: its user's, or its address's when nobody signed in. */
export function bucketKeyOf(caller: RequestUser | undefined, remoteAddress: string | undefined): string {
  if (caller?.id) return `user:${caller.id}`;
  return `address:${remoteAddress ?? 'unknown'}`;
}
