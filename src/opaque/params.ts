/** Validates the public parameter objects and converts them for the binding. */
import type * as Binding from '../../native/binding';
import { bytes, optionalTextOrBytes } from '../bytes';
import { InvalidArgumentError } from '../errors';
import { binding } from '../native';
import { type ClientParams, type Identifiers, type KeyStretching, type ServerParams, suites } from './types';

const presets: readonly string[] = Object.values(binding.KeyStretchingPreset);

/** A checked suite name, as the binding's type (which a public `Suite` is too). */
export function suiteArg(suite: unknown): Binding.Suite {
  if (suite === undefined || suite === null) return suites[0] as Binding.Suite;
  if (typeof suite === 'string' && (suites as readonly string[]).includes(suite)) return suite as Binding.Suite;
  // Only a string is quoted: JSON.stringify throws on a bigint and says nothing useful of an object.
  const given = typeof suite === 'string' ? JSON.stringify(suite) : `of type ${typeof suite}`;
  throw new InvalidArgumentError(`unknown OPAQUE suite ${given}; expected one of ${suites.join(', ')}`);
}

/**
 * A cost as the binding takes it: a number. Its range (a whole number from 1 to 2^32 − 1) is the
 * core's to check (`KeyStretching::preset_or_numbers`), which the binding does before it spends a
 * state, so a refused cost leaves the state usable.
 */
function cost(value: unknown, name: string): number {
  if (typeof value !== 'number') throw new InvalidArgumentError(`keyStretching.${name} must be a number`);
  return value;
}

export function keyStretchingArg(ks: KeyStretching | undefined): Binding.KeyStretchingInput | undefined {
  if (ks === undefined) return undefined;
  if (typeof ks === 'string' && presets.includes(ks)) return { preset: ks as Binding.KeyStretchingPreset };
  if (typeof ks === 'object' && ks !== null) {
    return {
      iterations: cost(ks.iterations, 'iterations'),
      memory: cost(ks.memory, 'memory'),
      parallelism: cost(ks.parallelism, 'parallelism'),
    };
  }
  throw new InvalidArgumentError(`keyStretching must be ${presets.map((p) => `'${p}'`).join(', ')} or { iterations, memory, parallelism }`);
}

function identifiersArg(ids: Identifiers | undefined): Binding.IdentifiersInput | undefined {
  if (ids === undefined) return undefined;
  if (typeof ids !== 'object' || ids === null) throw new InvalidArgumentError('identifiers must be an object');
  return {
    client: optionalTextOrBytes(ids.client, 'identifiers.client'),
    server: optionalTextOrBytes(ids.server, 'identifiers.server'),
  };
}

/** An options object, or undefined; anything else (null included) is an `InvalidArgumentError`. */
export function optionsArg<T extends object>(value: T | undefined, name: string): T | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'object' || value === null) throw new InvalidArgumentError(`${name} must be an object`);
  return value;
}

export function serverParamsArg(given: ServerParams | undefined): Binding.ParamsInput | undefined {
  const params = optionsArg(given, 'params');
  if (params === undefined) return undefined;
  return { identifiers: identifiersArg(params.identifiers), context: optionalTextOrBytes(params.context, 'context') };
}

export function clientParamsArg(given: ClientParams | undefined): Binding.ParamsInput | undefined {
  const params = optionsArg(given, 'params');
  if (params === undefined) return undefined;
  return {
    identifiers: identifiersArg(params.identifiers),
    context: optionalTextOrBytes(params.context, 'context'),
    keyStretching: keyStretchingArg(params.keyStretching),
    serverPublicKey: params.serverPublicKey === undefined ? undefined : bytes(params.serverPublicKey, 'serverPublicKey'),
  };
}

/** Per-call parameters override the defaults an object was built with. */
export function merge<P extends object>(defaults: P, override: P | undefined): P {
  return optionsArg(override, 'params') === undefined ? defaults : { ...defaults, ...override };
}
