/**
 * The auth service's rate limits (docs/threat-model.md), on the store's
 * rate-limiter-flexible limiters so that instances sharing a store share
 * the counts.
 *
 * Logins count failures, not attempts, and by username AND client address:
 * an attacker elsewhere cannot lock the real user out. A login counts as a
 * failure when it starts (a start never finished stays one) and is taken
 * back when it finishes well. After `perUser` failures of one name from one
 * address, each further attempt from there waits 1 s, 2 s, 4 s … up to
 * `maxDelayMs`; one address also gets `perAddress` failures over all names
 * per window. Registration starts are counted per address and per name:
 * each evaluates the OPRF for a name, an oracle on that user's future key.
 */
import { type RateLimiterAbstract, RateLimiterRes } from 'rate-limiter-flexible';
import { AuthError, InvalidArgumentError } from '../errors';
import type { AuthStore } from './store';

export interface RateLimitOptions {
  /** Failed logins of one username from one client address before each further attempt waits; 5 by default. */
  perUser?: number;
  /** Failed logins from one client address, over all usernames, per window; 100 by default. */
  perAddress?: number;
  /** How long failures and registration starts are counted, in whole seconds' worth of ms; 1 hour by default. */
  windowMs?: number;
  /** The longest wait between login attempts of one username from one address; 15 minutes by default. */
  maxDelayMs?: number;
  /** `/register/start` calls from one client address per window; 20 by default. */
  registerPerAddress?: number;
  /** `/register/start` calls for one username per window; 5 by default. */
  registerPerUser?: number;
}

const defaults: Required<RateLimitOptions> = {
  perUser: 5,
  perAddress: 100,
  windowMs: 3_600_000,
  maxDelayMs: 15 * 60_000,
  registerPerAddress: 20,
  registerPerUser: 5,
};

/** Counted without a limit: the count itself decides the wait. */
const UNLIMITED = 1_000_000_000;

function limited(ms: number, fallbackMs: number): AuthError {
  // -1 is rate-limiter-flexible's "no expiry"; a limiter of ours always has one, but say something usable.
  return new AuthError('too many attempts; try again later', 'ERR_AUTH_RATE_LIMITED', { retryAfterMs: ms > 0 ? ms : fallbackMs });
}

export function createRateLimits(store: AuthStore, options: RateLimitOptions = {}) {
  if (typeof options !== 'object' || options === null) throw new InvalidArgumentError('rateLimit must be an object');
  const o = { ...defaults, ...Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) } as Required<RateLimitOptions>;
  for (const [name, value] of Object.entries(o)) {
    if (!Number.isSafeInteger(value) || value <= 0) throw new InvalidArgumentError(`rateLimit.${name} must be a whole number > 0`);
  }
  if (o.windowMs % 1000 !== 0 || o.maxDelayMs % 1000 !== 0) {
    throw new InvalidArgumentError('rateLimit.windowMs and rateLimit.maxDelayMs must be whole seconds (Redis keeps expiries in seconds)');
  }
  const duration = o.windowMs / 1000;
  const failures = store.limiter({ name: 'login_failures', points: UNLIMITED, duration });
  // A key here is set only by block(), for the wait it names.
  const waits = store.limiter({ name: 'login_waits', points: 1, duration });
  const addressFailures = store.limiter({ name: 'login_address', points: o.perAddress, duration });
  const registerAddress = store.limiter({ name: 'register_address', points: o.registerPerAddress, duration });
  const registerUser = store.limiter({ name: 'register_user', points: o.registerPerUser, duration });

  /** One key per (username, address); JSON keeps any name and address apart. */
  const pair = (user: string, address: string | undefined) => JSON.stringify([user, address ?? null]);

  async function consume(limiter: RateLimiterAbstract, key: string) {
    try {
      return await limiter.consume(key);
    } catch (error) {
      if (error instanceof RateLimiterRes) throw limited(error.msBeforeNext, o.windowMs);
      throw error;
    }
  }

  return {
    /** Before a login starts: throws a 429 while this name and address must wait, else counts a failure. */
    async loginStarting(user: string, address: string | undefined): Promise<void> {
      const key = pair(user, address);
      const [wait, fromAddress] = await Promise.all([waits.get(key), address === undefined ? null : addressFailures.get(address)]);
      if (wait !== null && wait.consumedPoints > 1) throw limited(wait.msBeforeNext, o.maxDelayMs);
      if (fromAddress !== null && fromAddress.consumedPoints >= o.perAddress) throw limited(fromAddress.msBeforeNext, o.windowMs);
      const counted = await consume(failures, key);
      if (address !== undefined) await consume(addressFailures, address);
      const beyond = counted.consumedPoints - o.perUser;
      if (beyond >= 0) await waits.block(key, Math.min(2 ** Math.min(beyond, 30), o.maxDelayMs / 1000));
    },

    /** After a login finished well: the name and address start afresh, and the address gets its failure back. */
    async loginSucceeded(user: string, address: string | undefined): Promise<void> {
      const key = pair(user, address);
      await Promise.all([failures.delete(key), waits.delete(key), address === undefined ? undefined : addressFailures.reward(address, 1)]);
    },

    /**
     * A deleted account: the name's registration count and its login counters
     * from `address` go, so the name is free at once. Counters of the name
     * from other addresses (keyed by the pair) end with their window.
     */
    async accountDeleted(user: string, address: string | undefined): Promise<void> {
      const key = pair(user, address);
      await Promise.all([registerUser.delete(user), failures.delete(key), waits.delete(key)]);
    },

    /** Before a registration starts: counts it per address and per name, or throws a 429. */
    async registrationStarting(user: string, address: string | undefined): Promise<void> {
      if (address !== undefined) await consume(registerAddress, address);
      await consume(registerUser, user);
    },
  };
}

export type RateLimits = ReturnType<typeof createRateLimits>;
