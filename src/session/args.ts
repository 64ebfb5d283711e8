/**
 * Argument checks shared by the session entry points: an identity, a prekey
 * set or an options bag is checked before anything reads from it, so a wrong
 * value is an `InvalidArgumentError` rather than a `TypeError` from a
 * property read.
 */
import { InvalidArgumentError } from '../errors';
import { IdentityKey } from './identity';
import { PreKeySet } from './prekeys';

/** The native handle of an `IdentityKey`; anything else throws `InvalidArgumentError`. */
export function identityOf(value: unknown, name = 'identity'): IdentityKey['native'] {
  if (!(value instanceof IdentityKey)) throw new InvalidArgumentError(`${name} must be an IdentityKey`);
  return value.native;
}

/** The native handle of a `PreKeySet`; anything else throws `InvalidArgumentError`. */
export function preKeySetOf(value: unknown, name = 'preKeys'): PreKeySet['native'] {
  if (!(value instanceof PreKeySet)) throw new InvalidArgumentError(`${name} must be a PreKeySet`);
  return value.native;
}

/** An options bag: `undefined` is `{}`, anything but a non-null object throws `InvalidArgumentError`. */
export function optionsOf<T extends object>(value: T | undefined, name = 'options'): Partial<T> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null) throw new InvalidArgumentError(`${name} must be an object`);
  return value;
}
