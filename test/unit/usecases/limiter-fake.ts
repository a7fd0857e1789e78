/**
 * An in-memory {@link RateLimitStore} for the use-case specs: the same rule as the DynamoDB store
 * (take admits while the window's count is below max, counts nothing when full), with a record of
 * every take and release, and a switch that makes it fail as an unreachable table does.
 */
import { admits, type RateCounter } from '../../../lib/domain/rate-limit';
import { RateLimitStoreUnavailableError } from '../../../lib/dynamodb/rate-limit-store';
import type { RateLimitStore } from '../../../lib/ports';

export class MemoryLimiter implements RateLimitStore {
  readonly counts = new Map<string, number>();
  readonly takes: RateCounter[] = [];
  readonly releases: RateCounter[] = [];
  failing = false;

  /** The count of a scope's window, as the store keys it. */
  static key(c: Pick<RateCounter, 'scope' | 'window'>): string {
    return JSON.stringify([c.scope, c.window.start.toISOString()]);
  }

  async take(c: RateCounter): Promise<boolean> {
    if (this.failing) throw new RateLimitStoreUnavailableError({ cause: new Error('injected') });
    this.takes.push(structuredClone(c));
    const used = this.counts.get(MemoryLimiter.key(c)) ?? 0;
    if (!admits(used, c.max)) return false;
    this.counts.set(MemoryLimiter.key(c), used + 1);
    return true;
  }

  async release(c: RateCounter): Promise<void> {
    if (this.failing) throw new RateLimitStoreUnavailableError({ cause: new Error('injected') });
    this.releases.push(structuredClone(c));
    const used = this.counts.get(MemoryLimiter.key(c)) ?? 0;
    if (used > 0) this.counts.set(MemoryLimiter.key(c), used - 1);
  }

  /** Fills one counter to `used`. */
  fill(c: Pick<RateCounter, 'scope' | 'window'>, used: number): void {
    this.counts.set(MemoryLimiter.key(c), used);
  }
}
